"""What makes a face worth keeping in a faceset: sharp enough, and not a near-copy of one already kept.

Sharpness is the variance of the Laplacian of the grey crop inside the face mask, measured after resizing
the crop to ``SHARPNESS_SIDE_PX`` so that the number means the same at any crop size (a 512 px crop of a
face is not "sharper" than a 128 px crop of the same face).

Near-duplicates are judged on a tiny grey thumbnail of the aligned crop (brightness and contrast
normalised, so the mouth, eyes and lighting of the face count, not the exposure) together with the head
pose: a candidate is a duplicate when some kept face has nearly the same pose *and* nearly the same
thumbnail. Of two duplicates the sharper one is kept.
"""

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.types import FloatArray, Frame, Mask

SHARPNESS_SIDE_PX = 128
"""Crops are resized to this side before the Laplacian, so sharpness does not depend on the crop size."""
THUMB_SIDE_PX = 24
"""Side of the grey thumbnail that near-duplicates are compared on."""
DEFAULT_DUPLICATE_DISTANCE = 0.03
DEFAULT_DUPLICATE_POSE_DEG = 3.0
DEFAULT_BLUR_RELATIVE = 0.35
DEFAULT_BLUR_FLOOR = 50.0


def sharpness(crop_bgr: Frame, mask: Mask | None = None) -> float:
    """Variance of the Laplacian of the grey crop (inside ``mask`` > 0.5 when given), size-normalised."""
    grey = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)
    side = SHARPNESS_SIDE_PX
    if grey.shape != (side, side):
        grey = cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA)
    laplacian = np.asarray(cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F, ksize=3), dtype=np.float32)
    if mask is not None:
        small = cv2.resize(mask.astype(np.float32), (side, side), interpolation=cv2.INTER_AREA)
        inside = laplacian[small > 0.5]
        if inside.size >= 16:
            return float(inside.var())
    return float(laplacian.var())


def thumbnail(crop_bgr: Frame, mask: Mask | None = None) -> FloatArray:
    """A ``THUMB_SIDE_PX`` square grey thumbnail (of the face inside ``mask`` when given), flattened, with
    zero mean and unit standard deviation."""
    grey = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)
    if mask is not None:
        grey = (grey.astype(np.float32) * np.clip(mask, 0.0, 1.0)).astype(np.float32)
    side = THUMB_SIDE_PX
    small = cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    small -= np.float32(small.mean())
    small /= np.float32(max(float(small.std()), 1.0))
    return small


@dataclass(frozen=True, slots=True)
class DuplicateSettings:
    """thumb_distance: mean absolute difference of normalised thumbnails under which two faces look alike;
    pose_deg: largest yaw, pitch or roll difference under which two faces have the same pose."""

    thumb_distance: float = DEFAULT_DUPLICATE_DISTANCE
    pose_deg: float = DEFAULT_DUPLICATE_POSE_DEG

    def __post_init__(self) -> None:
        if self.thumb_distance < 0.0 or self.pose_deg < 0.0:
            raise ValueError(f"duplicate thresholds must be 0 or more, got {self}")


class DuplicateFilter:
    """Remembers the kept faces' thumbnails and poses; answers which kept face a candidate duplicates.

    One filter per faceset: a pose and expression already in the set is not added again, whichever input
    it came from. ``thumb_distance`` 0 turns the filter off.
    """

    def __init__(self, settings: DuplicateSettings = DuplicateSettings()) -> None:
        self._settings = settings
        self._thumbs: list[FloatArray] = []
        self._poses: list[tuple[float, float, float]] = []

    def __len__(self) -> int:
        return len(self._thumbs)

    def match(self, thumb: FloatArray, pose_deg: tuple[float, float, float]) -> int | None:
        """The slot of the kept face that this candidate nearly copies, or None when it is new."""
        if not self._thumbs or self._settings.thumb_distance <= 0.0:
            return None
        poses: npt.NDArray[np.float64] = np.asarray(self._poses, dtype=np.float64)
        pose_gap = np.abs(poses - np.asarray(pose_deg, dtype=np.float64)).max(axis=1)
        near = np.flatnonzero(pose_gap < self._settings.pose_deg)
        if near.size == 0:
            return None
        thumbs = np.stack([self._thumbs[i] for i in near])
        distances = np.abs(thumbs - thumb).mean(axis=1)
        best = int(np.argmin(distances))
        return int(near[best]) if float(distances[best]) < self._settings.thumb_distance else None

    def add(self, thumb: FloatArray, pose_deg: tuple[float, float, float]) -> int:
        """Remember a kept face; returns its slot."""
        self._thumbs.append(thumb)
        self._poses.append(pose_deg)
        return len(self._thumbs) - 1


@dataclass(frozen=True, slots=True)
class BlurSettings:
    """A face is blurred when its sharpness is under ``floor`` or under ``relative`` x the set's median."""

    relative: float = DEFAULT_BLUR_RELATIVE
    floor: float = DEFAULT_BLUR_FLOOR

    def __post_init__(self) -> None:
        if not 0.0 <= self.relative < 1.0:
            raise ValueError(f"relative blur threshold must be in [0, 1), got {self.relative}")
        if self.floor < 0.0:
            raise ValueError(f"blur floor must be 0 or more, got {self.floor}")


def blur_threshold(sharpness_values: npt.ArrayLike, settings: BlurSettings) -> float:
    """The sharpness under which a face of this set counts as blurred."""
    values = np.asarray(sharpness_values, dtype=np.float64)
    median = float(np.median(values)) if values.size else 0.0
    return max(settings.floor, settings.relative * median)
