"""The content gate: refuse a job whose source or target shows sexual content, before any output exists.

``ContentGate(NudityDetector()).check_job(source, target)`` looks at the source and the target (a still
image: the image; a video: its first and last frames and frames between at most ``sample_interval_s``
apart) and raises :class:`ContentRefusedError` (exit code 3) at the first frame where a refused class
scores at or over the policy's threshold. It returns what it checked otherwise.

A caller that decodes the target video anyway (the swap runner) checks it with
``ContentGate.screen_video`` instead: a :class:`VideoScreen` picks the same frames from the caller's own
stream and refuses with the same message, so the video is decoded once. The caller must keep the
output unpublished until ``VideoScreen.finish`` has returned (the swap runner writes to a temporary
file and renames it into place only after that).

The gate cannot be switched off: there is no flag, no environment variable and no parameter that skips
it. :class:`ContentPolicy` only lets a caller make it stricter (more labels, a lower threshold, denser
sampling), never looser; its constructor refuses anything else.

:class:`ContentRefusedError` lives here for now; it is meant to move to ``facecraft.errors``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, get_args

from facecraft.errors import CorruptMediaError, FacecraftError
from facecraft.media.image import read_image
from facecraft.media.probe import is_image_path
from facecraft.media.reader import FrameReader, VideoFrame, with_next_time
from facecraft.safety.nudenet import DEFAULT_MIN_SCORE, NUDITY_LABELS, Finding, NudityDetector, NudityLabel
from facecraft.types import Frame

RefusedLabel = Literal[
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "BUTTOCKS_EXPOSED",
    "ANUS_EXPOSED",
]
"""Detector classes that refuse a job: exposed female breasts, genitalia (either sex), buttocks, anus."""
REFUSED_LABELS: frozenset[NudityLabel] = frozenset(get_args(RefusedLabel))

DEFAULT_THRESHOLD = 0.4
"""Score at or over which a refused class refuses the job; also the loosest threshold allowed.

On every frame of the ordinary footage in ``../shared/media`` (9 videos, 2,362 frames; 11 photos) the
highest score of any refused class is 0.10 (a woman by a lake, s20.mp4), so 0.4 leaves a 4x margin
against false refusals of ordinary clips. NudeNet itself reports classes from 0.2 up; 0.4 keeps the
gate strict (a refusal needs only a plausible detection on one sampled frame, and a wrong refusal
costs the user a clear message, not a harmful output). Lower thresholds are allowed (stricter), down
to the detector's reporting floor. Not measured here: scores on real sexual content and on hard
negatives such as swimwear (no such images may be kept in this repository).
"""
MIN_THRESHOLD = DEFAULT_MIN_SCORE
"""The strictest threshold: the detector reports nothing below it."""
MAX_SAMPLE_INTERVAL_S = 1.0
"""Video frames are checked at least once per second of video (the issue's floor)."""
DEFAULT_SAMPLE_INTERVAL_S = 0.5
"""Two checks per second by default: a sampled 720p frame costs about 30 ms, decoding dominates anyway."""

_TIME_SLACK_S = 1e-6  # frame times are rounded timestamps; 29.97 fps steps must not miss a sample


class ContentRefusedError(FacecraftError):
    """The source or target shows sexual content; facecraft refuses the job. Exit code 3."""

    exit_code = 3

    def __init__(self, where: str, finding: Finding, threshold: float) -> None:
        super().__init__(
            f"refused: {where} appears to show sexual content ({describe_label(finding.label)}; "
            f"{finding.label} scored {finding.score:.2f}, the limit is {threshold:.2f}). "
            "facecraft does not work on sexual content, and this check is always on. "
            "If the detector is wrong, use another photo or cut that part out of the clip."
        )
        self.where = where
        self.finding = finding
        self.threshold = threshold


_LABEL_WORDS: dict[str, str] = {
    "FEMALE_BREAST_EXPOSED": "an exposed female breast",
    "FEMALE_GENITALIA_EXPOSED": "exposed female genitalia",
    "MALE_GENITALIA_EXPOSED": "exposed male genitalia",
    "BUTTOCKS_EXPOSED": "exposed buttocks",
    "ANUS_EXPOSED": "an exposed anus",
}


def describe_label(label: NudityLabel) -> str:
    """A detector label in plain words, for messages."""
    return _LABEL_WORDS.get(label, label.lower().replace("_", " "))


@dataclass(frozen=True, slots=True)
class ContentPolicy:
    """What refuses a job. Every field may only be made stricter than the default.

    refused_labels: classes that refuse; must include every one of :data:`REFUSED_LABELS`.
    threshold: a refused class scoring at or over this refuses; in [MIN_THRESHOLD, DEFAULT_THRESHOLD].
    sample_interval_s: longest gap between checked video frames; in (0, MAX_SAMPLE_INTERVAL_S].
    """

    refused_labels: frozenset[NudityLabel] = REFUSED_LABELS
    threshold: float = DEFAULT_THRESHOLD
    sample_interval_s: float = DEFAULT_SAMPLE_INTERVAL_S

    def __post_init__(self) -> None:
        unknown = sorted(set(self.refused_labels) - set(NUDITY_LABELS))
        if unknown:
            raise ValueError(f"unknown labels {unknown}; choose from {NUDITY_LABELS}")
        missing = sorted(REFUSED_LABELS - self.refused_labels)
        if missing:
            raise ValueError(f"refused_labels must include {missing}: the content gate cannot be loosened")
        if not MIN_THRESHOLD <= self.threshold <= DEFAULT_THRESHOLD:
            raise ValueError(
                f"threshold must be in [{MIN_THRESHOLD}, {DEFAULT_THRESHOLD}] (only stricter than the "
                f"default), got {self.threshold}"
            )
        if not 0.0 < self.sample_interval_s <= MAX_SAMPLE_INTERVAL_S:
            raise ValueError(
                f"sample_interval_s must be in (0, {MAX_SAMPLE_INTERVAL_S}], got {self.sample_interval_s}"
            )

    def first_refusal(self, findings: Iterable[Finding]) -> Finding | None:
        """The highest-scoring finding that refuses the job, or None."""
        refusing = [f for f in findings if f.label in self.refused_labels and f.score >= self.threshold]
        return max(refusing, key=lambda f: f.score, default=None)

    def top_refused_score(self, findings: Iterable[Finding]) -> float:
        """Highest score of any refused label (0.0 when none), for the run report."""
        return max((f.score for f in findings if f.label in self.refused_labels), default=0.0)


class FindingDetector(Protocol):
    """What the gate needs from a detector (``NudityDetector``, or a fake in tests)."""

    @property
    def min_score(self) -> float: ...

    def detect(self, frame_bgr: Frame) -> list[Finding]: ...


@dataclass(frozen=True, slots=True)
class ContentCheck:
    """What the gate checked in one input that it let through.

    sampled_times_s: times of the checked video frames (empty for a still image).
    top_refused_score: highest score any refused class reached (below the threshold, or it would refuse).
    """

    where: str
    frames_checked: int
    sampled_times_s: tuple[float, ...]
    top_refused_score: float


@dataclass(frozen=True, slots=True)
class JobCheck:
    """The gate's record of a job it let through."""

    source: ContentCheck
    target: ContentCheck


class FrameSampler:
    """Which frames of a video the gate checks: the first and the last, and between them frames at most
    ``interval_s`` apart.

    Give :meth:`due` every frame's time, in order, with the time of the frame after it (``None`` for the
    last frame). A frame is checked when it is the first or the last, when it is already more than
    ``interval_s`` after the last checked frame (a gap in the video itself), or when the next frame
    would be; so a 10 s clip at 30 fps and 1 s gives 0.0, 1.0, ..., 9.0 and 9.97 s. Knowing the next
    frame's time lets the decision be made before the frame is used.
    """

    __slots__ = ("_last_s", "_limit_s")

    def __init__(self, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self._limit_s = interval_s + _TIME_SLACK_S
        self._last_s: float | None = None

    def due(self, time_s: float, next_time_s: float | None) -> bool:
        """Whether the frame at ``time_s`` is checked; call once per frame, in order."""
        last_s = self._last_s
        checked = (
            last_s is None
            or next_time_s is None
            or time_s - last_s > self._limit_s
            or next_time_s - last_s > self._limit_s
        )
        if checked:
            self._last_s = time_s
        return checked


def sample_frames(frames: Iterable[VideoFrame], interval_s: float) -> Iterator[VideoFrame]:
    """The frames that :class:`FrameSampler` picks (it reads one frame ahead of the one it yields).

    Where the video itself has a longer gap between two frames than ``interval_s``, both are checked.
    """
    sampler = FrameSampler(interval_s)
    for frame, next_time_s in with_next_time(frames):
        if sampler.due(frame.time_s, next_time_s):
            yield frame


class VideoScreen:
    """The gate's check of a video whose frames the caller decodes (made by ``ContentGate.screen_video``).

    It checks the same frames as :meth:`ContentGate.check_video`, refuses with the same message and
    returns the same record, without decoding the video again:

    1. call :meth:`due` for every frame, in order, with the next frame's time (cheap: no model runs);
    2. call :meth:`check` for every frame ``due`` picked, in order, from any one thread at a time; it
       raises :class:`ContentRefusedError` on a refusal (give it a frame nothing else writes to);
    3. call :meth:`finish` when every picked frame has been checked: the record, or
       ``CorruptMediaError`` when the video had no frame to check.

    A refusal may come after the caller started using earlier frames, so the caller must not publish
    anything made from the video before ``finish`` returns.
    """

    __slots__ = ("_check_frame", "_path", "_role", "_sampler", "_times", "_top", "_window")

    def __init__(self, gate: ContentGate, path: Path, role: str, window: str = "") -> None:
        self._check_frame = gate._check_frame
        self._sampler = FrameSampler(gate.policy.sample_interval_s)
        self._path = Path(path)
        self._role = role
        self._window = window
        self._times: list[float] = []
        self._top = 0.0

    def due(self, frame: VideoFrame, next_time_s: float | None) -> bool:
        """Whether ``frame`` must be checked (then pass it to :meth:`check`)."""
        return self._sampler.due(frame.time_s, next_time_s)

    def check(self, frame: VideoFrame) -> ContentCheck:
        """Check one picked frame; raises :class:`ContentRefusedError`, else the record so far."""
        where = f"{self._role} '{self._path}' at {frame.time_s:.2f} s (frame {frame.index})"
        self._top = max(self._top, self._check_frame(frame.image_bgr, where))
        self._times.append(frame.time_s)
        return self._record()

    def finish(self) -> ContentCheck:
        """What was checked; ``CorruptMediaError`` when no frame was (an empty video or window)."""
        if not self._times:
            raise CorruptMediaError(
                self._path, f"no frame decodes{self._window}, so its content cannot be checked"
            )
        return self._record()

    def _record(self) -> ContentCheck:
        return ContentCheck(f"{self._role} '{self._path}'", len(self._times), tuple(self._times), self._top)


class ContentGate:
    """Refuse sexual content in a job's inputs (see the module docstring). Always on."""

    __slots__ = ("_detector", "_policy")

    def __init__(self, detector: FindingDetector, policy: ContentPolicy | None = None) -> None:
        policy = ContentPolicy() if policy is None else policy
        if policy.threshold < detector.min_score:
            raise ValueError(
                f"threshold {policy.threshold} is below the detector's reporting floor {detector.min_score}"
            )
        self._detector = detector
        self._policy = policy

    @property
    def policy(self) -> ContentPolicy:
        return self._policy

    def check_job(
        self, source: Path, target: Path, *, start_s: float | None = None, end_s: float | None = None
    ) -> JobCheck:
        """Check the source, then the target; raises ContentRefusedError at the first refusal.

        ``start_s``/``end_s`` limit a target video to the part the job will use (as ``FrameReader``).
        """
        return JobCheck(
            self.check_path(source, "source"), self.check_path(target, "target", start_s=start_s, end_s=end_s)
        )

    def check_path(
        self, path: Path, role: str, *, start_s: float | None = None, end_s: float | None = None
    ) -> ContentCheck:
        """Check a still image or a video file; ``role`` ("source", "target") names it in messages."""
        path = Path(path)
        if is_image_path(path):
            return self.check_image(read_image(path), f"the {role} image '{path}'")
        return self.check_video(path, role=f"the {role} video", start_s=start_s, end_s=end_s)

    def check_image(self, frame_bgr: Frame, where: str) -> ContentCheck:
        """Check one frame; ``where`` says what it is in the refusal message."""
        top = self._check_frame(frame_bgr, where)
        return ContentCheck(where, 1, (), top)

    def check_video(
        self,
        path: Path,
        role: str = "the video",
        *,
        start_s: float | None = None,
        end_s: float | None = None,
    ) -> ContentCheck:
        """Check sampled frames of a video (or of its part from ``start_s`` to ``end_s``), streaming.

        Stops at the first refusal. A video (or part) with no frame to check raises CorruptMediaError.
        """
        screen = self.screen_video(path, role, start_s=start_s, end_s=end_s)
        with FrameReader(path, start_s, end_s) as reader:
            for frame, next_time_s in with_next_time(reader):
                if screen.due(frame, next_time_s):
                    screen.check(frame)
        return screen.finish()

    def screen_video(
        self, path: Path, role: str = "the video", *, start_s: float | None = None, end_s: float | None = None
    ) -> VideoScreen:
        """A check of a video whose frames the caller decodes itself (see :class:`VideoScreen`).

        ``start_s``/``end_s`` name the part of the video the caller decodes (for messages only).
        """
        window = "" if start_s is None and end_s is None else f" between {start_s} s and {end_s} s"
        return VideoScreen(self, Path(path), role, window)

    def _check_frame(self, frame_bgr: Frame, where: str) -> float:
        findings = self._detector.detect(frame_bgr)
        refusal = self._policy.first_refusal(findings)
        if refusal is not None:
            raise ContentRefusedError(where, refusal, self._policy.threshold)
        return self._policy.top_refused_score(findings)


def build_content_gate(num_threads: int = 1) -> ContentGate:
    """The gate with the NudeNet detector and the default policy (loads the model now).

    One onnxruntime thread by default: the swap runner checks the target on a thread of its own while
    the swap and the encoder keep both cores busy, where a second inference thread only waits for a
    core (a sampled 720p frame: about 24 ms of CPU with one thread, 29 ms with two). Pass 0 for every
    core where the gate runs alone.
    """
    return ContentGate(NudityDetector(num_threads=num_threads))
