"""The one swap runner: read, analyse, select, swap, blend, mark, write. Every entry point uses it.

Video is streamed (bounded memory); decoding and encoding run on their own threads while this thread
analyses and swaps. The output is written to a temporary file and renamed into place only when
complete; a cancel leaves nothing behind.

The content gate checks the source photo first, before anything else. A target video is checked from
the frames the runner decodes anyway (no second decode, no wait before the first frame): the gate's
sampled frames go to a thread of its own while the swap runs, a refusal stops the swap within a frame
and deletes the temporary file, and the output is renamed into place only after every sampled frame
has passed. So sexual content is still refused before any output exists.
"""

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from facecraft.errors import FacecraftError
from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.face import Face
from facecraft.faces.lookahead import LandmarkLookahead
from facecraft.faces.selection import FaceSelector
from facecraft.faces.tracker import FaceTracker
from facecraft.media.image import read_image, write_image
from facecraft.media.probe import is_image_path, probe
from facecraft.media.reader import FrameReader, VideoFrame, with_next_time
from facecraft.media.writer import FrameWriter, Preset, VideoCodec
from facecraft.pipeline.background import BackgroundWorker, BackgroundWriter
from facecraft.pipeline.marking import Marking
from facecraft.pipeline.stages import FrameStage
from facecraft.swap.base import SourceIdentity, Swapper, SwapResult
from facecraft.types import Frame

ProgressCallback = Callable[[int, int | None], None]
"""Called after each frame with (frames done, frames expected or None)."""


class CancelledError(FacecraftError):
    exit_code = 130

    def __init__(self) -> None:
        super().__init__("cancelled; no output was written")


class FaceCompositor(Protocol):
    """Puts one swapped face into the frame (``blend.compositor.Compositor`` is the real one)."""

    def composite(self, frame_bgr: Frame, target: Face, result: SwapResult) -> Frame: ...

    def reset(self) -> None:
        """Forget per-track state (colour history) before a new target."""
        ...


class VideoScreen(Protocol):
    """The gate's check of a video the runner decodes itself (``safety.gate.VideoScreen``).

    ``due`` is asked about every frame in order, ``check`` gets each due frame (on the gate's thread,
    raises ``ContentRefusedError``), ``finish`` comes after the last check and before the output is
    renamed into place.
    """

    def due(self, frame: VideoFrame, next_time_s: float | None) -> bool: ...

    def check(self, frame: VideoFrame) -> object: ...

    def finish(self) -> object: ...


class ContentChecker(Protocol):
    """The content gate (``safety.gate.ContentGate``): raises ``ContentRefusedError`` on sexual content."""

    def check_image(self, frame_bgr: Frame, where: str) -> object: ...

    def check_path(
        self, path: Path, role: str, *, start_s: float | None = None, end_s: float | None = None
    ) -> object: ...

    def screen_video(
        self, path: Path, role: str, *, start_s: float | None = None, end_s: float | None = None
    ) -> VideoScreen: ...


class FrameObserver(Protocol):
    """Sees every frame before and after the swap (the quality recorder is one)."""

    def observe(
        self, index: int, time_s: float, target_bgr: Frame, output_bgr: Frame, faces: list[Face]
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class EncodeOptions:
    """How the output video is encoded. ``fast`` rather than x264's ``medium``: on s18 (720p, CRF 18) it
    gives files 1.4% larger at the same PSNR (51.2 dB against the source) for 10% less CPU per frame, which
    is what keeps the whole swap faster than real time on two cores (bench/swap_speed.py)."""

    codec: VideoCodec = "h264"
    crf: int = 18
    preset: Preset = "fast"


@dataclass(frozen=True, slots=True)
class SwapRequest:
    target: Path
    output: Path
    start_s: float | None = None
    end_s: float | None = None
    min_face_px: float = 40.0
    encode: EncodeOptions = field(default_factory=EncodeOptions)


@dataclass(slots=True)
class SwapComponents:
    """Everything the runner needs, made by ``pipeline.builder``; ``make_tracker`` and ``make_selector``
    give fresh per-video state."""

    analyzer: FaceAnalyzer
    make_tracker: Callable[[], FaceTracker]
    make_selector: Callable[[], FaceSelector]
    source: SourceIdentity
    swapper: Swapper
    compositor: FaceCompositor
    gate: ContentChecker
    observers: Sequence[FrameObserver] = ()
    make_lookahead: "Callable[[], LandmarkLookahead[VideoFrame]] | None" = None
    """Fresh per-video centred landmark smoothing (frames wait ``delay`` frames); None: none."""


@dataclass(frozen=True, slots=True)
class SwapReport:
    output: Path
    frames: int
    frames_with_target: int
    faces_swapped: int
    tiny_faces_skipped: int
    seconds: float
    notes: tuple[str, ...]
    stage_ms: dict[str, float]
    setup_s: float = 0.0
    """Seconds from the call to the first frame (source check, swapper preparation, opening files)."""

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "output": str(self.output),
            "frames": self.frames,
            "frames_with_target": self.frames_with_target,
            "faces_swapped": self.faces_swapped,
            "tiny_faces_skipped": self.tiny_faces_skipped,
            "seconds": round(self.seconds, 3),
            "setup_s": round(self.setup_s, 3),
            "fps": round(self.fps, 2),
            "notes": list(self.notes),
            "stage_ms": {k: round(v, 2) for k, v in self.stage_ms.items()},
        }


@dataclass(slots=True)
class _Tally:
    frames: int = 0
    frames_with_target: int = 0
    faces_swapped: int = 0
    tiny_faces_skipped: int = 0
    faces_with_own_glasses: int = 0
    stage_s: dict[str, float] = field(default_factory=dict)
    first_frame_at: float | None = None  # perf_counter when the first frame started

    def timed(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.stage_s[stage] = self.stage_s.get(stage, 0.0) + now - since
        return now


class _FrameSwapper:
    """Per-video state and the per-frame work shared by images and videos."""

    def __init__(
        self,
        components: SwapComponents,
        request: SwapRequest,
        stages: Sequence[FrameStage],
        tracker: FaceTracker | None,
    ) -> None:
        self._c = components
        self._stages = stages
        self._request = request
        self._tracker = tracker
        self._selector = components.make_selector()
        self.tally = _Tally()

    def process(self, frame_bgr: Frame, index: int, time_s: float) -> Frame:
        """Analyse and swap one frame at once (an image, or a video without look-ahead)."""
        return self.render(frame_bgr, index, time_s, self.analyse(frame_bgr, time_s))

    def analyse(self, frame_bgr: Frame, time_s: float) -> list[Face]:
        """The faces of this frame to swap (tracked, selected, large enough)."""
        t = time.perf_counter()
        if self.tally.first_frame_at is None:
            self.tally.first_frame_at = t
        if self._tracker is not None:
            faces = self._tracker.update(frame_bgr, time_s)
        else:
            faces = [f.with_track(i) for i, f in enumerate(self._c.analyzer.analyze(frame_bgr))]
        chosen = self._selector.select(frame_bgr, faces)
        usable = [f for f in chosen if f.size_px >= self._request.min_face_px]
        self.tally.tiny_faces_skipped += len(chosen) - len(usable)
        self.tally.timed("analyse", t)
        return usable

    def render(self, frame_bgr: Frame, index: int, time_s: float, faces: Sequence[Face]) -> Frame:
        """Swap, blend and mark one frame whose faces ``analyse`` found (smoothed since, maybe)."""
        t = time.perf_counter()
        output = frame_bgr
        for face in faces:
            result = self._c.swapper.swap(frame_bgr, face)
            self.tally.faces_with_own_glasses += result.frame_keep is not None
            t = self.tally.timed("swap", t)
            output = self._c.compositor.composite(output, face, result)
            t = self.tally.timed("blend", t)
        for stage in self._stages:
            output = stage.process(output, index, time_s)
        t = self.tally.timed("mark", t)
        for observer in self._c.observers:
            observer.observe(index, time_s, frame_bgr, output, list(faces))
        self.tally.timed("observe", t)
        self.tally.frames += 1
        self.tally.frames_with_target += bool(faces)
        self.tally.faces_swapped += len(faces)
        return output


def run_swap(
    request: SwapRequest,
    components: SwapComponents,
    marking: Marking,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> SwapReport:
    """Swap the source into every selected face of the target image or video and write the output.

    The content gate checks the source photo first and the target before any output exists (a target
    video while it is swapped: see the module docstring). Every frame goes through the marking stages
    (visible label if asked, invisible watermark always), and the written file through its output
    steps (provenance record, C2PA credentials).
    """
    started = time.perf_counter()
    source = components.source
    components.gate.check_image(
        source.image_bgr, f"the source photo '{source.path}'" if source.path else "the source"
    )
    target_is_image = is_image_path(request.target)
    if target_is_image:
        components.gate.check_path(request.target, "target", start_s=request.start_s, end_s=request.end_s)
    source_notes = components.swapper.prepare(source)
    components.compositor.reset()
    if target_is_image:
        frame_swapper = _run_image(request, components, marking.frame_stages)
    else:
        frame_swapper = _run_video(request, components, marking.frame_stages, on_progress, cancel)
    notes = [*source.notes, *source_notes, *_outcome_notes(frame_swapper.tally, request)]
    for step in marking.output_steps:
        notes.extend(step.finish(request.output))
    tally = frame_swapper.tally
    stage_ms = {k: 1000 * v / max(tally.frames, 1) for k, v in tally.stage_s.items()}
    finished = time.perf_counter()
    return SwapReport(
        request.output,
        tally.frames,
        tally.frames_with_target,
        tally.faces_swapped,
        tally.tiny_faces_skipped,
        finished - started,
        tuple(notes),
        stage_ms,
        (tally.first_frame_at or finished) - started,
    )


def _run_image(
    request: SwapRequest, components: SwapComponents, stages: Sequence[FrameStage]
) -> _FrameSwapper:
    frame_swapper = _FrameSwapper(components, request, stages, tracker=None)
    output = frame_swapper.process(read_image(request.target), 0, 0.0)
    write_image(request.output, output)
    return frame_swapper


GATE_QUEUE_FRAMES = 4
"""Sampled frames waiting for the content gate's thread (about 2 s of video at the default 0.5 s)."""


def _run_video(
    request: SwapRequest,
    components: SwapComponents,
    stages: Sequence[FrameStage],
    on_progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> _FrameSwapper:
    info = probe(request.target)
    expected = _expected_frames(info.frame_count, float(info.fps), request)
    frame_swapper = _FrameSwapper(components, request, stages, components.make_tracker())
    tally = frame_swapper.tally
    screen = components.gate.screen_video(
        request.target, "the target video", start_s=request.start_s, end_s=request.end_s
    )
    encode = request.encode
    with (
        FrameReader(request.target, request.start_s, request.end_s) as reader,
        FrameWriter(
            request.output,
            fps=info.fps,
            codec=encode.codec,
            crf=encode.crf,
            preset=encode.preset,
            audio_from=request.target,
            start_s=request.start_s,
            end_s=request.end_s,
        ) as writer,
        BackgroundWriter(writer) as background,
        BackgroundWorker(screen.check, "facecraft-gate", GATE_QUEUE_FRAMES) as gate,
    ):
        lookahead = components.make_lookahead() if components.make_lookahead is not None else None

        def finish(frame: VideoFrame, faces: list[Face]) -> None:
            output = frame_swapper.render(frame.image_bgr, frame.index, frame.time_s, faces)
            t = time.perf_counter()
            background.write(output, frame.time_s)
            tally.timed("write", t)
            if on_progress is not None:
                on_progress(frame.index + 1, expected)

        def stop_if_asked() -> None:
            gate.raise_error()  # a refusal found meanwhile stops the swap here
            if cancel is not None and cancel.is_set():
                raise CancelledError()

        t = time.perf_counter()
        for frame, next_time_s in with_next_time(reader):
            tally.timed("read", t)
            stop_if_asked()
            if screen.due(frame, next_time_s):
                gate.submit(_detached(frame))
            faces = frame_swapper.analyse(frame.image_bgr, frame.time_s)
            if lookahead is None:
                finish(frame, faces)
            else:
                for waited, smoothed in lookahead.push(frame, faces):
                    finish(waited, smoothed)
            t = time.perf_counter()
        for waited, smoothed in lookahead.flush() if lookahead is not None else ():
            stop_if_asked()
            finish(waited, smoothed)
        gate.close()  # every sampled frame checked: a refusal is raised here, before the output exists
        screen.finish()
        background.close()
    return frame_swapper


def _detached(frame: VideoFrame) -> VideoFrame:
    """The frame with a copy of its pixels, so the gate sees the target as decoded whatever the swap does."""
    return replace(frame, image_bgr=frame.image_bgr.copy())


def _expected_frames(frame_count: int, fps: float, request: SwapRequest) -> int | None:
    if request.start_s is None and request.end_s is None:
        return frame_count or None
    duration = frame_count / fps if fps > 0 else 0.0
    span = (request.end_s if request.end_s is not None else duration) - (request.start_s or 0.0)
    return max(round(span * fps), 0) or None


def _outcome_notes(tally: _Tally, request: SwapRequest) -> list[str]:
    notes: list[str] = []
    if tally.frames_with_target == 0:
        notes.append(
            f"no face to swap was found in '{request.target}'; the output is the target, unchanged but marked"
        )
    elif tally.frames_with_target < tally.frames:
        missing = tally.frames - tally.frames_with_target
        notes.append(f"{missing} of {tally.frames} frame(s) had no face to swap and were left as they were")
    if tally.tiny_faces_skipped:
        notes.append(
            f"{tally.tiny_faces_skipped} face(s) smaller than {request.min_face_px:.0f} px were skipped "
            "(too small to swap well)"
        )
    if tally.faces_with_own_glasses:
        notes.append(
            f"the target wears glasses ({tally.faces_with_own_glasses} of {tally.faces_swapped} swapped "
            "face(s)): their rims were kept over the swapped face (--no-target-glasses paints them over)"
        )
    return notes
