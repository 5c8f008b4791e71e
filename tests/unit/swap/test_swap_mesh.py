"""The mesh swapper on drawn faces: the crop contract, the texture carried over, culling, the registry."""

import math

import cv2
import numpy as np
import pytest

from facecraft.faces.face import LANDMARK_POINTS, MESH_POINTS, Face, bbox_from_landmarks
from facecraft.swap.base import SWAPPERS, SourceIdentity, SwapperConfig
from facecraft.swap.mesh import MeshSwapper, MeshSwapSettings, build_mesh_swapper
from facecraft.swap.shape import ShapeSettings
from facecraft.swap.source import SourceSettings
from facecraft.swap.surround import move_image
from facecraft.swap.triangles import FACE_OVAL, LEFT_EYELIDS, LIPS_INNER, RIGHT_EYELIDS, load_topology
from facecraft.types import FloatArray, Frame

TOPOLOGY = load_topology()
BLUE, GREEN = (200, 60, 40), (40, 190, 60)


def landmarks_of(scale: float, centre: tuple[float, float], yaw_degrees: float = 0.0) -> FloatArray:
    """478 landmarks of the frontal layout turned by ``yaw_degrees`` (the subject's left side away
    from the camera for positive angles), scaled and placed."""
    c, s = math.cos(math.radians(yaw_degrees)), math.sin(math.radians(yaw_degrees))
    rotation = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    points = np.zeros((LANDMARK_POINTS, 3), dtype=np.float32)
    points[:MESH_POINTS] = (TOPOLOGY.layout_468.astype(np.float64) @ rotation.T) * scale
    points[:MESH_POINTS, 0] += centre[0]
    points[:MESH_POINTS, 1] += centre[1]
    for start, lids in ((468, RIGHT_EYELIDS), (473, LEFT_EYELIDS)):
        points[start : start + 5] = points[list(lids)].mean(axis=0)
    return points


def two_tone_source() -> SourceIdentity:
    """A drawn face: the subject's right half blue, the left half green (image left, image right)."""
    landmarks = landmarks_of(150.0, (160.0, 170.0))
    image = np.full((340, 320, 3), 100, dtype=np.uint8)
    outline = np.round(landmarks[list(FACE_OVAL), :2]).astype(np.int32)
    mask = np.zeros(image.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [outline], 1)
    image[(mask > 0) & (np.arange(320)[np.newaxis, :] < 160)] = BLUE
    image[(mask > 0) & (np.arange(320)[np.newaxis, :] >= 160)] = GREEN
    face = Face(bbox_from_landmarks(landmarks), 0.9, landmarks)
    return SourceIdentity(image_bgr=image, face=face)


def target_frame(landmarks: FloatArray, size_wh: tuple[int, int] = (640, 480)) -> tuple[Frame, Face]:
    frame = np.full((size_wh[1], size_wh[0], 3), 30, dtype=np.uint8)
    return frame, Face(bbox_from_landmarks(landmarks), 0.9, landmarks)


NO_CLEANING = SourceSettings(
    skin_threshold=1e9,
    dip_threshold=1e9,
    asymmetry_ratio=1e9,
    dark_fraction=0.0,
    read_lips=False,
    lift_shadows=False,
)
"""The two-tone drawn face is no skin; the source cleaning would fill it all."""


def prepared(settings: MeshSwapSettings | None = None) -> MeshSwapper:
    swapper = MeshSwapper(settings if settings is not None else MeshSwapSettings(source=NO_CLEANING))
    swapper.prepare(two_tone_source())
    return swapper


def colour_share(crop: Frame, coverage: FloatArray, colour: tuple[int, int, int]) -> float:
    drawn = coverage > 0.5
    close = np.abs(crop.astype(int) - np.array(colour)).max(axis=2) < 40
    return float((close & drawn).sum()) / max(int(drawn.sum()), 1)


def test_result_is_a_translated_crop_with_the_source_texture() -> None:
    frame, face = target_frame(landmarks_of(200.0, (330.0, 250.0)))
    result = prepared().swap(frame, face)
    x0, y0 = result.matrix_crop_to_frame[:, 2]
    np.testing.assert_allclose(result.matrix_crop_to_frame[:, :2], np.eye(2))
    assert x0 == int(x0) and y0 == int(y0)
    height, width = result.coverage.shape
    assert result.crop_bgr.shape == (height, width, 3)
    crop_of_frame = frame[int(y0) : int(y0) + height, int(x0) : int(x0) + width]
    undrawn = result.coverage == 0
    assert np.array_equal(result.crop_bgr[undrawn], crop_of_frame[undrawn])  # the frame where nothing drawn
    outline = result.target_landmarks_crop[list(FACE_OVAL), :2].astype(np.float32)
    inside = cv2.pointPolygonTest(outline, (width / 2, height / 2), False) > 0
    assert inside and result.coverage[height // 2, width // 2] == pytest.approx(1.0)
    # The subject's right half (image left) is blue, the left half green, as in the source.
    left, right = result.crop_bgr[:, : width // 2], result.crop_bgr[:, width // 2 :]
    assert colour_share(left, result.coverage[:, : width // 2], BLUE) > 0.8
    assert colour_share(right, result.coverage[:, width // 2 :], GREEN) > 0.8
    np.testing.assert_allclose(
        result.target_landmarks_crop[list(FACE_OVAL), :2] + [x0, y0],
        face.landmarks_478[list(FACE_OVAL), :2],
        atol=1e-3,
    )


def test_faces_at_the_frame_edge_are_cut_to_the_frame() -> None:
    landmarks = landmarks_of(200.0, (20.0, 240.0))
    frame, face = target_frame(landmarks)
    result = prepared().swap(frame, face)
    assert result.matrix_crop_to_frame[0, 2] == 0.0
    right_edge = float(landmarks[:MESH_POINTS, 0].max())
    assert right_edge < result.crop_bgr.shape[1] < right_edge + 0.15 * 300  # cut at the frame's left edge
    assert result.coverage[:, 0].max() > 0.0  # the face is drawn up to it


def test_triangles_turned_away_are_culled() -> None:
    landmarks = landmarks_of(200.0, (320.0, 240.0), yaw_degrees=70.0)
    frame, face = target_frame(landmarks)
    culling = prepared()
    drawing_all = prepared(MeshSwapSettings(source=NO_CLEANING, cull_below=-1.0))
    facing = culling.facing(landmarks.astype(np.float64))
    centres_x = TOPOLOGY.layout_468[TOPOLOGY.face_triangles].mean(axis=1)[:, 0]
    assert (facing[centres_x < -0.4] < 0).mean() > 0.5  # the subject's right cheek turns away
    assert (facing[centres_x > 0.2] > 0).mean() > 0.9  # the left cheek faces the camera
    culled, smeared = culling.swap(frame, face), drawing_all.swap(frame, face)
    blue_culled = colour_share(culled.crop_bgr, culled.coverage, BLUE)
    blue_all = colour_share(smeared.crop_bgr, smeared.coverage, BLUE)
    assert blue_culled < blue_all  # less of the turned-away side is drawn


def test_expression_stays_the_targets_mouth_opening() -> None:
    landmarks = landmarks_of(200.0, (320.0, 240.0))
    layout = TOPOLOGY.layout_468
    # Below the middle of the lips: the upper lip's second inner row (42, 183, ...) stays with it.
    jaw = (layout[:, 1] > (layout[13, 1] + layout[14, 1]) / 2) & (np.abs(layout[:, 0]) < layout[291, 0])
    landmarks[np.flatnonzero(jaw), 1] += 25.0  # the lower lip and the chin below it drop: mouth open
    frame, face = target_frame(landmarks)
    frame[:] = (0, 0, 255)  # the target's own mouth interior will show red
    result = prepared().swap(frame, face)
    x0, y0 = result.matrix_crop_to_frame[:, 2]
    mouth_centre = (landmarks[13, :2] + landmarks[14, :2]) / 2 - [x0, y0]
    x, y = (int(v) for v in np.round(mouth_centre))
    assert tuple(result.crop_bgr[y, x]) == (0, 0, 255)  # drawn from the target frame
    assert result.coverage[y, x] == pytest.approx(1.0)
    # The whole opening, its corners too: the source's lips drawn across the corners made an open mouth
    # a box with red lip where the target's mouth was (d18.mp4's "O" at 2.5 s).
    inner = np.round(result.target_landmarks_crop[list(LIPS_INNER), :2]).astype(np.int32)
    polygon = np.zeros(result.coverage.shape, np.uint8)
    cv2.fillPoly(polygon, [inner], 1)
    opening = np.asarray(cv2.erode(polygon, np.ones((5, 5), np.uint8)), dtype=bool)
    columns = np.arange(result.coverage.shape[1])
    corners = opening & (np.abs(columns - x) > 0.3 * np.ptp(inner[:, 0]))[np.newaxis, :]
    assert corners.sum() > 50

    def red_share(where: np.ndarray) -> float:  # within the render's softening of the frame's red
        difference = np.abs(result.crop_bgr[where].astype(int) - (0, 0, 255)).max(axis=1)
        return float((difference <= 12).mean())

    assert red_share(opening) > 0.99
    assert red_share(corners) > 0.99


def test_swap_before_prepare_is_an_error() -> None:
    frame, face = target_frame(landmarks_of(200.0, (320.0, 240.0)))
    with pytest.raises(RuntimeError, match="prepare"):
        MeshSwapper().swap(frame, face)


def test_registered_as_mesh() -> None:
    assert "mesh" in SWAPPERS.names()
    assert SWAPPERS.get("mesh") is build_mesh_swapper
    assert isinstance(build_mesh_swapper(SwapperConfig()), MeshSwapper)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="eyes"):
        MeshSwapSettings(eyes="both")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="crop_margin"):
        MeshSwapSettings(crop_margin=2.0)


def rendered_nose_tip(swapper: MeshSwapper, landmarks: FloatArray, track_id: int | None) -> np.ndarray:
    frame, face = target_frame(landmarks)
    result = swapper.swap(frame, face.with_track(track_id) if track_id is not None else face)
    return result.target_landmarks_crop[1, :2] + result.matrix_crop_to_frame[:, 2]


def test_still_face_pose_is_steadied_per_track_and_restarts_on_prepare() -> None:
    swapper = prepared()
    still = landmarks_of(200.0, (320.0, 240.0))
    nudged = still.copy()
    nudged[:, 0] += 1.0  # one pixel of landmark noise
    first = rendered_nose_tip(swapper, still, 3)
    steadied = rendered_nose_tip(swapper, nudged, 3)
    assert 0.0 < steadied[0] - first[0] < 0.8  # follows only part of a still face's one-pixel shift
    other_track = rendered_nose_tip(swapper, nudged, 4)
    assert other_track[0] - first[0] == pytest.approx(1.0, abs=1e-3)  # a new track starts where it is
    untracked = rendered_nose_tip(swapper, still, None)
    assert untracked[0] == pytest.approx(first[0], abs=1e-3)  # no track id: rendered as given
    swapper.prepare(two_tone_source())
    assert rendered_nose_tip(swapper, nudged, 3)[0] - first[0] == pytest.approx(1.0, abs=1e-3)


def test_pose_steadying_can_be_turned_off() -> None:
    swapper = prepared(MeshSwapSettings(source=NO_CLEANING, stabilize=None))
    still = landmarks_of(200.0, (320.0, 240.0))
    nudged = still.copy()
    nudged[:, 0] += 1.0
    first = rendered_nose_tip(swapper, still, 3)
    assert rendered_nose_tip(swapper, nudged, 3)[0] - first[0] == pytest.approx(1.0, abs=1e-3)


def test_softening_blurs_the_render_only() -> None:
    frame, face = target_frame(landmarks_of(200.0, (330.0, 250.0)))
    sharp = prepared(MeshSwapSettings(source=NO_CLEANING, soften_px=0.0)).swap(frame, face)
    soft = prepared(MeshSwapSettings(source=NO_CLEANING, soften_px=2.0)).swap(frame, face)
    drawn = cv2.erode((sharp.coverage >= 1.0).astype(np.uint8), np.ones((11, 11), np.uint8)) > 0
    row = sharp.crop_bgr.shape[0] // 2
    # across the blue-green boundary at the middle, the softened render has in-between colours
    sharp_steps = np.abs(np.diff(sharp.crop_bgr[row].astype(int), axis=0)).max(axis=1)[drawn[row, 1:]]
    soft_steps = np.abs(np.diff(soft.crop_bgr[row].astype(int), axis=0)).max(axis=1)[drawn[row, 1:]]
    assert soft_steps.max() < 0.6 * sharp_steps.max()
    undrawn = soft.coverage == 0
    assert np.array_equal(soft.crop_bgr[undrawn], sharp.crop_bgr[undrawn])  # the frame's own pixels
    with pytest.raises(ValueError, match="soften_px"):
        MeshSwapSettings(soften_px=-1.0)


SKIN = (120, 150, 200)
RIM = (30, 30, 35)
RIGHT_CHEEK_UNDER_EYE = (111, 117, 118, 119, 120, 121, 128, 101, 50, 36, 205, 187)
LEFT_CHEEK_UNDER_EYE = (340, 346, 347, 348, 349, 350, 357, 330, 280, 266, 425, 411)
CHEEK_UNDER_EYES = (*RIGHT_CHEEK_UNDER_EYE, *LEFT_CHEEK_UNDER_EYE)
"""Mesh points of the cheeks under the eyes, which a smile or a squint lifts (right side, then left)."""


def spectacled_source(rim_px: int = 2) -> SourceIdentity:
    """A drawn skin-coloured face wearing glasses: a rim around each eye and a bridge between them,
    ``rim_px`` thick."""
    landmarks = landmarks_of(150.0, (160.0, 170.0))
    image = np.full((340, 320, 3), 100, dtype=np.uint8)
    cv2.fillPoly(image, [np.round(landmarks[list(FACE_OVAL), :2]).astype(np.int32)], SKIN)
    image = np.clip(image + np.random.default_rng(1).normal(0.0, 2.0, image.shape), 0, 255).astype(np.uint8)
    centres = []
    for lids in (RIGHT_EYELIDS, LEFT_EYELIDS):
        points = landmarks[list(lids), :2]
        centre, width = points.mean(axis=0), float(np.ptp(points[:, 0]))
        centres.append(centre)
        cv2.fillPoly(image, [np.round(points).astype(np.int32)], (235, 235, 235))
        axes = (round(0.85 * width), round(0.6 * width))
        cv2.ellipse(image, (round(centre[0]), round(centre[1])), axes, 0, 0, 360, RIM, rim_px)
    (x0, y0), (x1, y1) = sorted(centres, key=lambda c: float(c[0]))
    cv2.line(image, (round(x0), round(y0 - 5)), (round(x1), round(y1 - 5)), RIM, rim_px)
    face = Face(bbox_from_landmarks(landmarks), 0.9, landmarks)
    return SourceIdentity(image_bgr=image, face=face)


def rim_pixels(settings: SourceSettings, lift_cheeks_px: float) -> np.ndarray:
    """Where the swapped face is rim-dark above the nose, in frame pixels, for a target whose cheeks are
    lifted by ``lift_cheeks_px``."""
    swapper = MeshSwapper(MeshSwapSettings(source=settings, stabilize=None))
    swapper.prepare(spectacled_source())
    landmarks = landmarks_of(200.0, (330.0, 250.0))
    landmarks[list(CHEEK_UNDER_EYES), 1] -= lift_cheeks_px
    frame, face = target_frame(landmarks)
    result = swapper.swap(frame, face)
    dark = np.zeros(frame.shape[:2], dtype=bool)
    x0, y0 = (int(v) for v in result.matrix_crop_to_frame[:, 2])
    height, width = result.coverage.shape
    crop_dark = (result.crop_bgr.astype(int).max(axis=2) < 70) & (result.coverage > 0.5)
    dark[y0 : y0 + height, x0 : x0 + width] = crop_dark
    dark[int(landmarks[2, 1]) :] = False  # below the nose: the lips
    return dark


def spread_px(moved: np.ndarray, still: np.ndarray) -> float:
    """How far (pixels) the moved set's pixels lie from the still set, at the 95th percentile."""
    distance = cv2.distanceTransform((~still).astype(np.uint8), cv2.DIST_L2, 3)
    return float(np.percentile(distance[moved], 95))


def test_source_glasses_are_drawn_rigidly_and_left_off_on_request() -> None:
    still = rim_pixels(SourceSettings(), 0.0)
    assert still.sum() > 300  # the rims are there
    assert spread_px(rim_pixels(SourceSettings(), 8.0), still) < 1.5  # lifted cheeks do not move them
    pasted = rim_pixels(SourceSettings(clean=False), 0.0)  # kept in the texture, they bend with the face
    assert spread_px(rim_pixels(SourceSettings(clean=False), 8.0), pasted) > 2.2
    assert rim_pixels(SourceSettings(glasses=False), 0.0).sum() < 0.15 * still.sum()  # filled instead


def wide_two_tone_source() -> SourceIdentity:
    """The two-tone face, 15% wider than the layout's."""
    plain = two_tone_source()
    landmarks = plain.face.landmarks_478.copy()
    landmarks[:, 0] = 160.0 + (landmarks[:, 0] - 160.0) * 1.15
    return SourceIdentity(
        image_bgr=plain.image_bgr, face=Face(bbox_from_landmarks(landmarks), 0.9, landmarks)
    )


def test_with_outline_a_wider_source_widens_the_face_and_moves_the_frame_around_it() -> None:
    landmarks = landmarks_of(160.0, (330.0, 250.0))  # the band around the face fits in the frame
    frame, face = target_frame(landmarks)
    frame[:, (np.arange(640) // 4) % 2 == 1] = 220  # stripes, so a move shows
    settings = MeshSwapSettings(source=NO_CLEANING, shape=ShapeSettings(outline=1.0), stabilize=None)
    swapper = MeshSwapper(settings)
    swapper.prepare(wide_two_tone_source())
    result = swapper.swap(frame, face)
    assert result.frame_move is not None
    x0, y0 = (int(v) for v in result.matrix_crop_to_frame[:, 2])
    oval = list(FACE_OVAL)
    rendered = result.target_landmarks_crop[oval, 0] + x0
    assert float(np.ptp(rendered)) > 1.05 * float(np.ptp(landmarks[oval, 0])), "the face is drawn wider"
    height, width = result.frame_move.shape[:2]
    crop = frame[y0 : y0 + height, x0 : x0 + width]
    moved = move_image(crop, result.frame_move)
    assert np.array_equal(moved[:2], crop[:2]), "the band tapers to no move"
    row = int(landmarks[234, 1]) - y0  # at the cheek's edge, the stripes beside the face moved outward
    assert not np.array_equal(moved[row], crop[row])
    still = prepared(MeshSwapSettings(source=NO_CLEANING, stabilize=None)).swap(frame, face)
    assert still.frame_move is None, "without outline the frame is left as it is"


def test_the_outline_option_reaches_the_mesh_swapper() -> None:
    for config, outline in ((SwapperConfig(outline=True), 1.0), (SwapperConfig(), 0.0)):
        swapper = build_mesh_swapper(config)
        assert isinstance(swapper, MeshSwapper) and swapper.settings.shape.outline == outline


def test_results_say_whether_the_sources_forehead_is_clear() -> None:
    frame, face = target_frame(landmarks_of(200.0, (320.0, 240.0)))
    assert prepared().swap(frame, face).forehead_clear  # nothing found over the drawn forehead
    kept = prepared(MeshSwapSettings(source=SourceSettings(clean=False)))
    assert not kept.swap(frame, face).forehead_clear  # a fringe kept in the texture is never looked for
