"""The gate's decisions, on synthetic detector outputs (no sexual images anywhere in the tests).

A fake detector turns each frame into findings by a rule, so every decision (refuse or let through,
the threshold's edge, where the scan stops, which frames are sampled) is tested without the model.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import facecraft.safety.gate as gate_module
import facecraft.safety.nudenet as nudenet_module
from facecraft.errors import CorruptMediaError, FacecraftError, MediaNotFoundError
from facecraft.media.image import write_image
from facecraft.media.reader import FrameReader, VideoFrame, with_next_time
from facecraft.media.writer import FrameWriter
from facecraft.safety import (
    NUDITY_LABELS,
    REFUSED_LABELS,
    ContentGate,
    ContentPolicy,
    ContentRefusedError,
    Finding,
    NudityDetector,
    NudityLabel,
    build_content_gate,
)
from facecraft.safety.gate import DEFAULT_THRESHOLD, MIN_THRESHOLD, FrameSampler, sample_frames
from facecraft.types import Frame

Rule = Callable[[Frame], list[Finding]]
BOX = np.array([10.0, 10.0, 30.0, 40.0], dtype=np.float32)
ALLOWED_LABELS = tuple(label for label in NUDITY_LABELS if label not in REFUSED_LABELS)


def finding(label: NudityLabel, score: float) -> Finding:
    return Finding(label, score, BOX)


class FakeDetector:
    """Findings from a rule; remembers the frames it saw."""

    def __init__(self, rule: Rule, min_score: float = 0.2) -> None:
        self.rule = rule
        self.min_score = min_score
        self.frames: list[Frame] = []

    def detect(self, frame_bgr: Frame) -> list[Finding]:
        self.frames.append(frame_bgr)
        return self.rule(frame_bgr)


def always(*findings: Finding) -> FakeDetector:
    return FakeDetector(lambda _frame: list(findings))


def bright_refuses(frame_bgr: Frame) -> list[Finding]:
    """A bright frame "shows" an exposed breast; a dark one shows a face."""
    if float(frame_bgr.mean()) > 128:
        return [finding("FEMALE_BREAST_EXPOSED", 0.9)]
    return [finding("FACE_FEMALE", 0.8)]


def frame(grey: int = 60, size_wh: tuple[int, int] = (64, 48)) -> Frame:
    return np.full((size_wh[1], size_wh[0], 3), grey, dtype=np.uint8)


def make_video(path: Path, seconds: float, fps: Fraction, bright_from_s: float | None = None) -> Path:
    """A grey clip at ``fps``; frames from ``bright_from_s`` on are bright."""
    with FrameWriter(path, fps=fps, preset="ultrafast") as writer:
        for index in range(round(seconds * fps)):
            time_s = float(index / fps)
            bright = bright_from_s is not None and time_s >= bright_from_s - 1e-9
            writer.write(frame(220 if bright else 40))
    return path


# --- decisions on one frame ----------------------------------------------------------------------


@pytest.mark.parametrize("label", sorted(REFUSED_LABELS))
def test_refused_label_over_threshold_refuses(label: NudityLabel) -> None:
    gate = ContentGate(always(finding("FACE_FEMALE", 0.9), finding(label, 0.7)))

    with pytest.raises(ContentRefusedError) as caught:
        gate.check_image(frame(), "the source image 'me.jpg'")

    error = caught.value
    assert isinstance(error, FacecraftError)
    assert error.exit_code == 3
    assert error.finding.label == label
    assert "the source image 'me.jpg'" in str(error)
    assert label in str(error)
    assert "always on" in str(error)


def test_refused_labels_are_the_issue_classes() -> None:
    assert {
        "FEMALE_BREAST_EXPOSED",
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    } == REFUSED_LABELS
    assert set(NUDITY_LABELS) >= REFUSED_LABELS


@pytest.mark.parametrize("label", ALLOWED_LABELS)
def test_covered_face_feet_and_other_labels_do_not_refuse(label: NudityLabel) -> None:
    gate = ContentGate(always(finding(label, 0.99)))

    check = gate.check_image(frame(), "a photo")

    assert check.frames_checked == 1
    assert check.top_refused_score == 0.0


def test_threshold_boundary_refuses_at_the_threshold_not_below() -> None:
    at = DEFAULT_THRESHOLD
    below = float(np.nextafter(DEFAULT_THRESHOLD, 0.0))

    with pytest.raises(ContentRefusedError):
        ContentGate(always(finding("BUTTOCKS_EXPOSED", at))).check_image(frame(), "a photo")
    check = ContentGate(always(finding("BUTTOCKS_EXPOSED", below))).check_image(frame(), "a photo")

    assert check.top_refused_score == below


def test_refusal_names_the_strongest_finding() -> None:
    gate = ContentGate(always(finding("BUTTOCKS_EXPOSED", 0.5), finding("ANUS_EXPOSED", 0.95)))

    with pytest.raises(ContentRefusedError) as caught:
        gate.check_image(frame(), "a photo")

    assert caught.value.finding.label == "ANUS_EXPOSED"
    assert "exposed anus" in str(caught.value)


def test_stricter_policy_refuses_more() -> None:
    strict = ContentPolicy(refused_labels=REFUSED_LABELS | {"BELLY_EXPOSED"}, threshold=0.25)

    with pytest.raises(ContentRefusedError):
        ContentGate(always(finding("BELLY_EXPOSED", 0.3)), strict).check_image(frame(), "a photo")
    with pytest.raises(ContentRefusedError):
        ContentGate(always(finding("BUTTOCKS_EXPOSED", 0.3)), strict).check_image(frame(), "a photo")
    ContentGate(always(finding("BUTTOCKS_EXPOSED", 0.3))).check_image(frame(), "a photo")


# --- it cannot be turned off or loosened ---------------------------------------------------------


@pytest.mark.parametrize(
    "loosened",
    [
        {"threshold": DEFAULT_THRESHOLD + 0.01},
        {"threshold": 1.0},
        {"threshold": MIN_THRESHOLD / 2},
        {"refused_labels": frozenset()},
        {"refused_labels": REFUSED_LABELS - {"ANUS_EXPOSED"}},
        {"refused_labels": REFUSED_LABELS | {"NOT_A_LABEL"}},
        {"sample_interval_s": 1.5},
        {"sample_interval_s": 0.0},
    ],
)
def test_policy_cannot_be_loosened(loosened: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ContentPolicy(**loosened)  # type: ignore[arg-type]


def test_policy_is_frozen_and_gate_takes_no_new_attributes() -> None:
    gate = ContentGate(always())

    with pytest.raises(dataclasses.FrozenInstanceError):
        gate.policy.threshold = 1.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        gate.enabled = False  # type: ignore[attr-defined]


def test_threshold_below_the_detector_floor_is_refused() -> None:
    detector = FakeDetector(lambda _frame: [], min_score=0.35)

    with pytest.raises(ValueError, match="floor"):
        ContentGate(detector, ContentPolicy(threshold=0.3))


def test_no_parameter_or_environment_variable_disables_it() -> None:
    callables: list[Callable[..., object]] = [
        ContentGate.__init__,
        ContentGate.check_job,
        ContentGate.check_path,
        ContentGate.check_image,
        ContentGate.check_video,
        ContentGate.screen_video,
        FrameSampler.__init__,
        build_content_gate,
        NudityDetector.__init__,
    ]
    words = ("enable", "disable", "skip", "bypass", "off", "allow", "safe", "nsfw", "force", "unsafe")
    for function in callables:
        for name, parameter in inspect.signature(function).parameters.items():
            assert not any(word in name.lower() for word in words), (function, name)
            assert parameter.annotation not in (bool, "bool"), (function, name)
    for module in (gate_module, nudenet_module):
        source = inspect.getsource(module)
        assert "os.environ" not in source
        assert "getenv" not in source
        assert "import os" not in source
    fields = {field.name for field in dataclasses.fields(ContentPolicy)}
    assert fields == {"refused_labels", "threshold", "sample_interval_s"}


# --- videos: sampling and where the scan stops ---------------------------------------------------


def _video_frame(time_s: float, index: int) -> VideoFrame:
    return VideoFrame(frame(), index, time_s, index, Fraction(1, 1000))


@pytest.mark.parametrize("fps", [Fraction(30), Fraction(25), Fraction(30000, 1001), Fraction(1)])
def test_sample_frames_keeps_the_first_frame_and_gaps_within_the_interval(fps: Fraction) -> None:
    frames = [_video_frame(float(i / fps), i) for i in range(round(10 * fps))]

    times = [f.time_s for f in sample_frames(frames, 1.0)]

    assert times[0] == 0.0
    assert max(np.diff(times)) <= 1.0 + 1e-6
    assert times[-1] == frames[-1].time_s
    assert 10 <= len(times) <= 12  # about one a second, not every frame


def test_sample_frames_checks_both_sides_of_a_long_gap() -> None:
    frames = [_video_frame(t, i) for i, t in enumerate([0.0, 0.4, 0.8, 3.3, 3.7, 4.1, 4.5])]

    times = [f.time_s for f in sample_frames(frames, 1.0)]

    assert times == [0.0, 0.8, 3.3, 4.1, 4.5]


@pytest.mark.parametrize("interval_s", [1.0, 0.5])
def test_check_video_samples_at_least_once_per_interval(tmp_path: Path, interval_s: float) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=3.5, fps=Fraction(30))
    detector = FakeDetector(bright_refuses)
    gate = ContentGate(detector, ContentPolicy(sample_interval_s=interval_s))

    check = gate.check_video(video)

    assert check.sampled_times_s[0] == 0.0
    assert max(np.diff(check.sampled_times_s)) <= interval_s + 1e-6
    assert check.frames_checked == len(detector.frames) == len(check.sampled_times_s)
    assert check.frames_checked >= 3.5 / interval_s
    assert all(f.shape == (48, 64, 3) for f in detector.frames)


def test_check_video_stops_at_the_first_refusal(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=4.0, fps=Fraction(30), bright_from_s=2.0)
    detector = FakeDetector(bright_refuses)
    gate = ContentGate(detector, ContentPolicy(sample_interval_s=0.5))

    with pytest.raises(ContentRefusedError) as caught:
        gate.check_video(video, role="the target video")

    assert len(detector.frames) == 5  # 0.0, 0.5, 1.0, 1.5 and the refused 2.0
    assert "the target video" in str(caught.value)
    assert "at 2.00 s (frame 60)" in str(caught.value)


# --- jobs ----------------------------------------------------------------------------------------


def test_check_job_refuses_the_source_before_reading_the_target(tmp_path: Path) -> None:
    source = write_image(tmp_path / "source.png", frame(220))
    gate = ContentGate(FakeDetector(bright_refuses))

    with pytest.raises(ContentRefusedError, match="the source image"):
        gate.check_job(source, tmp_path / "missing-target.mp4")


def test_check_job_refuses_a_target_video(tmp_path: Path) -> None:
    source = write_image(tmp_path / "source.jpg", frame(40))
    target = make_video(tmp_path / "target.mp4", seconds=2.0, fps=Fraction(25), bright_from_s=1.0)
    before = sorted(tmp_path.iterdir())

    with pytest.raises(ContentRefusedError, match="the target video") as caught:
        ContentGate(FakeDetector(bright_refuses)).check_job(source, target)

    assert caught.value.exit_code == 3
    assert sorted(tmp_path.iterdir()) == before  # the gate writes nothing


def test_check_job_lets_ordinary_inputs_through(tmp_path: Path) -> None:
    source = write_image(tmp_path / "source.jpg", frame(40))
    target = make_video(tmp_path / "target.mp4", seconds=2.0, fps=Fraction(25))
    detector = FakeDetector(bright_refuses)

    check = ContentGate(detector).check_job(source, target)

    assert check.source.frames_checked == 1
    assert "source.jpg" in check.source.where
    assert check.target.frames_checked == len(detector.frames) - 1 >= 4
    assert check.target.top_refused_score == 0.0


def test_missing_input_is_a_media_error_not_a_pass(tmp_path: Path) -> None:
    source = write_image(tmp_path / "source.jpg", frame(40))

    with pytest.raises(MediaNotFoundError):
        ContentGate(FakeDetector(bright_refuses)).check_job(source, tmp_path / "nope.mp4")


def test_check_job_limits_a_target_video_to_the_window(tmp_path: Path) -> None:
    source = write_image(tmp_path / "source.jpg", frame(40))
    target = make_video(tmp_path / "target.mp4", seconds=4.0, fps=Fraction(25), bright_from_s=3.0)
    gate = ContentGate(FakeDetector(bright_refuses), ContentPolicy(sample_interval_s=0.5))

    check = gate.check_job(source, target, start_s=1.0, end_s=2.5)
    with pytest.raises(ContentRefusedError, match=r"at 3\.[0-4]\d s"):
        gate.check_job(source, target, start_s=1.0)

    assert check.target.sampled_times_s[0] == pytest.approx(1.0)
    assert check.target.sampled_times_s[-1] < 2.5
    assert max(np.diff(check.target.sampled_times_s)) <= 0.5 + 1e-6


def test_a_window_with_no_frames_is_an_error_not_a_pass(tmp_path: Path) -> None:
    target = make_video(tmp_path / "target.mp4", seconds=1.0, fps=Fraction(25))

    with pytest.raises(CorruptMediaError, match=r"no frame decodes between 5\.0 s and 6\.0 s"):
        ContentGate(FakeDetector(bright_refuses)).check_video(target, start_s=5.0, end_s=6.0)


# --- screening a video the caller decodes (the swap runner) --------------------------------------


def _screen_decoded(gate: ContentGate, video: Path, role: str) -> tuple[list[float], object]:
    """Drive a VideoScreen the way the swap runner does; the times it checked and its record."""
    screen = gate.screen_video(video, role)
    checked: list[float] = []
    with FrameReader(video) as reader:
        for decoded, next_time_s in with_next_time(reader):
            if screen.due(decoded, next_time_s):
                screen.check(decoded)
                checked.append(decoded.time_s)
    return checked, screen.finish()


def test_screen_video_checks_the_same_frames_as_check_video(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=3.0, fps=Fraction(30000, 1001))
    gate = ContentGate(FakeDetector(bright_refuses), ContentPolicy(sample_interval_s=0.5))

    checked, record = _screen_decoded(gate, video, "the target video")

    assert record == gate.check_video(video, role="the target video")
    assert checked == list(gate.check_video(video).sampled_times_s)


def test_screen_video_refuses_with_the_check_video_message(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=3.0, fps=Fraction(30), bright_from_s=1.5)
    gate = ContentGate(FakeDetector(bright_refuses), ContentPolicy(sample_interval_s=0.5))

    with pytest.raises(ContentRefusedError) as by_screen:
        _screen_decoded(gate, video, "the target video")
    with pytest.raises(ContentRefusedError) as by_scan:
        gate.check_video(video, role="the target video")

    assert str(by_screen.value) == str(by_scan.value)
    assert "at 1.50 s (frame 45)" in str(by_screen.value)


def test_screen_video_with_no_frame_checked_is_an_error_not_a_pass(tmp_path: Path) -> None:
    screen = ContentGate(FakeDetector(bright_refuses)).screen_video(
        tmp_path / "t.mp4", start_s=5.0, end_s=6.0
    )

    with pytest.raises(CorruptMediaError, match=r"no frame decodes between 5\.0 s and 6\.0 s"):
        screen.finish()


def test_frame_sampler_decides_before_the_frame_is_used() -> None:
    sampler = FrameSampler(1.0)
    times = [0.0, 0.4, 0.8, 3.3, 3.7, 4.1, 4.5]
    nexts: list[float | None] = [*times[1:], None]

    picked = [t for t, n in zip(times, nexts, strict=True) if sampler.due(t, n)]

    assert picked == [0.0, 0.8, 3.3, 4.1, 4.5]  # as sample_frames: both sides of the long gap
    with pytest.raises(ValueError, match="positive"):
        FrameSampler(0.0)
