"""Open mouths re-fitted: the tracked mesh underestimates a wide-open mouth.

Re-fitted in a crop made from the previous frame's landmarks (the tracking convention), the face mesh
draws a wide-open mouth much less open than it is: on d18.mp4 at 2.5 s (an "O") the mouth's aspect is
0.41 tracked against 0.61 fitted in the detector's crop, which is larger and lower. The swap then draws the
source's lower lip over the top of the target's open mouth. So while the tracked mouth is open, the mesh
is fitted a second time in a larger, lower crop (the detector's, on d18's "O"), and when that fit sees the
mouth more open, its mouth (the lips and the skin right around them, fading out with the distance from the
mouth) replaces the tracked one, more of it the wider the mouth is open. Where the tracked mouths were
right (d20.mp4: 0.32 tracked, 0.32 from the detector's crop), the larger crop draws them less open (0.20)
and is not taken. The tracker's own state keeps the tracked fit, so the second crop never feeds back.
"""

import math

import numpy as np

from facecraft.faces.analyzer import LandmarkFitter
from facecraft.faces.face import MESH_POINTS, MOUTH_CORNERS, mouth_aspect
from facecraft.faces.roi import FaceRoi, roi_from_landmarks
from facecraft.types import FloatArray, Frame

OPEN_RAMP = (0.2, 0.35)
"""The re-fit's mouth is blended in from none to all as the tracked mouth's aspect (gap over width)
goes from the first value to the second; below the first no second fit runs."""
CROP_SCALE = 1.22
CROP_DOWN = 0.03
"""The second crop: this many times the tracking crop's side, moved down by this fraction of it (the
detector's crop for d18.mp4's open mouths, measured against the tracking crop)."""
WIDER_BY = 0.05
"""The second fit's mouth is taken in full when its aspect is this much larger than the tracked one's,
not at all when it is no larger."""
REACH = 0.9
FADE = 0.25
"""The re-fit's points are taken fully within REACH mouth widths of the mouth's centre, fading out beyond
(Gaussian, FADE mouth widths; nothing past two of them), so the jaw, cheeks and eyes stay the tracked
fit's."""


def refit_crop(landmarks_478: FloatArray) -> FaceRoi:
    """The second, larger and lower crop, from the tracked landmarks."""
    roi = roi_from_landmarks(landmarks_478)
    down = CROP_DOWN * roi.size_px
    cx, cy = roi.center_xy
    # "down" along the crop's own axes (it is turned with the eyes)
    centre = (cx - math.sin(roi.angle_rad) * down, cy + math.cos(roi.angle_rad) * down)
    return FaceRoi(centre, roi.size_px * CROP_SCALE, roi.angle_rad)


def refine_open_mouth(fitter: LandmarkFitter, frame_bgr: Frame, landmarks_478: FloatArray) -> FloatArray:
    """``landmarks_478`` with the mouth re-fitted when it is open (see the module docstring); the same
    array when it is not, or when the second fit finds no face."""
    weight = min((mouth_aspect(landmarks_478) - OPEN_RAMP[0]) / (OPEN_RAMP[1] - OPEN_RAMP[0]), 1.0)
    if weight <= 0.0:
        return landmarks_478
    refit = fitter.fit(frame_bgr, refit_crop(landmarks_478), with_irises=False)  # only its mouth is used
    if refit is None:
        return landmarks_478
    # The failure is a mouth drawn less open than it is; a second fit that sees it no more open is no help
    # (on footage whose tracked mouths were right, d20.mp4, the larger crop drew them less open).
    weight *= min((mouth_aspect(refit.landmarks_478) - mouth_aspect(landmarks_478)) / WIDER_BY, 1.0)
    if weight <= 0.0:
        return landmarks_478
    xy = np.asarray(landmarks_478, dtype=np.float64)[:MESH_POINTS, :2]
    centre = 0.5 * (xy[MOUTH_CORNERS[0]] + xy[MOUTH_CORNERS[1]])
    width = max(float(np.linalg.norm(xy[MOUTH_CORNERS[0]] - xy[MOUTH_CORNERS[1]])), 1.0)
    beyond = np.maximum(np.linalg.norm(xy - centre, axis=1) / width - REACH, 0.0) / FADE
    near = np.where(beyond < 2.0, np.exp(-0.5 * beyond**2), 0.0)  # eyes, brows and irises: none of it
    blend = np.zeros((len(landmarks_478), 1), dtype=np.float32)
    blend[:MESH_POINTS, 0] = weight * near
    out: FloatArray = (landmarks_478 * (1.0 - blend) + refit.landmarks_478 * blend).astype(np.float32)
    return out
