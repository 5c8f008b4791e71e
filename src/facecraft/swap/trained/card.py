"""The model card: what a trained model is, what it saw and how it did. JSON beside the ONNX file.

A model directory holds ``card.json``, ``model.onnx`` (the target-to-source swap: input ``face``
N x 3 x S x S float32 RGB in [0, 1]; outputs ``swapped_face`` N x 3 x S x S RGB in [0, 1] and ``mask``
N x 1 x S x S in [0, 1]) and ``source_face.png`` (an aligned crop of the source person, for the content
gate, the quality report and swaps that name no source photo). Training also keeps ``checkpoints/``,
``previews/`` and ``history.csv`` there.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from facecraft.errors import FacecraftError
from facecraft.faceset.crop import FaceType, parse_face_type
from facecraft.jsonfile import read_format_json, write_json_atomic

CARD_FORMAT = "facecraft-trained/1"
RecipeValue = int | float | str | bool | None
"""One training option as the card keeps it."""
CARD_FILE = "card.json"
ONNX_FILE = "model.onnx"
SOURCE_FACE_FILE = "source_face.png"


class ModelCardError(FacecraftError):
    """A model directory without a readable card, or a card this version cannot use."""


@dataclass(frozen=True, slots=True)
class FacesetSummary:
    """The data a model saw: where it came from and how much of it."""

    path: str
    faces: int
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelCard:
    """size: crop side in pixels; face_type: the crop's face type (``faceset.crop``); training: the
    options of the run that wrote it (learning rate, schedule, GAN warm-up, augmentation...), enough to
    train the same way again; a resumed run records its own (``history.csv`` keeps the learning rate of
    every read-out); empty on cards written before it was kept."""

    size: int
    face_type: FaceType
    steps: int
    source: FacesetSummary
    target: FacesetSummary
    losses: dict[str, float] = field(default_factory=dict)
    architecture: dict[str, int | float | str] = field(default_factory=dict)
    training: dict[str, RecipeValue] = field(default_factory=dict)
    training_seconds: float = 0.0
    device: str = "cpu"
    created: str = ""
    format: str = CARD_FORMAT

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["source"]["inputs"] = list(self.source.inputs)
        data["target"]["inputs"] = list(self.target.inputs)
        return data

    def save(self, model_dir: Path) -> Path:
        """Write ``card.json`` atomically (temporary file then rename)."""
        return write_json_atomic(model_dir / CARD_FILE, self.to_json(), indent=2)


def _summary(data: object, key: str, where: Path) -> FacesetSummary:
    if not isinstance(data, dict):
        raise ModelCardError(f"the model card '{where}' has no '{key}' section; re-export the model")
    return FacesetSummary(
        path=str(data.get("path", "")),
        faces=int(data.get("faces", 0)),
        inputs=tuple(str(p) for p in data.get("inputs", [])),
    )


def load_card(model_dir: Path) -> ModelCard:
    """Read a model directory's card; a missing or foreign card gets a message saying what to do."""
    path = model_dir / CARD_FILE
    if not model_dir.is_dir():
        raise ModelCardError(f"'{model_dir}' is not a model directory (train one with 'facecraft train')")
    if not path.is_file():
        raise ModelCardError(f"'{model_dir}' has no {CARD_FILE}: train or export a model there first")
    data: Any = read_format_json(
        path, CARD_FORMAT, "a facecraft model card", "re-export the model", ModelCardError
    )
    try:
        losses = {str(k): float(v) for k, v in dict(data.get("losses", {})).items()}
        return ModelCard(
            size=int(data["size"]),
            face_type=parse_face_type(str(data["face_type"])),
            steps=int(data["steps"]),
            source=_summary(data.get("source"), "source", path),
            target=_summary(data.get("target"), "target", path),
            losses=losses,
            architecture=dict(data.get("architecture", {})),
            training=dict(data.get("training", {})),
            training_seconds=float(data.get("training_seconds", 0.0)),
            device=str(data.get("device", "cpu")),
            created=str(data.get("created", "")),
        )
    except (KeyError, TypeError, ValueError) as error:
        message = f"the model card '{path}' is incomplete ({error}); re-export the model"
        raise ModelCardError(message) from error
