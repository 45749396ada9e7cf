"""Times KwaiVGI/VideoAlign's own inference code (``VideoVLMRewardInference.reward``) on a list of clips.

Runs in VideoAlign's environment (transformers 4.45, decord), NOT in videobench's: ``bench/reference_scoring.py``
starts it with ``--reference-python``. VideoAlign is imported from ``--src`` at run time; none of its code is copied
here. What this script adds: the two CPU workarounds of the parity fixture (tests/fixtures/videoalign_reference/
README.md: SDPA instead of FlashAttention-2, ``use_cpu``), the prompt template in place of ``build_prompt``, and
timers wrapped around VideoAlign's stages (decode, resize, the image processor's patchify, tokenisation, model).

Prints one JSON object on stdout: per-pass wall times and stage times, and the scores of every clip.
"""

from __future__ import annotations

import time

PROCESS_START = time.perf_counter()

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

STAGES: dict[str, float] = defaultdict(float)


def timed_stage(name: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            STAGES[name] += time.perf_counter() - start

    return wrapper


def instrument(vp, processor, model) -> None:
    """Stage timers around VideoAlign's reader, its resize, the processor's two halves and the model's forward."""
    backend = vp.get_video_reader_backend()
    vp.VIDEO_READER_BACKENDS[backend] = timed_stage("decode", vp.VIDEO_READER_BACKENDS[backend])
    vp.transforms.functional.resize = timed_stage("resize", vp.transforms.functional.resize)
    image_cls = type(processor.image_processor)
    image_cls.preprocess = timed_stage("patchify", image_cls.preprocess)  # rescale, normalise, patch order
    tok_cls = type(processor.tokenizer)
    tok_cls.__call__ = timed_stage("tokenise", tok_cls.__call__)
    processor.apply_chat_template = timed_stage("tokenise", processor.apply_chat_template)
    model.forward = timed_stage("model", model.forward)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, required=True, help="a checkout of KwaiVGI/VideoAlign")
    ap.add_argument("--run", type=Path, required=True, help="checkpoint folder (model_config.json, checkpoint-N/)")
    ap.add_argument("--template", type=Path, required=True, help="prompt template with {text_prompt}")
    ap.add_argument("--items", type=Path, required=True, help="JSON list of [video path, prompt]")
    ap.add_argument("--batch-size", type=int, default=8, help="clips per reward() call (one padded batch)")
    ap.add_argument("--passes", type=int, default=2, help="passes over the clips (the first one is the cold one)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()

    sys.path.insert(0, str(args.src.resolve()))
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    import inference
    import vision_process

    imported = time.perf_counter()
    original = inference.TrainingConfig
    # VideoAlign's inference asks for FlashAttention-2 (CUDA only); on the CPU the same model runs with SDPA.
    inference.TrainingConfig = lambda **kw: original(**{**kw, "disable_flash_attn2": True, "use_cpu": True})
    template = args.template.read_text()
    inference.build_prompt = lambda prompt, dims, kind: template.format(text_prompt=prompt)
    items = json.loads(args.items.read_text())
    reward_model = inference.VideoVLMRewardInference(str(args.run), device="cpu", dtype=torch.float32)
    loaded = time.perf_counter()
    instrument(vision_process, reward_model.processor, reward_model.model)

    passes = []
    scores = None
    for _ in range(args.passes):
        STAGES.clear()
        start = time.perf_counter()
        got = []
        with torch.no_grad():
            for i in range(0, len(items), args.batch_size):
                chunk = items[i : i + args.batch_size]
                got += reward_model.reward([v for v, _ in chunk], [p for _, p in chunk])
        passes.append({"seconds": time.perf_counter() - start, "stages": dict(STAGES)})
        scores = scores or got
    print(json.dumps({
        "import_s": imported - PROCESS_START, "load_s": loaded - imported,
        "cold_s": loaded - PROCESS_START + passes[0]["seconds"], "passes": passes, "scores": scores,
        "torch_threads": torch.get_num_threads(),
        "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__},
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
