from __future__ import annotations

import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from reward_test_helpers import TINY_OPTIONS
from videobench.rewards import registry
from videobench.rewards.base import Clip, RewardModel, Sampling
from videobench.rewards.random import RandomReward
from videobench.rewards.registry import (
    FunctionReward,
    RewardSpecError,
    available_reward_models,
    load_reward_model,
    register_reward_model,
)


def _clips(n: int) -> list[Clip]:
    return [Clip(path=f"v{i}.mp4", content_hash=f"sha256:{i:04d}") for i in range(n)]


def test_random_is_per_video_and_seeded():
    model = load_reward_model("random:7")
    assert isinstance(model, RandomReward) and isinstance(model, RewardModel)
    assert model.name == "random:7" and model.needs_frames is False and model.dimensions == ("VQ", "MQ", "TA")
    clips = _clips(6)
    a = model.score(clips, ["p"] * 6)
    b = model.score(clips[::-1], ["q"] * 6)  # another order (and prompts): the same score per video
    for dim in model.dimensions:
        np.testing.assert_array_equal(a[dim], b[dim][::-1])
    assert load_reward_model("random:7").score(clips[:1], ["p"])["VQ"][0] == a["VQ"][0]
    other = load_reward_model("random:8").score(clips, ["p"] * 6)
    assert not np.allclose(other["VQ"], a["VQ"])
    assert load_reward_model("random").seed == 0
    assert model.fingerprint() != load_reward_model("random:8").fingerprint()
    big = RandomReward(seed=1).score(_clips(2000), ["p"] * 2000)["TA"]
    assert abs(big.mean()) < 0.1 and 0.9 < big.std() < 1.1  # N(0, 1)
    with pytest.raises(RewardSpecError, match="integer seed"):
        load_reward_model("random:abc")


def test_random_spec_does_not_import_torch():
    code = "import sys; from videobench.rewards.registry import load_reward_model; load_reward_model('random:1'); " \
           "print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_prefix_lists_known():
    with pytest.raises(RewardSpecError) as info:
        load_reward_model("nosuch:thing")
    for name in ("videoreward", "scores", "random", "classical", "python"):
        assert name in str(info.value)
    with pytest.raises(RewardSpecError):
        load_reward_model("")


def test_classical_is_lazy_and_missing_module_is_clear(monkeypatch):
    assert "classical" in available_reward_models()
    fake = types.ModuleType("videobench.rewards.classical")

    class ClassicalReward:
        needs_frames, dimensions, sampling = True, ("VQ",), Sampling()

        def __init__(self, *args, **options):
            self.name, self.args, self.options = "classical", args, options

        def fingerprint(self):
            return "c"

        def score(self, clips, prompts):
            return {"VQ": np.zeros(len(clips))}

    fake.ClassicalReward = ClassicalReward
    monkeypatch.setitem(sys.modules, "videobench.rewards.classical", fake)
    model = load_reward_model("classical", device="cpu")
    assert model.options == {"device": "cpu"} and model.args == ()
    assert load_reward_model("classical:sharpness").args == ("sharpness",)
    monkeypatch.setitem(sys.modules, "videobench.rewards.classical", None)  # import fails
    with pytest.raises(RewardSpecError, match="cannot import module 'videobench.rewards.classical'"):
        load_reward_model("classical")


def test_scores_prefix_goes_to_precomputed(monkeypatch):
    calls = {}
    fake = types.ModuleType("videobench.rewards.precomputed")

    class PrecomputedScores(RandomReward):
        def __init__(self, path, **options):
            super().__init__()
            calls.update(path=path, options=options)

    fake.PrecomputedScores = PrecomputedScores
    monkeypatch.setitem(sys.modules, "videobench.rewards.precomputed", fake)
    load_reward_model("scores:results/my.csv", name="mine")
    assert calls == {"path": "results/my.csv", "options": {"name": "mine"}}


def plain_function(clips, prompts):
    return {"Overall": [len(p) for p in prompts]}


class UserModel:
    needs_frames = False
    dimensions = ("Overall",)
    sampling = Sampling()

    def __init__(self, scale: float = 1.0):
        self.name = f"user-{scale}"
        self.scale = scale

    def fingerprint(self):
        return f"user:{self.scale}"

    def score(self, clips, prompts):
        return {"Overall": np.full(len(clips), self.scale)}


ready_instance = UserModel(3.0)
not_a_model = 42


def test_python_spec_function_class_instance():
    here = __name__
    fn = load_reward_model(f"python:{here}:plain_function", name="len", needs_frames=False, dimensions="Overall")
    assert isinstance(fn, FunctionReward) and fn.name == "len" and fn.needs_frames is False
    assert fn.score(_clips(2), ["ab", "abcd"])["Overall"].tolist() == [2.0, 4.0]
    assert fn.fingerprint().startswith("sha256:")
    with_sampling = load_reward_model(f"python:{here}:plain_function", num_frames=8)
    assert with_sampling.sampling == Sampling(fps=None, num_frames=8, max_pixels=None)
    cls = load_reward_model(f"python:{here}:UserModel", scale=2.0)
    assert cls.score(_clips(2), ["a", "b"])["Overall"].tolist() == [2.0, 2.0]
    assert load_reward_model(f"python:{here}:ready_instance") is ready_instance
    with pytest.raises(RewardSpecError, match="not a class, model or function"):
        load_reward_model(f"python:{here}:not_a_model")
    with pytest.raises(RewardSpecError, match="has no attribute 'missing'"):
        load_reward_model(f"python:{here}:missing")
    with pytest.raises(RewardSpecError, match="cannot import module"):
        load_reward_model("python:no_such_module_xyz:f")
    with pytest.raises(RewardSpecError, match="python:module:attr"):
        load_reward_model("python:justmodule")
    with pytest.raises(RewardSpecError, match="unknown option .colour.; valid options: dimensions, fps"):
        load_reward_model(f"python:{here}:plain_function", colour="red")


def test_function_reward_checks_lengths():
    bad = FunctionReward(lambda c, p: {"Overall": [1.0]}, name="bad")
    with pytest.raises(ValueError, match="1 scores for Overall but 2 clips"):
        bad.score(_clips(2), ["a", "b"])


def test_register_and_entry_points(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTERED", {})
    register_reward_model("mine", lambda argument=None, **o: RandomReward(seed=int(argument or 0), name="mine"))
    assert load_reward_model("mine:5").seed == 5
    with pytest.raises(ValueError, match="already registered"):
        register_reward_model("mine", lambda **o: None)
    with pytest.raises(ValueError, match="already registered"):
        register_reward_model("random", lambda **o: None)
    register_reward_model("lazy", f"{__name__}:UserModel")
    assert load_reward_model("lazy", scale=4.0).scale == 4.0

    ep = metadata.EntryPoint(name="thirdparty", value=f"{__name__}:UserModel", group=registry.ENTRY_POINT_GROUP)
    broken = metadata.EntryPoint(name="broken", value="no_such_pkg_xyz:Thing", group=registry.ENTRY_POINT_GROUP)
    real = metadata.entry_points

    def fake_entry_points(**kwargs):
        if kwargs.get("group") == registry.ENTRY_POINT_GROUP:
            return metadata.EntryPoints([ep, broken])
        return real(**kwargs)

    monkeypatch.setattr(registry.metadata, "entry_points", fake_entry_points)
    assert {"thirdparty", "broken", "lazy", "mine"} <= set(available_reward_models())
    assert load_reward_model("thirdparty", scale=5.0).scale == 5.0
    with pytest.raises(RewardSpecError, match="entry point 'no_such_pkg_xyz:Thing' failed to load"):
        load_reward_model("broken")


def test_factory_must_return_a_model(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTERED", {})
    register_reward_model("junk", lambda **o: object())
    with pytest.raises(RewardSpecError, match="lacks"):
        load_reward_model("junk")


def test_videoreward_spec_local(tiny_lora, lora_model):
    model = load_reward_model(f"videoreward:{tiny_lora}", batch_size=4, **TINY_OPTIONS)
    assert model.name == f"videoreward:{tiny_lora}"
    assert model.fingerprint() == lora_model.fingerprint()
    with pytest.raises(RewardSpecError, match="needs a checkpoint"):
        load_reward_model("videoreward:")


def test_pixel_rewards_score_video_files(tmp_path):
    # the weight-free rewards of the alignment tests also score files (eval / compare): every frame up to 30 fps
    from videobench.scoring import score_items
    from videobench.video.writer import write_video

    frames = np.zeros((6, 32, 32, 3), dtype=np.uint8)
    frames[:, :, 16:] = 200  # half dark, half bright: brightness ≈ 0.39, contrast ≈ 0.39
    write_video(tmp_path / "half.mp4", frames, fps=8)
    models = [registry.load_reward_model("pixel:brightness"), registry.load_reward_model("pixel:contrast")]
    tables = score_items([(str(tmp_path / "half.mp4"), "a prompt")], models, cache_dir=tmp_path / "cache",
                         num_workers=0, show_progress=False)
    assert tables["pixel:brightness"]["Overall"].iloc[0] == pytest.approx(100 / 255, abs=0.02)
    assert tables["pixel:contrast"]["Overall"].iloc[0] == pytest.approx(100 / 255, abs=0.02)


# ------------------------------------------------------------------------------------ options in the spec: ?key=value


class TypedModel(RandomReward):
    """A factory with one parameter of each kind a spec option converts to."""

    def __init__(self, argument: str | None = None, *, n: int = 1, x: float = 0.5, flag: bool = False,
                 path: Path | None = None, source: str | Path | None = None, label: str = "",
                 dims: tuple[str, ...] = ("VQ",), revision: str | None = None, obj: Sampling | None = None):
        super().__init__(seed=n, dimensions=dims)
        self.argument, self.x, self.flag, self.path, self.source, self.label = argument, x, flag, path, source, label
        self.revision, self.obj = revision, obj


@pytest.fixture
def typed(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTERED", {})
    register_reward_model("typed", TypedModel)
    return registry.parse_reward_spec


def test_spec_options_are_converted_to_the_parameter_types(typed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vr.txt").write_text("t")
    spec = typed("typed:arg?n=3&x=0.25&flag=true&path=sub/p.txt&source=vr.txt&label=a%26b%3Dc&dims=VQ,MQ")
    assert spec.options == {"n": 3, "x": 0.25, "flag": True, "path": tmp_path / "sub" / "p.txt",
                            "source": str(tmp_path / "vr.txt"), "label": "a&b=c", "dims": ("VQ", "MQ")}
    model = spec.load()
    assert (model.argument, model.seed, model.x, model.flag, model.label, model.dimensions) == \
        ("arg", 3, 0.25, True, "a&b=c", ("VQ", "MQ"))
    assert isinstance(model.path, Path) and model.path.is_absolute()  # a pure path: absolute even before it exists
    # str | Path may be a Hub id: made absolute only when it names something here
    assert typed("typed:arg?source=org/model").options["source"] == "org/model"
    assert typed("typed?flag=0").options["flag"] is False and typed("typed?flag=no").load().flag is False


def test_spec_option_errors_are_one_line_naming_the_option(typed):
    with pytest.raises(RewardSpecError) as info:
        typed("typed:a?colour=red")
    assert str(info.value) == ("typed: unknown option 'colour'; valid options: dims, flag, label, n, obj, path, "
                               "revision, source, x")
    with pytest.raises(RewardSpecError, match=r"^typed: option n='three' is not a valid int$"):
        typed("typed:a?n=three")
    with pytest.raises(RewardSpecError, match=r"option flag='maybe' is not a boolean"):
        typed("typed:a?flag=maybe")
    with pytest.raises(RewardSpecError, match=r"option 'obj' takes a Sampling, which a spec cannot write"):
        typed("typed:a?obj=x")
    with pytest.raises(RewardSpecError, match="'n' is given twice"):
        typed("typed:a?n=1&n=2")
    with pytest.raises(RewardSpecError, match="is not key=value"):
        typed("typed:a?n")
    with pytest.raises(RewardSpecError, match="unknown option 'colour'"):  # keywords are checked the same way
        typed("typed:a", colour="red")


def test_spec_and_keyword_options_must_agree(typed):
    assert typed("typed:a?n=2", n=2).options["n"] == 2  # the same value twice is fine
    assert typed("typed:a?n=2", x=0.75).options == {"n": 2, "x": 0.75}
    with pytest.raises(RewardSpecError, match=r"option 'n' is 2 in the spec and 3 as a keyword: give it once"):
        typed("typed:a?n=2", n=3)
    with pytest.raises(RewardSpecError, match="revision 'v1' after '@' and revision='v2'"):
        typed("typed:org/m@v1", revision="v2")


def test_canonical_spec_records_keywords_and_parses_back(typed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = typed("typed:org/m@v1?label=x%20y%26z", n=4, flag=True, dims=("VQ", "TA"), obj=Sampling())
    assert spec.revision == "v1" and spec.argument == "org/m"
    text = str(spec)
    assert text == "typed:org/m@v1?label=x%20y%26z&n=4&flag=true&dims=VQ,TA"
    assert spec.unrecorded == ("obj",)  # a Python object: text cannot carry it
    again = typed(text)
    assert {k: v for k, v in again.options.items()} == {k: v for k, v in spec.options.items() if k != "obj"}
    assert again.load().revision == "v1"


def test_revision_is_split_only_for_factories_that_take_one(typed, tmp_path):
    assert typed("typed:org/m@main").argument == "org/m"
    folder = tmp_path / "ckpt@2"
    folder.mkdir()
    assert typed(f"typed:{folder}").argument == str(folder)  # an existing folder keeps its '@'
    assert registry.parse_reward_spec("random:5").argument == "5"
    assert registry.parse_reward_spec("scores:run@2.csv").argument == "run@2.csv"  # scores take no revision


def test_builtin_prefixes_take_options(tmp_path, monkeypatch):
    assert load_reward_model("random?seed=4").seed == 4
    assert load_reward_model("random:2?dimensions=VQ,MQ&name=r").dimensions == ("VQ", "MQ")
    with pytest.raises(RewardSpecError, match="give the seed once"):
        load_reward_model("random:1?seed=2")
    classical = load_reward_model("classical?fps=8&name=c8")
    assert (classical.name, classical.sampling.fps) == ("c8", 8.0)
    assert load_reward_model("pixel:contrast?name=px").name == "px"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.csv").write_text("video,VQ\na.mp4,1.0\n")
    spec = registry.parse_reward_spec("scores:s.csv?name=mine")
    assert spec.argument == str(tmp_path / "s.csv")  # a local file argument: recorded absolute
    assert spec.load().name == "mine"
    with pytest.raises(RewardSpecError, match="valid options: dimensions, file_format, name, root"):
        registry.parse_reward_spec("scores:s.csv?colums=VQ")


def test_open_factories_get_text(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTERED", {})
    seen = {}

    def factory(argument=None, **options):
        seen.update(options)
        return RandomReward()

    register_reward_model("open", factory)
    load_reward_model("open:x?a=1&b=two")
    assert seen == {"a": "1", "b": "two"}


def test_videoreward_options_come_from_its_loader():
    import inspect

    from videobench.rewards.videoreward import VideoRewardModel

    keywords = sorted(p.name for p in list(inspect.signature(VideoRewardModel.load).parameters.values())[1:])
    with pytest.raises(RewardSpecError) as info:
        registry.parse_reward_spec("videoreward:org/model?templat=vr.txt")
    assert str(info.value).endswith("valid options: " + ", ".join(keywords))
    spec = registry.parse_reward_spec("videoreward:KwaiVGI/VideoReward@abc123?fps=2&max_pixels=200704&use_norm=false")
    assert (spec.argument, spec.revision) == ("KwaiVGI/VideoReward", "abc123")
    assert spec.options == {"fps": 2.0, "max_pixels": 200704, "use_norm": False}


def test_pinned_adds_the_resolved_commit_only_where_a_revision_is_taken(typed):
    spec = typed("typed:org/m?n=2")
    assert str(spec.pinned("abc123")) == "typed:org/m@abc123?n=2"
    assert str(typed("typed:org/m@v1").pinned("abc123")) == "typed:org/m@v1"  # already pinned by the user
    assert str(spec.pinned(None)) == "typed:org/m?n=2"
    assert str(registry.parse_reward_spec("random:3").pinned("abc")) == "random:3"  # random takes no revision


class ChoiceModel(RandomReward):
    """Literal choices, optional numbers, text that may say "none", and parameters known only by their default."""

    def __init__(self, argument: str | None = None, *, mode: Literal["fast", "exact", 3] = "fast",
                 either: Literal["a", "b"] | str = "a", count: int | None = None, tag: str | None = None,
                 scale=2.5, plain=None, pair: Sampling | dict | None = None):
        super().__init__()
        self.mode, self.either, self.count, self.tag, self.scale, self.plain = mode, either, count, tag, scale, plain


def test_literal_none_and_untyped_options(typed):
    register_reward_model("choice", ChoiceModel)
    spec = typed("choice?mode=exact&either=zzz&count=none&tag=none&scale=4&plain=x")
    assert spec.options == {"mode": "exact", "either": "zzz", "count": None, "tag": "none", "scale": 4.0, "plain": "x"}
    assert type(spec.options["scale"]) is float  # typed by its default 2.5
    assert typed("choice?mode=3&count=NULL").options == {"mode": 3, "count": None}  # the choice itself, not "3"
    assert typed("choice?count=Null&either=b").options == {"count": None, "either": "b"}
    with pytest.raises(RewardSpecError) as info:
        typed("choice?mode=slow")
    assert str(info.value) == "choice: option mode='slow' is not one of fast, exact, 3"
    with pytest.raises(RewardSpecError, match=r"^typed: option n='none' is not a valid int$"):
        typed("typed:a?n=none")  # "none" means None only where None is allowed


def test_python_values_for_path_options_and_their_canonical_text(typed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = typed("typed:a?flag=false", path=Path("rel/p.txt"), source=Path("nowhere"), dims=("x,y", "z"))
    # a Path given from Python is made absolute even when it names nothing yet (also where a Hub id could go)
    assert spec.options["path"] == tmp_path / "rel" / "p.txt" and spec.options["source"] == tmp_path / "nowhere"
    assert spec.unrecorded == ("dims",)  # a name with a comma cannot be written as a comma-separated list
    assert str(spec) == f"typed:a?flag=false&path={tmp_path / 'rel' / 'p.txt'}&source={tmp_path / 'nowhere'}"
    assert str(typed("typed:a", path=None)) == "typed:a?path=none"
    with_obj = typed("typed:org/m", obj=Sampling())
    assert with_obj.pinned("abc").unrecorded == ("obj",)
    assert str(typed("typed?n=2").pinned("abc")) == "typed?n=2"  # no argument: nothing for a revision to pin
    # a keyword that cannot be compared with the spec's text (an array) is a conflict, not silently taken
    with pytest.raises(RewardSpecError, match="give it once"):
        typed("typed:a?label=x", label=np.array(["x", "y"]))


@pytest.mark.parametrize("prefix", ["", "a:b", " a", "a "])
def test_prefix_must_be_a_plain_name(monkeypatch, prefix):
    monkeypatch.setattr(registry, "_REGISTERED", {})
    with pytest.raises(ValueError) as info:
        register_reward_model(prefix, RandomReward)
    assert str(info.value) == f"a reward model prefix is a non-empty name without ':', got {prefix!r}"


def _forward_ref(argument=None, *, k: "NoSuchType" = 1):  # noqa: F821 - an annotation this module cannot resolve
    return RandomReward()


def _path_first(path, *, k: int = 1):
    return RandomReward()


def _no_options(argument=None):
    return RandomReward()


class Holder:
    @staticmethod
    def make(**options):
        return RandomReward()


def test_spec_errors_and_options_word_for_word(typed, monkeypatch):
    for prefix, factory in [("fwd", _forward_ref), ("first", _path_first), ("bare", _no_options),
                            ("choice", ChoiceModel)]:
        register_reward_model(prefix, factory)
    cases = [
        (lambda: typed("typed?colour=red"),  # without an argument the first parameter `argument` is still no option
         "typed: unknown option 'colour'; valid options: dims, flag, label, n, obj, path, revision, source, x"),
        (lambda: typed("first:p?path=x"), "first: unknown option 'path'; valid options: k"),
        (lambda: typed("bare:x?k=1"), "bare: unknown option 'k'; valid options: none"),
        # the unresolvable annotation is named as written (quoted: this module postpones annotations)
        (lambda: typed("fwd?k=5"), "fwd: option 'k' takes a 'NoSuchType', which a spec cannot write; pass it from Python"),
        (lambda: typed("typed:a", n="three"), "typed: option n='three' is not a valid int"),
        (lambda: typed("choice?pair=x"),
         "choice: option 'pair' takes a Sampling | dict, which a spec cannot write; pass it from Python"),
        (lambda: typed("typed:org/m@"), "reward spec 'typed:org/m@': empty repo id or revision in 'org/m@'"),
        (lambda: typed(5), "a reward model spec is a non-empty string, got 5"),
        (lambda: typed("   "), "a reward model spec is a non-empty string, got '   '"),
        (lambda: registry.parse_reward_spec("nosuch:thing"),
         f"unknown reward model 'nosuch'; known: {', '.join(available_reward_models())} (third-party adapters "
         "register under the entry point group 'videobench.reward_models')"),
    ]
    for call, message in cases:
        with pytest.raises(RewardSpecError) as info:
            call()
        assert str(info.value) == message
    assert typed("fwd").options == {} and typed("first:p?k=2").options == {"k": 2}


def test_lazy_factories_resolve_dotted_attributes(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTERED", {})
    module = types.ModuleType("vb_lazy_factories")
    module.Holder = Holder
    monkeypatch.setitem(sys.modules, "vb_lazy_factories", module)
    register_reward_model("lazy", "vb_lazy_factories:Holder.make")
    assert isinstance(load_reward_model("lazy"), RandomReward)
    register_reward_model("gone", "vb_lazy_factories:Holder.nope")
    with pytest.raises(RewardSpecError) as info:
        load_reward_model("gone")
    assert str(info.value) == "reward model 'gone': module 'vb_lazy_factories' has no attribute 'Holder.nope'"
    register_reward_model("junk", lambda **o: object())
    with pytest.raises(RewardSpecError) as info:
        load_reward_model("junk?a=1")
    assert str(info.value) == ("junk?a=1: the factory returned object, which lacks "
                               "['name', 'dimensions', 'sampling', 'needs_frames', 'fingerprint', 'score']")


def test_revision_keyword_and_reparsing_a_parsed_spec(typed):
    assert typed("typed:org/m", revision="v2").revision == "v2"
    assert typed("typed:org/m", revision=None).revision is None
    assert typed("typed:org/m@v1", revision="v1").revision == "v1"  # the same revision twice is fine
    assert typed("typed:org/m@v1", revision=None).revision == "v1"
    spec = typed("typed:a?n=2")
    assert typed(spec) is spec
    again = typed(spec, x=0.75)
    assert (again.argument, again.options) == ("a", {"n": 2, "x": 0.75})
    with pytest.raises(RewardSpecError, match="option 'n' is 2 in the spec and 3 as a keyword"):
        typed(spec, n=3)
