"""dlib identity embeddings on real faces: same person close, different people far.

Faces come from our own mesh; the first roi comes from dlib's HOG detector (videos and photos) or from
the hand-drawn boxes that ship with the group photos, so these tests do not depend on our detector.
"""

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.faces.face import Face, bbox_from_landmarks
from facecraft.faces.identity import (
    EMBEDDING_SIZE,
    SAME_PERSON_MAX_DISTANCE,
    DlibIdentity,
    identity_distance,
    is_same_person,
)
from facecraft.faces.mesh import FaceMesh
from facecraft.faces.roi import roi_from_box, roi_from_landmarks
from facecraft.types import FloatArray, Frame
from hog_faces import hog_box

VIDEOS = ("d0.mp4", "d3.mp4", "d10.mp4", "d13.mp4", "d18.mp4", "d20.mp4", "s18.mp4", "s20.mp4", "s29.mp4")
PHOTOS = ("d30.jpg", "d8.jpg")
FRAMES_PER_VIDEO = 3

KNOWN_CLOSE_VIDEO_PAIRS = frozenset(
    {
        frozenset({"d0.mp4", "d13.mp4"}),  # 0.45 at the closest frames
        frozenset({"d0.mp4", "d20.mp4"}),  # 0.54
        frozenset({"d13.mp4", "d20.mp4"}),  # 0.55
        frozenset({"s18.mp4", "s29.mp4"}),  # 0.53
        frozenset({"d10.mp4", "s20.mp4"}),  # 0.59
        frozenset({"d3.mp4", "s18.mp4"}),  # 0.61
        frozenset({"d3.mp4", "s20.mp4"}),  # 0.61
    }
)
"""Different people whom dlib's model puts under (or within 0.02 of) 0.6, measured over 6 frames per clip:
three young East Asian men; young women with similar colouring. A limit of the model
(davisking/dlib#2816), not of our alignment. ``test_everyone_is_nearest_to_themselves`` covers them."""

Embeddings = dict[str, list[FloatArray]]


def _read_frame(path: Path, index: int) -> Frame:
    capture = cv2.VideoCapture(str(path))
    try:
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = capture.read()
    finally:
        capture.release()
    assert ok, f"cannot read frame {index} of {path}"
    return np.ascontiguousarray(frame)


def _imread(path: Path) -> Frame:
    image = cv2.imread(str(path))
    assert image is not None, f"cannot read {path}"
    return np.asarray(image, dtype=np.uint8)


def _frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()


def _face_in(mesh: FaceMesh, frame_bgr: Frame, box_xyxy: np.ndarray) -> Face:
    fit = mesh.fit(frame_bgr, roi_from_box(box_xyxy, 0.0, 1.9))
    assert fit is not None
    for _ in range(2):
        again = mesh.fit(frame_bgr, roi_from_landmarks(fit.landmarks_478))
        assert again is not None
        fit = again
    return Face(bbox_from_landmarks(fit.landmarks_478), fit.presence, fit.landmarks_478)


def _group_boxes(groups_dir: Path) -> dict[str, list[np.ndarray]]:
    boxes: dict[str, list[np.ndarray]] = {}
    for xml_name in ("training.xml", "testing.xml"):
        for image in ET.parse(groups_dir / xml_name).getroot().iter("image"):
            boxes[image.attrib["file"]] = [
                np.array(
                    [
                        float(b.attrib["left"]),
                        float(b.attrib["top"]),
                        float(b.attrib["left"]) + float(b.attrib["width"]),
                        float(b.attrib["top"]) + float(b.attrib["height"]),
                    ],
                    dtype=np.float32,
                )
                for b in image.iter("box")
            ]
    return boxes


@pytest.fixture(scope="module")
def mesh() -> FaceMesh:
    return FaceMesh()


@pytest.fixture(scope="module")
def identity() -> DlibIdentity:
    return DlibIdentity()


@pytest.fixture(scope="module")
def people(media_dir: Path, mesh: FaceMesh, identity: DlibIdentity) -> Embeddings:
    """Embeddings of each video's person (3 frames spread over the clip) and of each photo's person."""
    out: Embeddings = {}
    for name in VIDEOS:
        path = media_dir / "videos" / name
        last = _frame_count(path) - 5
        out[name] = []
        for index in np.linspace(0, last, FRAMES_PER_VIDEO).astype(int):
            frame = _read_frame(path, int(index))
            out[name].append(identity.embed(frame, _face_in(mesh, frame, hog_box(frame))))
    for name in PHOTOS:
        photo = _imread(media_dir / "images" / name)
        out[name] = [identity.embed(photo, _face_in(mesh, photo, hog_box(photo)))]
    return out


@pytest.mark.media
def test_same_person_across_a_video_is_under_the_bound(people: Embeddings) -> None:
    for name in VIDEOS:
        for a, b in itertools.combinations(people[name], 2):
            assert identity_distance(a, b) < SAME_PERSON_MAX_DISTANCE, name


@pytest.mark.media
def test_photo_people_are_over_the_bound_from_everyone_else(people: Embeddings) -> None:
    for photo in PHOTOS:
        for other, embeddings in people.items():
            if other == photo:
                continue
            for embedding in embeddings:
                distance = identity_distance(people[photo][0], embedding)
                assert distance > SAME_PERSON_MAX_DISTANCE, (photo, other, distance)


@pytest.mark.media
def test_people_in_different_videos_are_over_the_bound(people: Embeddings) -> None:
    for first, second in itertools.combinations(VIDEOS, 2):
        if frozenset({first, second}) in KNOWN_CLOSE_VIDEO_PAIRS:
            continue
        closest = min(identity_distance(a, b) for a in people[first] for b in people[second])
        assert closest > SAME_PERSON_MAX_DISTANCE, (first, second, closest)


@pytest.mark.media
def test_everyone_is_nearest_to_themselves(people: Embeddings) -> None:
    """Even where the bound fails (known close pairs), a person's own frames are nearer than anyone else."""
    for name in VIDEOS:
        own = max(identity_distance(a, b) for a, b in itertools.combinations(people[name], 2))
        others = min(
            identity_distance(a, b)
            for other in people
            if other != name
            for a in people[name]
            for b in people[other]
        )
        assert own < others, (name, own, others)


@pytest.mark.media
def test_people_in_a_group_photo_are_different(
    media_dir: Path, mesh: FaceMesh, identity: DlibIdentity
) -> None:
    groups_dir = media_dir / "images" / "groups"
    distances: list[float] = []
    for file_name, boxes in sorted(_group_boxes(groups_dir).items()):
        photo = _imread(groups_dir / file_name)
        embeddings = [identity.embed(photo, _face_in(mesh, photo, box)) for box in boxes]
        distances += [identity_distance(a, b) for a, b in itertools.combinations(embeddings, 2)]
    assert len(distances) > 80
    distances_array = np.array(distances)
    # Most pairs clear the bound (81% measured). The rest are mostly faces only 31-45 px wide, where
    # dlib's model has little to go on, and a mother and daughter; none comes close to the same-person
    # distances of a video (under 0.35 typically).
    assert (distances_array > SAME_PERSON_MAX_DISTANCE).mean() > 0.75
    assert distances_array.min() > 0.4


@pytest.mark.media
def test_embedding_is_deterministic_128d(media_dir: Path, mesh: FaceMesh, identity: DlibIdentity) -> None:
    photo = _imread(media_dir / "images" / "d30.jpg")
    face = _face_in(mesh, photo, hog_box(photo))
    first, second = identity.embed(photo, face), identity(photo, face)
    assert first.shape == (EMBEDDING_SIZE,) and first.dtype == np.float32
    assert np.all(np.isfinite(first)) and np.linalg.norm(first) > 0.1
    np.testing.assert_array_equal(first, second)


@pytest.mark.media
def test_embedding_ignores_what_lies_far_from_the_face(
    media_dir: Path, mesh: FaceMesh, identity: DlibIdentity
) -> None:
    photo = _imread(media_dir / "images" / "d30.jpg")
    face = _face_in(mesh, photo, hog_box(photo))
    painted = photo.copy()
    painted[-60:] = (0, 0, 255)  # far below the face: outside dlib's chip
    np.testing.assert_array_equal(identity.embed(painted, face), identity.embed(photo, face))


def test_identity_distance_is_euclidean_and_checks_sizes() -> None:
    a = np.zeros(EMBEDDING_SIZE, dtype=np.float32)
    b = np.zeros(EMBEDDING_SIZE, dtype=np.float32)
    b[:2] = (0.3, 0.4)
    assert identity_distance(a, b) == pytest.approx(0.5)
    assert identity_distance(b, a) == pytest.approx(0.5)
    assert identity_distance(a, a) == 0.0
    assert is_same_person(a, b)
    assert not is_same_person(a, b * 2)
    with pytest.raises(ValueError, match="differ in size"):
        identity_distance(a, np.zeros(3))
