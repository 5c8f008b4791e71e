"""A fake detector and mesh over a scripted 'world', to test tracking and selection without models."""

from dataclasses import dataclass, field

import numpy as np

from facecraft.faces.face import LANDMARK_POINTS, Detection
from facecraft.faces.mesh import MeshFit
from facecraft.faces.roi import FaceRoi
from facecraft.types import FloatArray, Frame

_RNG = np.random.default_rng(7)
UNIT_LANDMARKS: FloatArray = np.concatenate(
    [_RNG.uniform(-0.5, 0.5, (LANDMARK_POINTS, 2)), np.zeros((LANDMARK_POINTS, 1))], axis=1
).astype(np.float32)
# Eye corners level (33 right eye outer, 263 left eye outer) so a fitted roi is upright.
UNIT_LANDMARKS[33, :2] = (-0.3, -0.15)
UNIT_LANDMARKS[263, :2] = (0.3, -0.15)
UNIT_LANDMARKS[133, :2] = (-0.1, -0.15)
UNIT_LANDMARKS[362, :2] = (0.1, -0.15)


def landmarks_at(center_xy: tuple[float, float], size_px: float) -> FloatArray:
    points = UNIT_LANDMARKS.copy()
    points[:, :2] = points[:, :2] * size_px + np.asarray(center_xy, dtype=np.float32)
    return points


@dataclass(frozen=True, slots=True)
class WorldFace:
    center_xy: tuple[float, float]
    size_px: float


@dataclass
class World:
    """frames[i] lists the faces visible in frame i; a frame array carries its index in pixel (0, 0)."""

    frames: list[list[WorldFace]]
    detector_calls: int = 0
    mesh_calls: int = 0
    noise_px: float = 0.0
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    def frame(self, index: int) -> Frame:
        image = np.zeros((720, 1280, 3), dtype=np.uint8)
        image[0, 0, 0], image[0, 0, 1] = index % 256, index // 256
        return image

    def faces_in(self, frame_bgr: Frame) -> list[WorldFace]:
        return self.frames[int(frame_bgr[0, 0, 0]) + 256 * int(frame_bgr[0, 0, 1])]


class FakeDetector:
    def __init__(self, world: World) -> None:
        self.world = world

    def detect(self, frame_bgr: Frame) -> list[Detection]:
        self.world.detector_calls += 1
        out = []
        for face in self.world.faces_in(frame_bgr):
            (cx, cy), s = face.center_xy, face.size_px
            keypoints = np.array(
                [
                    [cx - 0.2 * s, cy - 0.15 * s],
                    [cx + 0.2 * s, cy - 0.15 * s],
                    [cx, cy],
                    [cx, cy + 0.2 * s],
                    [cx - 0.45 * s, cy],
                    [cx + 0.45 * s, cy],
                ],
                dtype=np.float32,
            )
            box = np.array([cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2], dtype=np.float32)
            out.append(Detection(box, 0.9, keypoints))
        return out


class FakeMesh:
    """Fits the world face whose centre lies inside the roi, like a mesh re-fitted near the last position."""

    def __init__(self, world: World) -> None:
        self.world = world

    def fit(self, frame_bgr: Frame, roi: FaceRoi, with_irises: bool = True) -> MeshFit | None:
        self.world.mesh_calls += 1
        cx, cy = (float(v) for v in roi.center_xy)
        for face in self.world.faces_in(frame_bgr):
            fx, fy = face.center_xy
            if abs(fx - cx) < roi.size_px / 2 and abs(fy - cy) < roi.size_px / 2:
                points = landmarks_at(face.center_xy, face.size_px)
                points[:, :2] += self.world.rng.normal(0, self.world.noise_px, (LANDMARK_POINTS, 2))
                return MeshFit(landmarks_478=points, presence=0.99)
        return None
