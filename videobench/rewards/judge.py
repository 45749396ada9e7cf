"""Generative judges: instruction-tuned VLMs (transformers' Qwen2-VL and Qwen2.5-VL classes) that answer a prompt
with scores or a preference, read with a declared grammar (``judge_grammar``).

Two modes (``judge:PATH_OR_REPO?mode=scores|pairwise``):

- ``scores`` (VideoScore2-style): one video per question, the answer holds one number per dimension; the judge is a
  per-video ``RewardModel`` (eval, compare, align).
- ``pairwise`` (UnifiedReward-style): both videos of a pair in one question (A shown first), the answer says which is
  better per dimension; no per-video score exists, so eval judges pairs directly (``videobench.scoring.pairs``).

Decoding is greedy (``do_sample=False``; the repo's generation_config sampling settings are not used), batched with
left padding; positions are the model's own (M-RoPE, computed by ``generate``). Videos become model inputs by
``qwen2vl_inputs`` (the resize rule of qwen-vl-utils, the processor's patch order); Qwen2.5-VL also gets
``second_per_grid_ts`` from the sampled frame rate. An answer that does not follow the grammar is NaN for that
dimension: counted and reported by eval, never guessed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np
import torch

from videobench.rewards.base import Clip, Sampling
from videobench.rewards.judge_grammar import Grammar, GrammarError
from videobench.rewards.qwen2vl_inputs import PatchSpec, VideoInputs, sampled_fps, video_inputs
from videobench.rewards.videoreward import _dtype, _read_template, _sampled_file_digest, prompt_field
from videobench.rewards.videoreward_files import (
    ARCHITECTURES,
    CheckpointError,
    _chat_template,
    check_base_weights,
    load_patch_spec,
    read_json,
    resolve_source,
)
from videobench.video.resize import VIDEO_MIN_PIXELS, default_video_max_pixels

logger = logging.getLogger(__name__)

#: Bump when anything here changes answers (part of every fingerprint).
ADAPTER_VERSION = "judge-1"
#: How a dimension is named in the default templates and looked for in answers.
DEFAULT_LABELS = {"VQ": "visual quality", "MQ": "motion quality", "TA": "text alignment", "Overall": "overall"}
DEFAULT_DIMENSIONS = {"scores": ("VQ", "MQ", "TA"), "pairwise": ("Overall",)}
DEFAULT_MAX_NEW_TOKENS = {"scores": 48, "pairwise": 24}
UNPARSEABLE = ("exclude", "tie")

SCORES_TEMPLATE = (
    "You are an expert judge of AI-generated videos. The video was generated from this text prompt:\n"
    "\"{prompt}\"\n"
    "Rate the video on each aspect with an integer from 1 (worst) to 5 (best).\n"
    "Answer with exactly these lines and nothing else:\n{lines}"
)
PAIRWISE_TEMPLATE = (
    "You are an expert judge of AI-generated videos. Both videos were generated from this text prompt:\n"
    "\"{prompt}\"\n"
    "Video A is shown first, video B second. Say which one is better on each aspect.\n"
    "Answer with exactly these lines and nothing else, each A, B or tie:\n{lines}"
)


class JudgeError(CheckpointError):
    """A judge that cannot be built or asked as configured (model class, template, options)."""


def default_template(mode: str, labels: Sequence[str]) -> str:
    """The built-in template of ``mode``, its answer lines written from the labels the grammar reads."""
    if mode == "scores":
        return SCORES_TEMPLATE.replace("{lines}", "\n".join(f"{label}: <1-5>" for label in labels))
    return PAIRWISE_TEMPLATE.replace("{lines}", "\n".join(f"{label}: <A, B or tie>" for label in labels))


class VLMJudge:
    """A Qwen2-VL / Qwen2.5-VL judge; build with :meth:`load`."""

    needs_frames = True

    def __init__(self, model: Any, tokenizer: Any, grammar: Grammar, template: str, *, name: str,
                 dimensions: Sequence[str], sampling: Sampling, patch_spec: PatchSpec, min_pixels: int,
                 batch_size: int, max_new_tokens: int, swap: bool, unparseable: str,
                 fingerprint_parts: dict[str, Any], revision: str | None = None,
                 answers_log: Path | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.grammar = grammar
        self.template = template
        self.prompt_field = prompt_field(template, name)
        self.name = name
        self.dimensions = tuple(dimensions)
        self.sampling = sampling
        self.patch_spec = patch_spec
        self.min_pixels = min_pixels
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.swap = swap
        self.unparseable = unparseable
        self.revision = revision
        #: a JSON Lines file every generated answer is appended to (not part of the fingerprint: it reads nothing)
        self.answers_log = answers_log
        self.mode = grammar.mode
        self.pairwise = grammar.mode == "pairwise"
        self.video_pad = "<|video_pad|>"
        self.video_token_id = int(model.config.video_token_id)
        self.qwen25 = model.config.model_type == "qwen2_5_vl"
        self._special = [t for t in tokenizer.all_special_tokens if t] + [self.video_pad]
        #: a few answers that did not parse, from this process (shown with the counts; cached ones are not re-read)
        self.unparsed_examples: list[str] = []
        parts = {**fingerprint_parts, "template": template, "grammar": [grammar.mode, list(grammar.labels),
                 grammar.pattern], "dimensions": list(self.dimensions), "max_new_tokens": max_new_tokens,
                 "patch_spec": [patch_spec.patch_size, patch_spec.merge_size, patch_spec.min_pixels,
                                patch_spec.max_pixels], "min_pixels": min_pixels, "version": ADAPTER_VERSION}
        self._fingerprint = "sha256:" + hashlib.sha256(
            json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]

    def fingerprint(self) -> str:
        return self._fingerprint

    def judge_provenance(self) -> dict[str, Any]:
        """What a result records about how the answers were asked for and read."""
        return {"mode": self.mode, "grammar": self.grammar.describe(), "unparseable": self.unparseable,
                "max_new_tokens": self.max_new_tokens, "decoding": "greedy",
                "template_sha256": hashlib.sha256(self.template.encode()).hexdigest()[:16],
                "orders": ["AB", "BA"] if self.pairwise and self.swap else ["AB"] if self.pairwise else None,
                **({"answers_log": str(self.answers_log)} if self.answers_log is not None else {})}

    # ---- asking

    def score(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        """Scores mode: one number per dimension per clip (NaN where the answer does not parse)."""
        if self.pairwise:
            raise JudgeError(f"{self.name}: a pairwise judge gives no per-video score; it judges the pairs of a "
                             "benchmark (videobench eval), not single videos (compare, align): use mode=scores there")
        if len(clips) != len(prompts):
            raise ValueError(f"got {len(clips)} clips but {len(prompts)} prompts")
        return self._ask([[c] for c in clips], prompts)

    def judge_pairs(self, first: Sequence[Clip], second: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        """Pairwise mode: per dimension +1 (the first-shown video is better), -1 (the second), 0 (tie), NaN
        (unparseable)."""
        if not self.pairwise:
            raise JudgeError(f"{self.name}: judge_pairs needs mode=pairwise")
        if not len(first) == len(second) == len(prompts):
            raise ValueError(f"got {len(first)} first clips, {len(second)} second clips and {len(prompts)} prompts")
        return self._ask([[a, b] for a, b in zip(first, second)], prompts)

    def _ask(self, videos: list[list[Clip]], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        values = np.full((len(videos), len(self.dimensions)), np.nan)
        for start in range(0, len(videos), self.batch_size):
            stop = start + self.batch_size
            answers = self.generate(videos[start:stop], prompts[start:stop])
            for k, answer in enumerate(answers):
                parsed = self.grammar.parse(answer)
                values[start + k] = parsed
                if any(math.isnan(v) for v in parsed) and len(self.unparsed_examples) < 5:
                    self.unparsed_examples.append(answer[:200])
            if self.answers_log is not None:
                self._log_answers(videos[start:stop], prompts[start:stop], answers, values[start:stop])
        return {dim: values[:, j] for j, dim in enumerate(self.dimensions)}

    def _log_answers(self, videos: Sequence[Sequence[Clip]], prompts: Sequence[str], answers: Sequence[str],
                     values: np.ndarray) -> None:
        """One JSON line per answer, the batch in one append (whole lines: processes sharing the file never
        interleave within a line, and a kill loses at most the batch being written)."""
        lines = "".join(json.dumps({
            "videos": [c.path for c in shown], "content_hashes": [c.content_hash for c in shown], "prompt": prompt,
            "answer": answer, "parsed": {d: None if math.isnan(v) else float(v) for d, v in zip(self.dimensions, row)},
        }, ensure_ascii=False) + "\n" for shown, prompt, answer, row in zip(videos, prompts, answers, values))
        try:
            self.answers_log.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.answers_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, lines.encode("utf-8"))
            finally:
                os.close(fd)
        except OSError as exc:
            raise JudgeError(f"answers_log={self.answers_log}: cannot append the answers: {exc.strerror}") from None

    # ---- pieces, public so tests can check each

    def prompt_text(self, prompt: str) -> str:
        for token in self._special:
            if token in prompt:
                raise JudgeError(f"prompt contains the special token {token!r}, which would corrupt the model input")
        return self.template.replace(self.prompt_field, prompt)

    def chat_text(self, prompt: str, video_tokens: Sequence[int]) -> str:
        content = [{"type": "video"} for _ in video_tokens] + [{"type": "text", "text": self.prompt_text(prompt)}]
        text = self.tokenizer.apply_chat_template([{"role": "user", "content": content}], tokenize=False,
                                                  add_generation_prompt=True)
        pieces = text.split(self.video_pad)
        if len(pieces) != len(video_tokens) + 1:
            raise JudgeError(f"{self.name}: the chat template must render one {self.video_pad} per video item")
        out = pieces[0]
        for n, piece in zip(video_tokens, pieces[1:]):
            out += self.video_pad * n + piece
        return out

    def clip_inputs(self, clip: Clip) -> tuple[VideoInputs, float]:
        """The clip's patches and its seconds per temporal patch (Qwen2.5-VL's ``second_per_grid_ts``)."""
        if clip.frames is None:
            raise ValueError(f"{clip.path}: a judge needs decoded frames (clip.frames is None)")
        frames = clip.frames if isinstance(clip.frames, torch.Tensor) else torch.as_tensor(clip.frames)
        budget = self.sampling.max_pixels or default_video_max_pixels(frames.shape[0], self.min_pixels)
        fps = sampled_fps(frames.shape[0], clip.total_frames, clip.source_fps, self.sampling.fps)
        inputs = video_inputs(frames, self.patch_spec, max_pixels=budget, min_pixels=self.min_pixels, fps=fps)
        return inputs, inputs.seconds_per_grid

    def batch_inputs(self, videos: Sequence[Sequence[Clip]], prompts: Sequence[str]) -> dict[str, torch.Tensor]:
        per_item = [[self.clip_inputs(c) for c in item] for item in videos]
        texts = [self.chat_text(p, [v.num_tokens for v, _ in item]) for p, item in zip(prompts, per_item)]
        enc = self.tokenizer(texts, padding=True, padding_side="left", return_tensors="pt")
        flat = [pair for item in per_item for pair in item]
        batch = {
            "input_ids": enc["input_ids"],
            "attention_mask": enc["attention_mask"],
            "pixel_values_videos": torch.cat([v.pixel_values for v, _ in flat]),
            "video_grid_thw": torch.tensor([v.grid_thw for v, _ in flat], dtype=torch.long),
            "mm_token_type_ids": (enc["input_ids"] == self.video_token_id).long() * 2,
        }
        if self.qwen25:
            batch["second_per_grid_ts"] = torch.tensor([s for _, s in flat], dtype=torch.float32)
        return batch

    @torch.inference_mode()
    def generate(self, videos: Sequence[Sequence[Clip]], prompts: Sequence[str]) -> list[str]:
        """The answers (text after the prompt, special tokens dropped), greedy."""
        from transformers import GenerationConfig

        batch = self.batch_inputs(videos, prompts)
        device = next(self.model.parameters()).device
        dtype = next(self.model.parameters()).dtype
        inputs = {k: v.to(device, dtype) if k == "pixel_values_videos" else v.to(device) for k, v in batch.items()}
        config = GenerationConfig(do_sample=False, max_new_tokens=self.max_new_tokens,
                                  eos_token_id=self.tokenizer.eos_token_id, pad_token_id=self.tokenizer.pad_token_id)
        out = self.model.generate(**inputs, generation_config=config)
        return self.tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)

    # ---- loading

    @classmethod
    def load(
        cls,
        source: str,
        *,
        mode: Literal["scores", "pairwise"] = "scores",
        template: Path | None = None,
        dimensions: tuple[str, ...] | None = None,
        labels: tuple[str, ...] | None = None,
        pattern: str | None = None,
        max_new_tokens: int | None = None,
        swap: bool = False,
        unparseable: Literal["exclude", "tie"] = "exclude",
        revision: str | None = None,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 2,
        fps: float | None = None,
        num_frames: int | None = None,
        max_pixels: int | None = None,
        min_pixels: int = VIDEO_MIN_PIXELS,
        trust_remote_code: bool = False,
        attn_implementation: str | None = "sdpa",
        name: str | None = None,
        answers_log: Path | None = None,
    ) -> "VLMJudge":
        """Load a Qwen2-VL / Qwen2.5-VL instruction model as a judge (a local folder or a Hub repo id).

        mode: ``scores`` (one video, a number per dimension) or ``pairwise`` (two videos, A / B / tie per dimension).
        template: a text file with ``{prompt}`` (or ``{text_prompt}``) once; for pairwise, video A is shown first.
            Default: the built-in template of the mode, its answer lines written from the labels.
        dimensions: the result's dimension names (default VQ,MQ,TA for scores, Overall for pairwise); labels: how
            each is named in the answer (default visual quality, motion quality, text alignment, overall; else the
            dimension's own name). pattern: a regular expression replacing the answer grammar (``{label}`` and a
            group ``value``; see ``judge_grammar``).
        max_new_tokens: answer length (default 48 scores, 24 pairwise; a thinking judge needs far more).
        swap: pairwise only: ask each pair in both orders (A/B and B/A) and report position bias; the two verdicts
            are averaged. unparseable: pairwise only: an unparseable verdict is excluded (default, counted) or a tie.
        fps / num_frames / max_pixels / min_pixels: frame sampling and pixel budget (default 2 fps, qwen-vl-utils'
            budget for the clip, floor 128*28*28).
        device / dtype: default cuda + bfloat16 when available, else cpu + float32.
        answers_log: a JSON Lines file each answer the judge generates is appended to (videos shown, prompt, raw
            answer, parsed values); answers reused from the score cache are not generated again, so not logged again.
        """
        if mode not in ("scores", "pairwise"):
            raise JudgeError(f"mode={mode!r}: choose scores or pairwise")
        if unparseable not in UNPARSEABLE:
            raise JudgeError(f"unparseable={unparseable!r}: choose exclude or tie")
        if mode == "scores" and (swap or unparseable != "exclude"):
            raise JudgeError("swap and unparseable=tie apply to pairwise judges: a per-video score has no order and "
                             "no tie (an unparseable score is excluded, and counted)")
        if batch_size < 1:
            raise JudgeError(f"batch_size must be >= 1, got {batch_size}")
        dims = tuple(dimensions or DEFAULT_DIMENSIONS[mode])
        names = tuple(labels or (DEFAULT_LABELS.get(d, d) for d in dims))
        if len(names) != len(dims):
            raise JudgeError(f"labels {list(names)} must name each of the dimensions {list(dims)}, in order")
        try:
            grammar = Grammar(mode, names, pattern)
        except GrammarError as exc:
            raise JudgeError(str(exc)) from None
        root, commit = resolve_source(str(source), revision)
        model, tokenizer = _load_model(root, device, dtype, trust_remote_code, attn_implementation)
        text = _read_template(Path(template).expanduser()) if template is not None else default_template(mode, names)
        if fps is not None and num_frames is not None:
            raise JudgeError("fps and num_frames cannot both be set")
        sampling = Sampling(fps=None if num_frames else float(fps or 2.0), num_frames=num_frames,
                            max_pixels=max_pixels)
        weights = check_base_weights(root)
        parts = {"config": read_json(root / "config.json", "the model config"),
                 "weights": {p.name: _sampled_file_digest(p) for p in weights}, "tokenizer_len": len(tokenizer),
                 "chat_template": tokenizer.chat_template, "dtype": str(next(model.parameters()).dtype)}
        return cls(model, tokenizer, grammar, text, name=name or f"judge:{source}" + (f"@{revision}" if revision
                   else ""), dimensions=dims, sampling=sampling,
                   patch_spec=load_patch_spec(root, model.config.vision_config), min_pixels=min_pixels,
                   batch_size=batch_size, max_new_tokens=max_new_tokens or DEFAULT_MAX_NEW_TOKENS[mode], swap=swap,
                   unparseable=unparseable, fingerprint_parts=parts, revision=commit,
                   answers_log=Path(answers_log).expanduser() if answers_log is not None else None)


def _load_model(root: Path, device: str | None, dtype: str | None, trust_remote_code: bool,
                attn_implementation: str | None) -> tuple[Any, Any]:
    import transformers
    from transformers import AutoTokenizer

    config = read_json(root / "config.json", "the model config") if (root / "config.json").is_file() else None
    if config is None:
        raise JudgeError(f"{root}: no config.json: a judge is a Qwen2-VL / Qwen2.5-VL model folder or Hub repo")
    kind = config.get("model_type")
    if kind not in ARCHITECTURES:
        raise JudgeError(f"{root}: model_type {kind!r} is not a judge videobench can run; supported: "
                         f"{', '.join(ARCHITECTURES)} (transformers' Qwen2-VL and Qwen2.5-VL classes)")
    check_base_weights(root)  # safetensors only, before anything loads
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    kwargs: dict[str, Any] = {"dtype": _dtype(dtype, dev), "trust_remote_code": trust_remote_code}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    try:
        model = getattr(transformers, ARCHITECTURES[kind]).from_pretrained(str(root), **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(str(root), trust_remote_code=trust_remote_code)
    except Exception as exc:  # broken or foreign files: name the folder rather than trace through transformers
        raise JudgeError(f"{root}: cannot load the {kind} model: {type(exc).__name__}: {exc}") from exc
    template = _chat_template(root)
    if template:
        tokenizer.chat_template = template
    if not tokenizer.chat_template:
        raise JudgeError(f"{root}: no chat template (chat_template.json, chat_template.jinja or tokenizer_config.json)")
    if tokenizer.convert_tokens_to_ids("<|video_pad|>") != model.config.video_token_id:
        raise JudgeError(f"{root}: the tokenizer's <|video_pad|> id differs from config.video_token_id "
                         f"{model.config.video_token_id}")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(dev).eval(), tokenizer
