"""The VideoReward-style reward model being trained: built from a Qwen2-VL or Qwen2.5-VL base, what trains and at
which learning rate, the reward-token embedding rows, and saving in the layout VideoAlign's trainer releases.

    rm = build_reward_model("path/to/Qwen2-VL-2B-Instruct", template, PartsPolicy(lora_rank=64, lora_alpha=128))
    groups = parameter_groups(rm.net, policy)            # AdamW groups: LoRA, vision, merger, head, reward tokens
    restore = EmbeddingRowRestore(rm.net, rm.reward_token_ids)   # call .restore() after every optimiser step
    save_released_layout(rm, "out", step=100, model_config=...)  # model_config.json + checkpoint-100/

The model is our ``VideoRewardModel`` (the same input building and forward as evaluation), so what trains is what
``videoreward:OUT`` later scores. What trains follows VideoAlign's ``train.sh``: LoRA on every linear layer of the
language model, the vision tower and its merger fully, the reward head, and of the input embeddings only the three
reward-token rows (VideoAlign trains the whole table and puts the other rows back after each step).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from videobench.rewards.base import Sampling
from videobench.rewards.videoreward import (
    DEFAULT_DIMENSIONS,
    TEMPLATE_FILE,
    RewardNet,
    VideoRewardModel,
    check_template,
)
from videobench.rewards.videoreward_files import (
    CONFIG_FILE,
    PEFT_PREFIX,
    REWARD_TOKENS,
    backbone_class,
    check_base_weights,
    load_patch_spec,
    load_tokenizer,
    resolve_base,
    to_legacy_key,
)
from videobench.video.resize import VIDEO_MIN_PIXELS

__all__ = ["PartsPolicy", "EmbeddingRowRestore", "build_reward_model", "parameter_groups", "save_released_layout",
           "lora_target_names", "NON_LORA_FILE"]

#: What we write for the non-LoRA weights (our loader reads it; VideoAlign's inference reads only the ``.pth``).
NON_LORA_FILE = "non_lora_state_dict.safetensors"


@dataclass
class PartsPolicy:
    """Which parts train and at which learning rate (None: the base ``lr``)."""

    lora_rank: int = 64
    lora_alpha: float = 128.0
    lora_dropout: float = 0.0
    train_vision: bool = True
    train_merger: bool = True
    lr: float = 2e-6
    vision_lr: float | None = None
    merger_lr: float | None = None
    special_token_lr: float | None = None
    head_lr: float | None = None
    weight_decay: float = 0.0


def _group_of(name: str) -> str | None:
    """The learning-rate group of a parameter of ``RewardNet`` (None: never trained)."""
    if ".lora_" in name:
        return "lora"
    if name.startswith("rm_head."):
        return "head"
    if name.endswith("embed_tokens.weight"):
        return "reward_tokens"
    if ".visual." in name:
        return "merger" if ".merger." in name else "vision"
    return None


def lora_target_names(backbone: Any) -> list[str]:
    """Every ``nn.Linear`` of the language model, by module path (VideoAlign's ``find_target_linear_names`` with
    ``lm_head``, ``rm_head``, ``embed_tokens`` and ``visual`` excluded)."""
    lm = backbone.model.language_model
    prefix = "model.language_model."
    # once LoRA is in, a target's Linear is its ``base_layer`` and the adapter's A/B are Linears too
    return [prefix + n.removesuffix(".base_layer") for n, m in lm.named_modules()
            if isinstance(m, torch.nn.Linear) and ".lora_" not in n]


def build_reward_model(
    base: str | Path,
    template: str,
    policy: PartsPolicy,
    *,
    sampling: Sampling,
    min_pixels: int = VIDEO_MIN_PIXELS,
    revision: str | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    trust_remote_code: bool = False,
    attn_implementation: str | None = "sdpa",
) -> VideoRewardModel:
    """A trainable reward model from a Qwen2-VL or Qwen2.5-VL base (folder or Hub id; the class from its
    ``model_type``), as VideoAlign's ``create_model_and_processor``: reward tokens added to the base tokenizer,
    embeddings resized to it, a bias-free head, LoRA (B = 0, so training starts from the base's own hidden states),
    ``requires_grad`` set by ``policy``."""
    from peft import LoraConfig, inject_adapter_in_model

    check_template(template, REWARD_TOKENS, "template")
    base_dir, _ = resolve_base(str(base), revision, weights=True)
    model_class = backbone_class(base_dir)  # Qwen2-VL or Qwen2.5-VL, by the base's model_type
    check_base_weights(base_dir)
    tokenizer = load_tokenizer(base_dir, base_dir / "tokenizer", REWARD_TOKENS, trust_remote_code)
    kwargs: dict[str, Any] = {"dtype": dtype}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    backbone = model_class.from_pretrained(str(base_dir), trust_remote_code=trust_remote_code, **kwargs)
    backbone.resize_token_embeddings(len(tokenizer))
    with torch.random.fork_rng(devices=[]):  # head init and LoRA A are functions of the seed
        torch.manual_seed(seed)
        net = RewardNet(backbone, len(REWARD_TOKENS)).to(dtype)
        lora = LoraConfig(r=policy.lora_rank, lora_alpha=policy.lora_alpha, lora_dropout=policy.lora_dropout,
                          target_modules=lora_target_names(backbone), init_lora_weights=True)
        inject_adapter_in_model(lora, backbone, adapter_name="default")
    for name, p in net.named_parameters():
        group = _group_of(name)
        p.requires_grad_(group in ("lora", "head", "reward_tokens") or (group == "vision" and policy.train_vision)
                         or (group == "merger" and policy.train_merger))
    patch_spec = load_patch_spec(base_dir, backbone.config.vision_config)
    model = VideoRewardModel(
        net, tokenizer, template, name=f"videoreward-training:{base}", dimensions=DEFAULT_DIMENSIONS,
        reward_tokens=REWARD_TOKENS, norm={d: (0.0, 1.0) for d in DEFAULT_DIMENSIONS}, sampling=sampling,
        use_norm=False, min_pixels=min_pixels, patch_spec=patch_spec,
        fingerprint_parts={"training": str(base)},
    )
    model.base_dir = base_dir  # type: ignore[attr-defined]  (saving copies nothing from it; it is recorded)
    return model


def parameter_groups(net: torch.nn.Module, policy: PartsPolicy) -> list[dict[str, Any]]:
    """AdamW groups: one per part with its learning rate; weight decay on matrices only, never on the embeddings."""
    lrs = {"lora": policy.lr, "head": policy.head_lr, "vision": policy.vision_lr, "merger": policy.merger_lr,
           "reward_tokens": policy.special_token_lr}
    buckets: dict[tuple[str, bool], list[torch.nn.Parameter]] = {}
    for name, p in net.named_parameters():
        group = _group_of(name)
        if not p.requires_grad or group is None:
            continue
        decay = p.ndim >= 2 and group != "reward_tokens" and policy.weight_decay > 0
        buckets.setdefault((group, decay), []).append(p)
    return [{"params": params, "name": group, "lr": lrs[group] if lrs[group] is not None else policy.lr,
             "weight_decay": policy.weight_decay if decay else 0.0}
            for (group, decay), params in sorted(buckets.items())]


class EmbeddingRowRestore:
    """Keeps every input-embedding row but the reward tokens' at its initial value.

    The whole table must be trainable for the reward rows to get gradients; after each optimiser step every other
    row is put back (VideoAlign's ``PartialEmbeddingUpdateCallback``): a copy of the table, then the reward rows."""

    def __init__(self, net: RewardNet, keep_ids: list[int]) -> None:
        self.weight = net.backbone.get_input_embeddings().weight
        self.ids = torch.tensor(sorted(keep_ids), device=self.weight.device)
        self.initial = self.weight.detach().clone()

    @torch.no_grad()
    def restore(self) -> None:
        trained = self.weight.index_select(0, self.ids)
        self.weight.copy_(self.initial)
        self.weight.index_copy_(0, self.ids, trained)


# ---------------------------------------------------------------------------------------------------------- saving


def _legacy(name: str) -> str:
    """A ``RewardNet`` parameter name as VideoAlign's PEFT model names it (``base_model.model.`` + 4.45 layout)."""
    if name.startswith("rm_head."):
        return PEFT_PREFIX + name
    return PEFT_PREFIX + to_legacy_key(name[len("backbone."):])


def released_state(net: RewardNet) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(adapter, non-LoRA) state dicts with VideoAlign's key names: the adapter without the adapter name, the
    non-LoRA part = every trained parameter that is not LoRA (``get_peft_state_non_lora_maybe_zero_3``)."""
    adapter: dict[str, torch.Tensor] = {}
    non_lora: dict[str, torch.Tensor] = {}
    for name, p in net.named_parameters():
        tensor = p.detach().to("cpu").contiguous()
        if ".lora_" in name:
            adapter[_legacy(name.replace(".default.", "."))] = tensor.clone()
        elif p.requires_grad:
            non_lora[_legacy(name)] = tensor.clone()
    return adapter, non_lora


def save_released_layout(
    model: VideoRewardModel,
    out_dir: str | Path,
    step: int,
    model_config: dict[str, Any],
    policy: PartsPolicy,
    *,
    write_pth: bool = False,
) -> Path:
    """Write ``out_dir/model_config.json``, ``prompt_template.txt`` and ``checkpoint-<step>/`` (adapter config and
    weights, ``non_lora_state_dict.safetensors`` and, with ``write_pth``, the ``.pth`` VideoAlign's inference reads,
    ``tokenizer/``). Each file is written atomically; the checkpoint folder appears complete or not at all."""
    import shutil

    from safetensors.torch import save_file

    from videobench.atomic import write_text

    out = Path(out_dir)
    ckpt = out / f"checkpoint-{step}"
    tmp = out / f".checkpoint-{step}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    adapter, non_lora = released_state(model.net)
    save_file(adapter, str(tmp / "adapter_model.safetensors"), metadata={"format": "pt"})
    save_file(non_lora, str(tmp / NON_LORA_FILE), metadata={"format": "pt"})
    if write_pth:  # a flat dict of tensors: loads with torch.load(weights_only=True)
        torch.save(non_lora, tmp / "non_lora_state_dict.pth")
    targets = [to_legacy_key(t) for t in lora_target_names(model.net.backbone)]
    (tmp / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": policy.lora_rank, "lora_alpha": policy.lora_alpha,
        "lora_dropout": policy.lora_dropout, "bias": "none", "target_modules": targets, "fan_in_fan_out": False,
        "modules_to_save": None, "base_model_name_or_path": model_config["model_config"]["model_name_or_path"],
        "inference_mode": True, "use_rslora": False, "use_dora": False, "init_lora_weights": True,
        "layers_to_transform": None, "layers_pattern": None, "rank_pattern": {}, "alpha_pattern": {},
        "revision": None,
    }, indent=2))
    model.tokenizer.save_pretrained(str(tmp / "tokenizer"))
    shutil.rmtree(ckpt, ignore_errors=True)
    tmp.rename(ckpt)
    write_text(out / TEMPLATE_FILE, model.template)
    write_text(out / CONFIG_FILE, json.dumps(model_config, indent=4))
    return ckpt
