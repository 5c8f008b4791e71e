"""Evaluate a finished swap from files: source photo, original target, swapped output (videos or images).

Videos are read in lockstep (frame i of the target with frame i of the output); the target's faces are
tracked as in the swap; every frame is measured, and ``identity_frames`` frames spread evenly over the
video are embedded. Images are one frame. The numbers come from the same ``QualityRecorder`` that
``facecraft swap --report`` uses.
"""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from facecraft.errors import NoFaceError, UnsupportedFormatError
from facecraft.faces.analyzer import FaceAnalyzer, LandmarkFitter
from facecraft.faces.identity import DlibIdentity
from facecraft.faces.mesh import FaceMesh
from facecraft.media.image import read_image
from facecraft.media.probe import is_image_path, probe
from facecraft.media.reader import FrameReader, VideoFrame
from facecraft.pipeline.builder import AnalysisConfig, build_analyzer, build_tracker
from facecraft.quality.identity import IdentitySchedule
from facecraft.quality.recorder import Embedder, QualityRecorder, RecorderSettings
from facecraft.quality.report import QualityReport
from facecraft.quality.sheet import SheetFrame, draw_contact_sheet
from facecraft.types import FloatArray, Frame

DEFAULT_IDENTITY_FRAMES = 16


@dataclass(frozen=True, slots=True)
class QualityTools:
    """The models an evaluation needs; build once (``build_quality_tools``) and reuse across evaluations.

    analyzer: detector + mesh for the target's faces and the source photo; mesh: re-fits without iris;
    identity: dlib embeddings.
    """

    analyzer: FaceAnalyzer
    mesh: LandmarkFitter
    identity: Embedder


def build_quality_tools(num_threads: int = 1) -> QualityTools:
    """Load the models (detector, mesh, iris, dlib ResNet): about a second."""
    config = AnalysisConfig(num_threads=num_threads)
    return QualityTools(build_analyzer(config), FaceMesh(num_threads=num_threads), DlibIdentity())


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The report, and the contact sheet's rows (empty unless asked for)."""

    report: QualityReport
    sheet_rows: tuple[SheetFrame, ...] = ()

    def contact_sheet(self, title: str = "") -> Frame:
        return draw_contact_sheet(self.sheet_rows, self.report, title)


@dataclass(frozen=True, slots=True)
class EvalInputs:
    """source: the photo the swap used (``None``: no ``id_to_source``); target: the original; swapped: the
    output. identity_frames: frames embedded (video); sheet_frames: rows for the contact sheet."""

    source: Path | None
    target: Path
    swapped: Path
    identity_frames: int = DEFAULT_IDENTITY_FRAMES
    sheet_frames: int = 0
    detect_every: int = 10


def evaluate(
    inputs: EvalInputs, tools: QualityTools, on_frame: Callable[[int], None] | None = None
) -> Evaluation:
    """Measure a swap from files. ``on_frame(index)`` is called after each frame (progress)."""
    target_is_image = is_image_path(inputs.target)
    if target_is_image != is_image_path(inputs.swapped):
        kinds = ("an image", "a video") if target_is_image else ("a video", "an image")
        detail = f"the target is {kinds[0]} but this is {kinds[1]}; compare a swap with its own target"
        raise UnsupportedFormatError(inputs.swapped, detail)
    frame_count = 1 if target_is_image else _paired_frame_count(inputs)
    source_embedding = None if inputs.source is None else embed_source(inputs.source, tools)
    schedule = IdentitySchedule.evenly(frame_count, inputs.identity_frames)
    settings = RecorderSettings(identity=schedule, sheet_frames=inputs.sheet_frames)
    recorder = QualityRecorder(tools.mesh, tools.identity, source_embedding, settings)
    if target_is_image:
        _observe_images(inputs, tools, recorder)
        if on_frame is not None:
            on_frame(0)
    else:
        _observe_videos(inputs, tools, recorder, on_frame)
    return Evaluation(recorder.report(), tuple(recorder.sheet_rows))


def embed_source(source: Path, tools: QualityTools) -> FloatArray:
    """Identity embedding of the largest face in the source photo."""
    if not is_image_path(source):
        raise UnsupportedFormatError(source, "the source must be a photo (JPEG, PNG, WebP), as for the swap")
    image_bgr = read_image(source)
    faces = tools.analyzer.analyze(image_bgr)
    if not faces:
        raise NoFaceError(f"source photo '{source}'")
    return tools.identity(image_bgr, max(faces, key=lambda f: f.area_px))


def _paired_frame_count(inputs: EvalInputs) -> int:
    """Frames both videos have (identity samples are spread over these); refuses different frame sizes."""
    target, swapped = probe(inputs.target), probe(inputs.swapped)
    if target.display_wh != swapped.display_wh:
        raise UnsupportedFormatError(inputs.swapped, _size_detail(target.display_wh, swapped.display_wh))
    return min(target.frame_count, swapped.frame_count)


def _observe_images(inputs: EvalInputs, tools: QualityTools, recorder: QualityRecorder) -> None:
    target_bgr, output_bgr = read_image(inputs.target), read_image(inputs.swapped)
    _check_sizes(inputs, target_bgr, output_bgr)
    faces = [face.with_track(i) for i, face in enumerate(tools.analyzer.analyze(target_bgr))]
    recorder.observe(0, 0.0, target_bgr, output_bgr, faces)


def _observe_videos(
    inputs: EvalInputs,
    tools: QualityTools,
    recorder: QualityRecorder,
    on_frame: Callable[[int], None] | None,
) -> None:
    tracker = build_tracker(tools.analyzer, AnalysisConfig(detect_every=inputs.detect_every))
    with ExitStack() as stack:
        targets = iter(stack.enter_context(FrameReader(inputs.target)))
        outputs = iter(stack.enter_context(FrameReader(inputs.swapped)))
        for target, output in _lockstep(targets, outputs, recorder):
            if target.index == 0:
                _check_sizes(inputs, target.image_bgr, output.image_bgr)
            faces = tracker.update(target.image_bgr, target.time_s)
            recorder.observe(target.index, target.time_s, target.image_bgr, output.image_bgr, faces)
            if on_frame is not None:
                on_frame(target.index)


def _lockstep(
    targets: Iterator[VideoFrame], outputs: Iterator[VideoFrame], recorder: QualityRecorder
) -> Iterator[tuple[VideoFrame, VideoFrame]]:
    """Pairs of frames with the same index; frames left over in the longer video are counted and noted."""
    while True:
        target = next(targets, None)
        output = next(outputs, None)
        if target is None or output is None:
            break
        yield target, output
    if target is not None:
        extra = 1 + sum(1 for _ in targets)
        recorder.note_unpaired(extra, f"the target has {extra} frame(s) more than the swapped output")
    elif output is not None:
        extra = 1 + sum(1 for _ in outputs)
        recorder.note_unpaired(extra, f"the swapped output has {extra} frame(s) more than the target")


def _check_sizes(inputs: EvalInputs, target_bgr: Frame, output_bgr: Frame) -> None:
    if target_bgr.shape != output_bgr.shape:
        target_wh = (target_bgr.shape[1], target_bgr.shape[0])
        output_wh = (output_bgr.shape[1], output_bgr.shape[0])
        raise UnsupportedFormatError(inputs.swapped, _size_detail(target_wh, output_wh))


def _size_detail(target_wh: tuple[int, int], output_wh: tuple[int, int]) -> str:
    return (
        f"its frames are {output_wh[0]}x{output_wh[1]} but the target's are {target_wh[0]}x{target_wh[1]}; "
        "compare a swap with the target it was made from"
    )
