"""What an extraction made: counts, what was dropped and why, the pose spread, and how long it took."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, slots=True)
class PoseSpread:
    """Range and standard deviation of yaw and pitch over a faceset, in degrees."""

    yaw_min: float
    yaw_max: float
    yaw_std: float
    pitch_min: float
    pitch_max: float
    pitch_std: float

    def describe(self) -> str:
        return (
            f"yaw {self.yaw_min:+.0f}..{self.yaw_max:+.0f} (std {self.yaw_std:.1f})   "
            f"pitch {self.pitch_min:+.0f}..{self.pitch_max:+.0f} (std {self.pitch_std:.1f}) deg"
        )

    def to_json(self) -> dict[str, float]:
        return {
            "yaw_min_deg": round(self.yaw_min, 2),
            "yaw_max_deg": round(self.yaw_max, 2),
            "yaw_std_deg": round(self.yaw_std, 2),
            "pitch_min_deg": round(self.pitch_min, 2),
            "pitch_max_deg": round(self.pitch_max, 2),
            "pitch_std_deg": round(self.pitch_std, 2),
        }


def pose_spread(poses_deg: Sequence[tuple[float, float, float]]) -> PoseSpread:
    """The spread of (yaw, pitch, roll) poses; all zeros for none."""
    if not poses_deg:
        return PoseSpread(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    poses = np.asarray(poses_deg, dtype=np.float64)
    yaw, pitch = poses[:, 0], poses[:, 1]
    return PoseSpread(
        float(yaw.min()), float(yaw.max()), float(yaw.std()),
        float(pitch.min()), float(pitch.max()), float(pitch.std()),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class InputCount:
    """Per input: frames looked at (every N-th; 1 for a photo) and faces kept in the final set."""

    path: str
    frames_used: int
    faces: int


@dataclass(frozen=True, slots=True)
class ExtractSummary:
    """The outcome of one extraction.

    candidates: chosen faces seen (at most one per frame used). Each is either kept (``faces``) or counted
    in exactly one ``dropped_*``: small (under the size floor), cut (partly outside the frame, or no head
    pose could be solved), duplicates (near copy of a kept face), blurred (under the absolute floor or
    the set's relative bar). seconds: from the start until the faces were chosen and their files
    written (the contact sheet and the index come after).
    """

    output_dir: Path
    faces: int
    candidates: int
    dropped_blurred: int
    dropped_duplicates: int
    dropped_small: int
    dropped_cut: int
    frames_used: int
    frames_without_face: int
    per_input: tuple[InputCount, ...]
    pose: PoseSpread
    seconds: float

    @property
    def frames_per_s(self) -> float:
        """Frames used per second of extraction, all work included (model loading too)."""
        return self.frames_used / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "faces": self.faces,
            "candidates": self.candidates,
            "dropped_blurred": self.dropped_blurred,
            "dropped_duplicates": self.dropped_duplicates,
            "dropped_small": self.dropped_small,
            "dropped_cut": self.dropped_cut,
            "frames_used": self.frames_used,
            "frames_without_face": self.frames_without_face,
            "per_input": [
                {"path": c.path, "frames_used": c.frames_used, "faces": c.faces} for c in self.per_input
            ],
            "pose": self.pose.to_json(),
            "seconds": round(self.seconds, 3),
        }
