"""Turn videos and photos into a faceset: aligned crops of one person, with landmarks, masks and poses.

Videos are streamed through the face tracker (so landmarks are smoothed and the chosen person keeps
their track); every ``every``-th frame is used. Photos are analysed once. For each chosen face the
aligned crop of the face type is warped (``faceset.crop.crop_matrix``), its landmarks mapped into crop
pixels, its pose and sharpness measured and its mask drawn (``faceset.mask``). Faces are dropped when
too small, partly outside the frame, near copies of a face already kept (the sharper one stays), or
blurred (under an absolute floor, or under a fraction of the set's median sharpness, judged at the
end). The set is written into a hidden folder and moved into place only when complete
(``faceset.output``), with ``faceset.json`` and a contact sheet.
"""

import threading
import time
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

from facecraft.errors import SelectionError
from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.face import Face
from facecraft.faces.selection import FaceSelector, SelectionPolicy
from facecraft.faceset.collect import CollectSettings, DropCounts, FaceCollector, write_png
from facecraft.faceset.crop import FaceType, parse_face_type
from facecraft.faceset.filters import (
    DEFAULT_BLUR_FLOOR,
    DEFAULT_BLUR_RELATIVE,
    DEFAULT_DUPLICATE_DISTANCE,
    DEFAULT_DUPLICATE_POSE_DEG,
    BlurSettings,
    DuplicateSettings,
)
from facecraft.faceset.index import FACES_DIR, MASKS_DIR, FacesetEntry, FacesetError, FacesetIndex, save_index
from facecraft.faceset.output import (
    check_output_dir,
    commit_partial_dir,
    discard_partial_dir,
    make_partial_dir,
)
from facecraft.faceset.sheet import SheetTile, draw_sheet, spread_indices
from facecraft.faceset.summary import ExtractSummary, InputCount, pose_spread
from facecraft.media.image import read_image
from facecraft.media.probe import is_image_path, probe
from facecraft.media.reader import FrameReader
from facecraft.media.validate import check_input_file
from facecraft.pipeline.analyze import embed_reference
from facecraft.pipeline.builder import AnalysisConfig, build_analyzer, build_identity, build_tracker
from facecraft.types import Frame

CONTACT_SHEET_FILE = "contact_sheet.png"


class ExtractCancelledError(FacesetError):
    exit_code = 130

    def __init__(self) -> None:
        super().__init__("extraction cancelled; no faceset was written")


class NoFacesExtractedError(FacesetError):
    """No face survived: none found, none matched the reference, or all were too small or blurred."""


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    """What to extract and how.

    faces: ``largest`` (default), ``index:N`` or ``reference:PHOTO`` (one person per faceset).
    every: use every N-th video frame. min_face_px: skip faces smaller than this in the frame.
    blur_relative, blur_floor: blurred-face thresholds (``filters.BlurSettings``).
    duplicate_distance, duplicate_pose_deg: near-duplicate thresholds (``filters.DuplicateSettings``;
    distance 0 keeps every face). force: replace an existing faceset in ``output_dir``.
    """

    inputs: tuple[Path, ...]
    output_dir: Path
    size: int = 256
    face_type: FaceType = "face"
    faces: str = "largest"
    every: int = 1
    min_face_px: float = 48.0
    blur_relative: float = DEFAULT_BLUR_RELATIVE
    blur_floor: float = DEFAULT_BLUR_FLOOR
    duplicate_distance: float = DEFAULT_DUPLICATE_DISTANCE
    duplicate_pose_deg: float = DEFAULT_DUPLICATE_POSE_DEG
    force: bool = False
    detect_every: int = 10

    def __post_init__(self) -> None:
        if not self.inputs:
            raise FacesetError("no input given: name one or more videos or photos to extract faces from")
        try:
            parse_face_type(self.face_type)
        except ValueError as error:
            raise FacesetError(str(error)) from error
        if not 32 <= self.size <= 2048:
            raise FacesetError(f"crop size must be 32 to 2048 pixels, got {self.size}")
        if self.every < 1:
            raise FacesetError(f"--every must be 1 or more, got {self.every}")
        if self.min_face_px < 0:
            raise FacesetError(f"the smallest face size must be 0 or more pixels, got {self.min_face_px}")
        self.collect_settings()  # checks the filter thresholds

    def collect_settings(self) -> CollectSettings:
        blur = BlurSettings(self.blur_relative, self.blur_floor)
        duplicates = DuplicateSettings(self.duplicate_distance, self.duplicate_pose_deg)
        return CollectSettings(self.size, self.face_type, self.min_face_px, blur, duplicates)

    @property
    def policy(self) -> SelectionPolicy:
        policy = SelectionPolicy.parse(self.faces)
        if policy.kind == "all":
            raise SelectionError(
                "a faceset holds one person: use --faces largest, index:N or reference:PHOTO"
            )
        return policy


@dataclass(frozen=True, slots=True)
class ExtractProgress:
    """After each used frame: which input, frames of it done and expected (None for unknown), faces kept."""

    input_index: int
    input_path: Path
    frames_done: int
    frames_total: int | None
    faces_kept: int


ProgressCallback = Callable[[ExtractProgress], None]


def extract_faceset(
    options: ExtractOptions,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ExtractSummary:
    """Extract a faceset into ``options.output_dir`` (rules for that folder in ``faceset.output``).

    Raises a ``MediaError`` for an input that cannot be read (before any work), ``FacesetError`` for an
    output folder that must not be written, ``NoFacesExtractedError`` when no face survives, and
    ``ExtractCancelledError`` when ``cancel`` is set; in every such case nothing is left behind.
    """
    started = time.perf_counter()
    policy = options.policy
    inputs = tuple(check_input_file(p) for p in options.inputs)
    totals = [_frames_to_use(p, options.every) for p in inputs]
    check_output_dir(options.output_dir, options.force)
    analyzer = build_analyzer(AnalysisConfig(detect_every=options.detect_every))
    make_selector = _selector_factory(policy, analyzer)
    partial = make_partial_dir(options.output_dir)
    try:
        collector = FaceCollector(options.collect_settings(), partial)
        for input_index, path in enumerate(inputs):
            frames = 0
            with closing(_chosen_faces(path, options, analyzer, make_selector())) as stream:
                for frame_index, time_s, frame_bgr, faces in stream:
                    if cancel is not None and cancel.is_set():
                        raise ExtractCancelledError()
                    frames += 1
                    collector.counts.frames_without_face += int(not faces)
                    for face in faces:
                        collector.consider(frame_bgr, face, input_index, frame_index, time_s)
                    if on_progress is not None:
                        total, kept = totals[input_index], len(collector.kept)
                        on_progress(ExtractProgress(input_index, path, frames, total, kept))
            collector.counts.frames.append(frames)
        summary = _write_faceset(options, inputs, collector, policy, started)
        commit_partial_dir(partial, options.output_dir)
    except BaseException:
        discard_partial_dir(partial)
        raise
    return summary


def _write_faceset(
    options: ExtractOptions,
    inputs: tuple[Path, ...],
    collector: FaceCollector,
    policy: SelectionPolicy,
    started: float,
) -> ExtractSummary:
    """Drop the blurred faces, name the files, and write the contact sheet and the index."""
    survivors = collector.finish()
    if not survivors:
        raise NoFacesExtractedError(_no_faces_message(inputs, policy, collector.counts))
    entries = _finalise_files(collector.partial, survivors)
    summary = _summarise(options, inputs, entries, collector.counts, time.perf_counter() - started)
    _write_contact_sheet(collector.partial, entries, summary)
    paths = tuple(str(p) for p in inputs)
    index = FacesetIndex(options.size, options.face_type, paths, tuple(entries), summary.to_json())
    save_index(collector.partial, index)
    return summary


def _frames_to_use(path: Path, every: int) -> int | None:
    """How many frames of this input will be used (1 for a photo; None when a video's count is unknown)."""
    if is_image_path(path):
        return 1
    count = probe(path).frame_count
    return -(-count // every) if count > 0 else None


def _selector_factory(policy: SelectionPolicy, analyzer: FaceAnalyzer) -> Callable[[], FaceSelector]:
    """A new selector per input; for ``reference:PHOTO`` the photo's identity is embedded once."""
    if policy.kind != "reference" or policy.reference_path is None:
        return lambda: FaceSelector(policy)
    identity = build_identity()
    reference = embed_reference(identity, analyzer, policy.reference_path)
    return lambda: FaceSelector(policy, reference_embedding=reference, embed=identity.embed)


FrameChoice = tuple[int, float, Frame, list[Face]]
"""(frame index, time in seconds, frame, the chosen faces in it)."""


def _chosen_faces(
    path: Path, options: ExtractOptions, analyzer: FaceAnalyzer, selector: FaceSelector
) -> Generator[FrameChoice, None, None]:
    """Every used frame of one input with the face(s) the policy chooses in it (at most one)."""
    if is_image_path(path):
        image_bgr = read_image(path)
        faces = [face.with_track(i) for i, face in enumerate(analyzer.analyze(image_bgr))]
        yield 0, 0.0, image_bgr, selector.select(image_bgr, faces)[:1]
        return
    tracker = build_tracker(analyzer, AnalysisConfig(detect_every=options.detect_every))
    with FrameReader(path) as reader:
        for frame in reader:
            if frame.index % options.every:
                continue
            faces = tracker.update(frame.image_bgr, frame.time_s)
            yield frame.index, frame.time_s, frame.image_bgr, selector.select(frame.image_bgr, faces)[:1]


def _finalise_files(partial: Path, survivors: list[FacesetEntry]) -> list[FacesetEntry]:
    """Rename the survivors' files to NNNNNN.png in order and point their index entries at them."""
    entries: list[FacesetEntry] = []
    for number, entry in enumerate(survivors):
        name = f"{number:06d}.png"
        face_file, mask_file = f"{FACES_DIR}/{name}", f"{MASKS_DIR}/{name}"
        (partial / entry.file).rename(partial / face_file)
        (partial / entry.mask_file).rename(partial / mask_file)
        entries.append(replace(entry, file=face_file, mask_file=mask_file))
    return entries


def _summarise(
    options: ExtractOptions,
    inputs: tuple[Path, ...],
    entries: list[FacesetEntry],
    counts: DropCounts,
    seconds: float,
) -> ExtractSummary:
    per_input = tuple(
        InputCount(str(path), counts.frames[i], sum(1 for e in entries if e.input_index == i))
        for i, path in enumerate(inputs)
    )
    return ExtractSummary(
        output_dir=options.output_dir,
        faces=len(entries),
        candidates=counts.candidates,
        dropped_blurred=counts.blurred,
        dropped_duplicates=counts.duplicates,
        dropped_small=counts.small,
        dropped_cut=counts.cut,
        frames_used=sum(counts.frames),
        frames_without_face=counts.frames_without_face,
        per_input=per_input,
        pose=pose_spread([e.pose_deg for e in entries]),
        seconds=seconds,
    )


def _write_contact_sheet(partial: Path, entries: list[FacesetEntry], summary: ExtractSummary) -> None:
    tiles = [
        SheetTile(read_image(partial / entries[i].file), f"{i} y{entries[i].pose_deg[0]:+.0f}")
        for i in spread_indices(len(entries))
    ]
    title = f"{summary.faces} faces   {summary.pose.describe()}"
    write_png(partial / CONTACT_SHEET_FILE, draw_sheet(tiles, title))


def _no_faces_message(inputs: tuple[Path, ...], policy: SelectionPolicy, counts: DropCounts) -> str:
    names = ", ".join(f"'{p.name}'" for p in inputs)
    used = sum(counts.frames)
    if counts.candidates == 0 and policy.kind == "reference":
        return (
            f"no face in {names} matched the reference photo '{policy.reference_path}' ({used} frame(s) "
            "looked at). Check that the photo shows the same person, or use --faces largest."
        )
    if counts.candidates == 0:
        return (
            f"no face found in {names} ({used} frame(s) looked at). Use footage where the face is clearly "
            "visible, frontal enough and not tiny."
        )
    return (
        f"no usable face in {names}: of {counts.candidates} face(s) found, {counts.small} were under "
        f"--min-face-px, {counts.cut} cut by the frame edge and {counts.blurred} blurred. Use footage where "
        "the whole face is in the frame, sharp and not tiny (or lower --min-face-px)."
    )
