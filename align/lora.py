"""LoRA adapters (peft, through diffusers' adapter API) and the frozen reference they give for free.

The policy is the transformer with a trainable adapter named ``default``. The reference model of Flow-DPO is then
either the same transformer with all adapters disabled (no second copy in memory), or — when training starts from an
existing LoRA, where disabling would give the wrong reference — the same transformer running a frozen copy of that
initial adapter, named ``reference``. Both toggles act on the unwrapped module and are undone in ``finally``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import torch

__all__ = [
    "LoraSettings",
    "POLICY_ADAPTER",
    "REFERENCE_ADAPTER",
    "add_lora",
    "load_lora_into",
    "adapters_disabled",
    "adapter_active",
    "lora_parameters",
    "lora_state_dict",
    "save_lora",
]

POLICY_ADAPTER = "default"
REFERENCE_ADAPTER = "reference"


@dataclass
class LoraSettings:
    """LoRA on the attention projections; the paper used rank 64, alpha 128 on q/k/v/o."""

    rank: int = 64
    alpha: float = 128.0
    targets: list[str] = field(default_factory=lambda: ["to_q", "to_k", "to_v", "to_out.0"])
    dropout: float = 0.0

    def peft_config(self):
        from peft import LoraConfig

        if self.rank <= 0:
            raise ValueError(f"LoRA rank must be positive, got {self.rank}")
        return LoraConfig(
            r=self.rank,
            lora_alpha=self.alpha,
            target_modules=list(self.targets),
            lora_dropout=self.dropout,
            init_lora_weights=True,  # B = 0: the adapted model starts equal to the base model
        )


def _tuner_layers(model: torch.nn.Module):
    from peft.tuners.tuners_utils import BaseTunerLayer

    return [m for m in model.modules() if isinstance(m, BaseTunerLayer)]


def add_lora(transformer: torch.nn.Module, settings: LoraSettings, adapter_name: str = POLICY_ADAPTER) -> None:
    """Freeze the transformer and add a fresh trainable LoRA adapter (float32 weights) to it."""
    transformer.requires_grad_(False)
    transformer.add_adapter(settings.peft_config(), adapter_name=adapter_name)
    if not _tuner_layers(transformer):
        raise ValueError(f"no module of {type(transformer).__name__} matches LoRA targets {settings.targets}")
    for p in lora_parameters(transformer, adapter_name):
        p.data = p.data.float()
        p.requires_grad_(True)


def load_lora_into(
    transformer: torch.nn.Module, lora_dir: str | Path, pipeline_cls: type, adapter_name: str, trainable: bool
) -> None:
    """Load a diffusers-format LoRA (``pipe.save_lora_weights`` output) into ``transformer`` as ``adapter_name``."""
    state = pipeline_cls.lora_state_dict(str(lora_dir))
    state = state[0] if isinstance(state, tuple) else state
    transformer.load_lora_adapter(state, prefix="transformer", adapter_name=adapter_name)
    for p in lora_parameters(transformer, adapter_name):
        p.data = p.data.float()
        p.requires_grad_(trainable)


def lora_parameters(model: torch.nn.Module, adapter_name: str = POLICY_ADAPTER) -> list[torch.nn.Parameter]:
    """The LoRA A/B weights of one adapter, in a stable order."""
    suffixes = (f".{adapter_name}.weight", f".{adapter_name}.bias")
    return [p for n, p in model.named_parameters() if "lora_" in n and n.endswith(suffixes)]


@contextlib.contextmanager
def _restoring_requires_grad(model: torch.nn.Module) -> Iterator[None]:
    # peft's toggles rewrite requires_grad of adapter weights; put every flag back as it was.
    flags = [(p, p.requires_grad) for p in model.parameters()]
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


@contextlib.contextmanager
def adapters_disabled(model: torch.nn.Module) -> Iterator[None]:
    """Run ``model`` as its base weights: every LoRA layer off inside the block, restored afterwards."""
    layers = _tuner_layers(model)
    if not layers:
        raise ValueError("the model has no LoRA adapter to disable")
    before = [layer.disable_adapters for layer in layers]
    with _restoring_requires_grad(model):
        try:
            for layer in layers:
                layer.enable_adapters(False)
            yield
        finally:
            for layer, was_disabled in zip(layers, before):
                layer.enable_adapters(not was_disabled)


@contextlib.contextmanager
def adapter_active(model: torch.nn.Module, adapter_name: str) -> Iterator[None]:
    """Run ``model`` with only ``adapter_name`` active inside the block (e.g. the frozen ``reference`` adapter)."""
    layers = _tuner_layers(model)
    if not layers:
        raise ValueError("the model has no LoRA adapters")
    before = [list(layer.active_adapters) for layer in layers]
    with _restoring_requires_grad(model):
        try:
            for layer in layers:
                layer.set_adapter(adapter_name)
            yield
        finally:
            for layer, names in zip(layers, before):
                layer.set_adapter(names)


def lora_state_dict(model: torch.nn.Module, adapter_name: str = POLICY_ADAPTER) -> dict[str, torch.Tensor]:
    """The adapter's weights with peft's key names (``blocks.0.attn1.to_q.lora_A.weight``), detached, on CPU."""
    from peft.utils import get_peft_model_state_dict

    state = get_peft_model_state_dict(model, adapter_name=adapter_name)
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}


def _metadata(model: torch.nn.Module, adapter_name: str) -> dict:
    config = model.peft_config[adapter_name].to_dict()
    return {k: (sorted(v) if isinstance(v, set) else v) for k, v in config.items()}


def save_lora(
    model: torch.nn.Module,
    pipeline_cls: type,
    out_dir: str | Path,
    adapter_name: str = POLICY_ADAPTER,
    state: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Write ``pytorch_lora_weights.safetensors`` so that ``pipe.load_lora_weights(out_dir)`` loads it.

    ``state`` overrides the weights (e.g. EMA weights with the same keys); ``pipeline_cls`` is the pipeline's class
    (its LoRA mixin knows the key prefix, ``transformer.``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pipeline_cls.save_lora_weights(
        str(out),
        transformer_lora_layers=state if state is not None else lora_state_dict(model, adapter_name),
        transformer_lora_adapter_metadata=_metadata(model, adapter_name),
    )
    return out


def named_lora_tensors(model: torch.nn.Module, adapter_name: str = POLICY_ADAPTER) -> Sequence[tuple[str, torch.Tensor]]:
    """(name, parameter) pairs of one adapter, for checkpoints and EMA."""
    suffixes = (f".{adapter_name}.weight", f".{adapter_name}.bias")
    return [(n, p) for n, p in model.named_parameters() if "lora_" in n and n.endswith(suffixes)]
