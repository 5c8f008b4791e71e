"""What a recorder accumulates over a video, and how it becomes a ``QualityReport``."""

from dataclasses import dataclass, field

import numpy as np

from facecraft.quality.expression import MIN_CORRELATION_FRAMES, SeriesAgreement, series_agreement
from facecraft.quality.identity import distance_stats
from facecraft.quality.patches import safe_ratio
from facecraft.quality.pose import HeadPose, pose_error
from facecraft.quality.report import QualityDetails, QualityReport

QUIET_MOUTH_MAR_STD = 0.02
"""Below this spread of the target's mouth opening, ``mar_corr`` mostly measures landmark noise (noted)."""
QUIET_EYES_EAR_STD = 0.01


@dataclass(slots=True)
class MetricSeries:
    """Sums and per-frame values gathered frame by frame (mutable, owned by one recorder)."""

    frames: int = 0
    frames_measured: int = 0
    frames_with_face: int = 0
    unpaired_frames: int = 0
    identity_frames: list[int] = field(default_factory=list)
    id_to_source: list[float] = field(default_factory=list)
    id_to_target: list[float] = field(default_factory=list)
    target_poses: list[HeadPose] = field(default_factory=list)
    output_poses: list[HeadPose] = field(default_factory=list)
    mar: list[tuple[float, float]] = field(default_factory=list)
    """(target, output) mouth aspect ratio per frame with both faces."""
    ear: list[tuple[float, float]] = field(default_factory=list)
    flicker_output: float = 0.0
    flicker_target: float = 0.0
    flicker_pairs: int = 0
    jitter_px: list[float] = field(default_factory=list)
    jitter_rel: list[float] = field(default_factory=list)
    seam_output: float = 0.0
    seam_target: float = 0.0
    seam_frames: int = 0
    notes: list[str] = field(default_factory=list)


def build_report(series: MetricSeries) -> QualityReport:
    """The report of everything in ``series`` (``None`` for each number nothing was measured for)."""
    to_source, to_target = distance_stats(series.id_to_source), distance_stats(series.id_to_target)
    pose = pose_error(series.target_poses, series.output_poses)
    mar = _agreement(series.mar)
    ear = _agreement(series.ear)
    flicker_output = _per(series.flicker_output, series.flicker_pairs)
    flicker_target = _per(series.flicker_target, series.flicker_pairs)
    seam_output = _per(series.seam_output, series.seam_frames)
    seam_target = _per(series.seam_target, series.seam_frames)
    details = QualityDetails(
        frames_measured=series.frames_measured,
        frames_with_face=series.frames_with_face,
        unpaired_frames=series.unpaired_frames,
        identity_frames=tuple(series.identity_frames),
        id_to_source_per_frame=tuple(series.id_to_source),
        id_to_target_per_frame=tuple(series.id_to_target),
        id_to_source_median=None if to_source is None else to_source.median,
        id_to_source_worst10=None if to_source is None else to_source.worst10,
        id_to_target_median=None if to_target is None else to_target.median,
        yaw_err_deg=None if pose is None else pose.yaw_deg,
        pitch_err_deg=None if pose is None else pose.pitch_deg,
        roll_err_deg=None if pose is None else pose.roll_deg,
        mar_mean_abs_diff=mar.mean_abs_diff,
        ear_mean_abs_diff=ear.mean_abs_diff,
        flicker_output=flicker_output,
        flicker_target=flicker_target,
        jitter_px=_mean(series.jitter_px),
        seam_energy_output=seam_output,
        seam_energy_target=seam_target,
        notes=tuple(series.notes) + _quiet_notes(series),
    )
    return QualityReport(
        frames=series.frames,
        face_found=series.frames_with_face / series.frames_measured if series.frames_measured else 0.0,
        id_to_source=None if to_source is None else to_source.mean,
        id_to_target=None if to_target is None else to_target.mean,
        pose_err_deg=None if pose is None else pose.mean_deg,
        mar_corr=mar.correlation,
        ear_corr=ear.correlation,
        flicker_ratio=_ratio(series.flicker_output, series.flicker_target, series.flicker_pairs),
        jitter=_mean(series.jitter_rel),
        seam_ratio=_ratio(series.seam_output, series.seam_target, series.seam_frames),
        details=details,
    )


def _agreement(pairs: list[tuple[float, float]]) -> SeriesAgreement:
    return series_agreement([t for t, _ in pairs], [o for _, o in pairs])


def _quiet_notes(series: MetricSeries) -> tuple[str, ...]:
    """Warn where a correlation has too little motion in the target to mean much."""
    notes = []
    checks = (
        ("mouth", "mar_corr", series.mar, QUIET_MOUTH_MAR_STD),
        ("eyes", "ear_corr", series.ear, QUIET_EYES_EAR_STD),
    )
    for name, key, pairs, limit in checks:
        if len(pairs) < MIN_CORRELATION_FRAMES:
            continue
        spread = float(np.std([t for t, _ in pairs]))
        if spread < limit:
            notes.append(
                f"the target's {name} barely move (spread {spread:.4f} < {limit}): {key} mostly measures "
                "landmark noise here; read the mean absolute difference instead"
            )
    return tuple(notes)


def _ratio(output_total: float, target_total: float, count: int) -> float | None:
    return safe_ratio(output_total, target_total) if count else None


def _per(total: float, count: int) -> float | None:
    return total / count if count else None


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None
