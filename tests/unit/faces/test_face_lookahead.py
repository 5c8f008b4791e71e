"""Centred landmark smoothing: no lag on steady motion, noise removed, runs kept apart, bounded memory."""

import numpy as np
import numpy.typing as npt
import pytest

from facecraft.faces.face import LANDMARK_POINTS, Face, bbox_from_landmarks
from facecraft.faces.lookahead import LandmarkLookahead, LookaheadSettings, local_linear_weights

STEADY = np.arange(0, 200)
"""The first 200 points count as steady (wide window); the rest are fast (narrow window)."""
SETTINGS = LookaheadSettings(steady_radius=6, steady_sigma=3.0, fast_radius=2, fast_sigma=1.0, quick_full=0.0)
"""The two fits alone (the quick fit has its own tests below)."""


def _grid() -> npt.NDArray[np.float32]:
    rng = np.random.default_rng(0)
    xy = rng.uniform(100.0, 300.0, size=(LANDMARK_POINTS, 2))
    z = rng.uniform(-20.0, 20.0, size=(LANDMARK_POINTS, 1))
    return np.hstack([xy, z]).astype(np.float32)


def _face(landmarks: npt.NDArray[np.float32], track_id: int | None = 0) -> Face:
    return Face(bbox_from_landmarks(landmarks), 0.9, landmarks.astype(np.float32), track_id)


def _run(lookahead: LandmarkLookahead[int], frames: list[list[Face]]) -> list[tuple[int, list[Face]]]:
    out: list[tuple[int, list[Face]]] = []
    for index, faces in enumerate(frames):
        out.extend(lookahead.push(index, faces))
    out.extend(lookahead.flush())
    return out


def test_weights_reproduce_a_line_and_sum_to_one() -> None:
    for offsets in ([-3, -2, -1, 0, 1, 2, 3], [-4, -3, -2, -1, 0], [0, 1, 2], [0]):
        weights = local_linear_weights(offsets, 2.0)
        assert weights.sum() == pytest.approx(1.0)
        line = 5.0 + 0.7 * np.asarray(offsets, dtype=np.float64)
        assert float(weights @ line) == pytest.approx(5.0)


def test_every_frame_comes_back_once_in_order_after_the_delay() -> None:
    lookahead: LandmarkLookahead[int] = LandmarkLookahead(STEADY, SETTINGS)
    base = _grid()
    returned: list[int] = []
    for index in range(20):
        ready = lookahead.push(index, [_face(base)])
        returned.extend(item for item, _ in ready)
        assert len(returned) == max(0, index + 1 - SETTINGS.delay)
    returned.extend(item for item, _ in lookahead.flush())
    assert returned == list(range(20))


def test_steady_motion_passes_without_lag_and_noise_is_removed() -> None:
    rng = np.random.default_rng(1)
    base = _grid()
    step = np.array([2.0, 1.0, 0.0], dtype=np.float32)
    truth = [(base + i * step).astype(np.float32) for i in range(40)]
    noisy = [(t + rng.normal(0.0, 1.0, size=t.shape)).astype(np.float32) for t in truth]
    out = _run(LandmarkLookahead(STEADY, SETTINGS), [[_face(n)] for n in noisy])
    # Away from the ends, where the window is whole.
    middle = range(SETTINGS.delay, 40 - SETTINGS.delay)
    raw_error = np.mean([np.abs(noisy[i][:, :2] - truth[i][:, :2]).mean() for i in middle])
    steady_error = np.mean(
        [np.abs(out[i][1][0].landmarks_478[STEADY, :2] - truth[i][STEADY, :2]).mean() for i in middle]
    )
    fast_error = np.mean(
        [np.abs(out[i][1][0].landmarks_478[200:, :2] - truth[i][200:, :2]).mean() for i in middle]
    )
    assert steady_error < 0.35 * raw_error  # the wide window removes most of the noise
    assert fast_error < 0.8 * raw_error  # the narrow one some
    # No lag: the mean position error has no drift along the motion.
    drift = np.mean([(out[i][1][0].landmarks_478[:, 0] - truth[i][:, 0]).mean() for i in middle])
    assert abs(drift) < 0.1


def test_clean_linear_motion_is_reproduced_exactly_even_at_the_ends() -> None:
    base = _grid()
    truth = [base + np.float32(3.0 * i) for i in range(12)]
    out = _run(LandmarkLookahead(STEADY, SETTINGS), [[_face(t)] for t in truth])
    for i, (_, faces) in enumerate(out):
        np.testing.assert_allclose(faces[0].landmarks_478, truth[i], atol=1e-3)
        np.testing.assert_allclose(faces[0].bbox_xyxy, bbox_from_landmarks(truth[i]), atol=1e-3)


def test_a_gap_or_a_cut_starts_a_new_run() -> None:
    base = _grid()
    far = base + np.float32(500.0)
    frames: list[list[Face]] = [[_face(base)] for _ in range(5)]
    frames += [[]]  # the face is not tracked in frame 5
    frames += [[_face(far)] for _ in range(5)]  # it comes back elsewhere
    frames += [[_face(base)] for _ in range(5)]  # and cuts back without a gap
    out = _run(LandmarkLookahead(STEADY, SETTINGS), frames)
    assert [len(faces) for _, faces in out] == [len(f) for f in frames]
    for (_, faces), given in zip(out, frames, strict=True):
        if given:  # each run is constant, so smoothing within a run changes nothing
            np.testing.assert_allclose(faces[0].landmarks_478, given[0].landmarks_478, atol=1e-3)


def test_tracks_are_smoothed_apart_and_faces_without_a_track_pass() -> None:
    a, b = _grid(), _grid() + np.float32(40.0)
    untracked = _face(_grid() + np.float32(7.0), track_id=None)
    frames = [[_face(a, 0), _face(b + np.float32(i), 1), untracked] for i in range(10)]
    out = _run(LandmarkLookahead(STEADY, SETTINGS), frames)
    for i, (_, faces) in enumerate(out):
        np.testing.assert_allclose(faces[0].landmarks_478, a, atol=1e-3)
        np.testing.assert_allclose(faces[1].landmarks_478, b + np.float32(i), atol=1e-3)
        assert faces[2] is untracked


def test_a_track_id_twice_in_one_frame_smooths_the_first_face_and_passes_the_other() -> None:
    a, b = _grid(), _grid() + np.float32(90.0)
    frames = [[_face(a + np.float32(i), 0), _face(b, 0)] for i in range(8)]
    out = _run(LandmarkLookahead(STEADY, SETTINGS), frames)
    for i, (_, faces) in enumerate(out):
        np.testing.assert_allclose(faces[0].landmarks_478, a + np.float32(i), atol=1e-3)
        assert faces[1] is frames[i][1]


def test_memory_stays_bounded_over_a_long_video() -> None:
    lookahead: LandmarkLookahead[int] = LandmarkLookahead(STEADY, SETTINGS)
    base = _grid()
    for index in range(300):
        lookahead.push(index, [_face(base, track_id=index // 50)])  # a new track every 50 frames
    runs = lookahead._runs  # the internals: at most the window's frames per live track are kept
    assert len(runs) <= 2
    assert sum(len(r.landmarks) for track in runs.values() for r in track) <= 2 * SETTINGS.delay + 2


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        LookaheadSettings(steady_radius=-1)
    with pytest.raises(ValueError):
        LookaheadSettings(fast_sigma=0.0)
    assert LookaheadSettings(steady_radius=3, fast_radius=7).delay == 7


def test_anchored_points_keep_their_place_relative_to_their_anchors_when_the_motion_curves() -> None:
    """An iris (fast) fixed in its eye, whose corners (steady) are fitted over more frames: under a head
    motion that is not a straight line the two fits part, unless the iris is anchored on the corners."""
    base = _grid()
    iris, corners = [300, 301], [10, 11]  # fast points, steady anchors
    truth = []
    for i in range(30):
        shift = np.array([0.3 * (i - 15) ** 2, 3.0 * np.sin(i / 3.0), 0.0], dtype=np.float32)
        truth.append((base + shift).astype(np.float32))
    frames = [[_face(t)] for t in truth]

    def iris_in_eye(landmarks: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        out: npt.NDArray[np.float32] = landmarks[iris, :2] - landmarks[corners, :2].mean(axis=0)
        return out

    expected = iris_in_eye(base)
    plain = _run(LandmarkLookahead(STEADY, SETTINGS), frames)
    anchored = _run(LandmarkLookahead(STEADY, SETTINGS, [(iris, corners)]), frames)
    plain_error = max(float(np.abs(iris_in_eye(f[0].landmarks_478) - expected).max()) for _, f in plain)
    anchored_error = max(float(np.abs(iris_in_eye(f[0].landmarks_478) - expected).max()) for _, f in anchored)
    assert plain_error > 1.0  # the two fits part by pixels
    assert anchored_error < 1e-3  # the iris stays where it is in its eye
    for (_, p), (_, a) in zip(plain, anchored, strict=True):  # the other points are smoothed as before
        others = np.setdiff1d(np.arange(LANDMARK_POINTS), iris)
        np.testing.assert_allclose(a[0].landmarks_478[others], p[0].landmarks_478[others])


MOUTH = np.arange(400, 420)
"""Fast points that open and close together, like the lips: the second half (the lower lip) moves."""


def _pulse_frames(amplitude: float, noise: float, seed: int = 4) -> list[list[Face]]:
    """A face 200 px across whose lower lip (the second half of MOUTH) moves down by ``amplitude`` px for
    two frames (a syllable) in the middle of 30, with Gaussian noise of ``noise`` px on every point."""
    rng = np.random.default_rng(seed)
    base = _grid()
    opening = np.zeros(30)
    opening[14:16] = amplitude
    frames = []
    for i in range(30):
        landmarks = base + rng.normal(0.0, noise, size=base.shape).astype(np.float32)
        landmarks[MOUTH[10:], 1] += np.float32(opening[i])
        frames.append([_face(landmarks.astype(np.float32))])
    return frames


def _mouth_drop(out: list[tuple[int, list[Face]]]) -> npt.NDArray[np.float64]:
    """How far the smoothed lower lip sits below where it sits at a still frame (5), per frame."""
    lower = MOUTH[10:]
    rest = out[5][1][0].landmarks_478[lower, 1].mean()
    return np.array([faces[0].landmarks_478[lower, 1].mean() - rest for _, faces in out], dtype=np.float64)


def test_a_quick_opening_is_followed_and_a_still_mouth_keeps_the_fast_fit() -> None:
    settings = LookaheadSettings(steady_radius=6, steady_sigma=3.0, fast_radius=4, fast_sigma=2.0)
    without_quick = LookaheadSettings(
        steady_radius=6, steady_sigma=3.0, fast_radius=4, fast_sigma=2.0, quick_full=0.0
    )
    frames = _pulse_frames(amplitude=14.0, noise=0.1)  # 7% of the face, for two frames
    quick = _mouth_drop(_run(LandmarkLookahead(STEADY, settings, quick_groups=[MOUTH]), frames))
    slow = _mouth_drop(_run(LandmarkLookahead(STEADY, without_quick), frames))
    assert slow[14:16].max() < 0.45 * 14.0  # the fast fit alone draws a two-frame syllable under half open
    assert quick[14:16].min() > 0.6 * 14.0  # the narrow fit (sigma 1 frame) keeps most of it
    assert abs(quick[5]) < 0.5 and abs(quick[25]) < 0.5  # and the mouth still rests before and after

    still = _pulse_frames(amplitude=0.0, noise=0.3)  # a still mouth: noise only
    with_groups = _run(LandmarkLookahead(STEADY, settings, quick_groups=[MOUTH]), still)
    plain = _run(LandmarkLookahead(STEADY, without_quick), still)
    for (_, a), (_, b) in zip(with_groups, plain, strict=True):  # the noise never parts the fits enough
        np.testing.assert_allclose(a[0].landmarks_478, b[0].landmarks_478)


def test_quick_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        LookaheadSettings(quick_from=0.01, quick_full=0.005)
    with pytest.raises(ValueError):
        LookaheadSettings(quick_sigma=0.0)
    with pytest.raises(ValueError):
        LookaheadSettings(quick_full=-0.1)
    with pytest.raises(ValueError):  # a "quick" fit wider than the fast one would smooth speech more
        LookaheadSettings(fast_radius=2, fast_sigma=1.0)
    assert LookaheadSettings(fast_radius=2, fast_sigma=1.0, quick_full=0.0).delay == 20


def test_a_nod_alone_keeps_the_fast_fit() -> None:
    """The whole face (mouth included) moving along a curve: the two fits part, but by the group's common
    motion, which is the head's, not an expression."""
    base = _grid()
    frames = [[_face((base + np.float32(0.08 * (i - 15) ** 2)).astype(np.float32))] for i in range(30)]
    settings = LookaheadSettings(steady_radius=6, steady_sigma=3.0, fast_radius=4, fast_sigma=2.0)
    plain = LookaheadSettings(
        steady_radius=6, steady_sigma=3.0, fast_radius=4, fast_sigma=2.0, quick_full=0.0
    )
    with_quick = _run(LandmarkLookahead(STEADY, settings, quick_groups=[MOUTH]), frames)
    without = _run(LandmarkLookahead(STEADY, plain), frames)
    for (_, a), (_, b) in zip(with_quick, without, strict=True):
        np.testing.assert_allclose(a[0].landmarks_478, b[0].landmarks_478)


def test_other_points_are_left_as_the_two_fits_put_them_and_empty_groups_are_dropped() -> None:
    frames = _pulse_frames(amplitude=14.0, noise=0.1)
    settings = LookaheadSettings(steady_radius=6, steady_sigma=3.0, fast_radius=4, fast_sigma=2.0)
    plain = LookaheadSettings(
        steady_radius=6, steady_sigma=3.0, fast_radius=4, fast_sigma=2.0, quick_full=0.0
    )
    groups = [MOUTH, STEADY[:10]]  # the second group is all steady points: nothing to move
    quick = _run(LandmarkLookahead(STEADY, settings, quick_groups=groups), frames)
    without = _run(LandmarkLookahead(STEADY, plain), frames)
    others = np.setdiff1d(np.arange(LANDMARK_POINTS), MOUTH)
    for (_, a), (_, b) in zip(quick, without, strict=True):
        np.testing.assert_allclose(a[0].landmarks_478[others], b[0].landmarks_478[others])
