"""Where a VideoReward checkpoint's pieces come from, as VideoAlign's inference finds them (no model is built here).

The checkpoint root holds ``model_config.json`` and one ``checkpoint-N/`` per saved step, in the layout VideoAlign's
trainer writes (LoRA: adapter files + ``non_lora_state_dict.pth``; full: ``model.pth``; both: ``tokenizer/``, a copy
its inference never reads). The BASE model named in ``model_config.json`` supplies the tokenizer (to which the reward
tokens are added), the chat template, the image-processor settings, the config and, for LoRA, the weights.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from videobench.rewards.qwen2vl_inputs import PatchSpec

#: VideoAlign hard-codes these three (``use_special_tokens``), in this order.
REWARD_TOKENS = ("<|VQ_reward|>", "<|MQ_reward|>", "<|TA_reward|>")
PEFT_PREFIX = "base_model.model."
CONFIG_FILE = "model_config.json"
LORA_LAYOUT = "checkpoint-N/{adapter_config.json, adapter_model.safetensors, non_lora_state_dict.pth}"
FULL_LAYOUT = "checkpoint-N/model.pth"
#: Files of a trainer's output that inference never reads (optimizer state, pickled training arguments).
HUB_IGNORE = ["optimizer.pt", "*/optimizer.pt", "scheduler.pt", "*/scheduler.pt", "rng_state*.pth", "*/rng_state*.pth",
              "training_args.bin", "*/training_args.bin", "*/global_step*/*", "final_model.pth"]

#: model_type in a base's config.json -> its transformers class (the judge generates with it, the reward model
#: reads its hidden states)
ARCHITECTURES = {"qwen2_vl": "Qwen2VLForConditionalGeneration", "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration"}


def backbone_class(base_dir: Path) -> Any:
    """The transformers class of the base model in ``base_dir``, chosen by its config.json's ``model_type``."""
    import transformers

    config = read_json(base_dir / "config.json", "the base model's config")
    kind = config.get("model_type")
    if kind not in ARCHITECTURES:
        raise CheckpointError(f"{base_dir / 'config.json'}: model_type {kind!r} is not a base videobench can use; "
                              f"supported: {', '.join(ARCHITECTURES)} (Qwen2-VL and Qwen2.5-VL)")
    return getattr(transformers, ARCHITECTURES[kind])


def to_legacy_key(key: str) -> str:
    """A transformers-5 Qwen2-VL key in the transformers-4.45 layout (the one VideoAlign's checkpoints use)."""
    if key.startswith("model.language_model."):
        return "model." + key[len("model.language_model."):]
    if key.startswith("model.visual."):
        return key[len("model."):]
    return key


def released_model_config(
    base_name: str,
    *,
    lora: bool = True,
    mean_std: dict[str, tuple[float, float]] | None = None,
    max_frame_pixels: int | None = 240 * 320,
    fps: float | None = 2.0,
    num_frames: int | None = None,
    lora_r: int = 64,
    lora_alpha: float = 128,
    lora_dropout: float = 0.0,
    tune_merger: bool = False,
    freeze_vision_tower: bool = False,
    loss_type: str = "btt",
    use_tied_data: bool = True,
    torch_dtype: str = "float32",
    model_revision: str | None = "main",
    training_args: dict[str, Any] | None = None,
    data_files: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``model_config.json`` as VideoAlign's ``save_configs_to_json`` writes it, plus the ``inference_config`` its
    inference reads. ``data_config``, ``model_config`` and ``peft_lora_config`` hold exactly the fields of VideoAlign's
    DataConfig / ModelConfig / PEFTLoraConfig (its inference builds those dataclasses from them, so an extra key
    would break it); ``extra`` goes under other top-level keys, which it ignores."""
    inference = {}
    for dim, (mean, std) in (mean_std or {}).items():
        inference[f"{dim}_mean"], inference[f"{dim}_std"] = float(mean), float(std)
    files = {"meta_data": None, "data_dir": None, "meta_data_test": None, **(data_files or {})}
    config = {
        "data_config": {
            **files, "max_frame_pixels": max_frame_pixels, "num_frames": num_frames, "fps": fps,
            "p_shuffle_frames": 0.0, "p_color_jitter": 0.0, "eval_dim": ["VQ", "MQ", "TA"],
            "prompt_template_type": "detailed_special", "add_noise": False, "sample_type": "uniform",
            "use_tied_data": use_tied_data,
        },
        "training_args": dict(training_args or {}),
        "model_config": {
            "model_name_or_path": base_name, "model_revision": model_revision, "output_dim": 3,
            "use_special_tokens": True, "freeze_vision_tower": freeze_vision_tower, "freeze_llm": False,
            "tune_merger": tune_merger, "torch_dtype": torch_dtype, "trust_remote_code": False,
            "attn_implementation": None, "load_in_8bit": False, "load_in_4bit": False, "bnb_4bit_quant_type": "nf4",
            "use_bnb_nested_quant": False, "reward_token": "special", "loss_type": loss_type,
        },
        "peft_lora_config": {
            "lora_enable": lora, "vision_lora": False, "lora_r": lora_r, "lora_alpha": lora_alpha,
            "lora_dropout": lora_dropout, "lora_target_modules": None,
            "lora_namespan_exclude": ["lm_head", "rm_head", "embed_tokens", "visual"], "lora_modules_to_save": None,
            "lora_task_type": "CAUSAL_LM", "use_rslora": False, "num_lora_modules": -1,
        },
        "inference_config": inference,
    }
    config.update(extra or {})
    return config


class CheckpointError(ValueError):
    """A VideoReward checkpoint that cannot be loaded as it is; the message names the file and the keys at fault."""


# --------------------------------------------------------------------------------------------------- locating files


@dataclass
class ResolvedSource:
    root: Path
    checkpoint: Path
    revision: str | None  # the Hub commit, for Hub ids
    base_revision: str | None = None  # the base model's Hub commit, when it was downloaded


def _looks_like_hub_id(name: str) -> bool:
    return not name.startswith((".", "/", "~")) and name.count("/") <= 1 and bool(re.fullmatch(r"[\w.\-/]+", name))


def resolve_source(source: str, revision: str | None = None) -> tuple[Path, str | None]:
    """A local folder as is; anything else is a Hub repo id downloaded with ``snapshot_download``.

    Returns the folder and, for Hub ids, the resolved commit (the snapshot folder's name is the commit hash).
    """
    local = Path(source).expanduser()
    if local.exists():
        if not local.is_dir():
            raise CheckpointError(f"{local}: a VideoReward checkpoint is a folder, not a file")
        return local, None
    if not _looks_like_hub_id(source) or source.count("/") != 1:
        raise CheckpointError(f"{source}: no such folder, and not a Hub repo id of the form owner/name")
    from huggingface_hub import snapshot_download

    try:
        folder = Path(snapshot_download(repo_id=source, revision=revision, ignore_patterns=HUB_IGNORE))
    except Exception as exc:  # offline, unknown repo, unknown revision: say which
        raise CheckpointError(
            f"cannot download {source!r} (revision {revision or 'main'}) from the Hub: {type(exc).__name__}: {exc}"
        ) from exc
    return folder, folder.name


def find_checkpoint(root: Path, step: int | None = None) -> Path:
    """``checkpoint-<step>``, or the one with the highest step (numeric order, as VideoAlign's loader sorts)."""
    steps = {}
    for child in root.iterdir():
        match = re.fullmatch(r"checkpoint-(\d+)", child.name)
        if match and child.is_dir():
            steps[int(match.group(1))] = child
    if step is not None:
        if int(step) not in steps:
            have = ", ".join(str(s) for s in sorted(steps)) or "none"
            raise CheckpointError(f"{root}: no checkpoint-{step}/ (steps present: {have})")
        return steps[int(step)]
    if steps:
        return steps[max(steps)]
    raise CheckpointError(
        f"{root}: no checkpoint-<step>/ folder. VideoAlign's trainer writes {CONFIG_FILE} at the root and one "
        f"folder per saved step: {LORA_LAYOUT} (LoRA) or {FULL_LAYOUT} (full)"
    )


def read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read {what}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: not valid JSON: {exc}") from exc
    except UnicodeDecodeError as exc:  # a ValueError, not an OSError: without this it escapes as a traceback
        raise CheckpointError(f"{path}: not UTF-8 text: {exc}") from exc
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    return data


def resolve_base(name: str, revision: str | None, *, weights: bool, root: Path | None = None) -> tuple[Path, str | None]:
    """The base model's folder: a local folder as is (a relative one also inside or beside the checkpoint ``root``,
    where a training run's working folder would have put it), else a Hub
    snapshot at ``revision`` (configs, tokenizer files, and with ``weights`` its ``.safetensors``). Returns the folder
    and the Hub commit (None when local)."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path, None
    if root is not None and not path.is_absolute():
        for near in (root / path, root.parent / path):
            if near.is_dir():
                return near, None
    if not _looks_like_hub_id(name):
        raise CheckpointError(
            f"base model {name!r}: no such folder, and not a Hub repo id (it comes from {CONFIG_FILE}'s "
            "model_config.model_name_or_path; pass base_model=PATH to a local copy)"
        )
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.txt", "*.jinja", "*.model", "*.tiktoken"] + (["*.safetensors"] if weights else [])
    try:
        folder = Path(snapshot_download(repo_id=name, revision=revision, allow_patterns=patterns))
    except Exception as exc:
        raise CheckpointError(
            f"base model {name!r} (revision {revision or 'main'}) is neither a local folder nor downloadable "
            f"({type(exc).__name__}: {exc}); pass base_model=PATH to a local copy"
        ) from exc
    return folder, folder.name


def check_base_weights(base_dir: Path) -> list[Path]:
    """The base model's ``.safetensors`` files; pickle-only weights (``pytorch_model*.bin``) are refused here, before
    anything is loaded, because unpickling runs code."""
    files = sorted(base_dir.glob("*.safetensors"))
    if files:
        return files
    pickles = sorted(p.name for p in base_dir.glob("*.bin")) + sorted(p.name for p in base_dir.glob("*.bin.index.json"))
    if pickles:
        raise CheckpointError(
            f"{base_dir}: the base model has only pickle weights ({', '.join(pickles[:3])}); videobench loads base "
            "weights from .safetensors only (unpickling can run code). Convert them (load with transformers, "
            "save_pretrained(safe_serialization=True)) and pass base_model=PATH"
        )
    raise CheckpointError(
        f"{base_dir}: the base model has no .safetensors weights (pickle weights such as pytorch_model.bin are not "
        "loaded, nor downloaded from the Hub); pass base_model=PATH to a copy with safetensors weights"
    )


def load_state_file(path: Path) -> dict[str, torch.Tensor]:
    """A ``.safetensors`` file, or a ``.pth`` through ``torch.load(weights_only=True)``: a flat dict of tensors."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:
            raise CheckpointError(f"{path}: not a readable safetensors file: {exc}") from exc
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickles with anything but tensors are refused, by design
        raise CheckpointError(f"{path}: cannot load with torch.load(weights_only=True): {exc}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a flat dict of tensors")
    return state


def _weights_file(folder: Path, stem: str) -> Path | None:
    """``stem.pth`` (VideoAlign's name) or ``stem.safetensors``, whichever exists."""
    for suffix in (".pth", ".safetensors"):
        if (folder / f"{stem}{suffix}").is_file():
            return folder / f"{stem}{suffix}"
    return None


@dataclass(frozen=True)
class CheckpointFiles:
    """The weights files of one ``checkpoint-N/`` in the layout its ``model_config.json`` announces."""

    lora: bool
    weights: Path  # model.pth (full) or non_lora_state_dict.pth (LoRA)
    adapter: Path | None = None
    adapter_config: Path | None = None

    def all(self) -> list[Path]:
        return [p for p in (self.weights, self.adapter) if p is not None]


def checkpoint_files(checkpoint: Path, lora_enable: bool | None) -> CheckpointFiles:
    """Check the folder holds every file of its layout; one error names every missing file and the layout expected.

    ``lora_enable``: ``model_config.json``'s ``peft_lora_config.lora_enable`` (None when the config does not say:
    then the files decide, as VideoAlign's loader does: ``model.pth`` means full).
    """
    full = _weights_file(checkpoint, "model")
    if lora_enable is None:
        lora_enable = full is None
    if not lora_enable:
        if full is None:
            hint = " (this folder holds adapter files of the LoRA layout)" if (checkpoint / "adapter_config.json").exists() else ""
            raise CheckpointError(
                f"{checkpoint}: missing model.pth. {CONFIG_FILE} describes a full model (peft_lora_config.lora_enable "
                f"is false), whose layout is {FULL_LAYOUT}{hint}"
            )
        return CheckpointFiles(lora=False, weights=full)
    non_lora = _weights_file(checkpoint, "non_lora_state_dict")
    adapter = checkpoint / "adapter_model.safetensors"
    adapter_config = checkpoint / "adapter_config.json"
    missing = [name for name, ok in (("adapter_config.json", adapter_config.is_file()),
                                     ("adapter_model.safetensors", adapter.is_file()),
                                     ("non_lora_state_dict.pth", non_lora is not None)) if not ok]
    if missing:
        hint = " (this folder holds model.pth of the full layout)" if full is not None else ""
        raise CheckpointError(
            f"{checkpoint}: missing {', '.join(missing)}. {CONFIG_FILE} describes a LoRA model "
            f"(peft_lora_config.lora_enable is true), whose layout is {LORA_LAYOUT}{hint}"
        )
    assert non_lora is not None
    return CheckpointFiles(lora=True, weights=non_lora, adapter=adapter, adapter_config=adapter_config)


# ------------------------------------------------------------------------------------------------------- tokenizer


def _has_tokenizer(folder: Path) -> bool:
    return any((folder / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json", "vocab.json"))


def _chat_template(folder: Path) -> str | None:
    """The processor's chat template (what VideoAlign's ``processor.apply_chat_template`` uses), from
    ``chat_template.json`` or ``chat_template.jinja``; None when the folder has neither."""
    if (folder / "chat_template.json").is_file():
        template = read_json(folder / "chat_template.json", "the chat template").get("chat_template")
        if isinstance(template, str) and template:
            return template
    if (folder / "chat_template.jinja").is_file():
        return (folder / "chat_template.jinja").read_text(encoding="utf-8")
    return None


def load_tokenizer(base_dir: Path, checkpoint: Path, reward_tokens: Sequence[str], trust_remote_code: bool) -> Any:
    """The base model's tokenizer with the reward tokens added (VideoAlign's inference), its chat template set.

    ``checkpoint/tokenizer/`` (the trainer's copy) is used only when the base folder has no tokenizer; when both
    exist, the copy must map the reward tokens to the same ids.
    """
    from transformers import AutoTokenizer

    copy_dir = checkpoint / "tokenizer"
    source = base_dir if _has_tokenizer(base_dir) else copy_dir if _has_tokenizer(copy_dir) else None
    if source is None:
        raise CheckpointError(
            f"{base_dir}: no tokenizer (tokenizer.json / tokenizer_config.json): VideoAlign builds the tokenizer from "
            f"the base model named in {CONFIG_FILE}; pass base_model=PATH to a complete copy of it"
        )
    try:
        tok = AutoTokenizer.from_pretrained(str(source), trust_remote_code=trust_remote_code)
    except Exception as exc:  # a corrupt tokenizer file: name it rather than trace through transformers
        raise CheckpointError(f"{source}: cannot load the tokenizer: {type(exc).__name__}: {exc}") from exc
    tok.padding_side = "right"
    template = _chat_template(base_dir) or (_chat_template(source) if source != base_dir else None)
    if template:
        tok.chat_template = template
    if not tok.chat_template:
        raise CheckpointError(
            f"{base_dir}: no chat template (chat_template.json, chat_template.jinja, or chat_template in "
            "tokenizer_config.json)"
        )
    if source == base_dir:
        tok.add_special_tokens({"additional_special_tokens": list(reward_tokens)})
    ids = tok.convert_tokens_to_ids(list(reward_tokens))
    if any(i is None or i == tok.unk_token_id for i in ids):
        raise CheckpointError(f"{source}: the tokenizer lacks the reward tokens {list(reward_tokens)}")
    if source == base_dir and _has_tokenizer(copy_dir):
        try:
            copy = AutoTokenizer.from_pretrained(str(copy_dir), trust_remote_code=trust_remote_code)
        except Exception as exc:
            raise CheckpointError(f"{copy_dir}: cannot load the tokenizer: {type(exc).__name__}: {exc}") from exc
        theirs = copy.convert_tokens_to_ids(list(reward_tokens))
        if theirs != ids:
            raise CheckpointError(
                f"{copy_dir}: maps the reward tokens {list(reward_tokens)} to ids {theirs}, but the base model's "
                f"tokenizer ({base_dir}) with them added gives {ids}: the checkpoint was trained on another base "
                f"(check {CONFIG_FILE}'s model_name_or_path / model_revision, or base_model=)"
            )
    return tok


def load_patch_spec(base_dir: Path, vision_config: Any) -> PatchSpec:
    """The base model's image-processor settings (``preprocessor_config.json``; Qwen2-VL's defaults without one),
    checked against the vision tower's patch geometry."""
    path = base_dir / "preprocessor_config.json"
    spec = PatchSpec.from_preprocessor_config(read_json(path, "the image processor config") if path.is_file() else {})
    model = (vision_config.patch_size, vision_config.temporal_patch_size, vision_config.spatial_merge_size)
    if (spec.patch_size, spec.temporal_patch_size, spec.merge_size) != model:
        raise CheckpointError(
            f"{path}: patch_size/temporal_patch_size/merge_size "
            f"{(spec.patch_size, spec.temporal_patch_size, spec.merge_size)} disagree with the model's vision config "
            f"{model}"
        )
    return spec
