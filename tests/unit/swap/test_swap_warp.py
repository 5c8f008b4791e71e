"""The piecewise-affine warp: known affine meshes map known textures exactly; order and culling."""

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.swap.warp import PiecewiseAffineWarper, triangle_affines


def grid_mesh(
    origin: float, step: float, cells: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    """A square grid of points and its triangles (two per cell), both windings consistent."""
    ticks = origin + step * np.arange(cells + 1)
    xs, ys = np.meshgrid(ticks, ticks)
    points = np.stack([xs.ravel(), ys.ravel()], axis=1)
    triangles = []
    for row in range(cells):
        for col in range(cells):
            a = row * (cells + 1) + col
            triangles += [(a, a + 1, a + cells + 2), (a, a + cells + 2, a + cells + 1)]
    return points, np.asarray(triangles, dtype=np.int32)


def test_known_affine_mesh_maps_texture_exactly() -> None:
    rng = np.random.default_rng(1)
    texture = rng.integers(0, 256, size=(120, 140, 3), dtype=np.uint8)
    matrix = np.array([[0.8, 0.15, 6.0], [-0.1, 0.9, 9.0]])  # output pixel -> texture pixel
    dst, triangles = grid_mesh(10.0, 15.0, 4)
    src = dst @ matrix[:, :2].T + matrix[:, 2]
    result = PiecewiseAffineWarper().warp(texture, src[triangles], dst[triangles], None, (90, 90))
    expected = cv2.warpAffine(texture, matrix, (90, 90), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    drawn = result.triangle_ids >= 0
    assert drawn.sum() == 61 * 61  # the grid covers pixels 10..70 in both directions
    difference = np.abs(result.image.astype(int) - expected.astype(int))[drawn]
    assert difference.max() <= 1  # bilinear rounding only
    assert not result.image[~drawn].any()  # nothing drawn outside the mesh


def test_affines_solve_each_triangle_and_flag_degenerate_ones() -> None:
    dst = np.array([[[0, 0], [10, 0], [0, 10]], [[0, 0], [5, 5], [10, 10]]], dtype=np.float64)
    src = np.array([[[3, 4], [23, 4], [3, 14]], [[0, 0], [1, 1], [2, 2]]], dtype=np.float64)
    affines, valid = triangle_affines(dst, src)
    assert valid.tolist() == [True, False]
    np.testing.assert_allclose(affines[0], [2.0, 0.0, 3.0, 0.0, 1.0, 4.0], atol=1e-6)


def test_later_triangles_cover_earlier_ones_and_alpha_travels() -> None:
    texture = np.zeros((40, 80, 4), dtype=np.uint8)
    texture[:, :40] = (255, 0, 0, 255)  # left half blue, opaque
    texture[:, 40:] = (0, 0, 255, 128)  # right half red, half transparent
    square = np.array([[5, 5], [30, 5], [30, 30], [5, 30]], dtype=np.float64)
    triangles = np.array([[0, 1, 2], [0, 2, 3]])
    dst = np.concatenate([square[triangles], square[triangles]])  # the same square twice
    left = np.array([[2, 2], [37, 2], [37, 37], [2, 37]], dtype=np.float64)
    right = left + np.array([40.0, 0.0])
    src = np.concatenate([left[triangles], right[triangles]])
    warper = PiecewiseAffineWarper()
    red_last = warper.warp(texture, src, dst, [0, 1, 2, 3], (40, 40)).image.copy()
    blue_last = warper.warp(texture, src, dst, [2, 3, 0, 1], (40, 40)).image.copy()
    assert tuple(red_last[17, 17]) == (0, 0, 255, 128)
    assert tuple(blue_last[17, 17]) == (255, 0, 0, 255)


def test_triangles_left_out_of_the_order_are_not_drawn() -> None:
    texture = np.full((30, 30, 3), 200, dtype=np.uint8)
    dst = np.array([[[2, 2], [20, 2], [2, 20]], [[25, 25], [28, 10], [10, 28]]], dtype=np.float64)
    src = dst.copy()
    result = PiecewiseAffineWarper().warp(texture, src, dst, [1], (30, 30))
    assert set(np.unique(result.triangle_ids).tolist()) == {-1, 1}
    assert result.image[5, 5].max() == 0  # inside the culled triangle: nothing drawn


def test_buffers_are_reused_for_smaller_images() -> None:
    warper = PiecewiseAffineWarper()
    texture = np.full((20, 20, 3), 90, dtype=np.uint8)
    dst = np.array([[[0, 0], [19, 0], [0, 19]]], dtype=np.float64)
    big = warper.warp(texture, dst, dst, None, (20, 20))
    assert big.triangle_ids.shape == (20, 20)
    small = warper.warp(texture, dst / 2, dst / 2, None, (10, 10))
    assert small.triangle_ids.shape == (10, 10)
    assert small.image[2, 2].tolist() == [90, 90, 90]
