"""The one swap runner: read, analyse, select, swap, blend, mark, write. Every entry point uses it.

Video is streamed (bounded memory); decoding and encoding run on their own threads while this thread
analyses and swaps. The output is written to a temporary file and renamed into place only when
complete; a cancel leaves nothing behind.
"""

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from facecraft.errors import FacecraftError
from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.face import Face
from facecraft.faces.selection import FaceSelector
from facecraft.faces.tracker import FaceTracker
from facecraft.media.image import read_image, write_image
from facecraft.media.probe import is_image_path, probe
from facecraft.media.reader import FrameReader
from facecraft.media.writer import FrameWriter, Preset, VideoCodec
from facecraft.pipeline.background import BackgroundWriter
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


class ContentChecker(Protocol):
    """The content gate (``safety.gate.ContentGate``): raises ``ContentRefusedError`` on sexual content."""

    def check_image(self, frame_bgr: Frame, where: str) -> object: ...

    def check_path(
        self, path: Path, role: str, *, start_s: float | None = None, end_s: float | None = None
    ) -> object: ...


class FrameObserver(Protocol):
    """Sees every frame before and after the swap (the quality recorder is one)."""

    def observe(
        self, index: int, time_s: float, target_bgr: Frame, output_bgr: Frame, faces: list[Face]
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class EncodeOptions:
    codec: VideoCodec = "h264"
    crf: int = 18
    preset: Preset = "medium"


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
    stage_s: dict[str, float] = field(default_factory=dict)

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
        t = time.perf_counter()
        if self._tracker is not None:
            faces = self._tracker.update(frame_bgr, time_s)
        else:
            faces = [f.with_track(i) for i, f in enumerate(self._c.analyzer.analyze(frame_bgr))]
        chosen = self._selector.select(frame_bgr, faces)
        usable = [f for f in chosen if f.size_px >= self._request.min_face_px]
        t = self.tally.timed("analyse", t)
        output = frame_bgr
        for face in usable:
            result = self._c.swapper.swap(frame_bgr, face)
            t = self.tally.timed("swap", t)
            output = self._c.compositor.composite(output, face, result)
            t = self.tally.timed("blend", t)
        for stage in self._stages:
            output = stage.process(output, index, time_s)
        t = self.tally.timed("mark", t)
        for observer in self._c.observers:
            observer.observe(index, time_s, frame_bgr, output, usable)
        self.tally.timed("observe", t)
        self.tally.frames += 1
        self.tally.frames_with_target += bool(usable)
        self.tally.faces_swapped += len(usable)
        self.tally.tiny_faces_skipped += len(chosen) - len(usable)
        return output


def run_swap(
    request: SwapRequest,
    components: SwapComponents,
    marking: Marking,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> SwapReport:
    """Swap the source into every selected face of the target image or video and write the output.

    The content gate runs first: sexual content is refused before any output exists. Every frame goes
    through the marking stages (visible label if asked, invisible watermark always), and the written
    file through its output steps (provenance record, C2PA credentials).
    """
    started = time.perf_counter()
    source = components.source
    components.gate.check_image(
        source.image_bgr, f"the source photo '{source.path}'" if source.path else "the source"
    )
    components.gate.check_path(request.target, "target", start_s=request.start_s, end_s=request.end_s)
    components.swapper.prepare(source)
    components.compositor.reset()
    if is_image_path(request.target):
        frame_swapper = _run_image(request, components, marking.frame_stages)
    else:
        frame_swapper = _run_video(request, components, marking.frame_stages, on_progress, cancel)
    notes = list(components.source.notes) + _outcome_notes(frame_swapper.tally, request)
    for step in marking.output_steps:
        notes.extend(step.finish(request.output))
    tally = frame_swapper.tally
    stage_ms = {k: 1000 * v / max(tally.frames, 1) for k, v in tally.stage_s.items()}
    return SwapReport(
        request.output,
        tally.frames,
        tally.frames_with_target,
        tally.faces_swapped,
        tally.tiny_faces_skipped,
        time.perf_counter() - started,
        tuple(notes),
        stage_ms,
    )


def _run_image(
    request: SwapRequest, components: SwapComponents, stages: Sequence[FrameStage]
) -> _FrameSwapper:
    frame_swapper = _FrameSwapper(components, request, stages, tracker=None)
    output = frame_swapper.process(read_image(request.target), 0, 0.0)
    write_image(request.output, output)
    return frame_swapper


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
    ):
        for frame in reader:
            if cancel is not None and cancel.is_set():
                raise CancelledError()
            background.write(frame_swapper.process(frame.image_bgr, frame.index, frame.time_s), frame.time_s)
            if on_progress is not None:
                on_progress(frame.index + 1, expected)
        background.close()
    return frame_swapper


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
    return notes
