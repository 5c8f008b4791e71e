"""The swap runner with a stand-in swapper: frames, timestamps, audio, atomic output, notes, cancel."""

import dataclasses
import threading
from functools import partial
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from facecraft.errors import CorruptMediaError
from facecraft.faces.face import Face
from facecraft.faces.lookahead import LookaheadSettings
from facecraft.faces.selection import FaceSelector, SelectionPolicy
from facecraft.media.image import read_image, write_image
from facecraft.media.probe import probe
from facecraft.media.reader import FrameReader
from facecraft.media.writer import FrameWriter
from facecraft.pipeline.background import BackgroundWorker
from facecraft.pipeline.builder import build_analyzer, build_tracker
from facecraft.pipeline.marking import Marking
from facecraft.pipeline.swap import CancelledError, SwapComponents, SwapRequest, run_swap
from facecraft.pipeline.swap_builder import lookahead_factory
from facecraft.safety.gate import ContentGate, ContentRefusedError, VideoScreen
from facecraft.safety.nudenet import Finding
from facecraft.swap.base import SourceIdentity, SwapResult
from facecraft.swap.shape import still_points
from facecraft.swap.triangles import load_topology
from facecraft.types import Frame

MAGENTA = np.array([255, 0, 255], dtype=np.uint8)


class PaintSwapper:
    """Paints the face box magenta: easy to see in the output, no models. Keeps the landmarks it saw."""

    prepared = 0

    def __init__(self) -> None:
        self.seen: list[npt.NDArray[np.float32]] = []

    def prepare(self, source: SourceIdentity) -> tuple[str, ...]:
        self.prepared += 1
        return ("prepared the source",)

    def swap(self, frame_bgr: Frame, target: Face) -> SwapResult:
        self.seen.append(target.landmarks_478.copy())
        x0, y0, x1, y1 = (int(v) for v in target.bbox_xyxy)
        h, w = y1 - y0, x1 - x0
        matrix = np.array([[1, 0, x0], [0, 1, y0]], dtype=np.float32)
        landmarks = target.landmarks_478.copy()
        landmarks[:, 0] -= x0
        landmarks[:, 1] -= y0
        crop = np.broadcast_to(MAGENTA, (h, w, 3)).copy()
        return SwapResult(crop, np.ones((h, w), dtype=np.float32), matrix, landmarks)


class PasteCompositor:
    def reset(self) -> None:
        pass

    def composite(self, frame_bgr: Frame, target: Face, result: SwapResult) -> Frame:
        out = frame_bgr.copy()
        x0, y0 = (int(v) for v in result.matrix_crop_to_frame[:, 2])
        h, w = result.crop_bgr.shape[:2]
        region = out[y0 : y0 + h, x0 : x0 + w]
        region[:] = result.crop_bgr[: region.shape[0], : region.shape[1]]
        return out


class CleanDetector:
    """Stands in for the nudity model: finds nothing; remembers the frames it saw."""

    min_score = 0.2

    def __init__(self) -> None:
        self.frames: list[Frame] = []

    def detect(self, frame_bgr: Frame) -> list[Finding]:
        self.frames.append(frame_bgr)
        return []


class RecordingGate:
    """Stands in for the content gate; records what it was asked to check (video frames: a real screen)."""

    def __init__(self) -> None:
        self.checked: list[str] = []
        self.detector = CleanDetector()

    def check_image(self, frame_bgr: Frame, where: str) -> None:
        self.checked.append(where)

    def check_path(
        self, path: Path, role: str, *, start_s: float | None = None, end_s: float | None = None
    ) -> None:
        self.checked.append(f"{role} {path.name}")

    def screen_video(
        self, path: Path, role: str, *, start_s: float | None = None, end_s: float | None = None
    ) -> VideoScreen:
        self.checked.append(f"{role} {path.name}")
        return ContentGate(self.detector).screen_video(path, role, start_s=start_s, end_s=end_s)


class RefusingGate(RecordingGate):
    def check_path(
        self, path: Path, role: str, *, start_s: float | None = None, end_s: float | None = None
    ) -> None:
        raise ContentRefusedError(
            f"the {role}", Finding("BUTTOCKS_EXPOSED", 0.9, np.array([0, 0, 4, 4])), 0.4
        )

    def screen_video(
        self, path: Path, role: str, *, start_s: float | None = None, end_s: float | None = None
    ) -> VideoScreen:
        return ContentGate(RefuseBrightDetector(0)).screen_video(path, role, start_s=start_s, end_s=end_s)


class CountingStage:
    def __init__(self) -> None:
        self.indices: list[int] = []

    def process(self, frame_bgr: Frame, index: int, time_s: float) -> Frame:
        self.indices.append(index)
        return frame_bgr


class NoteStep:
    def __init__(self) -> None:
        self.finished: list[Path] = []

    def finish(self, output: Path) -> list[str]:
        self.finished.append(output)
        return [f"finished {output.name}"]


def _marking(stage: CountingStage | None = None, step: NoteStep | None = None) -> Marking:
    return Marking(stage or CountingStage(), None, (step,) if step else (), record_id=1)


class RefuseBrightDetector:
    """Stands in for the nudity model: a frame brighter than ``limit`` "shows" exposed buttocks."""

    min_score = 0.2

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.frames: list[Frame] = []

    def detect(self, frame_bgr: Frame) -> list[Finding]:
        self.frames.append(frame_bgr)
        if float(frame_bgr.mean()) > self.limit:
            return [Finding("BUTTOCKS_EXPOSED", 0.9, np.array([0, 0, 4, 4], dtype=np.float32))]
        return []


def _components(
    gate: RecordingGate | ContentGate | None = None, lookahead: LookaheadSettings | None = None
) -> SwapComponents:
    analyzer = build_analyzer()
    blank = np.zeros((8, 8, 3), dtype=np.uint8)
    landmarks = np.zeros((478, 3), dtype=np.float32)
    landmarks[:, :2] = np.random.default_rng(0).uniform(1, 7, (478, 2))
    source_face = Face(np.array([1, 1, 7, 7], dtype=np.float32), 1.0, landmarks)
    return SwapComponents(
        analyzer=analyzer,
        make_tracker=lambda: build_tracker(analyzer, smooth=lookahead is None),
        make_selector=lambda: FaceSelector(SelectionPolicy("all")),
        source=SourceIdentity(blank, source_face, notes=("source note",)),
        swapper=PaintSwapper(),
        compositor=PasteCompositor(),
        gate=gate or RecordingGate(),
        make_lookahead=lookahead_factory(lookahead),
    )


def _faceless_video(path: Path, frames: int = 12, bright_from: int | None = None) -> Path:
    """Flat frames at 12 fps getting lighter (grey 10 * i, wrapping), white from ``bright_from`` on."""
    with FrameWriter(path, fps=12, preset="ultrafast") as writer:
        for i in range(frames):
            grey = 255 if bright_from is not None and i >= bright_from else (10 * i) % 200
            writer.write(np.full((64, 96, 3), grey, dtype=np.uint8), i / 12)
    return path


def test_video_without_faces_is_written_unchanged_with_a_note(tmp_path: Path) -> None:
    target = _faceless_video(tmp_path / "plain.mp4")
    stage, step = CountingStage(), NoteStep()
    report = run_swap(SwapRequest(target, tmp_path / "out.mp4"), _components(), _marking(stage, step))
    assert report.frames == 12 and report.faces_swapped == 0
    assert stage.indices == list(range(12))  # the marking stage sees every frame
    assert step.finished == [tmp_path / "out.mp4"] and "finished out.mp4" in report.notes
    assert any("no face to swap" in note for note in report.notes)
    assert "source note" in report.notes and "prepared the source" in report.notes
    assert probe(tmp_path / "out.mp4").frame_count == 12


def test_the_gate_checks_source_and_target_and_a_refusal_writes_nothing(tmp_path: Path) -> None:
    target = _faceless_video(tmp_path / "plain.mp4")
    gate = RecordingGate()
    run_swap(SwapRequest(target, tmp_path / "out.mp4"), _components(gate=gate), _marking())
    assert gate.checked == ["the source", "the target video plain.mp4"]
    with pytest.raises(ContentRefusedError) as refused:
        run_swap(SwapRequest(target, tmp_path / "refused.mp4"), _components(gate=RefusingGate()), _marking())
    assert refused.value.exit_code == 3
    assert not (tmp_path / "refused.mp4").exists()


def test_cancel_leaves_no_output(tmp_path: Path) -> None:
    target = _faceless_video(tmp_path / "plain.mp4")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledError):
        run_swap(SwapRequest(target, tmp_path / "out.mp4"), _components(), _marking(), cancel=cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.mp4"]


def test_cancel_while_the_last_frames_wait_in_the_look_ahead_leaves_no_output(tmp_path: Path) -> None:
    """12 frames: all still wait (delay 20) when the video ends, so they are rendered in the flush."""
    target = _faceless_video(tmp_path / "plain.mp4")
    cancel = threading.Event()
    done: list[int] = []

    def on_progress(frames: int, expected: int | None) -> None:
        done.append(frames)
        cancel.set()

    with pytest.raises(CancelledError):
        run_swap(
            SwapRequest(target, tmp_path / "out.mp4"),
            _components(lookahead=LookaheadSettings()),
            _marking(),
            on_progress,
            cancel=cancel,
        )
    assert done == [1]  # it stopped at the next frame
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.mp4"]


@pytest.mark.parametrize("lookahead", [None, LookaheadSettings()], ids=["causal", "lookahead"])
def test_real_video_keeps_frames_timestamps_and_audio(
    media_dir: Path, tmp_path: Path, lookahead: LookaheadSettings | None
) -> None:
    target = media_dir / "videos" / "d18.mp4"
    output = tmp_path / "out.mp4"
    progress: list[tuple[int, int | None]] = []
    report = run_swap(
        SwapRequest(target, output),
        _components(lookahead=lookahead),
        _marking(),
        lambda d, t: progress.append((d, t)),
    )
    assert report.frames == 216 and report.frames_with_target == 216 and report.faces_swapped == 216
    assert progress[-1] == (216, 216)
    with FrameReader(target) as source_frames, FrameReader(output) as output_frames:
        pairs = list(zip(source_frames, output_frames, strict=True))
    assert all(abs(a.time_s - b.time_s) < 1e-3 for a, b in pairs)
    middle = pairs[100][1].image_bgr
    assert np.count_nonzero(np.all(np.abs(middle.astype(int) - MAGENTA) < 40, axis=2)) > 2000
    assert _audio_packets(target) == _audio_packets(output)


def test_lookahead_hands_the_swapper_steadier_landmarks(media_dir: Path, tmp_path: Path) -> None:
    """d18 is a still, frontal face: frame-to-frame landmark motion is mostly the mesh model's noise."""
    target = media_dir / "videos" / "d18.mp4"
    still = still_points(load_topology().layout_468)
    motion = {}
    for name, lookahead in (("raw", None), ("causal", None), ("lookahead", LookaheadSettings())):
        components = _components(lookahead=lookahead)
        if name == "raw":
            components.make_tracker = partial(build_tracker, components.analyzer, smooth=False)
        swapper = components.swapper
        assert isinstance(swapper, PaintSwapper)
        run_swap(SwapRequest(target, tmp_path / f"{name}.mp4", end_s=3.0), components, _marking())
        seen = np.stack(swapper.seen)[:, :468, :2]
        assert len(seen) == 90
        steps = np.linalg.norm(np.diff(seen, axis=0), axis=2)
        motion[name] = float(steps.mean())
        motion[f"{name} still"] = float(steps[:, still].mean())
    assert motion["lookahead"] < motion["causal"] < 0.7 * motion["raw"]
    # The points expressions move little (the brows and lashes that shimmered) are steadied most.
    assert motion["lookahead still"] < 0.6 * motion["causal still"]


def test_trimmed_window(media_dir: Path, tmp_path: Path) -> None:
    target = media_dir / "videos" / "d18.mp4"
    report = run_swap(
        SwapRequest(target, tmp_path / "cut.mp4", start_s=2.0, end_s=3.0), _components(), _marking()
    )
    assert report.frames == 30
    info = probe(tmp_path / "cut.mp4")
    assert info.frame_count == 30 and abs(info.duration_s - 1.0) < 0.1 and info.has_audio


def test_image_target(media_dir: Path, tmp_path: Path) -> None:
    target = media_dir / "images" / "groups" / "2008_002506.jpg"
    report = run_swap(SwapRequest(target, tmp_path / "out.png"), _components(), _marking())
    assert report.frames == 1 and report.faces_swapped == 3
    assert read_image(tmp_path / "out.png").shape == read_image(target).shape


def test_tiny_faces_are_skipped_and_reported(media_dir: Path, tmp_path: Path) -> None:
    image = read_image(media_dir / "images" / "groups" / "2008_002506.jpg")
    target = write_image(tmp_path / "group.png", image)
    request = SwapRequest(target, tmp_path / "out.png", min_face_px=10_000)
    report = run_swap(request, _components(), _marking())
    assert report.faces_swapped == 0 and report.tiny_faces_skipped == 3
    assert any("3 face(s) smaller" in note for note in report.notes)


class GlassesKeepingSwapper(PaintSwapper):
    """Says every face wears its own glasses (a band across the box kept from the frame)."""

    def swap(self, frame_bgr: Frame, target: Face) -> SwapResult:
        painted = super().swap(frame_bgr, target)
        height, width = int(painted.crop_bgr.shape[0]), int(painted.crop_bgr.shape[1])
        keep = np.zeros((height, width), dtype=np.float32)
        keep[height // 3] = 1.0
        return dataclasses.replace(painted, frame_keep=keep)


def test_faces_whose_own_glasses_were_kept_are_reported(media_dir: Path, tmp_path: Path) -> None:
    target = media_dir / "images" / "groups" / "2008_002506.jpg"
    components = dataclasses.replace(_components(), swapper=GlassesKeepingSwapper())
    report = run_swap(SwapRequest(target, tmp_path / "out.png"), components, _marking())
    assert any("wears glasses (3 of 3 swapped" in note for note in report.notes)
    plain = run_swap(SwapRequest(target, tmp_path / "plain.png"), _components(), _marking())
    assert not any("glasses" in note for note in plain.notes)


def _audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return [bytes(p) for p in container.demux(stream) if p.size]


# --- the content gate beside the swap: the target video is checked from the runner's own frames ----------


def test_a_clean_target_is_checked_from_the_swap_frames_and_written(tmp_path: Path) -> None:
    target = _faceless_video(tmp_path / "plain.mp4", frames=36)
    gate = RecordingGate()
    stage = CountingStage()

    report = run_swap(SwapRequest(target, tmp_path / "out.mp4"), _components(gate), _marking(stage))

    assert report.frames == 36 and stage.indices == list(range(36))
    assert probe(tmp_path / "out.mp4").frame_count == 36
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "plain.mp4"]
    # The gate saw the target as decoded (not the swapped frames), every 0.5 s, first and last included.
    greys = [int(f[0, 0, 0]) for f in gate.detector.frames]
    assert len(greys) == 7  # 0.0, 0.5, ..., 2.5 and the last frame at 2.92 s
    assert greys[0] < 5 and abs(greys[1] - 60) < 5 and abs(greys[-1] - 150) < 5


@pytest.mark.parametrize("lookahead", [None, LookaheadSettings()], ids=["causal", "lookahead"])
def test_a_refusal_mid_swap_stops_it_and_leaves_no_output_or_temporary_file(
    tmp_path: Path, lookahead: LookaheadSettings | None
) -> None:
    target = _faceless_video(tmp_path / "plain.mp4", frames=96, bright_from=12)  # white from 1.0 s
    stage = CountingStage()
    detector = RefuseBrightDetector(200)

    with pytest.raises(ContentRefusedError) as refused:
        run_swap(
            SwapRequest(target, tmp_path / "out.mp4"),
            _components(ContentGate(detector), lookahead),
            _marking(stage),
        )

    assert refused.value.exit_code == 3
    assert "the target video" in str(refused.value) and "at 1.00 s (frame 12)" in str(refused.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.mp4"]  # no output, no .partial file
    # The source photo first, then the target at 0.0, 0.5 and the refused 1.0 s: the scan stops there.
    assert [f.shape for f in detector.frames] == [(8, 8, 3)] + [(64, 96, 3)] * 3
    assert len(stage.indices) < 48  # the swap stopped promptly, long before the end (96 frames)


def test_a_refusal_at_the_last_frame_still_leaves_no_output(tmp_path: Path) -> None:
    target = _faceless_video(tmp_path / "plain.mp4", frames=30, bright_from=29)
    stage = CountingStage()

    with pytest.raises(ContentRefusedError, match=r"at 2\.42 s \(frame 29\)"):
        run_swap(
            SwapRequest(target, tmp_path / "out.mp4"),
            _components(ContentGate(RefuseBrightDetector(200))),
            _marking(stage),
        )

    assert stage.indices == list(range(30))  # every frame was swapped, and still nothing was kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.mp4"]


def test_a_target_window_with_no_frames_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    target = _faceless_video(tmp_path / "plain.mp4")

    with pytest.raises(CorruptMediaError, match="cannot be checked"):
        run_swap(SwapRequest(target, tmp_path / "out.mp4", start_s=5.0, end_s=6.0), _components(), _marking())

    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.mp4"]


def test_a_failed_run_drops_the_work_still_queued(tmp_path: Path) -> None:
    handled: list[int] = []
    release = threading.Event()

    def slow(item: int) -> None:
        release.wait(5)
        handled.append(item)

    with pytest.raises(RuntimeError, match="stop"), BackgroundWorker(slow, "test-worker", 8) as worker:
        for item in range(5):
            worker.submit(item)
        release.set()
        raise RuntimeError("stop")

    assert len(handled) <= 1  # the item in hand may finish; the queued ones are dropped


def test_a_worker_error_is_raised_by_the_next_poll() -> None:
    def fail(item: int) -> None:
        raise ValueError(f"bad item {item}")

    polls = 0
    with pytest.raises(ValueError, match="bad item 7"), BackgroundWorker(fail, "test-worker") as worker:
        worker.submit(7)
        for polls in range(1, 500):  # noqa: B007 - the count says the poll raised, not the exit
            worker.raise_error()
            threading.Event().wait(0.01)

    assert polls < 499
