"""Reward-model training and scoring on a GPU at the paper's size: a Qwen2-VL-2B-shaped model, random bf16 weights.

    python bench/gpu_reward_model.py           # Qwen2-VL-2B config, 2 pairs of 16 frames at 448x448, LoRA rank 64
    python bench/gpu_reward_model.py --tiny    # the same code on the tiny config (CPU is fine), a smoke test

The base is built from Qwen2-VL-2B-Instruct's published config (no download: random weights, the tiny offline
tokenizer; the embedding table keeps 2B's 151,936 rows), saved once to a temporary folder and trained through
``videobench.align.reward_model`` exactly as ``videobench align reward-model`` trains it: LoRA on the language model
(rank 64, alpha 128), vision tower, merger, head and embedding table trainable (the reward-token rows kept, the others
restored after each step). Videos are synthetic H.264 clips decoded once into the frame cache. Rows: the two steps of
``bench/reward_model.py`` (plain forward + backward on a prepared batch; the training step that builds its batch from
the frame cache and restores the embedding rows) and no-grad scoring. Columns: median seconds per step, videos/s,
and peak memory (``torch.cuda.max_memory_allocated`` after a reset, weights included; on the CPU: not measured).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: Qwen2-VL-2B-Instruct's config.json (the fields that size the model).
QWEN2_VL_2B = dict(
    text_config=dict(vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                     num_attention_heads=12, num_key_value_heads=2, max_position_embeddings=32768, rms_norm_eps=1e-6,
                     rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]},
                     bos_token_id=151643, eos_token_id=151645, tie_word_embeddings=True),
    vision_config=dict(depth=32, embed_dim=1280, hidden_size=1536, num_heads=16, mlp_ratio=4, patch_size=14,
                       spatial_merge_size=2, temporal_patch_size=2, in_channels=3),
    image_token_id=5, video_token_id=6, vision_start_token_id=3, vision_end_token_id=4, tie_word_embeddings=True,
)


#: Qwen2-VL-2B's tokenizer length (its table has 151,936 rows); the reward model resizes to it + 3 reward tokens.
QWEN2_VL_2B_TOKENS = 151657


def build_base(folder: Path, tiny: bool) -> Path:
    """The base model folder: the tiny one, or a 2B-shaped one with the tiny tokenizer (ids 0-6 are Qwen2-VL's
    special tokens, as the config's token ids expect)."""
    import json as _json

    from videobench.testing.tiny_qwen2vl import (
        CHAT_TEMPLATE,
        PREPROCESSOR_CONFIG,
        build_tiny_base,
        build_tiny_tokenizer,
    )

    if tiny:
        return build_tiny_base(folder)
    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    config = Qwen2VLConfig(**QWEN2_VL_2B)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = Qwen2VLForConditionalGeneration(config).to(torch.bfloat16)
    model.save_pretrained(folder)
    build_tiny_tokenizer(reward_tokens=False).save_pretrained(folder)
    (folder / "chat_template.json").write_text(_json.dumps({"chat_template": CHAT_TEMPLATE}))
    (folder / "preprocessor_config.json").write_text(_json.dumps(PREPROCESSOR_CONFIG))
    del model
    return folder


def run(mode: str, base: str, videos: list[Path], args: argparse.Namespace) -> dict:
    import torch

    from reward_model import setup

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    dtype = "float32" if args.tiny and not cuda else "bfloat16"
    step, model, inputs, rows = setup("plain" if mode == "score" else mode, base, videos, args.pairs, args.frames,
                                      args.side, device=device, dtype=dtype, rank=args.rank,
                                      vocab_rows=None if args.tiny else QWEN2_VL_2B_TOKENS + 3)
    if mode == "score":  # no-grad scoring of the same videos, as `videobench eval` runs the model
        batch = inputs.pair_batch(rows)
        model.net.eval()

        def step() -> None:  # noqa: F811
            with torch.inference_mode():
                model.net(**batch)

    step()  # warm-up
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")
    del model, step, inputs
    if cuda:
        torch.cuda.empty_cache()
    return {"mode": mode, "step_s": seconds, "videos_per_s": 2 * args.pairs / seconds, "peak_gib": peak,
            "device": torch.cuda.get_device_name() if cuda else "cpu"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny config: a smoke test that runs on a CPU")
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--frames", type=int, default=16, help="frames per video (2 fps x 8 s)")
    parser.add_argument("--side", type=int, default=448, help="frame side (448x448 = the paper's pixel budget)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--modes", default="plain,trainer,score")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    if args.tiny:
        args.side, args.frames, args.rank = min(args.side, 112), min(args.frames, 4), min(args.rank, 4)
    from reward_model import write_videos

    root = Path(tempfile.mkdtemp(prefix="bench-gpu-rm-"))
    base = str(build_base(root / "base", args.tiny))
    videos = write_videos(root / "videos", args.pairs + 1, args.frames, args.side)
    rows = [run(mode, base, videos, args) for mode in args.modes.split(",")]
    first = rows[0]
    print(f"Qwen2-VL {'tiny' if args.tiny else '2B'} reward model, {args.pairs} pairs of {args.frames} frames at "
          f"{args.side}x{args.side}, LoRA rank {args.rank}, {first['device']}")
    print(f"{'mode':<10}{'step s':>9}{'time x':>8}{'videos/s':>10}{'peak GiB':>10}")
    for r in rows:
        print(f"{r['mode']:<10}{r['step_s']:>9.3f}{r['step_s'] / first['step_s']:>8.2f}{r['videos_per_s']:>10.2f}"
              f"{r['peak_gib']:>10.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
