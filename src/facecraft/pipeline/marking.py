"""How every output is marked: a visible label (optional), the invisible watermark (always), then the
provenance record and C2PA Content Credentials once the file is written.

``Marking`` is a required argument of the runner, and its watermark field has no default: the
invisible mark cannot be left out.
"""

from dataclasses import dataclass
from pathlib import Path

from facecraft.pipeline.stages import FrameStage, OutputStep
from facecraft.provenance.c2pa import C2paSignStep
from facecraft.provenance.identity import load_identity, local_identity
from facecraft.provenance.label import LabelStage
from facecraft.provenance.payload import WatermarkPayload
from facecraft.provenance.record import (
    InputFile,
    InputRole,
    JsonScalar,
    RecordStep,
    default_store_dir,
    new_record,
)
from facecraft.provenance.watermark import WatermarkStage

DEFAULT_LABEL = "AI-generated"


@dataclass(frozen=True, slots=True)
class MarkingOptions:
    """label: text drawn visibly on every frame (None: no visible label). cert/key: the user's own C2PA
    signing certificate chain and key (PEM); by default a local identity is made under config_dir."""

    label: str | None = None
    cert: Path | None = None
    key: Path | None = None
    config_dir: Path | None = None

    def __post_init__(self) -> None:
        if (self.cert is None) != (self.key is None):
            raise ValueError("give both --c2pa-cert and --c2pa-key, or neither")


@dataclass(frozen=True, slots=True)
class Marking:
    watermark: FrameStage
    label: FrameStage | None
    output_steps: tuple[OutputStep, ...]
    record_id: int

    @property
    def frame_stages(self) -> tuple[FrameStage, ...]:
        """Label first, so the watermark covers the final pixels."""
        return (self.label, self.watermark) if self.label is not None else (self.watermark,)


def build_marking(
    inputs: dict[InputRole, Path],
    models: tuple[str, ...],
    options: MarkingOptions,
    settings: dict[str, JsonScalar],
) -> Marking:
    """A fresh provenance record (and watermark payload) for one output."""
    store = default_store_dir(options.config_dir)
    files = [InputFile.from_path(path, role) for role, path in inputs.items()]
    record = new_record(files, models, settings, store_dir=store)
    if options.cert is not None and options.key is not None:
        identity = load_identity(options.cert, options.key)
    else:
        identity = local_identity(options.config_dir)
    return Marking(
        watermark=WatermarkStage(WatermarkPayload(record.record_id)),
        label=LabelStage(options.label) if options.label else None,
        output_steps=(RecordStep(record, store), C2paSignStep(identity, record)),
        record_id=record.record_id,
    )
