"""The frame's own mouth opening, found in its pixels beyond the mesh's inner lip contour."""

import dataclasses

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.blend import masks
from facecraft.blend.compositor import CompositeSettings, Compositor
from facecraft.blend.mouth_opening import frame_mouth_opening
from facecraft.swap.base import SwapResult
from facecraft.types import FloatArray, Frame
from unit.blend.test_blend_fakes import face_from_landmarks, schematic_landmarks

SIZE_HW = (300, 320)
CENTER = (160.0, 130.0)
FACE = 200.0
SKIN, LIPS, CAVITY, TEETH = (150, 170, 215), (70, 70, 190), (40, 35, 70), (215, 230, 235)
WIDE = 0.14
"""The schematic mouth's opening for a wide-open mouth (the mesh's mouth aspect 0.5)."""
Bool = npt.NDArray[np.bool_]


def _polygon(landmarks: FloatArray, indices: tuple[int, ...]) -> Bool:
    canvas = np.zeros(SIZE_HW, dtype=np.uint8)
    cv2.fillPoly(canvas, [np.round(landmarks[list(indices), :2]).astype(np.int32)], 1)
    return canvas > 0


def _mouth_frame(landmarks: FloatArray, teeth: bool = True, lower_drop: int = 8) -> tuple[Frame, Bool]:
    """Skin with red lips on the mesh's lip contours, and a real opening larger than the mesh's: the
    cavity reaches ``lower_drop`` px below its inner contour and teeth show above it (as on d18.mp4's
    wide-open mouths). Returns the frame and where it shows mouth interior beyond the inner contour."""
    frame = np.zeros((*SIZE_HW, 3), dtype=np.uint8)
    frame[:] = SKIN
    outer = _polygon(landmarks, masks.LIPS_OUTER)
    inner = _polygon(landmarks, masks.LIPS_INNER)
    frame[outer] = LIPS
    rows, cols = np.nonzero(inner)
    centre = (round(float(cols.mean())), round(float(rows.mean())) + lower_drop // 2)
    axes = (round(0.5 * float(np.ptp(cols))) - 4, round(0.5 * float(np.ptp(rows))) + lower_drop // 2)
    cavity = np.zeros(SIZE_HW, dtype=np.uint8)
    cv2.ellipse(cavity, centre, axes, 0.0, 0.0, 360.0, 1, -1)
    interior = (cavity > 0) & outer
    if teeth:
        top = int(rows.min())
        band = np.zeros(SIZE_HW, dtype=bool)
        band[top - 6 : top + 1, centre[0] - 18 : centre[0] + 19] = True
        frame[band & outer] = TEETH
        interior |= band & outer
    frame[(cavity > 0) & outer] = CAVITY
    return frame, interior & ~inner


def test_the_cavity_below_and_the_teeth_above_the_mesh_opening_are_found() -> None:
    landmarks = schematic_landmarks(CENTER, FACE, mouth_open=WIDE)
    frame, truth = _mouth_frame(landmarks)
    found = frame_mouth_opening(frame, landmarks, masks.face_size_px(landmarks)) > 0.5
    assert truth.sum() > 300
    assert (found & truth).sum() >= 0.9 * truth.sum(), "the real opening beyond the contour is found"
    lips = _polygon(landmarks, masks.LIPS_OUTER) & ~_polygon(landmarks, masks.LIPS_INNER) & ~truth
    bridged = 0.08 * lips.sum()  # the closing bridges a few gaps (the teeth band's ends)
    assert (found & lips).sum() <= bridged, "the lips themselves stay the swap's"
    assert not (found & ~_polygon(landmarks, masks.LIPS_OUTER)).any(), "nothing outside the lips"
    assert not (found & _polygon(landmarks, masks.LIPS_INNER)).any(), "the mesh's opening is kept anyway"


def test_a_half_open_mouth_gives_its_teeth_but_not_its_darkness() -> None:
    """On a half-open mouth the mesh's lips are about right, and a shaded lip is as dark as a cavity."""
    landmarks = schematic_landmarks(CENTER, FACE, mouth_open=0.07)
    frame, truth = _mouth_frame(landmarks)
    _, without_teeth = _mouth_frame(landmarks, teeth=False)
    found = frame_mouth_opening(frame, landmarks, masks.face_size_px(landmarks)) > 0.5
    teeth = truth & ~without_teeth
    assert (found & teeth).sum() >= 0.8 * teeth.sum()
    assert (found & without_teeth).sum() <= 0.1 * without_teeth.sum()


def test_pale_lips_give_no_teeth_but_the_cavity_still_counts() -> None:
    """Lips hardly redder than neutral cannot be told from teeth by redness: only the cavity is taken."""
    landmarks = schematic_landmarks(CENTER, FACE, mouth_open=WIDE)
    frame, truth = _mouth_frame(landmarks)
    lab = cv2.cvtColor(frame, cv2.COLOR_BGR2LAB)
    lab[..., 1] = 128
    grey = np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2BGR), dtype=np.uint8)
    found = frame_mouth_opening(grey, landmarks, masks.face_size_px(landmarks)) > 0.5
    _, without_teeth = _mouth_frame(landmarks, teeth=False)
    assert (found & without_teeth).sum() >= 0.9 * without_teeth.sum()
    assert (found & truth & ~without_teeth).sum() <= 0.2 * (truth & ~without_teeth).sum()


def test_a_closed_mouth_and_dark_spots_apart_from_the_opening_add_nothing() -> None:
    closed = schematic_landmarks(CENTER, FACE, mouth_open=0.0)
    frame, _ = _mouth_frame(closed, teeth=False, lower_drop=0)
    assert frame_mouth_opening(frame, closed, masks.face_size_px(closed)).max() == 0.0
    landmarks = schematic_landmarks(CENTER, FACE, mouth_open=WIDE)
    frame = np.zeros((*SIZE_HW, 3), dtype=np.uint8)
    frame[:] = SKIN
    frame[_polygon(landmarks, masks.LIPS_OUTER)] = LIPS
    frame[_polygon(landmarks, masks.LIPS_INNER)] = CAVITY  # the real opening is the mesh's
    mole = np.round(landmarks[17, :2]).astype(int) - (0, 4)  # a dark mole low on the lower lip
    cv2.circle(frame, (int(mole[0]), int(mole[1])), 2, CAVITY, -1)
    assert frame_mouth_opening(frame, landmarks, masks.face_size_px(landmarks)).max() == 0.0


def test_the_compositor_shows_the_frame_where_its_mouth_is_open() -> None:
    landmarks = schematic_landmarks(CENTER, FACE, mouth_open=WIDE)
    frame, truth = _mouth_frame(landmarks)
    face = face_from_landmarks(landmarks)
    x0, y0 = (int(v) - 20 for v in face.bbox_xyxy[:2])
    x1, y1 = (int(v) + 20 for v in face.bbox_xyxy[2:])
    render = np.full((y1 - y0, x1 - x0, 3), (90, 140, 200), dtype=np.uint8)
    matrix = np.array([[1.0, 0.0, x0], [0.0, 1.0, y0]], dtype=np.float32)
    in_crop = (landmarks - np.array([x0, y0, 0.0], dtype=np.float32)).astype(np.float32)
    result = SwapResult(render, np.ones(render.shape[:2], dtype=np.float32), matrix, in_crop)
    core = cv2.erode(truth.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    settings = CompositeSettings(blend="feather", color="none", detail_weight=0.0)
    shown = Compositor(settings).composite(frame, face, result)
    hidden = Compositor(dataclasses.replace(settings, mouth_from_pixels=False)).composite(frame, face, result)
    error_shown = np.abs(shown.astype(int) - frame.astype(int))[core].mean()
    error_hidden = np.abs(hidden.astype(int) - frame.astype(int))[core].mean()
    assert error_shown < 10.0 < error_hidden, "the teeth and the cavity's bottom are the frame's own"


def _from_lab(l_star: int, a_star: int, b_star: int) -> tuple[int, int, int]:
    lab = np.array([[[l_star, 128 + a_star, 128 + b_star]]], dtype=np.uint8)
    b, g, r = (int(v) for v in cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)[0, 0])
    return b, g, r


def test_white_teeth_in_a_pink_light_are_found_and_skin_in_the_lip_corner_is_not() -> None:
    """d10.mp4's teeth are pink in her light (a* about half her lipstick's) but far less yellow; the skin
    the mesh's outer lip contour takes in at a corner is as red as they are and yellower."""
    landmarks = schematic_landmarks(CENTER, FACE, mouth_open=WIDE)
    frame, truth = _mouth_frame(landmarks)
    lipstick, teeth_pink, skin = _from_lab(150, 36, 20), _from_lab(205, 19, 8), _from_lab(195, 19, 24)
    recoloured = frame.copy()
    recoloured[np.all(frame == LIPS, axis=2)] = lipstick
    recoloured[np.all(frame == TEETH, axis=2)] = teeth_pink
    recoloured[np.all(frame == SKIN, axis=2)] = skin
    outer = _polygon(landmarks, masks.LIPS_OUTER)
    lips = outer & ~_polygon(landmarks, masks.LIPS_INNER) & ~truth
    columns = np.nonzero(lips)[1]
    corner = lips & (np.arange(SIZE_HW[1])[np.newaxis, :] < columns.min() + 8)  # skin in the left corner
    recoloured[corner] = skin
    _, without_teeth = _mouth_frame(landmarks, teeth=False)
    teeth = truth & ~without_teeth
    found = frame_mouth_opening(recoloured, landmarks, masks.face_size_px(landmarks)) > 0.5
    assert (found & teeth).sum() >= 0.8 * teeth.sum(), "the pink teeth are teeth"
    assert not (found & corner).any(), "the skin in the corner is not"
