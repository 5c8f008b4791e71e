"""Checkpoints: atomic saves keep the previous one; a cut-off latest falls back to it with a clear note."""

from pathlib import Path

import pytest
import torch

from facecraft.swap.trained.checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    check_compatible,
    checkpoint_dir,
    load_checkpoint,
    save_checkpoint,
)
from facecraft.swap.trained.nets import SwapModel, preset_config


def state_at(step: int) -> dict[str, object]:
    config = preset_config("tiny", 32, "whole-face")
    torch.manual_seed(step)
    return {"config": config.to_json(), "step": step, "model": SwapModel(config).state_dict()}


def test_save_keeps_the_previous_checkpoint(tmp_path: Path) -> None:
    save_checkpoint(tmp_path, state_at(1))
    save_checkpoint(tmp_path, state_at(2))
    assert load_checkpoint(tmp_path).step == 2
    assert (checkpoint_dir(tmp_path) / "previous.pt").is_file()
    assert not list(checkpoint_dir(tmp_path).glob("*.tmp"))


def test_truncated_latest_falls_back_to_previous(tmp_path: Path) -> None:
    save_checkpoint(tmp_path, state_at(1))
    save_checkpoint(tmp_path, state_at(2))
    latest = checkpoint_dir(tmp_path) / "latest.pt"
    data = latest.read_bytes()
    latest.write_bytes(data[: len(data) // 2])  # a write cut off half-way
    loaded = load_checkpoint(tmp_path)
    assert loaded.step == 1
    assert loaded.path.name == "previous.pt"
    assert loaded.note is not None and "latest.pt" in loaded.note and "previous.pt" in loaded.note
    config = preset_config("tiny", 32, "whole-face")
    SwapModel(config).load_state_dict(loaded.state["model"])  # the fallback is whole
    # the corrupt file is set aside, so the next save cannot push the good one out
    assert (checkpoint_dir(tmp_path) / "latest.pt.corrupt").is_file()
    save_checkpoint(tmp_path, state_at(3))
    assert load_checkpoint(tmp_path).step == 3
    assert torch.load(checkpoint_dir(tmp_path) / "previous.pt", weights_only=True)["step"] == 1


def test_corrupt_latest_without_previous_names_the_file(tmp_path: Path) -> None:
    save_checkpoint(tmp_path, state_at(1))
    latest = checkpoint_dir(tmp_path) / "latest.pt"
    latest.write_bytes(latest.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=r"latest\.pt.*corrupt or truncated.*no previous\.pt"):
        load_checkpoint(tmp_path)


def test_missing_checkpoint_says_to_train_without_resume(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="without --resume"):
        load_checkpoint(tmp_path)


def test_mismatch_says_what_the_model_was_trained_with(tmp_path: Path) -> None:
    saved = preset_config("cpu", 64, "face")
    with pytest.raises(CheckpointMismatchError, match="face_type face \\(asked for head\\)"):
        check_compatible(saved, preset_config("cpu", 64, "head"), tmp_path / "latest.pt")
    check_compatible(saved, preset_config("cpu", 64, "face"), tmp_path / "latest.pt")
