import pytest

from videobench.compare.modifiers import get_modifier, register_modifier
from videobench.compare.spec import RenderSettings, SpecError, parse_generator_spec, parse_named_spec


def test_full_grammar():
    spec = parse_generator_spec("wan:org/model@v1.0?steps=4&guidance=5&dtype=bfloat16+lora:org/lora@abc?scale=0.5")
    assert spec.kind == "wan"
    assert (spec.source.target, spec.source.revision, spec.source.options) == ("org/model", "v1.0", {"dtype": "bfloat16"})
    assert spec.settings == RenderSettings(steps=4, guidance=5.0)
    (lora,) = spec.modifiers
    assert (lora.name, lora.target, lora.revision, lora.options) == ("lora", "org/lora", "abc", {"scale": "0.5"})


def test_sampling_keys_anywhere_and_aliases():
    spec = parse_generator_spec("ltx:/m+lora:/l?frames=9&fps=12.5&negative_prompt=blurry%2C%20ugly")
    assert spec.settings == RenderSettings(num_frames=9, fps=12.5, negative_prompt="blurry, ugly")
    assert spec.modifiers[0].options == {}


def test_existing_local_path_keeps_at_sign(tmp_path):
    folder = tmp_path / "ckpt@step100"
    folder.mkdir()
    spec = parse_generator_spec(f"diffusers:{folder}")
    assert spec.source.target == str(folder) and spec.source.revision is None


def test_extension_modifier_parts_are_split():
    spec = parse_generator_spec("wan:/m+lora:/l+nrg:/rm?w=100&weights=VQ:0.5,MQ:0.5")
    assert [p.name for p in spec.modifiers] == ["lora", "nrg"]
    assert spec.modifiers[1].options == {"w": "100", "weights": "VQ:0.5,MQ:0.5"}


@pytest.mark.parametrize("bad, match", [
    ("", "empty"),
    ("foo:/x", "unknown generator kind"),
    ("wan:", "empty target"),
    ("wan:/m?steps=0", "positive"),
    ("wan:/m?steps=two", "not a valid int"),
    ("wan:/m?steps=2+lora:/l?steps=3", "given twice"),
    ("wan:/m?novalue", "key=value"),
    ("videos:/d+lora:/l", "no modifiers"),
    ("nocolon", "NAME:TARGET"),
])
def test_errors(bad, match):
    with pytest.raises(SpecError, match=match):
        parse_generator_spec(bad)


def test_named_spec():
    assert parse_named_spec("dpo=wan:/m+lora:/l") == ("dpo", "wan:/m+lora:/l")
    for bad in ("wan:/m", "=wan:/m", "a b=wan:/m", "<b>=wan:/m"):
        with pytest.raises(SpecError):
            parse_named_spec(bad)


def test_modifier_registry_lazy_and_option_check():
    register_modifier("testlazy", "compare_helpers:BlurModifier")
    part = parse_generator_spec("wan:/m+testlazy:3").modifiers[0]
    assert get_modifier(part).fingerprint(part) == "blur3"
    with pytest.raises(SpecError, match="unknown modifier"):
        get_modifier(parse_generator_spec("wan:/m+nosuch:1").modifiers[0])
    with pytest.raises(SpecError, match="unknown option"):
        get_modifier(parse_generator_spec("wan:/m+lora:/l?rank=3").modifiers[0])


def test_generator_names_may_be_board_ids():
    from videobench.compare.spec import SpecError, check_name

    assert check_name("dpo-step100") == "dpo-step100" and check_name("org/wan-dpo.v2") == "org/wan-dpo.v2"
    for bad in ("", "/x", "a/b/c", "a b", "-x", "a/", "x" * 65, "<script>"):
        with pytest.raises(SpecError, match="generator name"):
            check_name(bad)


def test_a_lora_glob_expands_to_every_checkpoint_of_a_run_in_step_order(tmp_path):
    from videobench.compare.spec import expand_checkpoint_globs

    run = tmp_path / "run" / "checkpoints"
    for name in ("checkpoint-10", "checkpoint-2", "checkpoint-30.tmp"):
        (run / name).mkdir(parents=True)
    (run / "checkpoint-5").write_text("a file, not a checkpoint folder")
    named = {"base": "wan:/m?steps=4", "run": f"wan:/m?steps=4+lora:{run}/checkpoint-*?scale=0.5"}
    out = expand_checkpoint_globs(named)
    assert list(out) == ["base", "run-checkpoint-2", "run-checkpoint-10"]
    assert out["run-checkpoint-10"] == f"wan:/m?steps=4+lora:{run}/checkpoint-10?scale=0.5"
    assert parse_generator_spec(out["run-checkpoint-2"]).modifiers[0].target == str(run / "checkpoint-2")
    with pytest.raises(SpecError, match="matches no folder"):
        expand_checkpoint_globs({"x": f"wan:/m+lora:{tmp_path}/nothing-*"})
