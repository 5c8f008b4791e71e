"""Checkpoints: written atomically, validated on load, with the previous one kept as a fallback.

``MODEL_DIR/checkpoints/latest.pt`` is the newest, ``previous.pt`` the one before it. A save writes a
temporary file, flushes it to disk, moves latest to previous and the temporary file to latest; a crash
at any point leaves at least one whole checkpoint. A latest that cannot be read is set aside as
``latest.pt.corrupt`` (so the next save does not push the good previous one out) and previous is used.
"""

import os
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from facecraft.errors import FacecraftError
from facecraft.swap.trained.nets import ModelConfig, config_from_json

CHECKPOINT_FORMAT = "facecraft-train-checkpoint/1"
CHECKPOINTS_DIR = "checkpoints"
LATEST_FILE = "latest.pt"
PREVIOUS_FILE = "previous.pt"
CORRUPT_SUFFIX = ".corrupt"

State = dict[str, Any]


class CheckpointError(FacecraftError):
    """A checkpoint that cannot be used: missing, corrupt, or of another model shape."""


class CheckpointMismatchError(CheckpointError):
    """Resuming with a size, face type or preset other than the checkpoint's."""


@dataclass(frozen=True, slots=True)
class LoadedCheckpoint:
    """The state, the file it came from, and a note when a corrupt latest was passed over."""

    state: State
    path: Path
    config: ModelConfig
    note: str | None = None

    @property
    def step(self) -> int:
        return int(self.state["step"])


def checkpoint_dir(model_dir: Path) -> Path:
    return model_dir / CHECKPOINTS_DIR


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_checkpoint(model_dir: Path, state: State) -> Path:
    """Write ``state`` as the new latest checkpoint; the old latest becomes previous."""
    directory = checkpoint_dir(model_dir)
    directory.mkdir(parents=True, exist_ok=True)
    latest = directory / LATEST_FILE
    tmp = directory / (LATEST_FILE + ".tmp")
    with tmp.open("wb") as handle:
        torch.save({"format": CHECKPOINT_FORMAT, **state}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    if latest.exists():
        latest.replace(directory / PREVIOUS_FILE)
    tmp.replace(latest)
    _fsync_dir(directory)
    return latest


def _read(path: Path) -> State:
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError) as error:
        raise CheckpointError(f"the checkpoint '{path}' is corrupt or truncated ({error})") from error
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"'{path}' is not a facecraft training checkpoint of format {CHECKPOINT_FORMAT}"
        )
    return data


def _config_of(state: State, path: Path) -> ModelConfig:
    try:
        return config_from_json(dict(state["config"]))
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"the checkpoint '{path}' has no usable model record ({error})") from error


def load_checkpoint(model_dir: Path) -> LoadedCheckpoint:
    """The newest readable checkpoint; a corrupt latest falls back to previous (with a note)."""
    directory = checkpoint_dir(model_dir)
    latest, previous = directory / LATEST_FILE, directory / PREVIOUS_FILE
    if not latest.is_file() and not previous.is_file():
        raise CheckpointError(
            f"'{model_dir}' has no checkpoint to resume from ({directory} is empty or missing); "
            "train without --resume to start a new model"
        )
    if latest.is_file():
        try:
            state = _read(latest)
            return LoadedCheckpoint(state, latest, _config_of(state, latest))
        except CheckpointError as error:
            if not previous.is_file():
                raise CheckpointError(
                    f"{error}; there is no {PREVIOUS_FILE} to fall back to. Delete '{latest}' and train "
                    "again without --resume"
                ) from error
            failure = str(error)
        aside = latest.with_name(LATEST_FILE + CORRUPT_SUFFIX)
        latest.replace(aside)
    else:
        failure = f"'{latest}' is missing (a save was cut off)"
        aside = None
    state = _read(previous)
    note = f"{failure}; resumed from the older '{previous}' (step {int(state['step'])}) instead"
    if aside is not None:
        note += f"; the unreadable file was kept as '{aside}'"
    return LoadedCheckpoint(state, previous, _config_of(state, previous), note)


def check_compatible(saved: ModelConfig, wanted: ModelConfig, path: Path) -> None:
    """Refuse to resume a model of another size, face type or preset, saying what it was trained with."""
    problems = [
        f"{name} {getattr(saved, name)} (asked for {getattr(wanted, name)})"
        for name in ("size", "face_type", "preset")
        if getattr(saved, name) != getattr(wanted, name)
    ]
    if problems:
        raise CheckpointMismatchError(
            f"the checkpoint '{path}' was trained with {', '.join(problems)}. Resume with "
            f"--size {saved.size} --preset {saved.preset} on {saved.face_type} facesets, "
            "or train a new model into another directory"
        )
