"""The frame around a reshaped face: when the shape transfer moves the face's outline to the source's, the
frame's own pixels there (the jaw line, the cheeks' edge, hair, ears, background) move with it, so the new
outline is the face's edge in the picture and no second jaw line shows beside it.

The move is piecewise affine: inside the outline, the mesh's triangles carry the frame from the target's
landmarks to the rendered ones; outside it, a band of triangles out to ``SURROUND_BAND`` of the face size
tapers the move to nothing. The map is computed on a coarse grid (it is smooth) and applied to the crop in
one ``cv2.remap``.
"""

import itertools
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.swap.warp import PiecewiseAffineWarper, triangle_affines
from facecraft.types import FloatArray, Frame

IndexArray = npt.NDArray[np.int64]

SURROUND_BAND = 0.16
"""The frame moves with the outline out to this far beyond it (fraction of the face size)."""
SURROUND_MIDDLE_MOVE = 0.4
"""Halfway out the band, the frame moves this much of the outline's move (an eased taper)."""
MIN_MOVE_PX = 0.05
"""An outline moved less than this (pixels, at every point) leaves the frame as it is."""
GRID_PX = 4
"""The map is computed every this many pixels and interpolated between."""
SPARSE_SPACING = 0.13
"""Inside the face, the frame moves with a coarse mesh: points about this far apart (layout units, the outer
eye corners 1 apart)."""


def sparse_triangles(
    layout_xy: npt.ArrayLike, outline: Sequence[int], spacing: float = SPARSE_SPACING
) -> IndexArray:
    """A coarse triangulation (K x 3 mesh point indices) of the face inside ``outline``: every outline point,
    then mesh points at least ``spacing`` (layout units) from every point taken, Delaunay-triangulated.
    The frame's move inside the face is smooth, so a few hundred triangles carry it as well as the full
    mesh, at a fraction of the drawing cost."""
    xy = np.asarray(layout_xy, dtype=np.float64)[:, :2]
    chosen = list(outline)
    for index in range(len(xy)):
        if index in chosen:
            continue
        if float(np.min(np.linalg.norm(xy[chosen] - xy[index], axis=1))) >= spacing:
            chosen.append(index)
    low = xy.min(axis=0) - 1.0
    high = xy.max(axis=0) + 1.0
    subdivision = cv2.Subdiv2D(
        (float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1]))
    )
    for index in chosen:
        subdivision.insert((float(xy[index, 0]), float(xy[index, 1])))
    lookup = {(round(float(xy[i, 0]), 5), round(float(xy[i, 1]), 5)): i for i in chosen}
    polygon = xy[list(outline)].astype(np.float32)
    triangles = []
    for corners in np.asarray(subdivision.getTriangleList()).reshape(-1, 3, 2):
        keys = [(round(float(x), 5), round(float(y), 5)) for x, y in corners]
        if not all(key in lookup for key in keys):
            continue  # a corner of the bounding triangle
        centre = corners.mean(axis=0)
        if cv2.pointPolygonTest(polygon, (float(centre[0]), float(centre[1])), False) < 0:
            continue
        triangles.append([lookup[key] for key in keys])
    return np.asarray(triangles, dtype=np.int64).reshape(-1, 3)


def surround_band(
    start: npt.ArrayLike, end: npt.ArrayLike, face_px: float, size_wh: tuple[int, int]
) -> tuple[FloatArray, FloatArray] | None:
    """Triangles (source corners, destination corners; K x 3 x 2 frame pixels) of the band around an
    outline moved from ``start`` to ``end`` (closed polygons, N x 2, in order), or None when it barely
    moved. The band's outer edge lies SURROUND_BAND * face_px beyond ``start``, away from its centre,
    inside the frame."""
    begin = np.asarray(start, dtype=np.float64)
    moved = np.asarray(end, dtype=np.float64) - begin
    if begin.ndim != 2 or begin.shape[1] != 2 or moved.shape != begin.shape or len(begin) < 3:
        raise ValueError(f"start and end must be the same N x 2 outline, got {begin.shape} and {moved.shape}")
    if float(np.abs(moved).max()) < MIN_MOVE_PX:
        return None
    outward = begin - begin.mean(axis=0)
    outward /= np.maximum(np.linalg.norm(outward, axis=1, keepdims=True), 1e-9)
    reach = SURROUND_BAND * face_px
    limit = np.array([size_wh[0] - 1, size_wh[1] - 1], dtype=np.float64)
    middle = np.clip(begin + outward * (0.5 * reach), 0.0, limit)
    outer = np.clip(begin + outward * reach, 0.0, limit)
    source = _band_triangles((begin, middle, outer))
    destination = _band_triangles((begin + moved, middle + SURROUND_MIDDLE_MOVE * moved, outer))
    return source, destination


def _band_triangles(rings: tuple[npt.NDArray[np.float64], ...]) -> FloatArray:
    """Two triangles per step between each ring and the next (closed rings of equal length)."""
    following = np.roll(np.arange(len(rings[0])), -1)
    corners = []
    for inner, outer in itertools.pairwise(rings):
        corners.append(np.stack([inner, inner[following], outer], axis=1))
        corners.append(np.stack([inner[following], outer[following], outer], axis=1))
    return np.concatenate(corners).astype(np.float32)


def move_map(
    size_hw: tuple[int, int], src_tri: npt.ArrayLike, dst_tri: npt.ArrayLike, warper: PiecewiseAffineWarper
) -> FloatArray:
    """H x W x 2 float32: for each crop pixel, where in the crop its content comes from, so that what lies
    in each triangle ``src_tri`` is carried to ``dst_tri`` (crop pixels); outside them, the pixel itself.
    For ``cv2.remap`` (``move_image``)."""
    height, width = size_hw
    grid = (-(-width // GRID_PX), -(-height // GRID_PX))
    centre = np.float32((GRID_PX - 1) / 2.0)  # grid cell (i, j) is centred on pixel GRID_PX * (i, j) + centre
    dst_grid = (np.asarray(dst_tri, dtype=np.float32) - centre) / np.float32(GRID_PX)
    affines, valid = triangle_affines(dst_grid, src_tri)
    ids = warper.rasterize(dst_grid, np.flatnonzero(valid), grid)
    outside = ids < 0
    map_x, map_y = warper.source_maps(ids, affines)
    still_x, still_y = np.meshgrid(
        np.arange(grid[0], dtype=np.float32) * GRID_PX + centre,
        np.arange(grid[1], dtype=np.float32) * GRID_PX + centre,
    )
    # the move itself (0 outside the triangles) is what gets interpolated, so the crop's edges stay put
    move = np.dstack([map_x - still_x, map_y - still_y]).astype(np.float32)
    move[outside] = 0.0
    full = (grid[0] * GRID_PX, grid[1] * GRID_PX)  # linear resizing keeps the cells' centres in place
    spread = np.asarray(cv2.resize(move, full, interpolation=cv2.INTER_LINEAR), dtype=np.float32)
    spread = spread[:height, :width]
    spread[..., 0] += np.arange(width, dtype=np.float32)[np.newaxis, :]
    spread[..., 1] += np.arange(height, dtype=np.float32)[:, np.newaxis]
    return np.ascontiguousarray(spread)


def move_image(image: Frame, source_xy: FloatArray) -> Frame:
    """``image`` with each pixel taken from ``source_xy`` (``move_map``'s), bilinearly."""
    # one map of (x, y) pairs and no second one (OpenCV's stubs do not allow for None there)
    moved = cv2.remap(image, source_xy, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)  # type: ignore[call-overload]
    return np.asarray(moved, dtype=np.uint8)
