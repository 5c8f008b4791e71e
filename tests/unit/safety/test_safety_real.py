"""The real NudeNet detector and the gate on ordinary photos and videos from ../shared/media.

Every input here is an ordinary photo or clip and must be let through; refusals are tested on synthetic
detector outputs in test_safety_gate.py (no sexual images are kept anywhere in this repository).
"""

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from facecraft.media.image import read_image
from facecraft.safety import NUDITY_LABELS, ContentGate, Finding, NudityDetector
from facecraft.safety.gate import DEFAULT_SAMPLE_INTERVAL_S, DEFAULT_THRESHOLD
from facecraft.types import Frame

pytestmark = pytest.mark.media

GROUP_PHOTO = "2008_002506.jpg"  # three people, half-length


@pytest.fixture(scope="module")
def detector() -> Iterator[NudityDetector]:
    if importlib.util.find_spec("nudenet") is None:
        pytest.skip("nudenet is not installed (pip install --no-deps nudenet==3.4.2)")
    yield NudityDetector()


def assert_well_formed(findings: list[Finding], frame_bgr: Frame) -> None:
    height, width = frame_bgr.shape[:2]
    for found in findings:
        assert found.label in NUDITY_LABELS
        assert 0.0 <= found.score <= 1.0
        x0, y0, x1, y1 = found.box_xyxy.tolist()
        assert 0.0 <= x0 < x1 <= width
        assert 0.0 <= y0 < y1 <= height
    assert [f.score for f in findings] == sorted((f.score for f in findings), reverse=True)


def test_detector_finds_the_face_in_a_portrait(media_dir: Path, detector: NudityDetector) -> None:
    frame_bgr = read_image(media_dir / "images" / "d30.jpg")

    findings = detector.detect(frame_bgr)

    assert_well_formed(findings, frame_bgr)
    faces = [f for f in findings if f.label == "FACE_FEMALE" and f.score > 0.5]
    assert len(faces) == 1
    x0, y0, x1, y1 = faces[0].box_xyxy.tolist()
    assert 100 < x0 < x1 < 400 and 180 < y0 < y1 < 470  # the face in the 600x900 portrait


def test_detector_output_on_a_group_photo(media_dir: Path, detector: NudityDetector) -> None:
    frame_bgr = read_image(media_dir / "images" / "groups" / GROUP_PHOTO)

    findings = detector.detect(frame_bgr)

    assert_well_formed(findings, frame_bgr)
    assert len([f for f in findings if f.label.startswith("FACE_") and f.score > 0.5]) == 3


def test_gate_lets_ordinary_photos_and_a_video_through(media_dir: Path, detector: NudityDetector) -> None:
    gate = ContentGate(detector)
    group = media_dir / "images" / "groups" / GROUP_PHOTO

    job = gate.check_job(media_dir / "images" / "d30.jpg", media_dir / "videos" / "d18.mp4")
    group_check = gate.check_path(group, "target")

    assert job.source.frames_checked == 1
    assert job.target.sampled_times_s[0] == 0.0
    assert job.target.frames_checked >= 7.2 / DEFAULT_SAMPLE_INTERVAL_S  # d18.mp4 lasts 7.2 s
    assert max(np.diff(job.target.sampled_times_s)) <= DEFAULT_SAMPLE_INTERVAL_S + 1e-6
    for check in (job.source, job.target, group_check):
        assert check.top_refused_score < DEFAULT_THRESHOLD / 2
