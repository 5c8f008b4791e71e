"""The quality report of one swap: ten headline numbers (``to_json``) and the details behind them.

Headline keys (``REPORT_KEYS``), ``None`` (JSON ``null``) where a number cannot be measured, for example
flicker on a single image or identity when no sampled frame had a face:

- ``frames``: frames compared (target and output paired by index).
- ``face_found``: share of measured frames (all, unless the recorder measures a subset to save time)
  where a target face was found and the mesh found a face in the output at the same place (coverage).
- ``id_to_source``: mean dlib distance, swapped face to source photo (lower is more like the source).
- ``id_to_target``: mean dlib distance, swapped face to the original target face in the same frame.
- ``pose_err_deg``: mean absolute yaw, pitch and roll difference, output vs target, degrees.
- ``mar_corr`` / ``ear_corr``: Pearson correlation over time of mouth / eye opening, output vs target.
- ``flicker_ratio``: frame-to-frame change in the face region, output over target (1.0 adds nothing).
- ``jitter``: output landmark motion the target's does not explain, per frame, in face sizes.
- ``seam_ratio``: gradient energy along the face boundary, output over target (1.0 adds no edge).
"""

from dataclasses import dataclass, field, fields

REPORT_KEYS = (
    "frames",
    "face_found",
    "id_to_source",
    "id_to_target",
    "pose_err_deg",
    "mar_corr",
    "ear_corr",
    "flicker_ratio",
    "jitter",
    "seam_ratio",
)

JsonValue = int | float | None


@dataclass(frozen=True, slots=True)
class QualityDetails:
    """What the headline numbers are made of (shown in the table, written with ``details_json``)."""

    frames_measured: int = 0
    frames_with_face: int = 0
    unpaired_frames: int = 0
    identity_frames: tuple[int, ...] = ()
    id_to_source_per_frame: tuple[float, ...] = ()
    id_to_target_per_frame: tuple[float, ...] = ()
    id_to_source_median: float | None = None
    id_to_source_worst10: float | None = None
    id_to_target_median: float | None = None
    yaw_err_deg: float | None = None
    pitch_err_deg: float | None = None
    roll_err_deg: float | None = None
    mar_mean_abs_diff: float | None = None
    ear_mean_abs_diff: float | None = None
    flicker_output: float | None = None
    flicker_target: float | None = None
    jitter_px: float | None = None
    seam_energy_output: float | None = None
    seam_energy_target: float | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Headline numbers of a swap's quality; ``details`` holds the rest (module docstring for meanings)."""

    frames: int
    face_found: float
    id_to_source: float | None
    id_to_target: float | None
    pose_err_deg: float | None
    mar_corr: float | None
    ear_corr: float | None
    flicker_ratio: float | None
    jitter: float | None
    seam_ratio: float | None
    details: QualityDetails = field(default_factory=QualityDetails, compare=False)

    def to_json(self) -> dict[str, JsonValue]:
        """Exactly ``REPORT_KEYS``, in that order."""
        return {key: getattr(self, key) for key in REPORT_KEYS}

    def details_json(self) -> dict[str, object]:
        details = self.details
        return {f.name: _jsonable(getattr(details, f.name)) for f in fields(details)}


def _jsonable(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value
