"""Tracking with a scripted world: stable ids, detector cadence, brief misses, smoothing without lag."""

import numpy as np
import pytest

from face_fakes import FakeDetector, FakeMesh, World, WorldFace
from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.tracker import FaceTracker, TrackerSettings


def _id(track_id: int | None) -> int:
    assert track_id is not None, "a tracked face always has an id"
    return track_id


def _track(world: World, settings: TrackerSettings | None = None) -> list[list[tuple[int, float]]]:
    """Per frame: (track id, box centre x) of each face, left to right."""
    tracker = FaceTracker(FaceAnalyzer(FakeDetector(world), FakeMesh(world)), settings or TrackerSettings())
    out: list[list[tuple[int, float]]] = []
    for i in range(len(world.frames)):
        faces = tracker.update(world.frame(i), i / 30)
        out.append([(_id(f.track_id), float((f.bbox_xyxy[0] + f.bbox_xyxy[2]) / 2)) for f in faces])
    return out


def test_two_faces_keep_their_ids_while_moving() -> None:
    frames = [[WorldFace((300 + 2 * i, 360), 200), WorldFace((900 - 2 * i, 360), 180)] for i in range(60)]
    result = _track(World(frames))
    assert all(len(f) == 2 for f in result)
    first_ids = [tid for tid, _ in result[0]]
    assert sorted(first_ids) == [0, 1]
    for frame in result:
        left, right = frame  # sorted left to right
        assert left[0] == first_ids[0] and right[0] == first_ids[1]


def test_detector_runs_only_every_n_frames_when_tracking_holds() -> None:
    world = World([[WorldFace((640, 360), 250)] for _ in range(50)])
    _track(world, TrackerSettings(detect_every=10))
    assert world.detector_calls == 5


def test_detector_runs_every_frame_while_no_face() -> None:
    world = World([[] for _ in range(12)])
    result = _track(world, TrackerSettings(detect_every=10))
    assert world.detector_calls == 12
    assert all(frame == [] for frame in result)


def test_face_returning_after_brief_miss_keeps_its_id() -> None:
    frames = [[WorldFace((640, 360), 250)] for _ in range(10)] + [[] for _ in range(5)]
    frames += [[WorldFace((660, 370), 250)] for _ in range(10)]
    result = _track(World(frames))
    assert all(frame == [] for frame in result[10:15])
    assert {tid for frame in result[15:] for tid, _ in frame} == {0}


def test_face_returning_after_long_absence_gets_a_new_id() -> None:
    frames = [[WorldFace((640, 360), 250)] for _ in range(5)] + [[] for _ in range(40)]
    frames += [[WorldFace((640, 360), 250)] for _ in range(5)]
    result = _track(World(frames), TrackerSettings(max_missed=30))
    assert {tid for frame in result[45:] for tid, _ in frame} == {1}


def test_new_face_appearing_mid_video_gets_a_new_track() -> None:
    frames = [[WorldFace((300, 360), 200)] for _ in range(10)]
    frames += [[WorldFace((300, 360), 200), WorldFace((900, 360), 200)] for _ in range(20)]
    result = _track(World(frames), TrackerSettings(detect_every=5))
    assert [tid for tid, _ in result[-1]] == [0, 1]
    appeared = next(i for i, frame in enumerate(result) if len(frame) == 2)
    assert appeared <= 15  # found at the next scheduled detection


def test_smoothing_removes_jitter_at_rest() -> None:
    world = World([[WorldFace((640, 360), 250)] for _ in range(60)], noise_px=2.0)
    tracker = FaceTracker(FaceAnalyzer(FakeDetector(world), FakeMesh(world)))
    steps = []
    previous = None
    for i in range(60):
        (face,) = tracker.update(world.frame(i), i / 30)
        if previous is not None and i > 10:
            steps.append(float(np.abs(face.landmarks_478[:, :2] - previous).mean()))
        previous = face.landmarks_478[:, :2].copy()
    raw_step = 2.0 * 2 / np.sqrt(np.pi)  # mean |difference| of two N(0, 2) samples
    assert np.mean(steps) < 0.5 * raw_step


def test_smoothing_does_not_lag_on_fast_moves() -> None:
    # The face jumps 10% of its size per frame; after a few frames the output must be close to the truth.
    frames = [[WorldFace((300 + 25 * i, 360), 250)] for i in range(30)]
    result = _track(World(frames))
    errors = [abs(result[i][0][1] - (300 + 25 * i)) for i in range(5, 30)]
    assert max(errors) < 0.05 * 250


@pytest.mark.parametrize("bad", [0, -1])
def test_settings_are_validated(bad: int) -> None:
    with pytest.raises(ValueError, match="detect_every"):
        TrackerSettings(detect_every=bad)
