"""The mesh swapper on real media: d30.jpg onto frames of d18.mp4 (skips without ../shared/media)."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.faces.alignment import paste_back
from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.face import Face, iou_xyxy
from facecraft.faces.identity import identity_distance
from facecraft.media.reader import FrameReader
from facecraft.pipeline.builder import build_analyzer, build_identity
from facecraft.swap.mesh import MeshSwapper
from facecraft.swap.source import load_source
from facecraft.swap.triangles import FACE_OVAL, load_topology, signed_areas
from facecraft.types import Frame

pytestmark = pytest.mark.media

FRAMES = (0, 120)
"""d18.mp4: a neutral face, then a wide-open mouth."""


@pytest.fixture(scope="module")
def analyzer() -> FaceAnalyzer:
    return build_analyzer()


@pytest.fixture(scope="module")
def target_frames(media_dir: Path, analyzer: FaceAnalyzer) -> list[tuple[Frame, Face]]:
    found = []
    with FrameReader(media_dir / "videos" / "d18.mp4") as reader:
        for frame in reader:
            if frame.index in FRAMES:
                faces = analyzer.analyze(frame.image_bgr)
                assert len(faces) == 1
                found.append((frame.image_bgr, faces[0]))
            if frame.index >= max(FRAMES):
                break
    return found


def paste(frame: Frame, swapper: MeshSwapper, face: Face) -> Frame:
    """The swapped face pasted in through its coverage, eroded and feathered (no colour matching)."""
    result = swapper.swap(frame, face)
    radius = max(1, round(0.03 * face.size_px))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    mask = cv2.GaussianBlur(cv2.erode(result.coverage, kernel), (0, 0), 0.02 * face.size_px)
    return paste_back(frame, result.crop_bgr, np.asarray(mask, dtype=np.float32), result.matrix_crop_to_frame)


def test_d30_onto_d18_looks_like_the_source(
    media_dir: Path, analyzer: FaceAnalyzer, target_frames: list[tuple[Frame, Face]]
) -> None:
    source = load_source(media_dir / "images" / "d30.jpg", analyzer)
    swapper = MeshSwapper()
    notes = swapper.prepare(source)
    assert any("covers" in note for note in notes)  # the hand and the hair were found
    identity = build_identity()
    source_embedding = identity.embed(source.image_bgr, source.face)
    for frame, face in target_frames:
        swapped = paste(frame, swapper, face)
        again = [f for f in analyzer.analyze(swapped) if iou_xyxy(f.bbox_xyxy, face.bbox_xyxy) > 0.3]
        assert again, "the swapped face is still found"
        to_source = identity_distance(identity.embed(swapped, again[0]), source_embedding)
        untouched = identity_distance(identity.embed(frame, face), source_embedding)
        assert to_source < untouched - 0.2
        assert to_source < 0.6


def test_triangles_hardly_fold_on_real_frontal_faces(target_frames: list[tuple[Frame, Face]]) -> None:
    topology = load_topology()
    for _, face in target_frames:
        areas = signed_areas(face.landmarks_478, topology.face_triangles)
        outline = face.landmarks_478[list(FACE_OVAL), :2].astype(np.float32)
        face_area = float(cv2.contourArea(outline))
        folded = float(-areas[areas < 0].sum()) / 2
        assert (areas <= 0).mean() < 0.02  # a few slivers at the lip corners and the jaw at most
        assert folded < 0.005 * face_area


def test_d30s_forehead_is_clear_and_d8s_fringe_keeps_his_out(
    media_dir: Path, analyzer: FaceAnalyzer, target_frames: list[tuple[Frame, Face]]
) -> None:
    frame, face = target_frames[0]
    clear = MeshSwapper()
    clear.prepare(load_source(media_dir / "images" / "d30.jpg", analyzer))  # hair at her temples only
    assert clear.swap(frame, face).forehead_clear
    fringe = MeshSwapper()
    notes = fringe.prepare(load_source(media_dir / "images" / "d8.jpg", analyzer))  # curls to his glasses
    assert not fringe.swap(frame, face).forehead_clear
    assert any("stops above the brows" in note for note in notes)
