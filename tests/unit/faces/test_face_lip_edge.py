"""The lower inner lip of an open mouth moved down to the edge the frame shows."""

import cv2
import numpy as np
import pytest

from facecraft.faces.face import LANDMARK_POINTS, mouth_aspect
from facecraft.faces.lip_edge import LOWER_INNER, LOWER_OUTER, lower_lip_to_edge
from facecraft.types import FloatArray, Frame

CENTRE = (100.0, 100.0)
HALF_WIDTH = 40.0
LIP = (120, 130, 190)
CAVITY = (30, 25, 40)


def mouth_landmarks(lower_gap: float, upper_gap: float = 10.0, outer_drop: float = 25.0) -> FloatArray:
    """A mouth whose inner lips meet at the corners: the middle of the upper inner lip ``upper_gap`` px
    above the corners' line, the lower inner lip ``lower_gap`` px and the outer lower lip ``outer_drop`` px
    below it."""
    cx, cy = CENTRE
    points = np.zeros((LANDMARK_POINTS, 3), dtype=np.float32)
    points[:, :2] = CENTRE
    points[78, :2] = (cx - HALF_WIDTH, cy)
    points[308, :2] = (cx + HALF_WIDTH, cy)
    points[13, :2] = (cx, cy - upper_gap)
    for k, (inner, outer) in enumerate(zip(LOWER_INNER, LOWER_OUTER, strict=True)):
        x = cx - HALF_WIDTH + 2 * HALF_WIDTH * (k + 1) / (len(LOWER_INNER) + 1)
        bulge = np.sin(np.pi * (k + 1) / (len(LOWER_INNER) + 1))
        points[inner, :2] = (x, cy + lower_gap * bulge)
        points[outer, :2] = (x, cy + outer_drop * bulge)
    return points


def mouth_frame(cavity_bottom: float | None) -> Frame:
    """Lip-coloured, with the mouth's dark as an ellipse reaching ``cavity_bottom`` px below the corners."""
    frame = np.zeros((200, 200, 3), dtype=np.uint8)
    frame[:] = LIP
    if cavity_bottom is not None:
        half_height = (cavity_bottom + 10.0) / 2
        centre = (round(CENTRE[0]), round(CENTRE[1] + cavity_bottom - half_height))
        cv2.ellipse(frame, centre, (round(HALF_WIDTH), round(half_height)), 0, 0, 360, CAVITY, -1)
    return frame


def test_the_lower_lip_moves_down_to_where_the_mouths_dark_ends() -> None:
    landmarks = mouth_landmarks(lower_gap=4.0)
    refined = lower_lip_to_edge(mouth_frame(cavity_bottom=12.0), landmarks)
    assert mouth_aspect(refined) > mouth_aspect(landmarks)
    assert refined[14, 1] == pytest.approx(CENTRE[1] + 12.0, abs=1.5)
    assert refined[14, 0] == pytest.approx(landmarks[14, 0])
    corner = LOWER_INNER[0]
    assert 0.0 < refined[corner, 1] - landmarks[corner, 1] < refined[14, 1] - landmarks[14, 1]
    untouched = [i for i in range(LANDMARK_POINTS) if i not in LOWER_INNER]
    np.testing.assert_array_equal(refined[untouched], landmarks[untouched])


def test_closed_mouths_one_shade_lips_and_edges_at_the_landmark_change_nothing() -> None:
    closed = mouth_landmarks(lower_gap=0.5, upper_gap=0.5)
    assert lower_lip_to_edge(mouth_frame(cavity_bottom=12.0), closed) is closed
    open_mouth = mouth_landmarks(lower_gap=4.0)
    assert lower_lip_to_edge(mouth_frame(cavity_bottom=None), open_mouth) is open_mouth
    # the dark ends where the landmark already is: nothing to open further
    at_edge = lower_lip_to_edge(mouth_frame(cavity_bottom=4.0), open_mouth)
    assert at_edge[14, 1] == pytest.approx(open_mouth[14, 1], abs=0.8)


def test_a_mouth_at_the_frames_edge_is_read_without_error() -> None:
    landmarks = mouth_landmarks(lower_gap=4.0)
    landmarks[:, 1] += 80.0  # the outer lip below the frame
    refined = lower_lip_to_edge(mouth_frame(cavity_bottom=12.0), landmarks)
    assert refined.shape == landmarks.shape
    assert np.isfinite(refined).all()


SKIN = (150, 170, 215)
"""Lighter and less red than ``LIP`` (LAB a* 14 against 22)."""


def lip_frame(lip_bottom: float, cavity_bottom: float) -> Frame:
    """Skin, with a lip-coloured mouth reaching ``lip_bottom`` px below the corners' line and the mouth's
    dark inside it reaching ``cavity_bottom``: a wide-open "O" whose lower lip is lower than the mesh says."""
    frame = np.zeros((200, 200, 3), dtype=np.uint8)
    frame[:] = SKIN
    for bottom, colour, half_width in (
        (lip_bottom, LIP, HALF_WIDTH + 6.0),
        (cavity_bottom, CAVITY, HALF_WIDTH),
    ):
        half_height = (bottom + 16.0) / 2
        centre = (round(CENTRE[0]), round(CENTRE[1] + bottom - half_height))
        cv2.ellipse(frame, centre, (round(half_width), round(half_height)), 0, 0, 360, colour, -1)
    return frame


def test_the_outer_lower_lip_moves_down_to_where_the_lips_red_ends_then_the_inner_to_the_dark() -> None:
    landmarks = mouth_landmarks(lower_gap=4.0, outer_drop=14.0)
    refined = lower_lip_to_edge(lip_frame(lip_bottom=28.0, cavity_bottom=18.0), landmarks)
    assert refined[17, 1] == pytest.approx(CENTRE[1] + 28.0, abs=2.5), (
        "the outer lip's middle at the red's end"
    )
    assert refined[14, 1] == pytest.approx(CENTRE[1] + 18.0, abs=2.5), (
        "the inner lip's middle at the dark's end"
    )
    outer_corner = LOWER_OUTER[0]
    assert 0.0 < refined[outer_corner, 1] - landmarks[outer_corner, 1] < refined[17, 1] - landmarks[17, 1]
    moved = set(LOWER_INNER) | set(LOWER_OUTER)
    untouched = [i for i in range(LANDMARK_POINTS) if i not in moved]
    np.testing.assert_array_equal(refined[untouched], landmarks[untouched])


def test_a_lip_that_ends_at_its_landmark_keeps_its_outer_edge() -> None:
    landmarks = mouth_landmarks(lower_gap=4.0, outer_drop=25.0)
    refined = lower_lip_to_edge(lip_frame(lip_bottom=25.0, cavity_bottom=12.0), landmarks)
    np.testing.assert_allclose(refined[list(LOWER_OUTER)], landmarks[list(LOWER_OUTER)], atol=1e-4)
    assert refined[14, 1] == pytest.approx(CENTRE[1] + 12.0, abs=2.0)
