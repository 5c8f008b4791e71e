"""The faces of one extraction so far: crop each chosen face, keep it, drop it, or let it replace a
blurrier near-copy; write the kept ones' files; at the end drop those blurred relative to the set.

Files are named ``c{slot}.png`` (under faces/ and masks/) until the extraction renames the survivors.
"""

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.faces.alignment import transform_points, warp_to_crop
from facecraft.faces.face import MESH_POINTS, Face
from facecraft.faceset.crop import FaceType, crop_matrix
from facecraft.faceset.filters import (
    BlurSettings,
    DuplicateFilter,
    DuplicateSettings,
    blur_threshold,
    sharpness,
    thumbnail,
)
from facecraft.faceset.index import FACES_DIR, MASKS_DIR, FacesetEntry, FacesetError
from facecraft.faceset.mask import face_type_mask, mask_to_uint8
from facecraft.media.validate import translate_write_error
from facecraft.quality.pose import head_pose
from facecraft.types import FloatArray, Frame

PNG_COMPRESSION = 3
"""zlib level of the crop and mask PNGs (0-9): small files, fast writes."""
PENDING_FACES = 16
"""Newest kept faces held in memory before their files are written (a replacement then costs no write)."""
CUT_TOLERANCE = 0.02
"""A face with more than this fraction of its mesh points outside the frame is cut by the edge."""


@dataclass(frozen=True, slots=True)
class CollectSettings:
    """Crop size and face type, the smallest face (frame pixels), and the blur and duplicate filters."""

    size: int
    face_type: FaceType
    min_face_px: float
    blur: BlurSettings
    duplicates: DuplicateSettings


@dataclass(slots=True)
class DropCounts:
    """Frames used per input, and what happened to the candidates (one chosen face per frame at most)."""

    frames: list[int] = field(default_factory=list)
    frames_without_face: int = 0
    candidates: int = 0
    small: int = 0
    cut: int = 0
    blurred: int = 0
    duplicates: int = 0


class FaceCollector:
    """Mutable state of one extraction: kept faces, the duplicate filter and the counts."""

    def __init__(self, settings: CollectSettings, partial: Path) -> None:
        self.settings = settings
        self.partial = partial
        self.kept: list[FacesetEntry] = []
        """Faces kept so far; slot i's files are ``c{i}.png`` in the partial folder until the end."""
        self.duplicates = DuplicateFilter(settings.duplicates)
        self.counts = DropCounts()
        self._pending: dict[int, tuple[Frame, npt.NDArray[np.uint8]]] = {}

    def consider(
        self, frame_bgr: Frame, face: Face, input_index: int, frame_index: int, time_s: float
    ) -> None:
        """Crop one chosen face and keep it, replace a blurrier duplicate with it, or drop it."""
        self.counts.candidates += 1
        if face.size_px < self.settings.min_face_px:
            self.counts.small += 1
            return
        height, width = frame_bgr.shape[:2]
        pose = head_pose(face.landmarks_478, (width, height))
        if pose is None or _is_cut(face.landmarks_478, (width, height)):
            self.counts.cut += 1
            return
        pose_deg = (pose.yaw_deg, pose.pitch_deg, pose.roll_deg)
        size, face_type = self.settings.size, self.settings.face_type
        matrix = crop_matrix(face.landmarks_478, size, face_type)
        landmarks_crop = landmarks_in_crop(face.landmarks_478, matrix)
        crop_bgr = warp_to_crop(frame_bgr, matrix, (size, size))
        mask = face_type_mask(landmarks_crop, size, face_type)
        sharp = sharpness(crop_bgr, mask)
        if sharp < self.settings.blur.floor:
            self.counts.blurred += 1
            return
        thumb = thumbnail(crop_bgr, mask)
        slot = self.duplicates.match(thumb, pose_deg)
        if slot is not None:
            self.counts.duplicates += 1
            if sharp <= self.kept[slot].sharpness:
                return
            # the sharper copy takes the slot's files; the filter keeps comparing with the slot's first
            # face, so a slow drift (a head turning a little each frame) cannot walk one slot along
        else:
            slot = self.duplicates.add(thumb, pose_deg)
        name = f"c{slot}.png"
        entry = FacesetEntry(
            f"{FACES_DIR}/{name}",
            f"{MASKS_DIR}/{name}",
            input_index,
            frame_index,
            time_s,
            landmarks_crop,
            matrix,
            pose_deg,
            sharp,
        )
        if slot == len(self.kept):
            self.kept.append(entry)
        else:
            self.kept[slot] = entry
        self._hold(slot, crop_bgr, mask_to_uint8(mask))

    def _hold(self, slot: int, crop_bgr: Frame, mask_u8: npt.NDArray[np.uint8]) -> None:
        """Keep the newest faces in memory a while: a sharper near-copy usually follows within a few
        frames and then replaces the face before any file was written. The oldest goes to disk."""
        self._pending.pop(slot, None)
        self._pending[slot] = (crop_bgr, mask_u8)
        if len(self._pending) > PENDING_FACES:
            oldest = next(iter(self._pending))
            self._write(oldest)

    def _write(self, slot: int) -> None:
        crop_bgr, mask_u8 = self._pending.pop(slot)
        _write_pair(self.partial, f"c{slot}.png", crop_bgr, mask_u8)

    def finish(self) -> list[FacesetEntry]:
        """Drop the faces blurred relative to the set, delete their files, and return the survivors
        (their files still named by slot in the partial folder)."""
        threshold = blur_threshold([k.sharpness for k in self.kept], self.settings.blur)
        survivors = [k for k in self.kept if k.sharpness >= threshold]
        for slot, entry in enumerate(self.kept):
            if entry.sharpness >= threshold:
                if slot in self._pending:
                    self._write(slot)
            elif self._pending.pop(slot, None) is None:
                (self.partial / entry.file).unlink()
                (self.partial / entry.mask_file).unlink()
        self.counts.blurred += len(self.kept) - len(survivors)
        return survivors


def landmarks_in_crop(landmarks_478: FloatArray, matrix_frame_to_crop: FloatArray) -> FloatArray:
    """The landmarks in crop pixels: x, y through the affine, z scaled by its scale."""
    xy = transform_points(landmarks_478, matrix_frame_to_crop)
    scale = float(np.sqrt(abs(np.linalg.det(np.asarray(matrix_frame_to_crop, dtype=np.float64)[:, :2]))))
    z = np.asarray(landmarks_478, dtype=np.float32)[:, 2:3] * np.float32(scale)
    return np.hstack([xy, z]).astype(np.float32)


def _is_cut(landmarks_478: FloatArray, frame_wh: tuple[int, int]) -> bool:
    """More than ``CUT_TOLERANCE`` of the mesh lies outside the frame."""
    xy = np.asarray(landmarks_478, dtype=np.float32)[:MESH_POINTS, :2]
    inside_x = (xy[:, 0] >= -0.5) & (xy[:, 0] <= frame_wh[0] - 0.5)
    inside_y = (xy[:, 1] >= -0.5) & (xy[:, 1] <= frame_wh[1] - 0.5)
    return float(1.0 - (inside_x & inside_y).mean()) > CUT_TOLERANCE


def _write_pair(folder: Path, name: str, crop_bgr: Frame, mask_u8: npt.NDArray[np.uint8]) -> None:
    """The crop (colour PNG) and its mask (grey PNG) under faces/ and masks/."""
    write_png(folder / FACES_DIR / name, crop_bgr)
    write_png(folder / MASKS_DIR / name, mask_u8)


def write_png(path: Path, image: npt.NDArray[np.uint8]) -> None:
    """A PNG at moderate compression (OpenCV's encoder is about 3x faster than Pillow's level 6)."""
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
    if not ok:
        raise FacesetError(f"could not encode '{path.name}' as PNG")
    try:
        path.write_bytes(encoded.tobytes())
    except OSError as error:
        raise translate_write_error(path, error) from error
