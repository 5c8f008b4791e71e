"""The quality recorder on scripted synthetic videos where every answer is known.

A scripted mesh stands in for the face mesh: each frame carries (kind, index) in its top-left pixel
(kind 0 = target frame, 1 = output frame), and the mesh answers the landmarks the script gives for it.
"""

from collections.abc import Callable

import numpy as np
import pytest

from face_fakes import landmarks_at
from facecraft.faces.analyzer import LandmarkFitter
from facecraft.faces.face import Face, bbox_from_landmarks
from facecraft.faces.mesh import MeshFit
from facecraft.faces.roi import FaceRoi
from facecraft.quality.background import BackgroundRecorder
from facecraft.quality.identity import IdentitySchedule
from facecraft.quality.pose import POSE_POINTS, HeadPose, project_canonical
from facecraft.quality.recorder import QualityRecorder, RecorderSettings
from facecraft.quality.report import REPORT_KEYS
from facecraft.types import FloatArray, Frame

FRAME_WH = (640, 360)
FACE_PX = 120.0
CENTER = (320.0, 180.0)
Script = Callable[[int], FloatArray | None]


class ScriptedMesh:
    def __init__(self, target: Script, output: Script) -> None:
        self.scripts = (target, output)
        self.calls = 0

    def fit(self, frame_bgr: Frame, roi: FaceRoi, with_irises: bool = True) -> MeshFit | None:
        self.calls += 1
        kind, index = int(frame_bgr[0, 0, 0]), int(frame_bgr[0, 0, 1]) + 256 * int(frame_bgr[0, 0, 2])
        landmarks = self.scripts[kind](index)
        return None if landmarks is None else MeshFit(landmarks, 0.99)


def tagged(image: Frame, kind: int, index: int) -> Frame:
    out = image.copy()
    out[0, 0] = (kind, index % 256, index // 256)
    return out


def blank(level: int = 128) -> Frame:
    return np.full((FRAME_WH[1], FRAME_WH[0], 3), level, dtype=np.uint8)


def face_from(landmarks: FloatArray, track_id: int | None = 0) -> Face:
    return Face(bbox_from_landmarks(landmarks), 0.9, landmarks, track_id)


def still(center: tuple[float, float] = CENTER) -> FloatArray:
    return landmarks_at(center, FACE_PX)


def run(
    mesh: LandmarkFitter,
    frames: int,
    target_image: Callable[[int], Frame] = lambda _i: blank(),
    output_image: Callable[[int], Frame] = lambda _i: blank(),
    settings: RecorderSettings | None = None,
    faces: Callable[[int], list[Face]] | None = None,
) -> QualityRecorder:
    recorder = QualityRecorder(mesh, settings=settings or RecorderSettings())
    for i in range(frames):
        target_faces = faces(i) if faces is not None else [face_from(still())]
        recorder.observe(
            i, i / 30, tagged(target_image(i), 0, i), tagged(output_image(i), 1, i), target_faces
        )
    return recorder


@pytest.mark.parametrize("k_px", [1.0, 2.5])
def test_a_face_shifted_by_k_pixels_per_frame_has_jitter_k(k_px: float) -> None:
    mesh = ScriptedMesh(lambda i: still(), lambda i: still((CENTER[0] + k_px * i, CENTER[1])))
    report = run(mesh, 10).report()
    size = float(np.ptp(still()[:468, :2], axis=0).max())
    assert report.details.jitter_px == pytest.approx(k_px, abs=1e-4)
    assert report.jitter == pytest.approx(k_px / size, rel=1e-4)


def test_motion_the_target_also_makes_is_not_jitter() -> None:
    moving = lambda i: still((CENTER[0] + 3.0 * i, CENTER[1]))  # noqa: E731
    report = run(ScriptedMesh(moving, moving), 10).report()
    assert report.details.jitter_px == pytest.approx(0.0, abs=1e-6)


def test_a_constant_video_has_no_flicker() -> None:
    mesh = ScriptedMesh(lambda i: still(), lambda i: still())
    report = run(mesh, 8).report()
    assert report.details.flicker_output == 0.0
    assert report.details.flicker_target == 0.0
    assert report.flicker_ratio == 1.0  # both still: the output adds nothing (rule of safe_ratio)


def test_flicker_ratio_compares_output_change_with_the_target_own() -> None:
    rng = np.random.default_rng(1)
    noise = [rng.integers(0, 256, (FRAME_WH[1], FRAME_WH[0], 3), dtype=np.uint8) for _ in range(6)]
    mesh = ScriptedMesh(lambda i: still(), lambda i: still())
    frozen = run(mesh, 6, target_image=lambda i: noise[i], output_image=lambda i: blank()).report()
    assert frozen.flicker_ratio == 0.0
    assert frozen.details.flicker_target is not None and frozen.details.flicker_target > 5
    # Output brightness alternating by 10 levels on a still target: flicker 10 per frame, ratio undefined.
    blinking = run(mesh, 6, output_image=lambda i: blank(120 + 10 * (i % 2))).report()
    assert blinking.details.flicker_output == pytest.approx(10.0, abs=0.01)
    assert blinking.flicker_ratio is None
    # Output = target + the same blink: twice the target's change is ratio 2.
    target = lambda i: blank(100 + 10 * (i % 2))  # noqa: E731
    doubled = run(mesh, 6, target_image=target, output_image=lambda i: blank(100 + 20 * (i % 2))).report()
    assert doubled.flicker_ratio == pytest.approx(2.0, abs=1e-3)


def test_seams_along_the_face_boundary_raise_seam_ratio() -> None:
    landmarks = still()
    gradient = np.tile(np.linspace(60, 190, FRAME_WH[0], dtype=np.float32), (FRAME_WH[1], 1))
    target_image = np.repeat(gradient[:, :, None], 3, axis=2).astype(np.uint8)
    x0, y0, x1, y1 = (int(v) for v in bbox_from_landmarks(landmarks))
    pasted = target_image.copy()
    pasted[y0:y1, x0:x1] = np.clip(pasted[y0:y1, x0:x1].astype(np.int16) + 40, 0, 255).astype(np.uint8)
    mesh = ScriptedMesh(lambda i: landmarks, lambda i: landmarks)
    same = run(mesh, 2, target_image=lambda i: target_image, output_image=lambda i: target_image).report()
    seam = run(mesh, 2, target_image=lambda i: target_image, output_image=lambda i: pasted).report()
    assert same.seam_ratio == 1.0
    assert seam.seam_ratio is not None and seam.seam_ratio > 5.0


def test_a_rotated_output_head_gives_that_pose_error() -> None:
    def at_pose(yaw: float) -> FloatArray:
        landmarks = still()
        landmarks[list(POSE_POINTS), :2] = project_canonical(HeadPose(yaw, 0, 0), FRAME_WH, CENTER, 50.0)
        return landmarks

    report = run(ScriptedMesh(lambda i: at_pose(0.0), lambda i: at_pose(12.0)), 4).report()
    assert report.details.yaw_err_deg == pytest.approx(12.0, abs=0.05)
    assert report.details.pitch_err_deg == pytest.approx(0.0, abs=0.05)
    assert report.pose_err_deg == pytest.approx(4.0, abs=0.05)


def test_coverage_counts_frames_where_the_output_face_is_found() -> None:
    mesh = ScriptedMesh(lambda i: still(), lambda i: None if i % 4 == 0 else still())
    report = run(mesh, 8, faces=lambda i: [] if i == 7 else [face_from(still())]).report()
    assert report.frames == 8
    assert report.details.frames_with_face == 5  # 0 and 4 lost in the output, 7 without a target face
    assert report.face_found == pytest.approx(5 / 8)


def test_identity_samples_follow_the_schedule_and_compare_embeddings() -> None:
    def embed(frame_bgr: Frame, face: Face) -> FloatArray:
        # The embedding is the frame kind: target faces at 0, output faces at 0.3 along the first axis.
        vector = np.zeros(128, dtype=np.float32)
        vector[0] = 0.3 * float(frame_bgr[0, 0, 0])
        return vector

    source = np.zeros(128, dtype=np.float32)
    source[0] = 0.8
    settings = RecorderSettings(identity=IdentitySchedule.evenly(10, 3), sheet_frames=2)
    mesh = ScriptedMesh(lambda i: still(), lambda i: still())
    recorder = QualityRecorder(mesh, embed, source, settings)
    for i in range(10):
        recorder.observe(i, i / 30, tagged(blank(), 0, i), tagged(blank(), 1, i), [face_from(still())])
    report = recorder.report()
    assert report.details.identity_frames == (1, 5, 8)
    assert report.id_to_source == pytest.approx(0.5, abs=1e-6)
    assert report.id_to_target == pytest.approx(0.3, abs=1e-6)
    assert [row.index for row in recorder.sheet_rows] == [1, 8]
    assert recorder.sheet_rows[0].target_crop_bgr.shape == recorder.sheet_rows[0].output_crop_bgr.shape


def test_pair_every_measures_consecutive_pairs_only() -> None:
    mesh = ScriptedMesh(lambda i: still(), lambda i: still((CENTER[0] + 2.0 * i, CENTER[1])))
    report = run(mesh, 12, settings=RecorderSettings(pair_every=4)).report()
    assert report.frames == 12
    assert report.details.frames_measured == 6  # 0, 1, 4, 5, 8, 9
    assert mesh.calls == 12  # target and output re-fit on measured frames only
    assert report.details.jitter_px == pytest.approx(2.0, abs=1e-4)  # pairs (0,1), (4,5), (8,9)


class TwoFaceMesh:
    """Answers the face (A or B) whose centre is in the roi; output faces drift, A 1 px and B 3 px a frame."""

    def fit(self, frame_bgr: Frame, roi: FaceRoi, with_irises: bool = True) -> MeshFit | None:
        kind, index = int(frame_bgr[0, 0, 0]), int(frame_bgr[0, 0, 1])
        for center, size, drift in ((A_CENTER, 120.0, 1.0), (B_CENTER, b_size(index), 3.0)):
            if abs(roi.center_xy[0] - center[0]) < 60:
                return MeshFit(landmarks_at((center[0] + kind * drift * index, center[1]), size), 0.99)
        return None


A_CENTER, B_CENTER = (160.0, 180.0), (460.0, 180.0)


def b_size(index: int) -> float:
    return 140.0 if index >= 3 else 100.0  # B grows larger than A from frame 3


def test_the_largest_face_is_followed_by_its_track_until_it_leaves() -> None:
    def faces(i: int) -> list[Face]:
        a = face_from(landmarks_at(A_CENTER, 120.0), track_id=1)
        b = face_from(landmarks_at(B_CENTER, b_size(i)), track_id=2)
        return [a, b] if i < 6 else [b]  # A leaves at frame 6

    report = run(TwoFaceMesh(), 8, faces=faces).report()
    # A followed on frames 0-5 (5 pairs at 1 px) even once B is larger; then B (pair 6-7 at 3 px);
    # no pair across the switch from A to B.
    assert report.details.jitter_px == pytest.approx((5 * 1.0 + 3.0) / 6, abs=1e-4)
    assert report.details.frames_with_face == 8


def test_report_json_has_exactly_the_issue_keys() -> None:
    report = run(ScriptedMesh(lambda i: still(), lambda i: still()), 3).report()
    assert tuple(report.to_json()) == REPORT_KEYS
    assert report.id_to_source is None and report.id_to_target is None  # no identity model given
    assert report.mar_corr == 1.0 and report.ear_corr == 1.0  # both still: the documented rule


def test_frames_of_different_sizes_are_refused() -> None:
    recorder = QualityRecorder(ScriptedMesh(lambda i: still(), lambda i: still()))
    with pytest.raises(ValueError, match="differ in shape"):
        recorder.observe(0, 0.0, blank(), blank()[:100], [])


def test_settings_validation() -> None:
    with pytest.raises(ValueError, match="pair_every"):
        RecorderSettings(pair_every=0)
    with pytest.raises(ValueError, match="seam_every"):
        RecorderSettings(seam_every=0)


def test_background_recorder_gives_the_same_report_as_inline() -> None:
    def script(i: int) -> FloatArray:
        return still((CENTER[0] + 0.5 * i * (i % 3), CENTER[1]))

    inline = run(ScriptedMesh(lambda i: still(), script), 12, output_image=lambda i: blank(100 + i)).report()
    background = BackgroundRecorder(QualityRecorder(ScriptedMesh(lambda i: still(), script)), max_queued=2)
    with background:
        for i in range(12):
            target, output = tagged(blank(), 0, i), tagged(blank(100 + i), 1, i)
            background.observe(i, i / 30, target, output, [face_from(still())])
        report = background.report()
    assert report == inline
    assert report.details.jitter_px == inline.details.jitter_px


def test_background_recorder_raises_a_thread_error_in_the_caller() -> None:
    background = BackgroundRecorder(QualityRecorder(ScriptedMesh(lambda i: still(), lambda i: still())))
    background.observe(0, 0.0, blank(), blank()[:50], [face_from(still())])  # wrong size: fails on the thread
    with pytest.raises(ValueError, match="differ in shape"):
        background.report()
    with pytest.raises(RuntimeError, match="closed"):
        BackgroundRecorder.observe(_closed(), 0, 0.0, blank(), blank(), [])


def _closed() -> BackgroundRecorder:
    recorder = BackgroundRecorder(QualityRecorder(ScriptedMesh(lambda i: still(), lambda i: still())))
    recorder.close()
    return recorder


def test_reusing_the_target_embedding_embeds_the_target_once_per_track() -> None:
    calls: list[int] = []

    def embed(frame_bgr: Frame, face: Face) -> FloatArray:
        calls.append(int(frame_bgr[0, 0, 0]))
        vector = np.zeros(128, dtype=np.float32)
        vector[0] = 0.3 * float(frame_bgr[0, 0, 0])
        return vector

    settings = RecorderSettings(identity=IdentitySchedule.evenly(12, 4), reuse_target_embedding=True)
    recorder = QualityRecorder(ScriptedMesh(lambda i: still(), lambda i: still()), embed, None, settings)
    for i in range(12):
        recorder.observe(i, i / 30, tagged(blank(), 0, i), tagged(blank(), 1, i), [face_from(still())])
    report = recorder.report()
    assert calls.count(1) == 4 and calls.count(0) == 1  # four output faces, the target face once
    assert report.details.id_to_target_per_frame == pytest.approx((0.3, 0.3, 0.3, 0.3))


def test_swap_settings_spread_samples_and_measure_a_quarter_of_the_frames() -> None:
    settings = RecorderSettings.for_swap(10.0)
    assert settings.identity.frame_indices is None
    assert settings.identity.interval_s == pytest.approx(2.5)  # four samples in 10 s
    assert RecorderSettings.for_swap(60.0).identity.interval_s == pytest.approx(7.5)  # at most eight
    assert settings.pair_every == 8 and settings.reuse_target_embedding and settings.refit_target
