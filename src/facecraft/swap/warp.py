"""A vectorised piecewise-affine warp: a texture carried over a triangle mesh onto another.

Per call the destination triangles are rasterised once into an id image (``cv2.fillConvexPoly`` with the
triangle's number as its colour, in the order given, so later triangles cover earlier ones: pass them far
to near), every pixel's source position comes from its triangle's affine (one gather per coefficient),
and one ``cv2.remap`` samples the texture. A 4-channel texture carries its alpha along for free.

Pixel convention: OpenCV's, pixel centres at integer coordinates, in both the texture and the output.
The warper keeps its buffers between calls (not thread-safe: one per thread).
"""

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.types import FloatArray

_SUBPIXEL_BITS = 4
"""Triangle corners are rasterised in 1/16 pixel steps."""
MIN_AREA_PX2 = 1e-3
"""Destination triangles with less area (square pixels) are not drawn: their affine is undefined."""
_OUTSIDE = -1e4
"""Source coordinate given to pixels no triangle covers (sampled as the border: transparent black)."""

IdImage = npt.NDArray[np.int32]
Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class WarpResult:
    """image: H x W x C uint8 (0 where nothing was drawn); triangle_ids: H x W int32, the drawn triangle's
    index into the triangles given, -1 where none. Both are views of the warper's buffers, valid until
    its next call: copy what you keep."""

    image: Image
    triangle_ids: IdImage


def triangle_affines(
    dst_tri: npt.ArrayLike, src_tri: npt.ArrayLike
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Per triangle, the affine from destination to source pixels, and whether it is defined.

    dst_tri, src_tri: (K, 3, 2) corner positions. Returns (K, 6) float32 rows ``a, b, c, d, e, f`` with
    ``src_x = a x + b y + c`` and ``src_y = d x + e y + f``, and a (K,) mask of triangles with area.
    """
    dst = np.asarray(dst_tri, dtype=np.float64)
    src = np.asarray(src_tri, dtype=np.float64)
    d1, d2 = dst[:, 1] - dst[:, 0], dst[:, 2] - dst[:, 0]
    s1, s2 = src[:, 1] - src[:, 0], src[:, 2] - src[:, 0]
    det = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    valid = np.abs(det) > 2.0 * MIN_AREA_PX2
    inv_det = np.where(valid, 1.0 / np.where(valid, det, 1.0), 0.0)
    # Inverse of the destination edge matrix [d1 d2] (columns), times the source edge matrix [s1 s2].
    inv = (
        np.stack([np.stack([d2[:, 1], -d2[:, 0]], axis=1), np.stack([-d1[:, 1], d1[:, 0]], axis=1)], axis=1)
        * inv_det[:, np.newaxis, np.newaxis]
    )
    edges = np.stack([s1, s2], axis=2)  # (K, 2, 2): columns s1, s2
    linear = edges @ inv  # (K, 2, 2)
    shift = src[:, 0] - np.einsum("kij,kj->ki", linear, dst[:, 0])
    rows = np.concatenate([linear[:, 0], shift[:, :1], linear[:, 1], shift[:, 1:]], axis=1)
    return rows.astype(np.float32), valid


class PiecewiseAffineWarper:
    """Warps textures over triangle meshes, reusing its buffers between calls."""

    def __init__(self) -> None:
        self._capacity = 0
        self._ids = np.empty(0, dtype=np.int32)
        self._index = np.empty(0, dtype=np.intp)
        self._coefficients = np.empty((6, 0), dtype=np.float32)
        self._scratch = np.empty(0, dtype=np.float32)

    def _buffers(self, pixels: int) -> None:
        if pixels > self._capacity:
            self._capacity = int(pixels * 1.25)
            self._ids = np.empty(self._capacity, dtype=np.int32)
            self._index = np.empty(self._capacity, dtype=np.intp)
            self._coefficients = np.empty((6, self._capacity), dtype=np.float32)
            self._scratch = np.empty(self._capacity, dtype=np.float32)

    def rasterize(self, dst_tri: npt.ArrayLike, order: npt.ArrayLike, size_wh: tuple[int, int]) -> IdImage:
        """Triangle ids (index into ``dst_tri``, -1 for none), drawing the triangles in ``order``.

        The image is a view of this warper's buffer, valid until its next call.
        """
        width, height = int(size_wh[0]), int(size_wh[1])
        self._buffers(width * height)
        ids = self._ids[: width * height].reshape(height, width)
        ids.fill(-1)
        corners = np.round(np.asarray(dst_tri, dtype=np.float64) * (1 << _SUBPIXEL_BITS)).astype(np.int32)
        for k in np.asarray(order, dtype=np.int64).tolist():
            cv2.fillConvexPoly(ids, corners[k], k, cv2.LINE_8, _SUBPIXEL_BITS)
        return ids

    def source_maps(self, ids: IdImage, affines: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per-pixel source x and y (float32 maps for ``cv2.remap``) from triangle ids and affines."""
        height, width = ids.shape
        pixels = width * height
        self._buffers(pixels)
        table = np.empty((6, affines.shape[0] + 1), dtype=np.float32)
        table[:, :-1] = affines.T
        table[:, -1] = (0.0, 0.0, _OUTSIDE, 0.0, 0.0, _OUTSIDE)  # id -1 reads the last column
        index = self._index[:pixels]
        np.copyto(index, ids.reshape(-1), casting="unsafe")
        coefficients = self._coefficients[:, :pixels]
        for row in range(6):
            np.take(table[row], index, out=coefficients[row])
        xs = np.arange(width, dtype=np.float32)[np.newaxis, :]
        ys = np.arange(height, dtype=np.float32)[:, np.newaxis]
        a, b, c, d, e, f = (coefficients[row].reshape(height, width) for row in range(6))
        scratch = self._scratch[:pixels].reshape(height, width)
        map_x = np.multiply(a, xs)
        map_x += c
        np.multiply(b, ys, out=scratch)
        map_x += scratch
        map_y = np.multiply(d, xs)
        map_y += f
        np.multiply(e, ys, out=scratch)
        map_y += scratch
        return map_x, map_y

    def warp(
        self,
        texture: Image,
        src_tri: npt.ArrayLike,
        dst_tri: npt.ArrayLike,
        order: npt.ArrayLike | None,
        size_wh: tuple[int, int],
    ) -> WarpResult:
        """The texture carried from its triangles ``src_tri`` onto ``dst_tri`` in a ``size_wh`` image.

        order: which triangles to draw, first to last (later ones cover earlier ones); None draws all in
        the order given. Triangles without area in the destination are skipped.
        """
        affines, valid = triangle_affines(dst_tri, src_tri)
        chosen = np.arange(len(valid)) if order is None else np.asarray(order, dtype=np.int64)
        chosen = chosen[valid[chosen]]
        ids = self.rasterize(dst_tri, chosen, size_wh)
        map_x, map_y = self.source_maps(ids, affines)
        image = cv2.remap(
            texture, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        return WarpResult(np.asarray(image, dtype=np.uint8), ids)
