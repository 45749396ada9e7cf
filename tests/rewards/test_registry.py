from __future__ import annotations

import subprocess
import sys
import types
from importlib import metadata

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
    with pytest.raises(RewardSpecError, match="unknown options"):
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
