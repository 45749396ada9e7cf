"""The VideoReward adapter: the paper's Qwen2-VL reward model, loaded from the released checkpoint layout.

What scores depend on (DESIGN.md §5b, each measured to move scores): one user turn [video, text] through the
checkpoint's chat template (default system turn, generation prompt, right padding); plain 1-D positions 0..L-1 (the
reference never computes Qwen2-VL's M-RoPE index); a bias-free linear head read at the three reward-token positions,
its diagonal giving (VQ, MQ, TA); optional z-scores with the checkpoint's mean/std; Overall = their sum.

Layout read: ``model_config.json`` + the highest ``checkpoint-N/`` holding either a LoRA adapter and
``non_lora_state_dict`` (vision tower, resized embeddings, reward head; the base weights come from the model named in
``model_config.json``) or full weights ``model``; ``.safetensors`` preferred, ``.pth`` only through
``torch.load(weights_only=True)``. Keys are in the transformers-4.45 layout and are mapped with the installed
transformers' own Qwen2-VL conversion rules; any key that maps to nothing, or any weight left unloaded, is an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from videobench.rewards.base import Clip, Sampling
from videobench.rewards.qwen2vl_inputs import PatchSpec, VideoInputs, video_inputs
from videobench.video.resize import MAX_PIXELS, MIN_PIXELS

logger = logging.getLogger(__name__)

#: Bump when anything here changes scores (part of every fingerprint, so caches never mix code versions).
ADAPTER_VERSION = "videoreward-1"
DEFAULT_REWARD_TOKENS = ("<|VQ_reward|>", "<|MQ_reward|>", "<|TA_reward|>")
DEFAULT_DIMENSIONS = ("VQ", "MQ", "TA")
PEFT_PREFIX = "base_model.model."
TEMPLATE_FILE = "prompt_template.txt"
PROMPT_FIELD = "{prompt}"


class CheckpointError(ValueError):
    """A VideoReward checkpoint that cannot be loaded as it is; the message names the file and the keys at fault."""


# --------------------------------------------------------------------------------------------------- locating files


@dataclass
class ResolvedSource:
    root: Path
    checkpoint: Path
    revision: str | None  # the Hub commit, for Hub ids
    base_revision: str | None = None  # the base model's Hub commit, when it was downloaded


def resolve_source(source: str, revision: str | None = None) -> tuple[Path, str | None]:
    """A local folder as is; anything else is a Hub repo id downloaded with ``snapshot_download``.

    Returns the folder and, for Hub ids, the resolved commit (the snapshot folder's name is the commit hash).
    """
    local = Path(source).expanduser()
    if local.exists():
        if not local.is_dir():
            raise CheckpointError(f"{local}: a VideoReward checkpoint is a folder, not a file")
        return local, None
    if source.startswith((".", "/", "~")) or source.count("/") != 1:
        raise CheckpointError(f"{source}: no such folder, and not a Hub repo id of the form owner/name")
    from huggingface_hub import snapshot_download

    try:
        folder = Path(snapshot_download(repo_id=source, revision=revision))
    except Exception as exc:  # offline, unknown repo, unknown revision: say which
        raise CheckpointError(
            f"cannot download {source!r} (revision {revision or 'main'}) from the Hub: {type(exc).__name__}: {exc}"
        ) from exc
    return folder, folder.name


def find_checkpoint(root: Path) -> Path:
    """The ``checkpoint-N`` folder with the highest N (numeric, not string order); ``root`` itself if it has none."""
    steps = []
    for child in root.iterdir():
        match = re.fullmatch(r"checkpoint-(\d+)", child.name)
        if match and child.is_dir():
            steps.append((int(match.group(1)), child))
    if steps:
        return max(steps)[1]
    if any((root / name).exists() for name in ("adapter_config.json", "model.safetensors", "model.pth")):
        return root
    raise CheckpointError(f"{root}: no checkpoint-<step>/ folder and no weights (adapter_config.json or model.*)")


def load_state_file(folder: Path, stem: str) -> dict[str, torch.Tensor] | None:
    """``stem.safetensors``, else ``stem.pth`` / ``stem.bin`` through ``torch.load(weights_only=True)``; None if absent."""
    st = folder / f"{stem}.safetensors"
    if st.exists():
        from safetensors.torch import load_file

        return load_file(str(st))
    for suffix in (".pth", ".bin", ".pt"):
        path = folder / f"{stem}{suffix}"
        if path.exists():
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as exc:  # pickles with anything but tensors are refused, by design
                raise CheckpointError(f"{path}: cannot load with torch.load(weights_only=True): {exc}") from exc
            if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
                raise CheckpointError(f"{path}: expected a flat dict of tensors")
            return state
    return None


def _weights_files(folder: Path, stem: str) -> list[Path]:
    return [folder / f"{stem}{s}" for s in (".safetensors", ".pth", ".bin", ".pt") if (folder / f"{stem}{s}").exists()]


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
    """Qwen2-VL backbone + bias-free reward head, forward as the reference computes it."""

    def __init__(self, backbone: Any, output_dim: int) -> None:
        super().__init__()
        self.backbone = backbone
        hidden = backbone.config.text_config.hidden_size
        self.rm_head = torch.nn.Linear(hidden, output_dim, bias=False)

    def hidden_states(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        pixel_values_videos: torch.Tensor,
        video_grid_thw: torch.Tensor,
    ) -> torch.Tensor:
        batch, length = input_ids.shape
        # Plain 1-D positions: the reference calls the inner model without position ids (no M-RoPE index).
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
        raise ValueError(f"unknown dtype {value!r}; choose one of {sorted(names)}")
    return names[value]


def _read_template(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the prompt template: {exc}") from exc


def check_template(template: str, reward_tokens: Sequence[str], where: str) -> None:
    """The template holds ``{prompt}`` once and each reward token once, in the head's order."""
    if template.count(PROMPT_FIELD) != 1:
        raise CheckpointError(f"{where}: the prompt template must contain {PROMPT_FIELD} exactly once")
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
        min_pixels: int = MIN_PIXELS,
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
        self.patch_spec = PatchSpec(vision.patch_size, vision.temporal_patch_size, vision.spatial_merge_size)
        self.reward_token_ids = tokenizer.convert_tokens_to_ids(list(self.reward_tokens))
        video_id = net.backbone.config.video_token_id
        self.video_pad = tokenizer.convert_ids_to_tokens(video_id)
        self._special = [t for t in tokenizer.all_special_tokens if t] + list(self.reward_tokens) + [self.video_pad]
        check_template(template, self.reward_tokens, name)
        parts = dict(fingerprint_parts or {})
        parts.update(code=ADAPTER_VERSION, template=template, use_norm=use_norm, min_pixels=self.min_pixels,
                     dtype=str(self.dtype), chat_template=tokenizer.chat_template)
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
                raise ValueError(f"prompt contains the special token {token!r}, which would corrupt the model input")
        return self.template.replace(PROMPT_FIELD, prompt)

    def chat_text(self, prompt: str, num_video_tokens: int) -> str:
        messages = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": self.prompt_text(prompt)}]}]
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        if text.count(self.video_pad) != 1:
            raise CheckpointError(f"{self.name}: the chat template must render one {self.video_pad} for a video item")
        return text.replace(self.video_pad, self.video_pad * num_video_tokens)

    def clip_inputs(self, clip: Clip) -> VideoInputs:
        if clip.frames is None:
            raise ValueError(f"{clip.path}: VideoReward needs decoded frames (clip.frames is None)")
        frames = clip.frames if isinstance(clip.frames, torch.Tensor) else torch.as_tensor(clip.frames)
        max_pixels = self.sampling.max_pixels or MAX_PIXELS
        return video_inputs(frames, self.patch_spec, max_pixels=max_pixels, min_pixels=self.min_pixels)

    def batch_inputs(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, torch.Tensor]:
        videos = [self.clip_inputs(c) for c in clips]
        texts = [self.chat_text(p, v.num_tokens) for p, v in zip(prompts, videos)]
        enc = self.tokenizer(texts, padding=True, padding_side="right", return_tensors="pt")
        ids = enc["input_ids"]
        positions = torch.stack([(ids == tid).int().argmax(dim=1) for tid in self.reward_token_ids], dim=1)
        counts = torch.stack([(ids == tid).sum(dim=1) for tid in self.reward_token_ids], dim=1)
        if not bool((counts == 1).all()):
            raise ValueError(f"{self.name}: each reward token must occur once per input, counts {counts.tolist()}")
        return {
            "input_ids": ids,
            "attention_mask": enc["attention_mask"],
            "pixel_values_videos": torch.cat([v.pixel_values for v in videos]),
            "video_grid_thw": torch.tensor([v.grid_thw for v in videos], dtype=torch.long),
            "reward_positions": positions,
        }

    @torch.inference_mode()
    def raw_rewards(self, clips: Sequence[Clip], prompts: Sequence[str]) -> np.ndarray:
        """(len(clips), K) rewards before normalisation."""
        batch = self.batch_inputs(clips, prompts)
        device = self.device
        hidden = self.net.hidden_states(
            batch["input_ids"].to(device),
            batch["attention_mask"].to(device),
            batch["pixel_values_videos"].to(device, self.dtype),
            batch["video_grid_thw"].to(device),
        )
        return self.net.rewards(hidden, batch["reward_positions"].to(device)).float().cpu().numpy()

    # ---- loading

    @classmethod
    def load(
        cls,
        source: str,
        *,
        revision: str | None = None,
        template: str | Path | None = None,
        base_model: str | Path | None = None,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
        batch_size: int = 4,
        fps: float | None = None,
        num_frames: int | None = None,
        max_pixels: int | None = None,
        min_pixels: int = MIN_PIXELS,
        use_norm: bool = True,
        trust_remote_code: bool = False,
        attn_implementation: str | None = "sdpa",
        merge_lora: bool = True,
        name: str | None = None,
    ) -> "VideoRewardModel":
        """Load a VideoReward checkpoint from a local folder or a Hub repo id (``revision`` pinned, commit recorded).

        ``template``: a text file holding the prompt template (``{prompt}`` and the three reward tokens); default
        ``prompt_template.txt`` in the checkpoint folder. The released model was trained with the template published
        in the VideoAlign repository (``prompt_template.py``) and the paper's appendix: use that text for its scores.
        ``base_model``: a local folder (or Hub id) replacing ``model_name_or_path`` of ``model_config.json``.
        """
        root, commit = resolve_source(str(source), revision)
        if revision and commit is None:
            logger.warning("revision %r ignored: %s is a local folder", revision, root)
        checkpoint = find_checkpoint(root)
        resolved = ResolvedSource(root, checkpoint, commit)
        config_path = root / "model_config.json"
        if not config_path.exists():
            raise CheckpointError(f"{config_path}: missing (VideoReward checkpoints carry their configs there)")
        try:
            config = json.loads(config_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{config_path}: not valid JSON: {exc}") from exc
        data_cfg = config.get("data_config") or {}
        model_cfg = config.get("model_config") or {}
        infer_cfg = config.get("inference_config") or {}
        lora_cfg = config.get("peft_lora_config") or {}

        dims = tuple(data_cfg.get("eval_dim") or DEFAULT_DIMENSIONS)
        reward_tokens = tuple(model_cfg.get("special_tokens") or DEFAULT_REWARD_TOKENS)
        if len(reward_tokens) != len(dims):
            raise CheckpointError(f"{config_path}: {len(dims)} dimensions {dims} but reward tokens {reward_tokens}")
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

        template_path = Path(template) if template is not None else root / TEMPLATE_FILE
        if not template_path.exists():
            raise CheckpointError(
                f"{template_path}: no prompt template. Pass template=PATH, a text file with {PROMPT_FIELD} and the "
                f"reward tokens {' '.join(reward_tokens)}; the released VideoReward was trained with the template in "
                "VideoAlign's prompt_template.py (paper appendix)"
            )
        template_text = _read_template(template_path)
        check_template(template_text, reward_tokens, str(template_path))

        dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        torch_dtype = _dtype(dtype, dev)
        tokenizer = _load_tokenizer(checkpoint, root, trust_remote_code)
        missing_tokens = [t for t in reward_tokens if tokenizer.convert_tokens_to_ids(t) in (None, tokenizer.unk_token_id)]
        if missing_tokens:
            raise CheckpointError(f"{checkpoint}: the tokenizer lacks the reward tokens {missing_tokens}")

        base_name = str(base_model or model_cfg.get("model_name_or_path") or "")
        if not base_name:
            raise CheckpointError(f"{config_path}: model_config.model_name_or_path is empty; pass base_model=PATH")
        files: list[tuple[str, Path]] = []
        net, base_revision = _build_net(
            checkpoint, base_name, model_cfg.get("model_revision"), tokenizer, len(dims), torch_dtype, attn_implementation, trust_remote_code, merge_lora, files,
        )
        net.to(dev).eval()
        resolved.base_revision = base_revision
        logger.info("VideoReward %s: %s (%s, commit %s), base %s, %s on %s", source, checkpoint.name,
                    "LoRA" if (checkpoint / "adapter_config.json").exists() else "full", commit, base_name,
                    torch_dtype, dev)
        pixels = int(max_pixels or data_cfg.get("max_frame_pixels") or MAX_PIXELS)
        if num_frames is not None:  # the caller's choice first, then the checkpoint's data config
            sampling = Sampling(fps=None, num_frames=int(num_frames), max_pixels=pixels)
        elif fps is not None:
            sampling = Sampling(fps=float(fps), num_frames=None, max_pixels=pixels)
        elif data_cfg.get("num_frames"):
            sampling = Sampling(fps=None, num_frames=int(data_cfg["num_frames"]), max_pixels=pixels)
        else:
            sampling = Sampling(fps=float(data_cfg.get("fps") or 2.0), num_frames=None, max_pixels=pixels)
        # Content, not location: the same files give the same fingerprint from a local folder or the Hub.
        parts = {
            "model_config": config,
            "weights": {f"{role}/{p.name}": _sampled_file_digest(p) for role, p in files},
            "tokenizer_len": len(tokenizer),
            "merge_lora": merge_lora,
        }
        if name is None:
            name = f"videoreward:{source}" + (f"@{revision}" if revision else "")
        return cls(
            net, tokenizer, template_text, name=name, dimensions=dims, reward_tokens=reward_tokens, norm=norm,
            sampling=sampling, use_norm=use_norm, batch_size=batch_size, min_pixels=min_pixels,
            fingerprint_parts=parts, source=resolved,
        )


def _load_tokenizer(checkpoint: Path, root: Path, trust_remote_code: bool) -> Any:
    from transformers import AutoTokenizer

    for folder in (checkpoint, root):
        if (folder / "tokenizer_config.json").exists() or (folder / "tokenizer.json").exists():
            tok = AutoTokenizer.from_pretrained(str(folder), trust_remote_code=trust_remote_code)
            break
    else:
        raise CheckpointError(f"{checkpoint}: no tokenizer (the checkpoint carries one with the reward tokens)")
    if not tok.chat_template:
        for folder in (checkpoint, root):
            if (folder / "chat_template.jinja").exists():
                tok.chat_template = (folder / "chat_template.jinja").read_text()
                break
            if (folder / "chat_template.json").exists():
                tok.chat_template = json.loads((folder / "chat_template.json").read_text())["chat_template"]
                break
        else:
            raise CheckpointError(f"{checkpoint}: no chat template (tokenizer_config.json, chat_template.json/.jinja)")
    return tok


def _resolve_base(name: str, revision: str | None, what: str) -> tuple[Path, str | None]:
    path = Path(name).expanduser()
    if path.is_dir():
        return path, None
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.txt", "*.jinja", "*.model"] + ([] if what == "config" else ["*.safetensors"])
    try:
        folder = Path(snapshot_download(repo_id=name, revision=revision, allow_patterns=patterns))
    except Exception as exc:
        raise CheckpointError(
            f"base model {name!r} is neither a local folder nor downloadable ({type(exc).__name__}: {exc}); "
            "pass base_model=PATH to a local copy"
        ) from exc
    return folder, folder.name


def _build_net(
    checkpoint: Path,
    base_name: str,
    base_revision: str | None,
    tokenizer: Any,
    output_dim: int,
    dtype: torch.dtype,
    attn_implementation: str | None,
    trust_remote_code: bool,
    merge_lora: bool,
    files: list[tuple[str, Path]],
) -> tuple[RewardNet, str | None]:
    from transformers import AutoConfig, Qwen2VLForConditionalGeneration

    full_files = _weights_files(checkpoint, "model")
    kwargs: dict[str, Any] = {"dtype": dtype}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if full_files:
        if (checkpoint / "config.json").exists():
            config_dir, commit = checkpoint, None
        else:
            config_dir, commit = _resolve_base(base_name, base_revision, "config")
        config = AutoConfig.from_pretrained(str(config_dir), trust_remote_code=trust_remote_code)
        if attn_implementation:
            config._attn_implementation = attn_implementation
        backbone = Qwen2VLForConditionalGeneration._from_config(config, dtype=dtype)
        backbone.resize_token_embeddings(len(tokenizer))
        net = RewardNet(backbone, output_dim).to(dtype)
        state = load_state_file(checkpoint, "model")
        assert state is not None
        files.extend(("checkpoint", p) for p in full_files)
        _load_into(net, state, full_files[0], strict=True)
        return net, commit

    base_dir, commit = _resolve_base(base_name, base_revision, "weights")
    backbone = Qwen2VLForConditionalGeneration.from_pretrained(
        str(base_dir), trust_remote_code=trust_remote_code, **kwargs
    )
    files.extend(("base", p) for p in sorted(base_dir.glob("*.safetensors")))
    backbone.resize_token_embeddings(len(tokenizer))
    net = RewardNet(backbone, output_dim).to(dtype)
    non_lora = load_state_file(checkpoint, "non_lora_state_dict")
    non_lora_files = _weights_files(checkpoint, "non_lora_state_dict")
    if non_lora is None:
        raise CheckpointError(f"{checkpoint}: no non_lora_state_dict.safetensors/.pth (reward head, embeddings)")
    files.extend(("checkpoint", p) for p in non_lora_files)
    _load_into(net, {_strip(k, PEFT_PREFIX): v for k, v in non_lora.items()}, non_lora_files[0], strict=False)
    if (checkpoint / "adapter_config.json").exists():
        _apply_lora(net, checkpoint, merge_lora, files)
    return net, commit


def _load_into(net: RewardNet, state: dict[str, torch.Tensor], path: Path, strict: bool) -> None:
    """Map old-layout keys and load them; every key must land, and with ``strict`` every weight must be given."""
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
        tied = net.backbone.config.tie_word_embeddings if hasattr(net.backbone.config, "tie_word_embeddings") else False
        required |= {k for k in own if not (tied and k == "backbone.lm_head.weight")}
    else:
        embed = [k for k in own if k.endswith("embed_tokens.weight")]
        required |= set(embed)  # the checkpoint's embeddings carry the reward tokens' rows
        visual = {k for k in own if ".visual." in k}
        if visual & set(mapped) and not visual <= set(mapped):  # a vision tower is saved whole or not at all
            required |= visual
    missing = sorted(required - set(mapped))
    if missing:
        raise CheckpointError(f"{path}: weights missing from the checkpoint: {_format_keys(missing)}")
    result = net.load_state_dict(mapped, strict=False)
    assert not result.unexpected_keys, result.unexpected_keys


def _apply_lora(net: RewardNet, checkpoint: Path, merge: bool, files: list[tuple[str, Path]]) -> None:
    from peft import LoraConfig, inject_adapter_in_model

    config = LoraConfig.from_pretrained(str(checkpoint))
    mapper = legacy_key_mapper(net.backbone)
    if isinstance(config.target_modules, (list, set, tuple)):
        # Full module paths from the old layout ("model.layers.0.self_attn.q_proj") need the new prefixes too.
        config.target_modules = {mapper(t + ".weight")[: -len(".weight")] for t in config.target_modules}
    config.inference_mode = True
    state = load_state_file(checkpoint, "adapter_model")
    adapter_files = _weights_files(checkpoint, "adapter_model")
    if state is None:
        raise CheckpointError(f"{checkpoint}: adapter_config.json but no adapter_model.safetensors/.bin")
    files.extend(("checkpoint", p) for p in adapter_files)
    try:
        inject_adapter_in_model(config, net.backbone, adapter_name="default")
    except ValueError as exc:
        raise CheckpointError(f"{checkpoint}/adapter_config.json: target modules not found in the model: {exc}") from exc
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
        raise CheckpointError(f"{adapter_files[0]}: adapter keys that match no LoRA weight: {_format_keys(unexpected)}")
    missing = [k for k in own if ".lora_" in k and k not in mapped]
    if missing:
        raise CheckpointError(f"{adapter_files[0]}: LoRA weights missing from the adapter: {_format_keys(missing)}")
    net.backbone.load_state_dict(mapped, strict=False)
    if merge:  # fold B @ A into the base weights: same scores (to rounding), no adapter cost per token
        for module in net.backbone.modules():
            if hasattr(module, "lora_A") and hasattr(module, "merge"):
                module.merge()
