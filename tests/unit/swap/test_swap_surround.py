"""The frame around a reshaped face: the band around a moved outline, the coarse mesh, the moved crop."""

import cv2
import numpy as np
import pytest

from facecraft.swap.surround import (
    SURROUND_BAND,
    move_image,
    move_map,
    sparse_triangles,
    surround_band,
)
from facecraft.swap.triangles import FACE_OVAL, load_topology
from facecraft.swap.warp import PiecewiseAffineWarper

TOPOLOGY = load_topology()


def _circle(radius: float, centre: tuple[float, float] = (100.0, 100.0), count: int = 36) -> np.ndarray:
    angles = np.linspace(0.0, 2.0 * np.pi, count, endpoint=False)
    return np.stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)], axis=1)


def _area(triangles: np.ndarray) -> float:
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    return float(np.abs(cross).sum() / 2.0)


def test_the_coarse_mesh_covers_the_face_inside_its_outline_with_every_outline_point() -> None:
    layout = TOPOLOGY.layout_468[:, :2].astype(np.float64)
    triangles = sparse_triangles(layout, FACE_OVAL)
    assert set(FACE_OVAL) <= set(triangles.ravel().tolist())
    assert 100 < len(triangles) < len(TOPOLOGY.face_triangles) / 2, "coarse, yet more than the outline"
    outline_area = cv2.contourArea(layout[list(FACE_OVAL)].astype(np.float32))
    assert _area(layout[triangles]) == pytest.approx(outline_area, rel=0.02)


def test_an_outline_that_did_not_move_gives_no_band() -> None:
    outline = _circle(50.0)
    assert surround_band(outline, outline + 0.01, 120.0, (200, 200)) is None


def test_the_band_carries_the_outline_and_tapers_to_no_move() -> None:
    start = _circle(50.0)
    end = _circle(45.0)  # a narrower face
    band = surround_band(start, end, 100.0, (400, 400))
    assert band is not None
    source, destination = band
    assert source.shape == destination.shape == (4 * len(start), 3, 2)
    # the outline's own corners go from the target's place to the rendered one
    inner = np.unique(np.round(source[: len(start), :2].reshape(-1, 2), 3), axis=0)
    np.testing.assert_allclose(np.sort(np.linalg.norm(inner - 100.0, axis=1)), 50.0, atol=1e-3)
    moved_to = np.linalg.norm(destination[: len(start), 0] - 100.0, axis=1)
    np.testing.assert_allclose(moved_to, 45.0, atol=1e-3)
    # the outer edge lies SURROUND_BAND of the face beyond the outline and does not move
    radii = np.linalg.norm(source.reshape(-1, 2) - 100.0, axis=1)
    assert radii.max() == pytest.approx(50.0 + SURROUND_BAND * 100.0, abs=1e-3)
    outer = np.isclose(radii, radii.max(), atol=1e-3)
    np.testing.assert_allclose(destination.reshape(-1, 2)[outer], source.reshape(-1, 2)[outer], atol=1e-4)


def test_the_band_reaches_no_further_than_the_frame() -> None:
    """A face cut by the frame's edge: the outline may lie outside, the band's rings do not."""
    start, end = _circle(50.0, (20.0, 100.0)), _circle(46.0, (20.0, 100.0))
    band = surround_band(start, end, 100.0, (200, 200))
    assert band is not None
    for corners, outline in zip(band, (start, end), strict=True):
        points = corners.reshape(-1, 2).astype(np.float64)
        on_outline = np.min(np.linalg.norm(points[:, None] - outline[None], axis=2), axis=1) < 1e-3
        rings = points[~on_outline]
        assert rings.min() >= 0.0 and rings.max() <= 199.0


def test_the_moved_crop_carries_what_the_triangles_hold_and_leaves_the_rest() -> None:
    height, width = 120, 160
    xx = np.tile(np.arange(width, dtype=np.float64), (height, 1))
    crop = np.dstack([xx, xx, xx]).astype(np.uint8)
    square = np.array([[40.0, 30.0], [110.0, 30.0], [110.0, 90.0], [40.0, 90.0]])
    source = np.stack([square[[0, 1, 2]], square[[0, 2, 3]]])
    shifted = move_map(crop.shape[:2], source, source + np.array([3.0, 0.0]), PiecewiseAffineWarper())
    out = move_image(crop, shifted)
    # inside the moved square each pixel shows what lay 3 px to its left
    np.testing.assert_allclose(out[45:75, 60:100, 0].astype(float), xx[45:75, 60:100] - 3.0, atol=1.01)
    # far from it the crop is as it was
    np.testing.assert_array_equal(out[:, :25], crop[:, :25])
    np.testing.assert_array_equal(out[105:], crop[105:])
    unmoved = move_image(crop, move_map(crop.shape[:2], source, source, PiecewiseAffineWarper()))
    assert int(np.abs(unmoved.astype(int) - crop.astype(int)).max()) <= 1
