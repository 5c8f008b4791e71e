"""Source preparation: skin model, occluders found and filled, notes, loading the source photo."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.blend.color import LIGHTNESS_OFFSET
from facecraft.errors import NoFaceError
from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.face import LANDMARK_POINTS, MESH_POINTS, Face, bbox_from_landmarks
from facecraft.media.image import write_image
from facecraft.swap.source import (
    SHADOW_KNEE,
    SHADOW_LIFT,
    SHADOW_MAX_GAIN,
    LightCorrection,
    OcclusionReport,
    SourceSettings,
    even_light,
    find_occluders,
    fit_skin_model,
    fitted_light,
    lift_shadows,
    load_source,
    normal_map,
    occlusion_notes,
    prepare_source,
    push_pull_fill,
    texture_layout,
    thin_clear_strips,
)
from facecraft.swap.triangles import (
    FACE_OVAL,
    LEFT_BROW,
    LEFT_EYELIDS,
    LIPS_INNER,
    LIPS_OUTER,
    RIGHT_BROW,
    RIGHT_EYELIDS,
    load_topology,
)
from facecraft.types import FloatArray, Frame

TOPOLOGY = load_topology()
SKIN_BGR = (120, 150, 200)
CHEEK = 50
"""A mesh point on the subject's right cheek."""


def synthetic_face(size: int = 320, scale: float = 150.0) -> tuple[Frame, Face]:
    """A drawn frontal face (skin with a little noise, brows, eyes, lips) and its landmarks."""
    landmarks = np.zeros((LANDMARK_POINTS, 3), dtype=np.float32)
    landmarks[:MESH_POINTS] = TOPOLOGY.layout_468 * scale
    landmarks[:MESH_POINTS, :2] += size / 2
    for start, lids in ((468, RIGHT_EYELIDS), (473, LEFT_EYELIDS)):
        landmarks[start : start + 5] = landmarks[list(lids)].mean(axis=0)
    rng = np.random.default_rng(7)
    image = np.full((size, size, 3), 90, dtype=np.uint8)
    cv2.fillPoly(image, [np.round(landmarks[list(FACE_OVAL), :2]).astype(np.int32)], SKIN_BGR)
    noise = rng.normal(0.0, 3.0, size=image.shape)
    image = np.clip(image + noise, 0, 255).astype(np.uint8)
    features: list[tuple[tuple[int, ...], tuple[int, int, int]]] = [
        (RIGHT_BROW, (40, 50, 60)),
        (LEFT_BROW, (40, 50, 60)),
        (LIPS_OUTER, (70, 60, 190)),
        (RIGHT_EYELIDS, (235, 235, 235)),
        (LEFT_EYELIDS, (235, 235, 235)),
    ]
    for loop, colour in features:
        cv2.fillPoly(image, [np.round(landmarks[list(loop), :2]).astype(np.int32)], colour)
    face = Face(bbox_from_landmarks(landmarks), 0.9, landmarks)
    return image, face


def with_blob(image: Frame, face: Face, radius: int = 10) -> Frame:
    out = image.copy()
    centre = tuple(int(v) for v in np.round(face.landmarks_478[CHEEK, :2]))
    cv2.circle(out, centre, radius, (35, 35, 40), -1)
    return out


def test_dark_blob_on_skin_is_found_and_filled_from_the_other_cheek() -> None:
    image, face = synthetic_face()
    prepared = prepare_source(with_blob(image, face), face, TOPOLOGY)
    x, y = (int(v) for v in np.round(prepared.uv_478[CHEEK]))
    mirror_x, mirror_y = (int(v) for v in np.round(prepared.uv_478[TOPOLOGY.mirror_468[CHEEK]]))
    assert prepared.hidden[y, x] == 1.0
    assert prepared.hidden[mirror_y, mirror_x] == 0.0
    filled = prepared.texture_bgra[y, x, :3].astype(int)
    assert np.abs(filled - np.array(SKIN_BGR)).max() < 20  # skin again, not the blob
    assert 0.005 < prepared.report.covered < 0.08
    assert prepared.report.from_mirror > 0.0
    assert any("covers" in note for note in prepared.notes)


def test_an_occluder_is_kept_when_cleaning_is_off() -> None:
    image, face = synthetic_face()
    prepared = prepare_source(with_blob(image, face), face, TOPOLOGY, SourceSettings(clean=False))
    x, y = (int(v) for v in np.round(prepared.uv_478[CHEEK]))
    assert prepared.hidden[y, x] == 0.0
    kept = prepared.texture_bgra[y, x, :3].astype(int)
    assert np.abs(kept - np.array([35, 35, 40])).max() < 20  # the blob, as the photo shows it
    assert prepared.report.covered == 0.0
    assert not any("covers" in note for note in prepared.notes)


def test_clean_face_has_nothing_to_fill() -> None:
    image, face = synthetic_face()
    prepared = prepare_source(image, face, TOPOLOGY)
    assert prepared.report.covered < 0.01
    assert prepared.notes == ()
    assert prepared.texture_bgra.shape[2] == 4
    assert prepared.texture_bgra[..., 3].max() == 255


def test_occluder_detection_on_a_skin_patch() -> None:
    rng = np.random.default_rng(0)
    patch = np.clip(rng.normal(0, 2.5, size=(120, 120, 3)) + SKIN_BGR, 0, 255).astype(np.uint8)
    cv2.circle(patch, (80, 60), 9, (40, 40, 45), -1)
    lab = cv2.cvtColor(patch, cv2.COLOR_BGR2LAB).astype(np.float32)
    everywhere = np.ones((120, 120), dtype=bool)
    model = fit_skin_model(lab, everywhere)
    no_asymmetry = np.zeros_like(everywhere)
    found = find_occluders(lab, model, everywhere, everywhere, no_asymmetry, SourceSettings(), 120.0)
    blob = np.zeros((120, 120), dtype=np.uint8)
    cv2.circle(blob, (80, 60), 9, 1, -1)
    assert found[blob > 0].mean() > 0.95  # the whole blob
    assert found[blob == 0].mean() < 0.08  # and little of the skin around it
    assert not found[10:40, 10:40].any()


def test_push_pull_fills_holes_smoothly() -> None:
    values = np.zeros((64, 64, 1), dtype=np.float32)
    values[:, :, 0] = np.linspace(0, 63, 64)[np.newaxis, :]  # a ramp along x
    known = np.ones((64, 64), dtype=bool)
    known[20:44, 20:44] = False
    filled = push_pull_fill(values * known[..., np.newaxis], known)
    assert np.abs(filled[32, 20:44, 0] - values[32, 20:44, 0]).max() < 6.0
    assert np.array_equal(filled[known], values[known])


def test_notes_say_what_was_filled() -> None:
    assert occlusion_notes(OcclusionReport(0.0, 0.0, 0.0, 0.0, (), 0.0)) == ()
    notes = occlusion_notes(OcclusionReport(0.12, 0.0, 0.08, 0.04, ("the subject's right cheek",), 0.0))
    assert "12%" in notes[0] and "right cheek" in notes[0]
    assert "8% from the mirrored side" in notes[-1]
    turned = occlusion_notes(OcclusionReport(0.0, 0.2, 0.1, 0.1, (), 0.0))
    assert any("turned" in note for note in turned)
    fringe = occlusion_notes(OcclusionReport(0.3, 0.0, 0.1, 0.2, ("forehead",), 0.56))
    assert "56% of the forehead" in fringe[-1] and "--forehead" in fringe[-1]
    assert occlusion_notes(OcclusionReport(0.0, 0.0, 0.0, 0.0, (), None)) == ()  # not looked for: no word


class _FixedAnalyzer(FaceAnalyzer):
    def __init__(self, faces: list[Face]) -> None:
        self._faces = faces

    def analyze(self, frame_bgr: Frame) -> list[Face]:
        return list(self._faces)


def test_load_source_picks_the_largest_face_and_says_so(tmp_path: Path) -> None:
    image, face = synthetic_face()
    small = Face(face.bbox_xyxy * 0.5, 0.9, face.landmarks_478 * np.float32(0.5))
    path = write_image(tmp_path / "two.png", image)
    source = load_source(path, _FixedAnalyzer([small, face]))
    assert source.face is face
    assert source.path == path
    assert any("2 faces" in note and "largest" in note for note in source.notes)


def test_load_source_without_a_face_names_the_file(tmp_path: Path) -> None:
    path = write_image(tmp_path / "empty.png", np.full((64, 64, 3), 128, dtype=np.uint8))
    with pytest.raises(NoFaceError, match=r"empty\.png"):
        load_source(path, _FixedAnalyzer([]))


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="max_face_px"):
        SourceSettings(max_face_px=10)
    with pytest.raises(ValueError, match="dip_threshold"):
        SourceSettings(dip_threshold=0.0)
    with pytest.raises(ValueError, match="even_light"):
        SourceSettings(even_light=1.5)


def skin_patch(size: int = 160) -> tuple[Frame, FloatArray]:
    rng = np.random.default_rng(3)
    patch = np.clip(rng.normal(0, 2.5, size=(size, size, 3)) + SKIN_BGR, 0, 255).astype(np.uint8)
    return patch, cv2.cvtColor(patch, cv2.COLOR_BGR2LAB).astype(np.float32)


def occluders_on(
    patch: Frame, nose: np.ndarray | None = None, busier: np.ndarray | None = None
) -> np.ndarray:
    lab = cv2.cvtColor(patch, cv2.COLOR_BGR2LAB).astype(np.float32)
    everywhere = np.ones(patch.shape[:2], dtype=bool)
    model = fit_skin_model(lab, everywhere)
    more_detail = np.zeros_like(everywhere) if busier is None else busier
    return find_occluders(lab, model, everywhere, everywhere, more_detail, SourceSettings(), 160.0, nose)


def test_a_small_dark_spot_on_the_nose_is_a_feature() -> None:
    patch, _ = skin_patch()
    cv2.circle(patch, (80, 80), 4, (40, 40, 45), -1)  # a nostril's shadow
    nose = np.zeros(patch.shape[:2], dtype=bool)
    nose[60:100, 65:95] = True
    assert occluders_on(patch)[80, 80]  # on the cheek it would be an occluder
    assert not occluders_on(patch, nose).any()  # on the nose it stays


def test_a_large_skin_coloured_occluder_grows_further_than_hair() -> None:
    skin, _ = skin_patch()
    disc = np.zeros(skin.shape[:2], dtype=np.uint8)
    cv2.circle(disc, (80, 80), 16, 1, -1)
    # a fingertip: skin-coloured, found by its detail (far busier than the mirrored cheek) ...
    hand_found = occluders_on(skin, busier=disc > 0)
    # ... and a dark lock of hair of the same size
    hair = skin.copy()
    hair[disc > 0] = (40, 45, 60)
    hair_found = occluders_on(hair)
    assert hand_found[disc > 0].all() and hair_found[disc > 0].all()
    assert hand_found.sum() > 1.3 * hair_found.sum()  # the hand's soft rim and shadow go too


def test_thin_clear_strips_between_filled_parts_are_filled_too() -> None:
    clear = np.ones((200, 200), dtype=bool)
    clear[85:115, 60:97] = False  # two filled parts with a short 6-pixel strip of skin between them
    clear[85:115, 103:140] = False
    strips = thin_clear_strips(clear, face_px=200.0)
    assert strips[100, 97:103].all()
    assert not strips[100, :55].any() and not strips[100, 145:].any()  # broad skin stays


def texture_normals() -> tuple[FloatArray, FloatArray, tuple[int, int]]:
    uv, size_wh = texture_layout(TOPOLOGY, 200.0)
    return normal_map(TOPOLOGY, uv, size_wh, 200.0), uv, size_wh


def test_the_normal_map_faces_the_camera_in_the_middle_and_turns_out_at_the_sides() -> None:
    normals, uv, _ = texture_normals()
    inside = np.abs(normals).sum(axis=2) > 0
    np.testing.assert_allclose(np.linalg.norm(normals[inside], axis=1), 1.0, atol=1e-3)

    def at(point: int) -> FloatArray:
        x, y = (int(v) for v in np.round(uv[point]))
        normal: FloatArray = normals[y, x]
        return normal

    nose, right_cheek, left_cheek = at(4), at(234), at(454)  # nose tip; the outline beside each eye
    assert abs(nose[2]) > 0.9, "the nose tip faces the camera"
    assert abs(right_cheek[0]) > 0.5 and abs(left_cheek[0]) > 0.5, "the sides turn away"
    assert np.sign(right_cheek[0]) == -np.sign(left_cheek[0])


def test_the_photos_light_is_fitted_on_the_clear_skin_and_drawn_where_it_is_hidden() -> None:
    normals, _, _ = texture_normals()
    inside = np.abs(normals).sum(axis=2) > 0
    light = 150.0 + 60.0 * normals[..., 0:1] * np.array([1.0, 1.1, 1.2])  # a lamp to one side
    texture = np.clip(np.where(inside[..., None], light, 90.0), 0, 255).astype(np.uint8)
    clear = inside.copy()
    clear[:, : clear.shape[1] // 3] = False  # one side hidden (hair over the cheek)
    fitted = fitted_light(texture, normals, clear)
    assert fitted is not None
    hidden = inside & ~clear
    error = np.abs(fitted[hidden] - light[hidden] * np.ones(3))
    assert float(np.percentile(error, 95)) < 4.0, "the hidden side gets the light its turn gives it"
    assert fitted_light(texture, normals, np.zeros_like(clear)) is None, "no skin to fit: no light"


def test_the_lips_beside_the_mouth_opening_keep_their_colour() -> None:
    """The gap between the lips is filled from the lips, and so is the seam around it: the lips next to
    the opening stay the lips' colour (a skin fill feathered into them drew a pale rim round the mouth)."""
    image, face = synthetic_face()
    prepared = prepare_source(image, face, TOPOLOGY)
    inner = np.round(prepared.uv_478[list(LIPS_INNER)]).astype(np.int32)
    height, width = prepared.texture_bgra.shape[:2]
    gap = np.zeros((height, width), np.uint8)
    cv2.fillPoly(gap, [inner], 1)
    rim = (cv2.dilate(gap, np.ones((3, 3), np.uint8)) > 0) & (gap == 0)
    lips_bgr = np.array([70, 60, 190])
    rim_bgr = prepared.texture_bgra[..., :3][rim].astype(float)
    assert np.abs(rim_bgr.mean(axis=0) - lips_bgr).max() < 15
    assert np.abs(rim_bgr - lips_bgr).max(axis=1).mean() < 20


def test_deep_broad_shadows_are_lifted_and_gentle_relief_is_left() -> None:
    """A band down one side at half the face's light comes up most of the way; a side at 0.9 of it (the
    face's own turn away) stays as it is."""
    size = 120
    lab = np.zeros((size, size, 3), np.uint8)
    lab[...] = (200, 140, 150)
    lab[:, :25, 0] = 80  # a hair shadow down the left side: (80 + 41) / (200 + 41) = 0.5 of the light
    lab[:, 95:, 0] = 176  # the right side turning away: 0.9 of the light
    texture = np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2BGR), dtype=np.uint8)
    skin = np.ones((size, size), bool)
    middle = np.zeros((size, size), bool)
    middle[30:90, 40:80] = True
    out = cv2.cvtColor(lift_shadows(texture, skin, middle, face_px=100.0), cv2.COLOR_BGR2LAB)
    offset = LIGHTNESS_OFFSET
    shadow = (float(out[60, 5:15, 0].mean()) + offset) / (200 + offset)
    assert SHADOW_KNEE - (SHADOW_KNEE - 0.5) * (1 - SHADOW_LIFT) - 0.03 < shadow < SHADOW_KNEE
    assert abs(float(out[60, 105:115, 0].mean()) - 176) <= 2
    assert abs(float(out[60, 50:70, 0].mean()) - 200) <= 1
    chroma = cv2.cvtColor(texture, cv2.COLOR_BGR2LAB)[..., 1:].astype(int)
    assert np.abs(out[..., 1:].astype(int) - chroma).max() <= 2  # the hue stays


def test_prepare_source_reads_the_lips_lifts_the_shadows_and_evens_the_light() -> None:
    """The three steps are wired in, each with its own switch: lipstick painted past the mesh's lower lip
    leaves the skin below the texture's lower lip red without the lip reading; a dark band down one side of
    the face is lighter with the lift, and with the even light."""
    image, face = synthetic_face()
    landmarks = face.landmarks_478
    outer = landmarks[list(LIPS_OUTER), :2].astype(np.float64)
    centre = 0.5 * (outer[0] + outer[10])
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    lips = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(lips, [np.round(centre + (outer - centre) * 1.15).astype(np.int32)], 1)
    lab[lips > 0] = (120, 190, 160)
    shadow_x = int(landmarks[CHEEK, 0]) + 45  # a shade down the subject's right side, over the cheek
    lab[:, :shadow_x, 0] = (lab[:, :shadow_x, 0] * 0.68).astype(np.uint8)
    painted = np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2BGR), dtype=np.uint8)
    plain = SourceSettings(read_lips=False, lift_shadows=False)
    read = prepare_source(painted, face, TOPOLOGY, SourceSettings(lift_shadows=False))
    kept = prepare_source(painted, face, TOPOLOGY, plain)
    below = np.round(kept.uv_478[17] + [0.0, 3.0]).astype(int)  # just under the lower lip's middle
    redness = [
        float(cv2.cvtColor(p.texture_bgra[..., :3], cv2.COLOR_BGR2LAB)[below[1], below[0], 1])
        for p in (kept, read)
    ]
    assert redness[0] > 170 > redness[1] + 15
    lifted = prepare_source(painted, face, TOPOLOGY, SourceSettings(read_lips=False))
    evened = prepare_source(
        painted, face, TOPOLOGY, SourceSettings(read_lips=False, lift_shadows=False, even_light=1.0)
    )
    side = np.round(kept.uv_478[CHEEK]).astype(int)
    light = [
        float(cv2.cvtColor(p.texture_bgra[..., :3], cv2.COLOR_BGR2LAB)[side[1], side[0], 0])
        for p in (kept, lifted, evened)
    ]
    assert light[1] > light[0] + 6
    assert light[2] > light[0] + 6  # the shaded side brought towards the lit one


def _side_lit_texture() -> Frame:
    """Skin lit from the right: the left half at 0.6 of the right's light, with a warm cast (a* + 6)."""
    lab = np.zeros((120, 120, 3), np.float32)
    lab[...] = (200, 140, 150)
    lab[:, :60, 0] = 0.6 * (200 + LIGHTNESS_OFFSET) - LIGHTNESS_OFFSET
    lab[:, :60, 1] += 6
    return np.asarray(cv2.cvtColor(np.round(lab).astype(np.uint8), cv2.COLOR_LAB2BGR), dtype=np.uint8)


def test_a_side_light_is_evened_to_the_mean_of_the_two_sides() -> None:
    texture = _side_lit_texture()
    evening = even_light(texture, np.ones((120, 120), bool), face_px=100.0)
    assert evening is not None
    out = cv2.cvtColor(evening.apply(texture), cv2.COLOR_BGR2LAB).astype(float)
    left, right = out[:, 10:40].reshape(-1, 3).mean(axis=0), out[:, 80:110].reshape(-1, 3).mean(axis=0)
    assert abs(left[0] - right[0]) <= 3 and abs(left[1] - right[1]) <= 1.5  # one light, no cast
    expected = np.sqrt(0.6) * (200 + LIGHTNESS_OFFSET) - LIGHTNESS_OFFSET  # the two sides' geometric mean
    assert abs(right[0] - expected) <= 3 and abs(right[1] - 143) <= 1.5


def test_a_light_from_the_front_and_symmetric_relief_are_left_alone() -> None:
    lab = np.zeros((120, 120, 3), np.uint8)
    lab[...] = (200, 140, 150)
    lab[:, 50:70, 0] = 150  # a darker band down the middle (the nose's sides, say), symmetric
    lab[40:50, 20:35, 0] = lab[40:50, 85:100, 0] = 170  # cheek hollows, one each side
    texture = np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2BGR), dtype=np.uint8)
    evening = even_light(texture, np.ones((120, 120), bool), face_px=100.0)
    assert evening is not None
    assert np.abs(evening.apply(texture).astype(int) - texture).max() <= 1


def test_the_light_correction_applies_to_a_patch_placed_in_the_texture() -> None:
    texture = _side_lit_texture()
    evening = even_light(texture, np.ones((120, 120), bool), face_px=100.0)
    assert evening is not None
    whole = evening.apply(texture)
    np.testing.assert_array_equal(evening.apply(texture[30:70, 40:90], origin=(40, 30)), whole[30:70, 40:90])
    patch = np.empty((20, 30, 3), np.uint8)
    patch[...] = (0, 0, 255)  # a colour 8-bit LAB does not give back exactly
    patch[:10, :20] = texture[110:, 100:]
    overhanging = evening.apply(patch, origin=(100, 110))  # half of it beyond the texture's corner
    np.testing.assert_array_equal(overhanging[:10, :20], whole[110:, 100:])  # inside the texture: changed
    np.testing.assert_array_equal(overhanging[10:], patch[10:])  # beyond it: as it was
    np.testing.assert_array_equal(overhanging[:, 20:], patch[:, 20:])
    with pytest.raises(ValueError, match="origin"):
        evening.apply(patch, origin=(-5, 0))


def test_no_change_of_light_leaves_every_pixel_as_it_was() -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    none = LightCorrection(np.ones((40, 50), np.float32), np.zeros((40, 50, 2), np.float32))
    np.testing.assert_array_equal(none.apply(image), image)


def test_the_light_is_evened_only_from_skin_on_both_sides() -> None:
    texture = _side_lit_texture()
    one_side = np.zeros((120, 120), bool)
    one_side[:, :60] = True  # the mirror of every skin pixel is not skin: nothing to compare
    assert even_light(texture, one_side, face_px=100.0) is None
    half = even_light(texture, np.ones((120, 120), bool), face_px=100.0, strength=0.5)
    full = even_light(texture, np.ones((120, 120), bool), face_px=100.0)
    assert half is not None and full is not None
    np.testing.assert_allclose(half.gain, np.sqrt(full.gain), rtol=1e-4)  # half way, in light's ratio


def test_the_shadow_lift_never_more_than_doubles_the_light() -> None:
    size = 120
    lab = np.zeros((size, size, 3), np.uint8)
    lab[...] = (200, 140, 150)
    lab[:, :30, 0] = 8  # nearly black: (8 + 41) / (200 + 41) = 0.2 of the light
    texture = np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2BGR), dtype=np.uint8)
    middle = np.zeros((size, size), bool)
    middle[30:90, 50:90] = True
    out = cv2.cvtColor(lift_shadows(texture, np.ones((size, size), bool), middle, 100.0), cv2.COLOR_BGR2LAB)
    before = float(cv2.cvtColor(texture, cv2.COLOR_BGR2LAB)[60, 2:12, 0].mean()) + LIGHTNESS_OFFSET
    after = float(out[60, 2:12, 0].mean()) + LIGHTNESS_OFFSET
    assert 1.5 < after / before <= SHADOW_MAX_GAIN + 0.05


def _forehead_band(image: Frame, face: Face, x_from: float, x_to: float) -> Frame:
    """Dark hair over the forehead between two fractions of the face's width, down to the brows."""
    xy = face.landmarks_478[:MESH_POINTS, :2]
    brows_top = float(xy[[*RIGHT_BROW, *LEFT_BROW], 1].min())
    left, right = float(xy[:, 0].min()), float(xy[:, 0].max())
    out = image.copy()
    x0, x1 = (round(left + f * (right - left)) for f in (x_from, x_to))
    cv2.rectangle(out, (x0, 0), (x1, round(brows_top) - 3), (30, 35, 45), -1)
    return out


def test_a_fringe_makes_the_forehead_not_clear_and_hair_at_the_temples_does_not() -> None:
    image, face = synthetic_face()
    bare = prepare_source(image, face, TOPOLOGY).report
    assert bare.forehead_covered is not None and bare.forehead_covered < 0.05 and bare.forehead_clear
    fringe = prepare_source(_forehead_band(image, face, 0.0, 1.0), face, TOPOLOGY).report
    assert fringe.forehead_covered is not None and fringe.forehead_covered > 0.8 and not fringe.forehead_clear
    temples = _forehead_band(_forehead_band(image, face, 0.0, 0.15), face, 0.85, 1.0)
    sides = prepare_source(temples, face, TOPOLOGY).report
    assert sides.covered > bare.covered + 0.01  # the hair was found
    assert sides.forehead_clear  # but the forehead's middle is skin
    assert "the temples" in sides.regions and "forehead" not in sides.regions  # and the note says where
    assert "forehead" in fringe.regions
    unsearched = prepare_source(image, face, TOPOLOGY, SourceSettings(clean=False)).report
    assert unsearched.forehead_covered is None and not unsearched.forehead_clear  # a kept fringe is unseen
