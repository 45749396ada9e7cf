"""The VideoReward adapter: the paper's Qwen2-VL reward model, loaded as VideoAlign's inference loads it (where each
piece comes from: ``videoreward_files``; building the model and loading weights: here).

Loading (VideoAlign's ``inference.py`` -> ``create_model_and_processor`` -> ``load_model_from_checkpoint``):
``model_config.json`` at the checkpoint root names the BASE model (``model_config.model_name_or_path`` at
``model_revision``); the tokenizer, chat template and image-processor settings come from that base model; the three
reward tokens are added as additional special tokens and the embeddings resized to the new tokenizer length; then the
weights of the highest ``checkpoint-N/`` are loaded: LoRA layout = base weights, ``non_lora_state_dict.pth`` (keys
under ``base_model.model.``), then the PEFT adapter; full layout = ``model.pth``. ``checkpoint-N/tokenizer/`` (the
trainer's copy) is never required; when present its reward-token ids are checked against ours. ``.pth`` files load
only through ``torch.load(weights_only=True)``; base weights only from ``.safetensors``. Keys in the
transformers-4.45 layout are mapped with the installed transformers' own Qwen2-VL conversion rules; a key that maps
to nothing, or a required weight left unloaded, is an error naming the file and the keys.

Scoring (DESIGN.md §5b, each measured to move scores): frames resized as ``qwen2vl_inputs`` describes; one user turn
[video, text] through the chat template (default system turn, generation prompt, right padding); plain 1-D positions
0..L-1 (the reference never computes Qwen2-VL's M-RoPE index); a bias-free linear head read at the three reward-token
positions, its diagonal giving (VQ, MQ, TA); optional z-scores with the checkpoint's mean/std; Overall = their sum.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from videobench.rewards.base import Clip, Sampling
from videobench.rewards.qwen2vl_inputs import PatchSpec, VideoInputs, sampled_fps, video_inputs
from videobench.rewards.videoreward_files import (  # noqa: F401  (re-exported: the adapter's public names)
    CONFIG_FILE,
    FULL_LAYOUT,
    LORA_LAYOUT,
    PEFT_PREFIX,
    REWARD_TOKENS,
    CheckpointError,
    CheckpointFiles,
    ResolvedSource,
    backbone_class,
    check_base_weights,
    checkpoint_files,
    find_checkpoint,
    load_patch_spec,
    load_state_file,
    load_tokenizer,
    read_json,
    resolve_base,
    resolve_source,
)
from videobench.video.resize import VIDEO_MIN_PIXELS, default_video_max_pixels

logger = logging.getLogger(__name__)

#: Bump when anything here changes scores (part of every fingerprint, so caches never mix code versions).
ADAPTER_VERSION = "videoreward-2"
DEFAULT_DIMENSIONS = ("VQ", "MQ", "TA")
TEMPLATE_FILE = "prompt_template.txt"
#: The prompt placeholder: VideoAlign's templates use ``{text_prompt}``; ``{prompt}`` is accepted too.
PROMPT_FIELDS = ("{text_prompt}", "{prompt}")
#: VideoAlign's ``DataConfig.max_frame_pixels`` default, which its inference passes when the config has no such key.
DATACONFIG_MAX_FRAME_PIXELS = 240 * 320


# ------------------------------------------------------------------------------------------------------ key mapping


def legacy_key_mapper(model: torch.nn.Module) -> Callable[[str], str]:
    """Maps transformers-4.45 Qwen2-VL keys (``model.layers.*``, ``visual.*``) to the installed layout.

    Uses transformers' own conversion rules for the model class (transformers >= 5), else the class's
    ``_checkpoint_conversion_mapping`` (4.5x), else identity (4.45 already has the old layout).
    """
    try:
        from transformers.conversion_mapping import get_model_conversion_mapping
        from transformers.core_model_loading import WeightRenaming, rename_source_key
    except ImportError:
        table = getattr(model, "_checkpoint_conversion_mapping", None) or {}

        def by_table(key: str) -> str:
            for pattern, replacement in table.items():
                new, n = re.subn(pattern, replacement, key)
                if n:
                    return new
            return key

        return by_table
    renamings = [t for t in get_model_conversion_mapping(model, add_legacy=False) if isinstance(t, WeightRenaming)]
    return lambda key: rename_source_key(key, renamings, [])[0]


def _strip(key: str, prefix: str) -> str:
    return key[len(prefix):] if key.startswith(prefix) else key


def _format_keys(keys: Sequence[str], limit: int = 12) -> str:
    keys = sorted(keys)
    more = f" ... and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


# ------------------------------------------------------------------------------------------------------------ model


class RewardNet(torch.nn.Module):
    """Qwen2-VL / Qwen2.5-VL backbone + bias-free reward head, forward as the reference computes it."""

    def __init__(self, backbone: Any, output_dim: int) -> None:
        super().__init__()
        self.backbone = backbone
        hidden = backbone.config.text_config.hidden_size
        self.rm_head = torch.nn.Linear(hidden, output_dim, bias=False)
        #: Qwen2.5-VL: its own time-aligned M-RoPE positions (no reference model fixes another choice; it was
        #: pretrained with them). Qwen2-VL: plain 1-D positions, as VideoAlign's released model was trained.
        self.mrope = backbone.config.model_type == "qwen2_5_vl"

    def hidden_states(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        pixel_values_videos: torch.Tensor,
        video_grid_thw: torch.Tensor,
        second_per_grid_ts: torch.Tensor | None = None,
    ) -> torch.Tensor:
        batch, length = input_ids.shape
        if self.mrope:
            if second_per_grid_ts is None:
                raise ValueError("a Qwen2.5-VL reward model needs second_per_grid_ts (seconds per temporal patch)")
            video = (input_ids == self.backbone.config.video_token_id).int() * 2  # token types: 2 = video
            positions = self.backbone.model.get_rope_index(
                input_ids, video, video_grid_thw=video_grid_thw, second_per_grid_ts=second_per_grid_ts,
                attention_mask=attention_mask)[0]
        else:  # Plain 1-D positions: the reference calls the inner model without position ids (no M-RoPE index).
            positions = torch.arange(length, device=input_ids.device).unsqueeze(0).expand(batch, -1)
        out = self.backbone.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=positions,
            pixel_values_videos=pixel_values_videos,
            video_grid_thw=video_grid_thw,
            use_cache=False,
        )
        return out.last_hidden_state

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        pixel_values_videos: torch.Tensor,
        video_grid_thw: torch.Tensor,
        reward_positions: torch.Tensor,
        second_per_grid_ts: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, K) rewards of a batch from ``VideoRewardModel.batch_inputs`` (what training differentiates)."""
        hidden = self.hidden_states(input_ids, attention_mask, pixel_values_videos, video_grid_thw,
                                    second_per_grid_ts)
        return self.rewards(hidden, reward_positions)

    def rewards(self, hidden: torch.Tensor, reward_positions: torch.Tensor) -> torch.Tensor:
        """(B, K) rewards: head output k at the position of reward token k (the diagonal)."""
        index = reward_positions.unsqueeze(-1).expand(-1, -1, hidden.shape[-1])
        picked = hidden.gather(1, index)  # (B, K, hidden)
        logits = self.rm_head(picked)  # (B, K, output_dim)
        return logits.diagonal(dim1=1, dim2=2) if logits.shape[-1] > 1 else logits[..., 0]


def _dtype(value: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    if isinstance(value, torch.dtype):
        return value
    if value in (None, "auto"):
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    names = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
             "float16": torch.float16, "fp16": torch.float16}
    if value not in names:
        raise CheckpointError(f"dtype={value!r}: choose one of {', '.join(sorted(names))} or auto")
    return names[value]


# -------------------------------------------------------------------------------------------------------- template


def _read_template(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the prompt template: {exc}") from exc


def prompt_field(template: str, where: str) -> str:
    """The template's prompt placeholder, ``{text_prompt}`` (VideoAlign's) or ``{prompt}``, present exactly once."""
    counts = {field: template.count(field) for field in PROMPT_FIELDS}
    if sum(counts.values()) != 1:
        raise CheckpointError(
            f"{where}: the prompt template must contain the placeholder {{text_prompt}} (as in VideoAlign's "
            f"templates) or {{prompt}} exactly once; found {counts['{text_prompt}']} and {counts['{prompt}']}"
        )
    return next(field for field, n in counts.items() if n)


def check_template(template: str, reward_tokens: Sequence[str], where: str) -> None:
    """One prompt placeholder, and each reward token once, in the head's order."""
    prompt_field(template, where)
    positions = []
    for token in reward_tokens:
        if template.count(token) != 1:
            raise CheckpointError(f"{where}: the prompt template must contain {token} exactly once")
        positions.append(template.index(token))
    if positions != sorted(positions):
        raise CheckpointError(
            f"{where}: the reward tokens must appear in the order {list(reward_tokens)} (the head's rows are read in "
            "that order, as in training)"
        )


def _sampled_file_digest(path: Path, chunks: int = 16, chunk_size: int = 1 << 16) -> str:
    """Size + bytes spread over the file: cheap on multi-GB weights, and any retraining changes nearly every chunk."""
    size = path.stat().st_size
    digest = hashlib.sha256(f"{path.name}:{size}".encode())
    with open(path, "rb") as f:
        if size <= chunks * chunk_size:
            digest.update(f.read())
        else:
            for i in range(chunks):
                f.seek((size - chunk_size) * i // (chunks - 1))
                digest.update(f.read(chunk_size))
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------------------- adapter


class PromptError(ValueError):
    """A prompt that cannot be put into the model input as it is."""


class VideoRewardModel:
    """``RewardModel`` for VideoReward checkpoints: ``VideoRewardModel.load("KwaiVGI/VideoReward", template=...)``."""

    needs_frames = True

    def __init__(
        self,
        net: RewardNet,
        tokenizer: Any,
        template: str,
        *,
        name: str,
        dimensions: Sequence[str],
        reward_tokens: Sequence[str],
        norm: dict[str, tuple[float, float]],
        sampling: Sampling,
        use_norm: bool = True,
        batch_size: int = 4,
        min_pixels: int = VIDEO_MIN_PIXELS,
        patch_spec: PatchSpec | None = None,
        fingerprint_parts: dict[str, Any] | None = None,
        source: ResolvedSource | None = None,
    ) -> None:
        self.net = net
        self.tokenizer = tokenizer
        self.template = template
        self.name = name
        self.reward_dimensions = tuple(dimensions)
        self.dimensions = (*self.reward_dimensions, "Overall")
        self.reward_tokens = tuple(reward_tokens)
        self.norm = norm
        self.sampling = sampling
        self.use_norm = use_norm
        self.batch_size = max(1, int(batch_size))
        self.min_pixels = int(min_pixels)
        self.source = source
        vision = net.backbone.config.vision_config
        self.patch_spec = patch_spec or PatchSpec(vision.patch_size, vision.temporal_patch_size, vision.spatial_merge_size)
        self.reward_token_ids = tokenizer.convert_tokens_to_ids(list(self.reward_tokens))
        video_id = net.backbone.config.video_token_id
        self.video_pad = tokenizer.convert_ids_to_tokens(video_id)
        self._special = [t for t in tokenizer.all_special_tokens if t] + list(self.reward_tokens) + [self.video_pad]
        check_template(template, self.reward_tokens, name)
        # Models sharing a decode share prepared inputs only when everything that shapes them is equal.
        self._inputs_key = ("videoreward-inputs", self.patch_spec, self.min_pixels, sampling.max_pixels)
        self.prompt_field = prompt_field(template, name)
        parts = dict(fingerprint_parts or {})
        parts.update(code=ADAPTER_VERSION, template=template, use_norm=use_norm, min_pixels=self.min_pixels,
                     dtype=str(self.dtype), chat_template=tokenizer.chat_template, processor=asdict(self.patch_spec))
        self._fingerprint = "sha256:" + hashlib.sha256(
            json.dumps(parts, sort_keys=True, default=str).encode()
        ).hexdigest()[:32]

    # ---- protocol

    @property
    def device(self) -> torch.device:
        return self.net.rm_head.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.net.rm_head.weight.dtype

    @property
    def revision(self) -> str | None:
        return self.source.revision if self.source else None

    def fingerprint(self) -> str:
        return self._fingerprint

    def score(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        if len(clips) != len(prompts):
            raise ValueError(f"got {len(clips)} clips but {len(prompts)} prompts")
        raw = np.zeros((len(clips), len(self.reward_dimensions)), dtype=np.float64)
        for start in range(0, len(clips), self.batch_size):
            stop = start + self.batch_size
            raw[start:stop] = self.raw_rewards(clips[start:stop], prompts[start:stop])
        out: dict[str, np.ndarray] = {}
        for k, dim in enumerate(self.reward_dimensions):
            values = raw[:, k]
            if self.use_norm:
                mean, std = self.norm[dim]
                values = (values - mean) / std
            out[dim] = values
        out["Overall"] = np.sum([out[d] for d in self.reward_dimensions], axis=0)
        return out

    # ---- pieces, public so tests and benches can check each

    def prompt_text(self, prompt: str) -> str:
        for token in self._special:
            if token in prompt:
                raise PromptError(f"prompt contains the special token {token!r}, which would corrupt the model input")
        return self.template.replace(self.prompt_field, prompt)

    def chat_text(self, prompt: str, num_video_tokens: int) -> str:
        messages = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": self.prompt_text(prompt)}]}]
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        if text.count(self.video_pad) != 1:
            raise CheckpointError(f"{self.name}: the chat template must render one {self.video_pad} for a video item")
        return text.replace(self.video_pad, self.video_pad * num_video_tokens)

    def pixel_budget(self, num_frames: int) -> float:
        """Per-frame pixel budget: the sampling's, else qwen-vl-utils' default for this many sampled frames."""
        if self.sampling.max_pixels is not None:
            return self.sampling.max_pixels
        return default_video_max_pixels(num_frames, self.min_pixels)

    def clip_inputs(self, clip: Clip) -> VideoInputs:
        prepared = clip.meta.get(self._inputs_key)
        if prepared is not None:
            return prepared
        if clip.frames is None:
            raise ValueError(f"{clip.path}: VideoReward needs decoded frames (clip.frames is None)")
        frames = clip.frames if isinstance(clip.frames, torch.Tensor) else torch.as_tensor(clip.frames)
        budget = self.pixel_budget(frames.shape[0])
        fps = sampled_fps(frames.shape[0], clip.total_frames, clip.source_fps, self.sampling.fps)
        return video_inputs(frames, self.patch_spec, max_pixels=budget, min_pixels=self.min_pixels, fps=fps)

    def prepare(self, clip: Clip) -> None:
        """Resize and patchify ahead (the engine calls this in its decoding threads); ``clip_inputs`` reuses it."""
        clip.meta[self._inputs_key] = self.clip_inputs(clip)

    def batch_inputs(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, torch.Tensor]:
        return self.encode([self.clip_inputs(c) for c in clips], prompts)

    def encode(self, videos: Sequence[VideoInputs], prompts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Model inputs for patchified videos and their prompts (right-padded chat texts, reward-token positions;
        for Qwen2.5-VL the seconds per temporal patch its M-RoPE spaces frames by)."""
        batch = {
            **self.text_inputs(prompts, [v.num_tokens for v in videos]),
            "pixel_values_videos": torch.cat([v.pixel_values for v in videos]),
            "video_grid_thw": torch.tensor([v.grid_thw for v in videos], dtype=torch.long),
        }
        if self.net.mrope:
            if any(v.seconds_per_grid is None for v in videos):
                raise ValueError(f"{self.name}: Qwen2.5-VL video inputs need seconds_per_grid (the sampled fps)")
            batch["second_per_grid_ts"] = torch.tensor([v.seconds_per_grid for v in videos], dtype=torch.float32)
        return batch

    def text_inputs(self, prompts: Sequence[str], num_video_tokens: Sequence[int]) -> dict[str, torch.Tensor]:
        """Token ids (right-padded), attention mask and the reward tokens' positions of one batch."""
        texts = [self.chat_text(p, n) for p, n in zip(prompts, num_video_tokens)]
        enc = self.tokenizer(texts, padding=True, padding_side="right", return_tensors="pt")
        ids = enc["input_ids"]
        positions = torch.stack([(ids == tid).int().argmax(dim=1) for tid in self.reward_token_ids], dim=1)
        counts = torch.stack([(ids == tid).sum(dim=1) for tid in self.reward_token_ids], dim=1)
        if not bool((counts == 1).all()):
            raise PromptError(f"{self.name}: each reward token must occur once per input, counts {counts.tolist()}")
        return {"input_ids": ids, "attention_mask": enc["attention_mask"], "reward_positions": positions}

    @torch.inference_mode()
    def raw_rewards(self, clips: Sequence[Clip], prompts: Sequence[str]) -> np.ndarray:
        """(len(clips), K) rewards before normalisation."""
        batch = self.to_device(self.batch_inputs(clips, prompts))
        return self.net(**batch).float().cpu().numpy()

    def to_device(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The batch on the model's device, pixels in its dtype."""
        return {k: v.to(self.device, self.dtype if k == "pixel_values_videos" else None) for k, v in batch.items()}

    # ---- loading

    @classmethod
    def load(
        cls,
        source: str,
        *,
        revision: str | None = None,
        template: str | Path | None = None,
        base_model: str | Path | None = None,
        step: int | None = None,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
        batch_size: int = 4,
        fps: float | None = None,
        num_frames: int | None = None,
        max_pixels: int | None = None,
        min_pixels: int | None = None,
        use_norm: bool = True,
        trust_remote_code: bool = False,
        attn_implementation: str | None = "sdpa",
        merge_lora: bool = False,
        name: str | None = None,
    ) -> "VideoRewardModel":
        """Load a VideoReward checkpoint (VideoAlign's trainer layout) from a local folder or a Hub repo id.

        source: the folder holding ``model_config.json`` and ``checkpoint-N/``, or a Hub id (``revision`` pinned,
            the resolved commit recorded in ``model.revision``).
        template: a text file with the prompt template: ``{text_prompt}`` (or ``{prompt}``) once and the reward
            tokens ``<|VQ_reward|>``, ``<|MQ_reward|>``, ``<|TA_reward|>`` once each, in that order. Default:
            ``prompt_template.txt`` beside ``model_config.json``. The released model needs VideoAlign's template
            (``prompt_template.py``, ``detailed_special``); see docs/reward-models.md.
        base_model: a local folder (or Hub id) replacing ``model_config.model_name_or_path`` (tokenizer, chat
            template, image-processor settings, and the base weights of a LoRA checkpoint come from it).
        step: load ``checkpoint-<step>`` instead of the highest step.
        device / dtype: default cuda + bfloat16 when CUDA is available, else cpu + float32.
        fps / num_frames: frame sampling (default: the checkpoint's ``data_config``; ``num_frames`` wins over fps).
        max_pixels: per-frame pixel budget (default: ``data_config.max_frame_pixels``; 240*320 when the config has
            no such key, as VideoAlign's ``DataConfig``; qwen-vl-utils' default for the clip when it is null).
        min_pixels: the per-frame floor of the resize (VideoAlign: 128*28*28; lower only to make tests cheap).
            Default: ``model_config.json``'s ``videobench.min_pixels`` (written by ``videobench align
            reward-model`` when it trained with another floor), else 128*28*28.
        use_norm: z-score each dimension with ``inference_config``'s mean and std, as VideoAlign's ``use_norm``.
        merge_lora: fold the LoRA into the base weights (a little faster; the same scores in float32, rounding
            differences in bfloat16). Default: the LoRA runs beside the base weights, as in VideoAlign's inference.
        batch_size, trust_remote_code, attn_implementation, name: as named.
        """
        root, commit = resolve_source(str(source), revision)
        if revision and commit is None:
            logger.warning("revision %r ignored: %s is a local folder", revision, root)
        config_path = root / CONFIG_FILE
        if not config_path.is_file():
            raise CheckpointError(
                f"{config_path}: missing. VideoAlign's trainer writes {CONFIG_FILE} at the root, beside "
                f"{LORA_LAYOUT} (LoRA) or {FULL_LAYOUT} (full)"
            )
        config = read_json(config_path, "the model config")
        data_cfg = config.get("data_config") or {}
        model_cfg = config.get("model_config") or {}
        infer_cfg = config.get("inference_config") or {}
        if min_pixels is None:  # our trainer's own section; VideoAlign's loader ignores top-level keys it does not know
            own = config.get("videobench") if isinstance(config.get("videobench"), dict) else {}
            min_pixels = int(own.get("min_pixels") or VIDEO_MIN_PIXELS)
        lora_cfg = config.get("peft_lora_config")
        checkpoint = find_checkpoint(root, step)
        files = checkpoint_files(checkpoint, lora_cfg.get("lora_enable") if isinstance(lora_cfg, dict) else None)
        resolved = ResolvedSource(root, checkpoint, commit)

        dims = data_cfg.get("eval_dim") or list(DEFAULT_DIMENSIONS)
        dims = tuple([dims] if isinstance(dims, str) else dims)
        if model_cfg.get("use_special_tokens") is False:
            raise CheckpointError(
                f"{config_path}: model_config.use_special_tokens is false (reward read at the "
                f"{model_cfg.get('reward_token', 'last')!r} token); only the reward-token models are supported"
            )
        reward_tokens = REWARD_TOKENS
        if len(dims) != len(reward_tokens):
            raise CheckpointError(f"{config_path}: data_config.eval_dim {list(dims)} must name 3 dimensions, one per "
                                  f"reward token {' '.join(reward_tokens)}")
        norm: dict[str, tuple[float, float]] = {}
        for dim in dims:
            mean, std = infer_cfg.get(f"{dim}_mean"), infer_cfg.get(f"{dim}_std")
            if mean is None or std is None:
                if use_norm:
                    raise CheckpointError(
                        f"{config_path}: inference_config lacks {dim}_mean/{dim}_std needed by use_norm=True"
                    )
                mean, std = 0.0, 1.0
            norm[dim] = (float(mean), float(std))

        template_path = Path(template).expanduser() if template is not None else root / TEMPLATE_FILE
        if not template_path.exists():
            raise CheckpointError(
                f"{template_path}: no prompt template. Pass template=PATH, a text file with {{text_prompt}} (or "
                f"{{prompt}}) and the reward tokens {' '.join(reward_tokens)}; the released VideoReward was trained "
                "with VideoAlign's detailed_special template (prompt_template.py)"
            )
        template_text = _read_template(template_path)
        check_template(template_text, reward_tokens, str(template_path))

        base_name = str(base_model or model_cfg.get("model_name_or_path") or "")
        if not base_name:
            raise CheckpointError(f"{config_path}: model_config.model_name_or_path is empty; pass base_model=PATH")
        base_revision = None if base_model else model_cfg.get("model_revision")
        base_dir, resolved.base_revision = resolve_base(base_name, base_revision, weights=files.lora,
                                                        root=None if base_model else root)
        base_weights = check_base_weights(base_dir) if files.lora else []
        tokenizer = load_tokenizer(base_dir, checkpoint, reward_tokens, trust_remote_code)

        dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        torch_dtype = _dtype(dtype, dev)
        net = _build_net(files, base_dir, tokenizer, len(dims), torch_dtype, attn_implementation,
                         trust_remote_code, merge_lora)
        patch_spec = load_patch_spec(base_dir, net.backbone.config.vision_config)
        net.to(dev).eval()
        logger.info("VideoReward %s: %s (%s, commit %s), base %s, %s on %s", source, checkpoint.name,
                    "LoRA" if files.lora else "full", commit, base_name, torch_dtype, dev)
        sampling = _sampling(data_cfg, fps, num_frames, max_pixels)
        # Content, not location: the same files give the same fingerprint from a local folder or the Hub.
        parts = {
            "model_config": config,
            "weights": {f"checkpoint/{p.name}": _sampled_file_digest(p) for p in files.all()}
            | {f"base/{p.name}": _sampled_file_digest(p) for p in base_weights},
            "tokenizer_len": len(tokenizer),
            "merge_lora": merge_lora,
        }
        if name is None:
            name = f"videoreward:{source}" + (f"@{revision}" if revision else "")
        return cls(
            net, tokenizer, template_text, name=name, dimensions=dims, reward_tokens=reward_tokens, norm=norm,
            sampling=sampling, use_norm=use_norm, batch_size=batch_size, min_pixels=min_pixels,
            patch_spec=patch_spec, fingerprint_parts=parts, source=resolved,
        )


def _sampling(data_cfg: dict[str, Any], fps: float | None, num_frames: int | None, max_pixels: int | None) -> Sampling:
    """The call's choices first, then the checkpoint's ``data_config`` (VideoAlign's ``prepare_batch``)."""
    if max_pixels is not None:
        pixels: int | None = int(max_pixels)
    elif "max_frame_pixels" not in data_cfg:
        pixels = DATACONFIG_MAX_FRAME_PIXELS
    else:  # null: VideoAlign would pass None and fail; qwen-vl-utils' own default applies (per clip)
        pixels = None if data_cfg["max_frame_pixels"] is None else int(data_cfg["max_frame_pixels"])
    if pixels is not None and pixels <= 0:
        raise CheckpointError(f"max_pixels={pixels}: the per-frame pixel budget must be positive")
    if fps is not None and num_frames is not None:
        raise CheckpointError("fps and num_frames cannot both be set (as in VideoAlign's reward())")
    if num_frames is not None:
        return Sampling(fps=None, num_frames=int(num_frames), max_pixels=pixels)
    if fps is not None:
        return Sampling(fps=float(fps), num_frames=None, max_pixels=pixels)
    if data_cfg.get("num_frames"):
        return Sampling(fps=None, num_frames=int(data_cfg["num_frames"]), max_pixels=pixels)
    return Sampling(fps=float(data_cfg.get("fps") or 2.0), num_frames=None, max_pixels=pixels)


def _build_net(
    files: CheckpointFiles,
    base_dir: Path,
    tokenizer: Any,
    output_dim: int,
    dtype: torch.dtype,
    attn_implementation: str | None,
    trust_remote_code: bool,
    merge_lora: bool,
) -> RewardNet:
    """Base model (weights for LoRA, config only for full), embeddings resized to the tokenizer, then the weights."""
    from transformers import AutoConfig

    kwargs: dict[str, Any] = {"dtype": dtype}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if not (base_dir / "config.json").is_file():
        raise CheckpointError(f"{base_dir}: the base model has no config.json")
    model_class = backbone_class(base_dir)
    try:
        if files.lora:
            backbone = model_class.from_pretrained(
                str(base_dir), trust_remote_code=trust_remote_code, **kwargs
            )
        else:  # model.pth holds every weight: the base's config is enough (VideoAlign loads it strictly)
            config = AutoConfig.from_pretrained(str(base_dir), trust_remote_code=trust_remote_code)
            if attn_implementation:
                config._attn_implementation = attn_implementation
            backbone = model_class._from_config(config, dtype=dtype)
    except Exception as exc:  # broken or foreign base files (config, safetensors header, ...): name the folder
        raise CheckpointError(f"{base_dir}: cannot build the {model_class.__name__} base model: {type(exc).__name__}: {exc}") from exc
    backbone.resize_token_embeddings(len(tokenizer))
    net = RewardNet(backbone, output_dim).to(dtype)
    state = load_state_file(files.weights)
    if files.lora:
        _load_into(net, {_strip(k, PEFT_PREFIX): v for k, v in state.items()}, files.weights, strict=False)
        assert files.adapter is not None and files.adapter_config is not None
        _apply_lora(net, files.adapter_config, files.adapter, merge_lora)
    else:
        _load_into(net, state, files.weights, strict=True)
    return net


def _load_into(net: RewardNet, state: dict[str, torch.Tensor], path: Path, strict: bool) -> None:
    """Map old-layout keys and load them; every key must land, and with ``strict`` every weight must be given.

    Without ``strict`` (a LoRA checkpoint's ``non_lora_state_dict``: the weights that were trained) the reward head
    and the embeddings (they carry the reward tokens' rows) are required, and a vision tower is saved whole or not at
    all; its merger only when it was tuned (``tune_merger``), so a missing merger keeps the base's.
    """
    mapper = legacy_key_mapper(net.backbone)
    head = state.get("rm_head.weight")
    hidden = net.rm_head.in_features
    if head is not None and head.ndim == 2 and head.shape[1] == hidden and head.shape[0] in (1, net.rm_head.out_features):
        # The head's width comes from the weights: one output per dimension (read on the diagonal) or one shared.
        net.rm_head = torch.nn.Linear(hidden, head.shape[0], bias=False, dtype=net.rm_head.weight.dtype)
    own = net.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    unexpected = []
    for key, value in state.items():
        key = key.replace(".base_layer.", ".")  # PEFT's wrapped-module name, when all non-LoRA weights were saved
        target = key if key.startswith("rm_head.") else "backbone." + mapper(key)
        if target not in own:
            unexpected.append(key)
            continue
        if own[target].shape != value.shape:
            raise CheckpointError(
                f"{path}: {key} has shape {tuple(value.shape)} but the model expects {tuple(own[target].shape)}"
            )
        mapped[target] = value
    if unexpected:
        raise CheckpointError(f"{path}: keys that match no weight of the model: {_format_keys(unexpected)}")
    required = {"rm_head.weight"}
    if strict:
        tied = bool(getattr(net.backbone.config, "tie_word_embeddings", False))
        required |= {k for k in own if not (tied and k == "backbone.lm_head.weight")}
    else:
        required |= {k for k in own if k.endswith("embed_tokens.weight")}
        tower = {k for k in own if ".visual." in k and ".merger." not in k}
        if tower & set(mapped):
            required |= tower
    missing = sorted(required - set(mapped))
    if missing:
        raise CheckpointError(f"{path}: weights missing from the checkpoint: {_format_keys(missing)}")
    result = net.load_state_dict(mapped, strict=False)
    assert not result.unexpected_keys, result.unexpected_keys


def _apply_lora(net: RewardNet, config_path: Path, adapter_path: Path, merge: bool) -> None:
    """PEFT's saved adapter (keys without the adapter name, ``base_model.model.`` prefix, 4.45 module paths)."""
    from peft import LoraConfig, inject_adapter_in_model

    try:
        config = LoraConfig.from_pretrained(str(config_path.parent))
    except Exception as exc:
        raise CheckpointError(f"{config_path}: not a PEFT LoRA config: {type(exc).__name__}: {exc}") from exc
    mapper = legacy_key_mapper(net.backbone)
    if isinstance(config.target_modules, (list, set, tuple)):
        # Full module paths from the old layout ("model.layers.0.self_attn.q_proj") need the new prefixes too.
        config.target_modules = {mapper(t + ".weight")[: -len(".weight")] for t in config.target_modules}
    config.inference_mode = True
    state = load_state_file(adapter_path)
    try:
        inject_adapter_in_model(config, net.backbone, adapter_name="default")
    except ValueError as exc:
        raise CheckpointError(f"{config_path}: target modules not found in the model: {exc}") from exc
    own = net.backbone.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    unexpected = []
    for key, value in state.items():
        new = mapper(_strip(key, PEFT_PREFIX))
        new = re.sub(r"\.(lora_A|lora_B|lora_magnitude_vector)\.(weight|bias)$", r".\1.default.\2", new)
        new = re.sub(r"\.(lora_embedding_A|lora_embedding_B)$", r".\1.default", new)
        if new not in own or own[new].shape != value.shape:
            unexpected.append(key)
            continue
        mapped[new] = value
    if unexpected:
        raise CheckpointError(f"{adapter_path}: adapter keys that match no LoRA weight: {_format_keys(unexpected)}")
    missing = [k for k in own if ".lora_" in k and k not in mapped]
    if missing:
        raise CheckpointError(f"{adapter_path}: LoRA weights missing from the adapter: {_format_keys(missing)}")
    net.backbone.load_state_dict(mapped, strict=False)
    if merge:  # fold B @ A into the base weights: same scores up to rounding, no adapter cost per token
        for module in net.backbone.modules():
            if hasattr(module, "lora_A") and hasattr(module, "merge"):
                module.merge()
