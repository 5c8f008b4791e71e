"""Quality metrics on real footage: a clip against itself is ideal, identity is reproducible and agrees with a
direct computation, metrics respond to made-up defects, and the canonical pose face can be re-derived."""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.errors import NoFaceError, UnsupportedFormatError
from facecraft.faces.face import Face
from facecraft.faces.identity import DlibIdentity, identity_distance
from facecraft.faces.mesh import FaceMesh
from facecraft.faces.roi import roi_from_landmarks
from facecraft.media.image import read_image, write_image
from facecraft.media.reader import FrameReader
from facecraft.media.writer import FrameWriter
from facecraft.pipeline.builder import build_tracker
from facecraft.quality.background import build_swap_recorder
from facecraft.quality.evaluate import EvalInputs, QualityTools, build_quality_tools, embed_source, evaluate
from facecraft.quality.identity import IdentitySchedule
from facecraft.quality.patches import hull_mask, patch_box
from facecraft.quality.pose import CANONICAL_POINTS_3D, canonical_from_frontal
from facecraft.quality.recorder import QualityRecorder, RecorderSettings
from facecraft.quality.report import QualityReport
from facecraft.swap.base import SourceIdentity
from facecraft.types import FloatArray, Frame

pytestmark = pytest.mark.media

CLIP_FRAMES = 60


@dataclass(frozen=True)
class Clip:
    frames: list[tuple[int, float, Frame]]
    faces: list[list[Face]]


@pytest.fixture(scope="module")
def tools() -> QualityTools:
    return build_quality_tools()


@pytest.fixture(scope="module")
def d18(media_dir: Path, tools: QualityTools) -> Clip:
    """The first frames of d18.mp4 with the target's tracked faces."""
    tracker = build_tracker(tools.analyzer)
    frames, faces = [], []
    with FrameReader(media_dir / "videos" / "d18.mp4") as reader:
        for frame in reader:
            if frame.index >= CLIP_FRAMES:
                break
            frames.append((frame.index, frame.time_s, frame.image_bgr))
            faces.append(tracker.update(frame.image_bgr, frame.time_s))
    return Clip(frames, faces)


@pytest.fixture(scope="module")
def source_embedding(media_dir: Path, tools: QualityTools) -> FloatArray:
    return embed_source(media_dir / "images" / "d30.jpg", tools)


def defective(frame_bgr: Frame, face: Face, index: int) -> Frame:
    """A crude 'swap': the face hull blurred, brightened by 25 with a hard edge, blinking by 8 levels."""
    height, width = frame_bgr.shape[:2]
    box = patch_box(face.landmarks_478, (width, height), 1.0, 64)
    assert box is not None
    mask = np.zeros((height, width), dtype=bool)
    hull = hull_mask(face.landmarks_478, box)
    region = cv2.resize(
        hull.astype(np.uint8), (box.x1 - box.x0, box.y1 - box.y0), interpolation=cv2.INTER_NEAREST
    )
    mask[box.y0 : box.y1, box.x0 : box.x1] = region.astype(bool)
    blurred = cv2.GaussianBlur(frame_bgr, (0, 0), 2.0).astype(np.int16) + 25 + (8 if index % 2 else 0)
    out = frame_bgr.copy()
    out[mask] = np.clip(blurred[mask], 0, 255).astype(np.uint8)
    return out


@pytest.fixture(scope="module")
def outputs(d18: Clip) -> list[Frame]:
    """The clip with made-up swap defects on its face."""
    return [
        defective(image, faces[0], index)
        for (index, _, image), faces in zip(d18.frames, d18.faces, strict=True)
    ]


def record(clip: Clip, tools: QualityTools, source: FloatArray, outputs: list[Frame]) -> QualityRecorder:
    settings = RecorderSettings(identity=IdentitySchedule.evenly(len(clip.frames), 3))
    recorder = QualityRecorder(FaceMesh(with_iris=False), tools.identity, source, settings)
    for (index, time_s, image), output, faces in zip(clip.frames, outputs, clip.faces, strict=True):
        recorder.observe(index, time_s, image, output, faces)
    return recorder


def assert_ideal(report: QualityReport) -> None:
    assert report.face_found == 1.0
    assert report.id_to_target == 0.0
    assert report.pose_err_deg == 0.0
    assert report.mar_corr == 1.0 and report.ear_corr == 1.0
    assert report.flicker_ratio == 1.0
    assert report.jitter == 0.0
    assert report.seam_ratio == 1.0


def test_eval_of_d18_against_itself_is_ideal(media_dir: Path, tools: QualityTools) -> None:
    video = media_dir / "videos" / "d18.mp4"
    inputs = EvalInputs(media_dir / "images" / "d30.jpg", video, video, identity_frames=3, sheet_frames=2)
    evaluation = evaluate(inputs, tools)
    report = evaluation.report
    assert report.frames == 216
    assert_ideal(report)
    assert report.id_to_source is not None and report.id_to_source > 0.6  # d30 is someone else
    assert report.details.identity_frames == (36, 108, 180)
    assert [row.index for row in evaluation.sheet_rows] == [36, 180]
    sheet = evaluation.contact_sheet("d18")
    assert sheet.ndim == 3 and sheet.shape[0] > 2 * 256


def test_identity_computed_twice_matches_and_agrees_with_a_direct_computation(
    d18: Clip, tools: QualityTools, source_embedding: FloatArray, outputs: list[Frame]
) -> None:
    first = record(d18, tools, source_embedding, outputs).report()
    second = record(d18, tools, source_embedding, outputs).report()
    assert first.id_to_source is not None and second.id_to_source is not None
    assert abs(first.id_to_source - second.id_to_source) <= 1e-6
    # Independently: re-fit the mesh on the output from the tracked target face, embed, compare.
    mesh, identity = FaceMesh(with_iris=False), DlibIdentity()
    direct = []
    for index in first.details.identity_frames:
        face = d18.faces[index][0]
        fit = mesh.fit(outputs[index], roi_from_landmarks(face.landmarks_478))
        assert fit is not None
        refit = Face(face.bbox_xyxy, face.score, fit.landmarks_478)
        direct.append(identity_distance(identity.embed(outputs[index], refit), source_embedding))
    np.testing.assert_allclose(first.details.id_to_source_per_frame, direct, atol=1e-6)


def test_metrics_respond_to_made_up_defects(
    d18: Clip, tools: QualityTools, source_embedding: FloatArray, outputs: list[Frame]
) -> None:
    report = record(d18, tools, source_embedding, outputs).report()
    assert report.face_found == 1.0
    assert report.flicker_ratio is not None and report.flicker_ratio > 2.0  # the 8-level blink
    assert report.seam_ratio is not None and report.seam_ratio > 1.3  # the hard brightened edge
    assert report.id_to_target is not None and 0.0 < report.id_to_target < 0.45  # still the same man
    assert report.pose_err_deg is not None and report.pose_err_deg < 1.5


def test_recorder_on_the_clip_against_itself_is_ideal(
    d18: Clip, tools: QualityTools, source_embedding: FloatArray
) -> None:
    report = record(d18, tools, source_embedding, [image for _, _, image in d18.frames]).report()
    assert_ideal(report)
    assert len(report.details.id_to_source_per_frame) == 3


def test_canonical_face_is_reproduced_from_frontal_footage(d18: Clip) -> None:
    derived = canonical_from_frontal([faces[0].landmarks_478 for faces in d18.faces])
    # The constants come from all 216 frames; the first 60 give nearly the same face.
    assert float(np.abs(derived - CANONICAL_POINTS_3D).max()) < 0.03


def test_eval_of_an_image_against_itself(media_dir: Path, tools: QualityTools) -> None:
    photo = media_dir / "images" / "d8.jpg"
    report = evaluate(EvalInputs(media_dir / "images" / "d30.jpg", photo, photo), tools).report
    assert report.frames == 1 and report.face_found == 1.0
    assert report.id_to_target == 0.0 and report.pose_err_deg == 0.0 and report.seam_ratio == 1.0
    assert report.flicker_ratio is None and report.jitter is None and report.mar_corr is None


def test_a_shorter_output_is_paired_frame_by_frame_and_noted(
    media_dir: Path, tools: QualityTools, d18: Clip, tmp_path: Path
) -> None:
    short = tmp_path / "short.mp4"
    with FrameWriter(short, fps=30) as writer:
        for _, time_s, image in d18.frames[:20]:
            writer.write(image, time_s)
    video = media_dir / "videos" / "d18.mp4"
    report = evaluate(EvalInputs(None, video, short, identity_frames=2), tools).report
    assert report.frames == 20
    assert report.details.unpaired_frames == 216 - 20
    assert any("196 frame(s) more" in note for note in report.details.notes)
    assert report.id_to_source is None
    assert report.id_to_target is not None and report.id_to_target < 0.1  # re-encoded, same frames


def test_mismatched_inputs_are_refused_with_a_clear_message(
    media_dir: Path, tools: QualityTools, tmp_path: Path
) -> None:
    videos, images = media_dir / "videos", media_dir / "images"
    with pytest.raises(UnsupportedFormatError, match="512x512 but the target's are 480x480"):
        evaluate(EvalInputs(None, videos / "d18.mp4", videos / "d0.mp4"), tools)
    with pytest.raises(UnsupportedFormatError, match="the target is a video but this is an image"):
        evaluate(EvalInputs(None, videos / "d18.mp4", images / "d8.jpg"), tools)
    blank = write_image(tmp_path / "blank.png", np.full((200, 200, 3), 90, dtype=np.uint8))
    with pytest.raises(NoFaceError, match="source photo"):
        evaluate(EvalInputs(blank, images / "d8.jpg", images / "d8.jpg"), tools)
    with pytest.raises(UnsupportedFormatError, match="source must be a photo"):
        evaluate(EvalInputs(videos / "d0.mp4", images / "d8.jpg", images / "d8.jpg"), tools)


def test_swap_recorder_embeds_the_source_and_measures_a_still(media_dir: Path, tools: QualityTools) -> None:
    source_bgr = read_image(media_dir / "images" / "d30.jpg")
    source_face = max(tools.analyzer.analyze(source_bgr), key=lambda f: f.area_px)
    target_bgr = read_image(media_dir / "images" / "d8.jpg")
    faces = [face.with_track(i) for i, face in enumerate(tools.analyzer.analyze(target_bgr))]
    for background in (False, True):
        recorder = build_swap_recorder(SourceIdentity(source_bgr, source_face), None, background=background)
        recorder.observe(0, 0.0, target_bgr, target_bgr, faces)
        report = recorder.report()
        assert report.frames == 1 and report.face_found == 1.0 and report.id_to_target == 0.0
        expected = identity_distance(
            tools.identity(target_bgr, faces[0]), tools.identity(source_bgr, source_face)
        )
        assert report.id_to_source == pytest.approx(expected, abs=0.05)  # re-fitted landmarks: close
