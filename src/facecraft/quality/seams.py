"""Seams: gradient energy in a thin band along the face hull, where a swap's blend boundary lies.

In a ``SEAM_PATCH_PX`` patch around the target face, the band is the outline of the convex hull of the
target's mesh drawn ``SEAM_BAND_FRACTION`` of the face size wide (half inside, half outside). Energy is the
mean squared Sobel gradient of the grey image over the band. ``seam_ratio`` is the output's total energy
over the target's at the same places: 1.0 adds no edge; a visible seam (a step in colour or brightness
along the boundary) raises it; a blend that smooths the boundary more than the footage lowers it.

Known limit: a blend mask that ends inside the hull (one that stops at the brows, say) has that part of
its boundary outside the band. Finding the boundary from the output-target difference was tried and
rejected: the difference is small near a good feathered edge, so its outline wanders across the
source's own features (brows, nose) and measures them instead of seams. Passing the compositor's mask to
the recorder would give the exact boundary.
"""

import cv2
import numpy as np

from facecraft.quality.patches import BoolArray, PatchBox, face_hull
from facecraft.types import FloatArray, Frame

SEAM_PATCH_PX = 160
SEAM_MARGIN = 1.3
SEAM_BAND_FRACTION = 0.05
"""Width of the band as a fraction of the face size (about 6 patch pixels)."""


def band_width_px(box: PatchBox) -> int:
    return max(1, round(box.size / SEAM_MARGIN * SEAM_BAND_FRACTION))


def boundary_band(landmarks_478: FloatArray, box: PatchBox) -> BoolArray:
    """True on the band along the face's convex hull, in the patch."""
    band = np.zeros((box.size, box.size), dtype=np.uint8)
    cv2.polylines(band, [face_hull(landmarks_478, box)], isClosed=True, color=1, thickness=band_width_px(box))
    return band.astype(bool)


def gradient_energy(patch_bgr: Frame, band: BoolArray) -> float:
    """Mean squared gradient magnitude (Sobel, grey 0-255) over the band; 0 for an empty band."""
    if not band.any():
        return 0.0
    grey = cv2.cvtColor(patch_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    energy = gx * gx + gy * gy
    return float(energy[band].mean())
