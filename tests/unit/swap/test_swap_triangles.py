"""The shipped triangulation of the face mesh: areas, coverage of the face outline, the mouth opening."""

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.faces.face import MESH_POINTS
from facecraft.swap.triangles import (
    FACE_OVAL,
    LEFT_EYELIDS,
    LIPS_INNER,
    RIGHT_EYELIDS,
    MeshTopology,
    load_topology,
    signed_areas,
    topology_from_json,
    topology_to_json,
    triangle_normals,
)

TOPOLOGY = load_topology()


def polygon_area(points: npt.NDArray[np.float32]) -> float:
    return float(cv2.contourArea(points.astype(np.float32)))


def crosses(
    a: npt.NDArray[np.float32],
    b: npt.NDArray[np.float32],
    c: npt.NDArray[np.float32],
    d: npt.NDArray[np.float32],
) -> bool:
    def side(p: npt.NDArray[np.float32], q: npt.NDArray[np.float32], r: npt.NDArray[np.float32]) -> float:
        return float((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]))

    return side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0


def test_shapes_and_mirror_partners() -> None:
    assert TOPOLOGY.layout_468.shape == (MESH_POINTS, 3)
    mirror = TOPOLOGY.mirror_468
    assert np.array_equal(mirror[mirror], np.arange(MESH_POINTS))
    assert mirror[33] == 263 and mirror[61] == 291  # eye corners, mouth corners
    midline = np.flatnonzero(mirror == np.arange(MESH_POINTS))
    assert {1, 4, 10, 13, 14, 152}.issubset(set(midline.tolist()))
    flipped = TOPOLOGY.layout_468[mirror] * np.array([-1.0, 1.0, 1.0], dtype=np.float32)
    np.testing.assert_allclose(flipped, TOPOLOGY.layout_468, atol=1e-4)  # the layout is symmetric


def test_every_triangle_has_positive_area_on_the_frontal_layout() -> None:
    layout = TOPOLOGY.layout_468
    assert (signed_areas(layout, TOPOLOGY.face_triangles) > 0).all()
    assert (signed_areas(layout, TOPOLOGY.mouth_triangles) > 0).all()
    assert (triangle_normals(layout, TOPOLOGY.face_triangles)[:, 2] > 0).all()  # all face the viewer


def test_triangles_cover_the_face_outline_exactly() -> None:
    xy = TOPOLOGY.layout_468[:, :2]
    oval = polygon_area(xy[list(FACE_OVAL)])
    eyes = polygon_area(xy[list(RIGHT_EYELIDS)]) + polygon_area(xy[list(LEFT_EYELIDS)])
    face = float(signed_areas(xy, TOPOLOGY.face_triangles).sum()) / 2
    mouth = float(signed_areas(xy, TOPOLOGY.mouth_triangles).sum()) / 2
    assert abs(face + mouth + eyes - oval) < 1e-3 * oval
    centres = xy[TOPOLOGY.face_triangles].mean(axis=1)
    outline = xy[list(FACE_OVAL)].astype(np.float32)
    assert all(cv2.pointPolygonTest(outline, (float(x), float(y)), False) > 0 for x, y in centres)


def test_no_face_triangle_crosses_the_inner_lips() -> None:
    xy = TOPOLOGY.layout_468[:, :2]
    lips = list(LIPS_INNER)
    segments = [(lips[i], lips[(i + 1) % len(lips)]) for i in range(len(lips))]
    for triangle in TOPOLOGY.face_triangles:
        edges = [(triangle[0], triangle[1]), (triangle[1], triangle[2]), (triangle[2], triangle[0])]
        for a, b in edges:
            assert not any(crosses(xy[a], xy[b], xy[c], xy[d]) for c, d in segments)
    # Everything inside the inner lips is the mouth opening (a few points of the mesh's second inner-lip
    # row lie just inside it on the layout; their triangles are the opening's corners), nothing else is.
    polygon = xy[lips].astype(np.float32)

    def inside(triangles: np.ndarray) -> list[bool]:
        centres = xy[triangles].mean(axis=1)
        return [cv2.pointPolygonTest(polygon, (float(x), float(y)), False) > 0 for x, y in centres]

    assert all(inside(TOPOLOGY.mouth_triangles))
    assert not any(inside(TOPOLOGY.face_triangles))
    assert {78, 308, 191, 415, 95, 324} <= set(TOPOLOGY.mouth_triangles.ravel().tolist())


def test_eye_openings_are_fans_from_the_iris_centres() -> None:
    centres = set(TOPOLOGY.eye_triangles[:, 0].tolist())
    assert centres == {468, 473}
    assert len(TOPOLOGY.eye_triangles) == len(RIGHT_EYELIDS) + len(LEFT_EYELIDS)


def test_json_round_trip() -> None:
    again = topology_from_json(topology_to_json(TOPOLOGY, "test"))
    assert isinstance(again, MeshTopology)
    np.testing.assert_allclose(again.layout_468, TOPOLOGY.layout_468, atol=1e-5)
    for name in ("mirror_468", "face_triangles", "mouth_triangles", "eye_triangles"):
        assert np.array_equal(getattr(again, name), getattr(TOPOLOGY, name))
