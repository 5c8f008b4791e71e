"""Face selection policies: parsing, and choices that stay on one person across frames."""

from pathlib import Path

import numpy as np
import pytest

from face_fakes import landmarks_at
from facecraft.errors import SelectionError
from facecraft.faces.face import Face, bbox_from_landmarks
from facecraft.faces.selection import FaceSelector, SelectionPolicy


def _face(cx: float, size: float, track_id: int | None, embedding: list[float] | None = None) -> Face:
    points = landmarks_at((cx, 300), size)
    emb = np.asarray(embedding, dtype=np.float32) if embedding is not None else None
    return Face(bbox_from_landmarks(points), 0.9, points, track_id, emb)


FRAME = np.zeros((10, 10, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("all", SelectionPolicy("all")),
        ("largest", SelectionPolicy("largest")),
        ("index:2", SelectionPolicy("index", index=2)),
        ("reference:me.jpg", SelectionPolicy("reference", reference_path=Path("me.jpg"))),
    ],
)
def test_parse(text: str, expected: SelectionPolicy) -> None:
    assert SelectionPolicy.parse(text) == expected


@pytest.mark.parametrize("text", ["", "biggest", "index:", "index:x", "index:-1", "reference:", "all:3"])
def test_parse_rejects_with_a_helpful_message(text: str) -> None:
    with pytest.raises(SelectionError, match=r"index|reference|choose"):
        SelectionPolicy.parse(text)


def test_all_keeps_every_face() -> None:
    faces = [_face(100, 50, 0), _face(400, 80, 1)]
    assert FaceSelector(SelectionPolicy("all")).select(FRAME, faces) == faces


def test_largest_sticks_to_its_track_when_another_grows() -> None:
    selector = FaceSelector(SelectionPolicy("largest"))
    assert [f.track_id for f in selector.select(FRAME, [_face(100, 50, 0), _face(400, 80, 1)])] == [1]
    # Face 0 becomes larger, but the chosen person stays the same while their track lives.
    assert [f.track_id for f in selector.select(FRAME, [_face(100, 120, 0), _face(400, 80, 1)])] == [1]
    # Track 1 is gone: choose again.
    assert [f.track_id for f in selector.select(FRAME, [_face(100, 120, 0)])] == [0]


def test_index_counts_from_the_left() -> None:
    faces = [_face(400, 50, 7), _face(100, 50, 8), _face(700, 50, 9)]
    assert [f.track_id for f in FaceSelector(SelectionPolicy("index", index=1)).select(FRAME, faces)] == [7]
    assert FaceSelector(SelectionPolicy("index", index=5)).select(FRAME, faces) == []


def test_reference_picks_faces_under_the_threshold_and_caches_per_track() -> None:
    calls: list[int | None] = []

    def embed(frame: np.ndarray, face: Face) -> np.ndarray:
        calls.append(face.track_id)
        return np.array([0.0, 0.0] if face.track_id == 0 else [1.0, 0.0], dtype=np.float32)

    selector = FaceSelector(SelectionPolicy("reference"), np.array([0.1, 0.0], dtype=np.float32), embed)
    faces = [_face(100, 50, 0), _face(400, 50, 1)]
    for _ in range(5):
        assert [f.track_id for f in selector.select(FRAME, faces)] == [0]
    assert calls == [0, 1]  # measured once per track, then cached


def test_reference_takes_only_the_closest_of_several_look_alikes() -> None:
    def embed(frame: np.ndarray, face: Face) -> np.ndarray:
        return np.array([0.5 if face.track_id == 0 else 0.2, 0.0], dtype=np.float32)

    selector = FaceSelector(SelectionPolicy("reference"), np.array([0.0, 0.0], dtype=np.float32), embed)
    assert [f.track_id for f in selector.select(FRAME, [_face(100, 50, 0), _face(400, 50, 1)])] == [1]


def test_reference_policy_requires_an_identity() -> None:
    with pytest.raises(SelectionError):
        FaceSelector(SelectionPolicy("reference"))
