"""The triangulation of the 468-point face mesh, and the index loops it is built around.

The triangles ship as data (``data/face_mesh_topology.json``), made by ``bench/make_triangles.py`` from
real faces: a constrained Delaunay triangulation of a frontal, left-right symmetric face layout in which
the face oval, the inner lips and both eyelid margins are edges. Triangles inside the oval make the face
surface; those inside the inner lips (the mouth opening) and the eye openings are kept apart, because
what shows there belongs to the target (teeth, tongue, gaze). The file also holds each point's mirror
partner (found by fitting the mesh to mirrored photos) and the frontal layout itself.

Index loops are MediaPipe face-mesh indices; "right" and "left" are the subject's.
"""

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt

from facecraft.faces.face import LEFT_IRIS_CENTER, MESH_POINTS, RIGHT_IRIS_CENTER
from facecraft.types import FloatArray

IntArray = npt.NDArray[np.int32]

TOPOLOGY_FILE = "face_mesh_topology.json"
TOPOLOGY_FORMAT = 1

FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
"""The face outline, closed, from the top of the forehead clockwise on screen."""
LIPS_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
"""The mouth opening, closed: upper inner lip image left to right, then the lower one back."""
LIPS_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
RIGHT_EYELIDS = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYELIDS = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
"""Eyelid margins (the eye openings), closed loops."""
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
RIGHT_EYE_CORNERS = (33, 133)
LEFT_EYE_CORNERS = (362, 263)
EYE_CENTERS = (RIGHT_IRIS_CENTER, LEFT_IRIS_CENTER)
"""The eye openings are fanned from the iris centres, so the texture inside follows the gaze."""


@dataclass(frozen=True, slots=True)
class MeshTopology:
    """The triangulated face mesh.

    layout_468: float32 (468, 3) frontal, symmetric face: x right, y down, z away from the viewer, the
        outer eye corners (33, 263) 1 apart, centred on the points' mean.
    mirror_468: int32 (468,) the index of each point's left-right partner (itself on the midline).
    face_triangles: int32 (K, 3) the face surface inside the oval, mouth and eye openings left out; each
        has positive signed area ``(b - a) x (c - a)`` in the layout's x, y (image axes, y down).
    mouth_triangles: int32 (M, 3) the mouth opening: every triangle inside the inner lips on the layout,
        including those on the few points of the mesh's second inner-lip row (42, 183, 272, 407) that the
        layout puts just inside them (the opening's corners); same orientation.
    eye_triangles: int32 (E, 3) both eye openings, fanned from the iris centres (indices 468 and 473).
    """

    layout_468: FloatArray
    mirror_468: IntArray
    face_triangles: IntArray
    mouth_triangles: IntArray
    eye_triangles: IntArray

    def __post_init__(self) -> None:
        if self.layout_468.shape != (MESH_POINTS, 3):
            raise ValueError(f"layout_468 must be (468, 3), got {self.layout_468.shape}")
        mirror = self.mirror_468
        if mirror.shape != (MESH_POINTS,) or not np.array_equal(mirror[mirror], np.arange(MESH_POINTS)):
            raise ValueError("mirror_468 must pair every mesh point with one partner (an involution)")
        for name in ("face_triangles", "mouth_triangles", "eye_triangles"):
            triangles = getattr(self, name)
            if triangles.ndim != 2 or triangles.shape[1] != 3 or triangles.shape[0] == 0:
                raise ValueError(f"{name} must be a non-empty K x 3 array, got {triangles.shape}")
            if int(triangles.min()) < 0 or int(triangles.max()) >= MESH_POINTS + 10:
                raise ValueError(f"{name} refers to points outside the 478 landmarks")


def load_topology() -> MeshTopology:
    """The shipped triangulation (a small JSON file inside the package)."""
    text = resources.files("facecraft.swap").joinpath("data", TOPOLOGY_FILE).read_text(encoding="utf-8")
    return topology_from_json(text)


def topology_from_json(text: str) -> MeshTopology:
    """Parse the topology file (see ``topology_to_json``)."""
    record = json.loads(text)
    if record.get("format") != TOPOLOGY_FORMAT:
        raise ValueError(f"face mesh topology format {record.get('format')!r}, expected {TOPOLOGY_FORMAT}")
    return MeshTopology(
        layout_468=np.asarray(record["layout_468"], dtype=np.float32),
        mirror_468=np.asarray(record["mirror_468"], dtype=np.int32),
        face_triangles=np.asarray(record["face_triangles"], dtype=np.int32),
        mouth_triangles=np.asarray(record["mouth_triangles"], dtype=np.int32),
        eye_triangles=np.asarray(record["eye_triangles"], dtype=np.int32),
    )


def topology_to_json(topology: MeshTopology, description: str) -> str:
    """The topology as JSON text: a point or triangle per line, so changes read well in a diff."""

    def rows(array: npt.NDArray[np.generic], digits: int | None = None) -> str:
        lines = [json.dumps([round(float(v), digits) if digits else int(v) for v in row]) for row in array]
        return "[\n    " + ",\n    ".join(lines) + "\n  ]"

    parts = [
        f'  "format": {TOPOLOGY_FORMAT}',
        f'  "description": {json.dumps(description)}',
        f'  "layout_468": {rows(topology.layout_468, 5)}',
        f'  "mirror_468": {json.dumps([int(v) for v in topology.mirror_468])}',
        f'  "face_triangles": {rows(topology.face_triangles)}',
        f'  "mouth_triangles": {rows(topology.mouth_triangles)}',
        f'  "eye_triangles": {rows(topology.eye_triangles)}',
    ]
    return "{\n" + ",\n".join(parts) + "\n}\n"


def signed_areas(points_xy: npt.ArrayLike, triangles: IntArray) -> FloatArray:
    """``(b - a) x (c - a)`` per triangle (twice the area; positive for the layout's orientation)."""
    xy = np.asarray(points_xy, dtype=np.float32)[:, :2]
    a, b, c = xy[triangles[:, 0]], xy[triangles[:, 1]], xy[triangles[:, 2]]
    ab, ac = b - a, c - a
    return (ab[:, 0] * ac[:, 1] - ab[:, 1] * ac[:, 0]).astype(np.float32)


def triangle_normals(points_xyz: npt.ArrayLike, triangles: IntArray) -> FloatArray:
    """Unit normals ``(b - a) x (c - a)`` (K, 3) in 3D (x right, y down, z away from the viewer).

    A triangle with the layout's orientation that faces the viewer has a positive z component.
    """
    xyz = np.asarray(points_xyz, dtype=np.float64)[:, :3]
    a, b, c = xyz[triangles[:, 0]], xyz[triangles[:, 1]], xyz[triangles[:, 2]]
    normals = np.cross(b - a, c - a)
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    unit: FloatArray = (normals / np.maximum(lengths, 1e-12)).astype(np.float32)
    return unit
