"""The checkpoint pieces every trainer shares (align/checkpoints.py); the trainers' resume tests run them end to end."""

from __future__ import annotations

import json

import pytest
import torch

from videobench.align.checkpoints import (
    checkpoint_due,
    latest_checkpoint,
    load_tensors_into,
    read_training_state,
    resume_step,
    warmup_scheduler,
    write_checkpoint,
)


class _Printer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def print(self, line: str) -> None:
        self.lines.append(line)


def _optimiser(warmup: int = 3):
    weight = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.SGD([weight], lr=0.4)
    return weight, optimizer, warmup_scheduler(optimizer, warmup)


def test_warmup_is_linear_then_constant():
    _, optimizer, scheduler = _optimiser(warmup=3)
    rates = []
    for _ in range(6):
        rates.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    assert rates == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.4, 0.4])  # 0.4 * (s + 1) / 4, capped at 0.4


def test_checkpoints_are_due_every_n_steps_and_after_the_last_only_when_asked():
    assert [s for s in range(1, 11) if checkpoint_due(s, 4, 10)] == [4, 8]
    assert [s for s in range(1, 9) if checkpoint_due(s, 4, 8)] == [4]
    assert [s for s in range(1, 11) if checkpoint_due(s, 4, 10, at_end=True)] == [4, 8, 10]
    assert [s for s in range(1, 9) if checkpoint_due(s, 4, 8, at_end=True)] == [4, 8]
    assert [s for s in range(1, 4) if checkpoint_due(s, 5, 3, at_end=True)] == [3]
    assert not any(checkpoint_due(s, 0, 10, at_end=True) for s in range(1, 11))


def test_write_read_round_trip_and_the_newest_complete_checkpoint(tmp_path):
    weight, optimizer, scheduler = _optimiser()
    weight.grad = torch.ones(2)
    optimizer.step()
    scheduler.step()
    folder = tmp_path / "checkpoints" / "checkpoint-7"
    write_checkpoint(folder, 7, optimizer, scheduler, lambda tmp: (tmp / "weights.txt").write_text("w"))
    assert sorted(p.name for p in folder.iterdir()) == ["optimizer.pt", "state.json", "weights.txt"]
    assert json.loads((folder / "state.json").read_text()) == {"step": 7}
    (tmp_path / "checkpoints" / "checkpoint-12.tmp").mkdir()  # a save killed midway
    (tmp_path / "checkpoints" / "checkpoint-3").mkdir()
    assert latest_checkpoint(tmp_path) == folder
    assert latest_checkpoint(tmp_path / "elsewhere") is None

    _, fresh, fresh_scheduler = _optimiser()
    assert read_training_state(folder, fresh, fresh_scheduler) == 7
    assert fresh_scheduler.last_epoch == 1 and fresh.state_dict()["state"] == optimizer.state_dict()["state"]


def test_resume_step_from_latest_a_folder_or_nothing(tmp_path):
    printer = _Printer()
    loaded = []

    def load(folder):
        loaded.append(folder.name)
        return 5

    assert resume_step(None, tmp_path, load, printer) == 0
    assert resume_step("latest", tmp_path, load, printer) == 0  # nothing saved yet: a fresh start
    (tmp_path / "checkpoints" / "checkpoint-5").mkdir(parents=True)
    assert resume_step("latest", tmp_path, load, printer) == 5
    assert resume_step(str(tmp_path / "checkpoints" / "checkpoint-5"), tmp_path, load, printer) == 5
    assert loaded == ["checkpoint-5", "checkpoint-5"]
    assert printer.lines == [f"resumed from {tmp_path / 'checkpoints' / 'checkpoint-5'} at step 5"] * 2
    with pytest.raises(FileNotFoundError, match=r"^no checkpoint at /nowhere/checkpoint-9$"):
        resume_step("/nowhere/checkpoint-9", tmp_path, load, printer)


def test_tensors_load_by_name_into_each_parameters_dtype(tmp_path):
    from safetensors.torch import save_file

    save_file({"a": torch.tensor([1.5, 2.5]), "b": torch.tensor([3.0])}, str(tmp_path / "w.safetensors"))
    params = {"a": torch.zeros(2, dtype=torch.float64), "b": torch.zeros(1)}
    load_tensors_into(params, tmp_path / "w.safetensors", "mismatch")
    assert params["a"].tolist() == [1.5, 2.5] and params["a"].dtype == torch.float64 and params["b"].tolist() == [3.0]
    with pytest.raises(ValueError, match="^other keys$"):
        load_tensors_into({"a": torch.zeros(2)}, tmp_path / "w.safetensors", "other keys")
