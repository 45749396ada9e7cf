"""LoRA on the attention projections, and the reference model the adapters give for free."""

from __future__ import annotations

import contextlib

import pytest
import torch

from videobench.align.lora import (
    REFERENCE_ADAPTER,
    LoraSettings,
    adapter_active,
    adapters_disabled,
    add_lora,
    lora_parameters,
)
from videobench.align.models import family_for
from videobench.align.objectives import Reference

from align_helpers import random_dataset


def _inputs(pipe, seed=0):
    ds = random_dataset(pipe, seed=seed)
    idx = torch.tensor([0, 3])
    x = ds.latents[idx]
    return x, torch.tensor([300.0, 800.0]), ds.condition(idx)


def _perturb(model):
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in lora_parameters(model):
            p.add_(torch.randn(p.shape, generator=g) * 0.5)


@pytest.mark.parametrize("which", ["wan", "ltx"])
def test_disabled_adapters_equal_the_base_model(which, request):
    pipe = request.getfixturevalue(which)
    family = family_for(pipe)
    model = pipe.transformer
    x, t, cond = _inputs(pipe)
    with torch.no_grad():
        base = family.predict(model, x, t, cond)
    assert base.shape == x.shape
    add_lora(model, LoraSettings(rank=4, alpha=8))
    _perturb(model)
    flags = {n: p.requires_grad for n, p in model.named_parameters()}
    with torch.no_grad():
        adapted = family.predict(model, x, t, cond)
        with adapters_disabled(model):
            disabled = family.predict(model, x, t, cond)
        after = family.predict(model, x, t, cond)
    assert not torch.allclose(adapted, base, atol=1e-4)
    torch.testing.assert_close(disabled, base, atol=0, rtol=0)
    torch.testing.assert_close(after, adapted, atol=0, rtol=0)
    assert flags == {n: p.requires_grad for n, p in model.named_parameters()}
    ref = Reference(model, family, "disabled")
    torch.testing.assert_close(ref.predict(x, t, cond), base, atol=0, rtol=0)


def test_toggle_is_restored_after_an_error(wan):
    model = wan.transformer
    add_lora(model, LoraSettings(rank=2, alpha=2))
    with pytest.raises(RuntimeError):
        with adapters_disabled(model):
            raise RuntimeError("boom")
    from peft.tuners.tuners_utils import BaseTunerLayer

    assert all(not m.disable_adapters for m in model.modules() if isinstance(m, BaseTunerLayer))
    assert all(p.requires_grad for p in lora_parameters(model))


def test_only_attention_projections_get_lora(wan):
    model = wan.transformer
    add_lora(model, LoraSettings(rank=2, alpha=4, targets=["to_q", "to_v"]))
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names and all(("to_q" in n or "to_v" in n) and "lora_" in n for n in names)
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    with pytest.raises(ValueError, match="no_such_module"):
        add_lora(build_tiny_wan_pipeline().transformer, LoraSettings(rank=2, targets=["no_such_module"]))


def test_reference_adapter_runs_the_frozen_initial_lora(wan, tmp_path):
    from videobench.align.lora import load_lora_into, save_lora

    family = family_for(wan)
    model = wan.transformer
    add_lora(model, LoraSettings(rank=4, alpha=4))
    _perturb(model)
    x, t, cond = _inputs(wan)
    with torch.no_grad():
        initial = family.predict(model, x, t, cond)
    save_lora(model, type(wan), tmp_path / "init")
    model.delete_adapters("default")
    load_lora_into(model, tmp_path / "init", type(wan), "default", trainable=True)
    load_lora_into(model, tmp_path / "init", type(wan), REFERENCE_ADAPTER, trainable=False)
    model.set_adapter("default")
    _perturb(model)  # the policy moves away; the reference must not
    with torch.no_grad():
        with adapter_active(model, REFERENCE_ADAPTER):
            ref = family.predict(model, x, t, cond)
        moved = family.predict(model, x, t, cond)
    torch.testing.assert_close(ref, initial, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(moved, initial, atol=1e-4)
    assert all(not p.requires_grad for p in lora_parameters(model, REFERENCE_ADAPTER))
    assert all(p.requires_grad for p in lora_parameters(model, "default"))
    # the trainer's Reference in "adapter" mode is that frozen initial LoRA, and leaves the policy active afterwards
    entered = []

    @contextlib.contextmanager
    def autocast():
        entered.append(True)
        yield

    torch.testing.assert_close(Reference(model, family, "adapter").predict(x, t, cond), initial, atol=1e-5, rtol=1e-5)
    # "copy": a frozen snapshot of the policy as it is now (with the autocast it is given), unaffected by training
    snapshot = Reference.frozen_copy(model, family, autocast=autocast)
    assert snapshot.mode == "copy" and snapshot.module is not model and not snapshot.module.training
    assert not any(p.requires_grad for p in snapshot.module.parameters())
    _perturb(model)
    with torch.no_grad():
        torch.testing.assert_close(snapshot.predict(x, t, cond), moved, atol=0, rtol=0)
        assert not torch.allclose(family.predict(model, x, t, cond), moved, atol=1e-4)
    assert entered == [True]
