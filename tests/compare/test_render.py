import numpy as np
import pytest

from videobench.compare import CompareConfig, run_compare
from videobench.compare.generators import GeneratorLoadError, build_generator, build_generators, load_all
from videobench.compare.render import plan, render_missing, shard
from videobench.compare.store import RenderStore
from videobench.prompts import Prompt

from compare_helpers import TINY

PROMPTS = [Prompt(f"p{i}", text) for i, text in enumerate(["a cat playing the piano", "a dog on the beach",
                                                              "a red car at night", "waves on rocks"])]


def _render(spec, prompt="a cat playing the piano", seed=0):
    gen = build_generator("g", spec)
    load_all([gen])
    return gen.render(prompt, seed)


def test_wan_rendering_is_deterministic_per_seed(tiny_wan):
    a, b, c = (_render(f"wan:{tiny_wan}{TINY}", seed=s) for s in (0, 0, 1))
    assert a.dtype == np.uint8 and a.shape == (5, 32, 32, 3)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_ltx_renders(tiny_ltx):
    frames = _render(f"ltx:{tiny_ltx}?steps=2&height=32&width=32&num_frames=9&fps=8")
    assert frames.shape == (9, 32, 32, 3) and frames.dtype == np.uint8


def test_lora_changes_outputs(tiny_wan, tiny_lora):
    base = _render(f"wan:{tiny_wan}{TINY}")
    lora = _render(f"wan:{tiny_wan}{TINY}+lora:{tiny_lora}")
    half = _render(f"wan:{tiny_wan}{TINY}+lora:{tiny_lora}?scale=0.0")
    assert not np.array_equal(base, lora)
    assert np.array_equal(base, half)  # scale 0 switches the adapter off


def test_bad_specs_fail_together_before_anything_loads(tiny_wan, tiny_ltx, tmp_path):
    (tmp_path / "not-a-lora").mkdir()
    with pytest.raises(GeneratorLoadError) as info:
        build_generators({"ok": f"wan:{tiny_wan}", "gone": f"wan:{tmp_path}/missing", "bad": "wan:/x?steps=-1",
                          "wrong-class": f"wan:{tiny_ltx}", "badlora": f"wan:{tiny_wan}+lora:{tmp_path}/not-a-lora"})
    assert set(info.value.failures) == {f"gone=wan:{tmp_path}/missing", "bad=wan:/x?steps=-1",
                                        f"wrong-class=wan:{tiny_ltx}", f"badlora=wan:{tiny_wan}+lora:{tmp_path}/not-a-lora"}
    msg = str(info.value)
    assert "5 generator(s)" not in msg and "4 generator(s) failed" in msg
    assert "LTXPipeline, not a WanPipeline" in msg and "no *.safetensors weights" in msg


def test_a_checkpoint_that_fails_to_load_costs_only_its_own_renders(tiny_wan, tmp_path, monkeypatch):
    import shutil

    from videobench.compare import generators as genmod

    broken = tmp_path / "broken"
    shutil.copytree(tiny_wan, broken)
    weights = next((broken / "transformer").glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:100])  # truncated: found by the checks, fails only when loading
    # (other sampling settings than "a": once mended, the copy's renders are not "a"'s renders)
    specs = {"a": f"wan:{tiny_wan}{TINY}", "broken": f"wan:{broken}?steps=3&height=32&width=32&num_frames=5",
             "b": f"wan:{tiny_wan}?steps=1&height=32&width=32&num_frames=5"}
    gens = build_generators(specs)
    loaded_before = []  # how many pipelines are in memory whenever one loads
    real_load = genmod.PipelineGenerator.load

    def counting_load(self):
        loaded_before.append(sum(g.pipe is not None for g in gens.values()))
        real_load(self)

    monkeypatch.setattr(genmod.PipelineGenerator, "load", counting_load)
    store = RenderStore(tmp_path / "renders")
    items = plan(gens, PROMPTS[:2], [0], store)
    with pytest.raises(GeneratorLoadError) as info:
        render_missing(items, gens, store)
    assert set(info.value.failures) == {f"broken={specs['broken']}"}
    assert "4 other video(s) were rendered and kept" in str(info.value)
    assert loaded_before == [0, 0, 0] and all(g.pipe is None for g in gens.values())
    assert [it.path.exists() for it in items] == [True, True, False, False, True, True]

    shutil.rmtree(broken)
    shutil.copytree(tiny_wan, broken)  # mended: the rerun renders just the missing two
    gens = build_generators(specs)
    stats = render_missing(plan(gens, PROMPTS[:2], [0], store), gens, store)
    assert (stats.reused, stats.rendered) == (4, 2)


def test_shard_covers_everything_once():
    items = list(range(11))
    for n in (1, 2, 3, 4, 11, 12):
        parts = [shard(items, n, k) for k in range(n)]
        assert sum(parts, []) == items
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
    with pytest.raises(ValueError):
        shard(items, 2, 2)


def test_ranks_split_the_render_work(tiny_wan, tmp_path):
    gens = build_generators({"a": f"wan:{tiny_wan}{TINY}", "b": f"wan:{tiny_wan}?steps=1&height=32&width=32&num_frames=5"})
    store = RenderStore(tmp_path)
    items = plan(gens, PROMPTS[:2], [0], store)
    done = [render_missing(items, gens, store, num_processes=3, process_index=k).rendered for k in range(3)]
    assert done == [2, 1, 1] and all(it.path.exists() for it in items)


def test_resume_after_a_killed_run(tiny_wan, tmp_path, sharpness, monkeypatch):
    """A run that dies mid-rendering leaves only complete videos; the rerun renders just the rest."""
    from videobench.compare import generators as genmod

    calls = {"n": 0}
    real = genmod.PipelineGenerator.render

    def dying(self, prompt, seed):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # as if killed during the 3rd render
        return real(self, prompt, seed)

    cfg = CompareConfig(generators={"a": f"wan:{tiny_wan}{TINY}", "b": f"wan:{tiny_wan}{TINY}+blur:3"},
                        prompts=_suite(), rewards=[sharpness], output=tmp_path / "out", render_dir=tmp_path / "r",
                        cache_dir=tmp_path / "s", n_resamples=50, report=False)
    monkeypatch.setattr(genmod.PipelineGenerator, "render", dying)
    with pytest.raises(KeyboardInterrupt):
        run_compare(cfg)
    assert len(list((tmp_path / "r").rglob("*.mp4"))) == 2
    assert not [p for p in (tmp_path / "r").rglob("*") if p.name.startswith(".") and "tmp" in p.name]
    monkeypatch.setattr(genmod.PipelineGenerator, "render", real)
    out = run_compare(cfg)
    assert (out.render_stats.reused, out.render_stats.rendered) == (2, 2)
    again = run_compare(cfg)
    assert (again.render_stats.reused, again.render_stats.rendered) == (4, 0)


def _suite():
    from videobench.prompts import PromptSuite

    return PromptSuite("two", PROMPTS[:2])


_KILL_SCRIPT = """
import sys, time
from pathlib import Path
sys.path.insert(0, {helpers!r})
from compare_helpers import SharpnessReward
from videobench.compare import CompareConfig, run_compare
from videobench.compare import generators as genmod

# Deterministic kill point: the 4th render announces itself and hangs, so exactly 3 videos are complete when the
# parent's SIGKILL lands in the middle of a render.
real, calls = genmod.PipelineGenerator.render, []
def render(self, prompt, seed):
    calls.append(1)
    if len(calls) == 4:
        Path({marker!r}).write_text("rendering the 4th video")
        time.sleep(3600)
    return real(self, prompt, seed)
genmod.PipelineGenerator.render = render
run_compare(CompareConfig(generators={{"a": {a!r}, "b": {b!r}}}, prompts="vbench-946", num_prompts=8,
                          rewards=[SharpnessReward()], output={out!r}, render_dir={renders!r}, cache_dir={scores!r},
                          n_resamples=50, report=False))
"""


@pytest.mark.slow
def test_resume_after_sigkill(tiny_wan, tmp_path, sharpness):
    """SIGKILL a real compare process mid-rendering: only whole videos remain and the rerun renders the rest."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    a, b = f"wan:{tiny_wan}{TINY}", f"wan:{tiny_wan}{TINY}+blur:3"
    renders = tmp_path / "r"
    marker = tmp_path / "in-4th-render"
    script = _KILL_SCRIPT.format(helpers=str(Path(__file__).parent), a=a, b=b, out=str(tmp_path / "o"),
                                 renders=str(renders), scores=str(tmp_path / "s"), marker=str(marker))
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "OMP_NUM_THREADS": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # a kill can leave the hidden temp file of the render in progress (.NAME.PID.tmp.mp4): never read, not counted
    def videos():
        return [p for p in renders.rglob("*.mp4") if not p.name.startswith(".")]

    deadline = time.time() + 300
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.time() < deadline, "the 4th render never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(videos())
    assert done == 3
    cfg = CompareConfig(generators={"a": a, "b": b}, prompts="vbench-946", num_prompts=8, rewards=[sharpness],
                        output=tmp_path / "o", render_dir=renders, cache_dir=tmp_path / "s", n_resamples=50,
                        report=False)
    out = run_compare(cfg)
    assert (out.render_stats.reused, out.render_stats.rendered) == (done, 16 - done)
    assert len(videos()) == 16 and out.table["VQ"].notna().all()
