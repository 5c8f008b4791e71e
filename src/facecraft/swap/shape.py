"""Shape transfer: move the target's mesh toward the source's proportions, keeping the target's expression.

Warping the source's texture onto the target's own mesh leaves the target's geometry, and the result reads
as a blend of the two people. So, per frame:

1. The source mesh is aligned to the target's by a 3D similarity (rotation, scale, shift; least squares
   on the stable points below), which also turns it into the target's head pose.
2. On the stable points (brows, forehead, eye corners, nose, upper cheeks: points that expressions move
   little) the offset from the target to the aligned source is measured. Points that expressions move
   (lips, the lower face, eyelids) are not measured: the offset there is interpolated from the stable
   points by a smoothed thin-plate spline over the frontal layout, so the source's smile, mouth opening
   or squint never reaches the target. The face oval is held still (offset 0) so the silhouette and
   the blend boundary stay the target's, unless ``ShapeSettings.outline`` moves it (sideways only
   below the nose).
3. The eyelid margins (with the irises) move as rigid units with their eye corners (the opening stays
   the target's), and the lips move as one unit (or stay, see ``ShapeSettings.move_mouth``), so the mouth
   opening is exactly the target's.

Everything that depends only on the mesh layout (which points are stable, the spline's weights) is
computed once when the object is built; a frame costs a 3 x 3 SVD and one small matrix product.
"""

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.faces.alignment import umeyama
from facecraft.faces.face import LANDMARK_POINTS, LEFT_IRIS_CENTER, MESH_POINTS, RIGHT_IRIS_CENTER
from facecraft.swap.triangles import (
    FACE_OVAL,
    LEFT_EYE_CORNERS,
    LEFT_EYELIDS,
    LIPS_INNER,
    LIPS_OUTER,
    RIGHT_EYE_CORNERS,
    RIGHT_EYELIDS,
    MeshTopology,
)
from facecraft.types import FloatArray

IRIS_POINTS = 5
SUBNASALE = 2
"""Mesh point at the base of the nose; points below it move with the mouth and jaw."""
EYE_REGION_RADIUS = 0.12
"""Points this close to an eyelid margin (layout units: outer eye corners 1 apart) move with blinks."""
STABLE_BELOW_SUBNASALE = 0.02
"""Points down to this far below the nose base still count as stable (the nostrils' lower rim)."""

Array64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ShapeSettings:
    """strength: 0 keeps the target's shape, 1 moves it fully to the source's proportions.
    outline: how far the face's outline moves to the source's too (0: it stays the target's, and so does
        the blend boundary; below the nose base only the face's width moves, as how far the chin drops
        is the target's mouth opening). The frame around a moved outline moves with it (``surround.py``).
        Off by default: on the five benchmark pairs (2026-11-27) it brought the identity distance to the
        source down by 0.015 on d10, s18 and d3 (mean 0.488 -> 0.475) and the seams' contrast too, but
        the flicker figure rose on s18 (1.17 -> 1.20) and d18 (1.10 -> 1.11: over its line), as the
        moved edge now changes inside the target's face region where that figure reads, and it costs
        2.5-4 ms more per 720p face on this machine (``bench/RESULTS.md``).
    move_eyes: the eye openings follow the source's eye corners (moved and turned as rigid units).
    move_mouth: the lips move as a unit with the face around them; off, they stay exactly where the
        target's are (the mouth interior then lines up with the target frame's teeth).
    smoothing: thin-plate spline regularisation (layout units); larger is smoother, less exact.
    max_offset: no point moves further than this, as a fraction of the target's outer-eye-corner distance.
    """

    strength: float = 1.0
    outline: float = 0.0
    move_eyes: bool = True
    move_mouth: bool = True
    smoothing: float = 1e-3
    max_offset: float = 0.15

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.5:
            raise ValueError(f"strength must be in [0, 1.5], got {self.strength}")
        if not 0.0 <= self.outline <= 1.5:
            raise ValueError(f"outline must be in [0, 1.5], got {self.outline}")
        if self.smoothing < 0.0:
            raise ValueError(f"smoothing must be 0 or more, got {self.smoothing}")
        if self.max_offset <= 0.0:
            raise ValueError(f"max_offset must be above 0, got {self.max_offset}")


@dataclass(frozen=True, slots=True)
class Similarity3:
    """x' = scale * rotation @ x + shift (rotation proper, 3 x 3)."""

    scale: float
    rotation: Array64
    shift: Array64

    def apply(self, points: npt.ArrayLike) -> Array64:
        xyz = np.asarray(points, dtype=np.float64)[:, :3]
        out: Array64 = self.scale * xyz @ self.rotation.T + self.shift
        return out


def estimate_similarity_3d(src: npt.ArrayLike, dst: npt.ArrayLike) -> Similarity3:
    """Least-squares 3D similarity (Umeyama, no reflection) mapping ``src`` points onto ``dst``."""
    a = np.asarray(src, dtype=np.float64)[:, :3]
    b = np.asarray(dst, dtype=np.float64)[:, :3]
    if a.shape != b.shape or a.shape[0] < 3:
        raise ValueError(f"need matching lists of 3 or more 3D points, got {a.shape} and {b.shape}")
    scale, rotation, shift = umeyama(a, b)
    return Similarity3(scale, rotation, shift)


def facing_camera(
    normals: FloatArray, layout: FloatArray, landmarks: npt.ArrayLike, points: npt.NDArray[np.int64]
) -> FloatArray:
    """Per triangle, the cosine between its normal and the direction to the camera in the head pose of
    ``landmarks``: the canonical layout's normals (x right, y down, z away; a triangle facing the viewer
    has a positive z) turned by the rotation that aligns the layout's ``points`` with the landmarks'."""
    rotation = estimate_similarity_3d(
        layout[points], np.asarray(landmarks, dtype=np.float64)[points]
    ).rotation
    facing: FloatArray = (normals.astype(np.float64) @ rotation[2]).astype(np.float32)
    return facing


def stable_points(layout: FloatArray) -> npt.NDArray[np.int64]:
    """Mesh points that expressions move little: above the nose base, away from the eyelids, off the oval."""
    xy = layout[:, :2].astype(np.float64)
    stable = xy[:, 1] <= xy[SUBNASALE, 1] + STABLE_BELOW_SUBNASALE
    for lids, corners in ((RIGHT_EYELIDS, RIGHT_EYE_CORNERS), (LEFT_EYELIDS, LEFT_EYE_CORNERS)):
        polygon = xy[list(lids)].astype(np.float32)
        for index in range(MESH_POINTS):
            distance = cv2.pointPolygonTest(polygon, (float(xy[index, 0]), float(xy[index, 1])), True)
            if distance > -EYE_REGION_RADIUS:  # inside, or outside but near
                stable[index] = False
        stable[list(corners)] = True
    stable[list(FACE_OVAL)] = False
    return np.flatnonzero(stable)


def still_points(layout: FloatArray) -> npt.NDArray[np.int64]:
    """The stable points and the face outline above the nose base: what only noise moves fast, so a
    tracker may steady them hard (the lips, jaw and eyelids are left to follow expressions)."""
    xy = layout[:, :2]
    oval = np.asarray(FACE_OVAL, dtype=np.int64)
    upper_oval = oval[xy[oval, 1] <= xy[SUBNASALE, 1]]
    return np.union1d(stable_points(layout), upper_oval)


def mouth_and_eyes(layout: FloatArray, still: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], ...]:
    """The mesh points not in ``still`` in two groups, below the nose base (lips, jaw, chin) and above
    it (the eyelids and the skin round the eyes): a tracker may let each follow quick motion as a whole."""
    moving = np.setdiff1d(np.arange(len(layout)), np.asarray(still, dtype=np.int64))
    below = layout[moving, 1] > layout[SUBNASALE, 1]
    return moving[below], moving[~below]


def spline_weights(layout_xy: Array64, control: npt.NDArray[np.int64], smoothing: float) -> Array64:
    """W (468 x C): offsets at all points = W @ offsets at the control points (thin-plate spline)."""
    centres = layout_xy[control]

    def kernel(points: Array64) -> Array64:
        r2 = ((points[:, np.newaxis, :] - centres[np.newaxis, :, :]) ** 2).sum(axis=2)
        values: Array64 = 0.5 * r2 * np.log(np.maximum(r2, 1e-20))
        return values

    count = len(control)
    system = np.zeros((count + 3, count + 3))
    system[:count, :count] = kernel(centres) + smoothing * np.eye(count)
    affine = np.hstack([np.ones((count, 1)), centres])
    system[:count, count:] = affine
    system[count:, :count] = affine.T
    solve = np.linalg.solve(system, np.vstack([np.eye(count), np.zeros((3, count))]))
    basis = np.hstack([kernel(layout_xy), np.ones((len(layout_xy), 1)), layout_xy])
    weights: Array64 = basis @ solve
    return weights


class ShapeTransfer:
    """Moves a target mesh toward a source's proportions (see the module docstring)."""

    def __init__(self, topology: MeshTopology, settings: ShapeSettings = ShapeSettings()) -> None:
        self.settings = settings
        layout = topology.layout_468
        stable = stable_points(layout)
        hull = np.asarray(FACE_OVAL, dtype=np.int64)
        self._stable = stable
        self._control = np.concatenate([stable, hull])
        self._hull = hull
        self._layout = layout.astype(np.float64)
        self._lower_hull = layout[hull, 1] > layout[SUBNASALE, 1]
        self._weights = spline_weights(layout[:, :2].astype(np.float64), self._control, settings.smoothing)
        self._eyes = (
            (
                np.array([*RIGHT_EYELIDS, *range(RIGHT_IRIS_CENTER, RIGHT_IRIS_CENTER + IRIS_POINTS)]),
                RIGHT_EYE_CORNERS,
            ),
            (
                np.array([*LEFT_EYELIDS, *range(LEFT_IRIS_CENTER, LEFT_IRIS_CENTER + IRIS_POINTS)]),
                LEFT_EYE_CORNERS,
            ),
        )
        self._lips = np.array(sorted({*LIPS_INNER, *LIPS_OUTER}))

    @property
    def stable_indices(self) -> npt.NDArray[np.int64]:
        """The points whose offsets are measured (the rest are interpolated or held)."""
        return self._stable

    def align(self, source_478: npt.ArrayLike, target_478: npt.ArrayLike) -> Similarity3:
        """The similarity that puts the source mesh over the target's (pose included)."""
        source = np.asarray(source_478, dtype=np.float64)
        target = np.asarray(target_478, dtype=np.float64)
        return estimate_similarity_3d(source[self._stable], target[self._stable])

    def offsets(self, source_478: npt.ArrayLike, target_478: npt.ArrayLike) -> Array64:
        """Per-point 3D offsets (478 x 3) to add to the target mesh."""
        source = np.asarray(source_478, dtype=np.float64)
        target = np.asarray(target_478, dtype=np.float64)[:, :3]
        alignment = self.align(source, target)
        control = np.zeros((len(self._control), 3))
        control[: len(self._stable)] = alignment.apply(source[self._stable]) - target[self._stable]
        if self.settings.outline > 0.0:
            outline = self._outline_offsets(alignment.apply(source[self._hull]), target)
            control[len(self._stable) :] = self.settings.outline * outline
        offsets = np.zeros((LANDMARK_POINTS, 3))
        offsets[:MESH_POINTS] = self._weights @ control
        offsets[self._hull] = control[len(self._stable) :]
        self._place_eyes(target, offsets)
        offsets[self._lips] = offsets[self._lips].mean(axis=0) if self.settings.move_mouth else 0.0
        offsets *= self.settings.strength
        limit = self.settings.max_offset * _eye_distance(target)
        lengths = np.linalg.norm(offsets[:, :2], axis=1, keepdims=True)
        offsets *= np.minimum(1.0, limit / np.maximum(lengths, 1e-9))
        return offsets

    def _outline_offsets(self, aligned_hull: Array64, target: Array64) -> Array64:
        """The outline's offsets to the aligned source's (hull x 3; ``aligned_hull``: the source's outline
        put over the target). Below the nose base only the face's width moves (sideways in the head's
        frame): how far the chin drops is the mouth's opening, the target's expression, not the source's
        face."""
        offsets = aligned_hull - target[self._hull]
        head = estimate_similarity_3d(self._layout[self._stable], target[self._stable]).rotation
        local = offsets @ head  # into the head's frame: x right, y down, z away
        local[self._lower_hull, 1:] = 0.0
        moved: Array64 = local @ head.T
        return moved

    def _place_eyes(self, target: Array64, offsets: Array64) -> None:
        """Each eyelid margin and iris follows its two corners rigidly (2D similarity), or stays put."""
        for points, corners in self._eyes:
            if not self.settings.move_eyes:
                offsets[points] = 0.0
                continue
            start = target[list(corners), :2]
            end = start + offsets[list(corners), :2]
            matrix = _similarity_from_two(start, end)
            moved = target[points, :2] @ matrix[:, :2].T + matrix[:, 2]
            offsets[points, :2] = moved - target[points, :2]
            offsets[points, 2] = offsets[list(corners), 2].mean()

    def transfer(self, source_478: npt.ArrayLike, target_478: npt.ArrayLike) -> FloatArray:
        """The target's 478 landmarks moved toward the source's proportions (float32, target pixels)."""
        target = np.asarray(target_478, dtype=np.float64)[:, :3]
        return (target + self.offsets(source_478, target)).astype(np.float32)


def _eye_distance(landmarks: Array64) -> float:
    return float(np.linalg.norm(landmarks[RIGHT_EYE_CORNERS[0], :2] - landmarks[LEFT_EYE_CORNERS[1], :2]))


def _similarity_from_two(start: Array64, end: Array64) -> Array64:
    """The 2D similarity (2 x 3) taking two points to two others (identity when they coincide)."""
    vector_start, vector_end = start[1] - start[0], end[1] - end[0]
    length = float(vector_start @ vector_start)
    if length < 1e-12:
        return np.array([[1.0, 0.0, end[0, 0] - start[0, 0]], [0.0, 1.0, end[0, 1] - start[0, 1]]])
    # Complex-number ratio end / start gives the rotation and scale.
    a = float(vector_end @ vector_start) / length
    b = float(vector_start[0] * vector_end[1] - vector_start[1] * vector_end[0]) / length
    linear = np.array([[a, -b], [b, a]])
    shift = end[0] - linear @ start[0]
    return np.hstack([linear, shift[:, np.newaxis]])
