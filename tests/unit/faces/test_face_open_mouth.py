"""Open mouths re-fitted in a larger crop: only when open, only around the mouth, never fed back."""

import numpy as np
import numpy.typing as npt
import pytest

from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.face import LANDMARK_POINTS, MOUTH_CORNERS, MOUTH_GAP, Detection, mouth_aspect
from facecraft.faces.mesh import MeshFit
from facecraft.faces.open_mouth import CROP_SCALE, refine_open_mouth
from facecraft.faces.roi import FaceRoi, roi_from_landmarks
from facecraft.faces.tracker import FaceTracker, TrackerSettings, _Track
from facecraft.swap.triangles import load_topology
from facecraft.types import Frame

LAYOUT = load_topology().layout_468
FOREHEAD = 10
CHIN = 152


def face_points(opening: float) -> npt.NDArray[np.float32]:
    """478 landmarks of the frontal layout (200 px face) with the lower lip's middle ``opening`` px down."""
    points = np.zeros((LANDMARK_POINTS, 3), dtype=np.float32)
    points[:468] = LAYOUT * 200.0
    points[:468, :2] += 300.0
    points[468:] = points[[33] * 5 + [263] * 5]
    points[MOUTH_GAP[1], 1] = points[MOUTH_GAP[0], 1] + opening
    return points


class RecordingFitter:
    """Returns ``answer`` wherever it is asked, and remembers the crops."""

    def __init__(self, answer: npt.NDArray[np.float32]) -> None:
        self.answer = answer
        self.crops: list[FaceRoi] = []

    def fit(self, frame_bgr: Frame, roi: FaceRoi, with_irises: bool = True) -> MeshFit | None:
        self.crops.append(roi)
        return MeshFit(self.answer.copy(), 0.99)


def test_mouth_aspect_is_the_gap_over_the_width() -> None:
    points = face_points(0.0)
    width = float(np.linalg.norm(points[MOUTH_CORNERS[0], :2] - points[MOUTH_CORNERS[1], :2]))
    assert mouth_aspect(face_points(0.3 * width)) == pytest.approx(0.3, abs=1e-5)


def test_a_closed_mouth_is_left_alone_without_a_second_fit() -> None:
    tracked = face_points(2.0)
    fitter = RecordingFitter(face_points(30.0))
    out = refine_open_mouth(fitter, np.zeros((8, 8, 3), np.uint8), tracked)
    assert out is tracked
    assert fitter.crops == []


def test_an_open_mouth_takes_the_second_fits_mouth_in_a_larger_lower_crop() -> None:
    tracked = face_points(40.0)  # aspect well over the ramp
    truth = face_points(60.0)
    truth[FOREHEAD, :2] += 25.0  # the second fit's forehead differs: it must not be taken
    fitter = RecordingFitter(truth)
    out = refine_open_mouth(fitter, np.zeros((8, 8, 3), np.uint8), tracked)
    np.testing.assert_allclose(out[MOUTH_GAP[1]], truth[MOUTH_GAP[1]], atol=1e-3)  # the lower lip moved
    np.testing.assert_allclose(out[FOREHEAD], tracked[FOREHEAD], atol=1e-3)  # the forehead did not
    (crop,) = fitter.crops
    tracking = roi_from_landmarks(tracked)
    assert crop.size_px == pytest.approx(tracking.size_px * CROP_SCALE)
    assert crop.center_xy[1] > tracking.center_xy[1]  # lower


def test_the_tracker_hands_out_the_refined_mouth_but_follows_its_own_fit() -> None:
    tracked = face_points(40.0)
    truth = face_points(60.0)

    class Detector:
        def detect(self, frame_bgr: Frame) -> list[Detection]:
            return []

    class Fitter:
        """The tracking crop sees the tracked mouth, any larger crop the true one."""

        def __init__(self) -> None:
            self.sizes: list[float] = []

        def fit(self, frame_bgr: Frame, roi: FaceRoi, with_irises: bool = True) -> MeshFit | None:
            self.sizes.append(roi.size_px)
            tracking = roi_from_landmarks(tracked).size_px
            return MeshFit((truth if roi.size_px > 1.1 * tracking else tracked).copy(), 0.99)

    fitter = Fitter()
    analyzer = FaceAnalyzer(Detector(), fitter)
    for refine in (True, False):
        tracker = FaceTracker(analyzer, TrackerSettings(smoothing=None, refine_open_mouth=refine))
        tracker._tracks.append(_Track(0, tracked.copy(), 0.9, None))  # a track already running
        for index in range(3):
            (face,) = tracker.update(np.zeros((8, 8, 3), np.uint8), index / 30)
            expected = truth if refine else tracked
            assert abs(face.landmarks_478[MOUTH_GAP[1], 1] - expected[MOUTH_GAP[1], 1]) < 1e-3
        # the crop the track re-fits in stays the tracking one (the refined mouth never feeds back)
        assert min(fitter.sizes) == pytest.approx(roi_from_landmarks(tracked).size_px)


def test_a_second_fit_that_sees_the_mouth_no_more_open_is_not_taken() -> None:
    tracked = face_points(40.0)
    fitter = RecordingFitter(face_points(30.0))  # the larger crop draws it less open
    out = refine_open_mouth(fitter, np.zeros((8, 8, 3), np.uint8), tracked)
    assert out is tracked
    assert len(fitter.crops) == 1


def test_the_eyes_and_irises_never_move_with_the_mouth() -> None:
    tracked = face_points(40.0)
    truth = face_points(60.0)
    truth[33:300, :2] += 5.0  # the second fit differs everywhere
    truth[468:, :2] += 5.0
    out = refine_open_mouth(RecordingFitter(truth), np.zeros((8, 8, 3), np.uint8), tracked)
    for point in (33, 133, 362, 263, 468, 473):  # eye corners and iris centres
        np.testing.assert_array_equal(out[point], tracked[point])
