"""BlazeFace detector: anchors, decoding, letterbox, NMS, input handling, and real photos and video."""

import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.faces.detector import (
    INPUT_SIZE,
    NUM_ANCHORS,
    BlazeFaceDetector,
    BlazeFaceOptions,
    Candidates,
    as_bgr,
    decode_regressors,
    generate_anchors,
    inner_edge_mask,
    letterbox_image,
    plan_letterbox,
    plan_tiles,
    sigmoid_scores,
    weighted_nms,
)
from facecraft.faces.face import iou_xyxy
from facecraft.faces.models import TfliteModel
from facecraft.types import FloatArray, Frame

CELLS = INPUT_SIZE // 4


@pytest.fixture(scope="module")
def detector() -> BlazeFaceDetector:
    return BlazeFaceDetector()


# --- anchors and decoding ------------------------------------------------------------------------


def test_anchor_grid_is_48_by_48_cell_centres_in_row_major_order() -> None:
    anchors = generate_anchors()
    assert anchors.shape == (NUM_ANCHORS, 2) == (2304, 2)
    assert anchors.dtype == np.float32
    np.testing.assert_allclose(anchors[0], [0.5 / CELLS, 0.5 / CELLS])
    np.testing.assert_allclose(anchors[1], [1.5 / CELLS, 0.5 / CELLS])  # x moves first
    np.testing.assert_allclose(anchors[CELLS], [0.5 / CELLS, 1.5 / CELLS])  # next row
    np.testing.assert_allclose(anchors[-1], [(CELLS - 0.5) / CELLS, (CELLS - 0.5) / CELLS])
    assert len({(float(x), float(y)) for x, y in anchors}) == NUM_ANCHORS
    # centres are 4 input pixels apart
    np.testing.assert_allclose(np.diff(anchors[:CELLS, 0]) * INPUT_SIZE, 4.0, atol=1e-4)


def test_decode_known_regressor_vector_into_box_and_key_points() -> None:
    anchors = generate_anchors()
    index = 10 * CELLS + 20  # row 10, column 20: centre (82, 42) input pixels
    raw = np.zeros((1, 16), np.float32)
    raw[0, :4] = [4.0, -8.0, 48.0, 60.0]  # centre offset x, y, width, height (input pixels)
    raw[0, 4:6] = [-10.0, -6.0]  # key point 0 relative to the anchor centre
    boxes, keypoints = decode_regressors(raw, anchors[index : index + 1])
    np.testing.assert_allclose(boxes[0] * INPUT_SIZE, [62.0, 4.0, 110.0, 64.0], atol=1e-4)
    assert keypoints.shape == (1, 6, 2)
    np.testing.assert_allclose(keypoints[0, 0] * INPUT_SIZE, [72.0, 36.0], atol=1e-4)
    np.testing.assert_allclose(keypoints[0, 1:] * INPUT_SIZE, [[82.0, 42.0]] * 5, atol=1e-4)


def test_sigmoid_clips_extreme_logits_without_overflow() -> None:
    with np.errstate(over="raise"):
        scores = sigmoid_scores(np.array([-1e6, -2.0, 0.0, 2.0, 1e6], np.float32))
    assert np.all(np.isfinite(scores))
    np.testing.assert_allclose(
        scores, [0.0, 1 / (1 + np.exp(2.0)), 0.5, 1 / (1 + np.exp(-2.0)), 1.0], atol=1e-6
    )


# --- letterbox -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "crop", [(0, 0, 1280, 720), (0, 0, 720, 1280), (0, 0, 500, 375), (214, 0, 500, 286), (3, 5, 100, 60)]
)
def test_letterbox_inverse_maps_points_back_exactly(crop: tuple[int, int, int, int]) -> None:
    box = plan_letterbox(crop)
    assert max(box.resized_wh) == INPUT_SIZE
    rng = np.random.default_rng(0)
    points = rng.uniform([crop[0], crop[1]], [crop[2], crop[3]], size=(50, 2)).astype(np.float32)
    np.testing.assert_allclose(box.input_to_frame(box.frame_to_input(points)), points, atol=1e-3)
    corners = np.array([[crop[0], crop[1]], [crop[2], crop[3]]], np.float32)
    ox, oy = box.offset_xy
    expected = [[ox, oy], [ox + box.resized_wh[0], oy + box.resized_wh[1]]]
    np.testing.assert_allclose(box.frame_to_input(corners), expected, atol=1e-3)


def test_letterbox_puts_image_content_where_the_mapping_says() -> None:
    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[300:360, 900:960] = 255  # white square centred at (930, 330)
    box = plan_letterbox((0, 0, 1280, 720))
    square = letterbox_image(frame, box)
    assert square.shape == (INPUT_SIZE, INPUT_SIZE, 3)
    ys, xs = np.nonzero(square[:, :, 0] > 127)
    centre_input = np.array([[xs.mean() + 0.5, ys.mean() + 0.5]], np.float32)
    np.testing.assert_allclose(
        box.input_to_frame(centre_input)[0], [930.0, 330.0], atol=1280 / INPUT_SIZE / 2
    )
    ox, oy = box.offset_xy
    assert oy > 0 and ox == 0
    assert square[:oy].max() == 0 and square[oy + box.resized_wh[1] :].max() == 0  # black padding


def test_zoomed_out_letterbox_leaves_a_border_and_still_inverts() -> None:
    box = plan_letterbox((0, 0, 512, 512), fill=0.5)
    assert box.resized_wh == (96, 96) and box.offset_xy == (48, 48)
    corners = np.array([[0, 0], [512, 512]], np.float32)
    np.testing.assert_allclose(box.frame_to_input(corners), [[48, 48], [144, 144]], atol=1e-4)
    np.testing.assert_allclose(box.input_to_frame(box.frame_to_input(corners)), corners, atol=1e-3)
    with pytest.raises(ValueError, match="fill"):
        plan_letterbox((0, 0, 10, 10), fill=0.0)


# --- NMS and tiles -------------------------------------------------------------------------------


def _candidates(boxes: list[list[float]], scores: list[float]) -> Candidates:
    boxes_xyxy = np.array(boxes, np.float32)
    centres = (boxes_xyxy[:, :2] + boxes_xyxy[:, 2:]) / 2
    keypoints = np.repeat(centres[:, np.newaxis, :], 6, axis=1).astype(np.float32)
    return Candidates(boxes_xyxy, keypoints, np.array(scores, np.float32))


def test_weighted_nms_blends_duplicates_and_keeps_separate_faces() -> None:
    found = _candidates(
        [[100, 100, 200, 200], [300, 100, 360, 160], [104, 100, 204, 200], [400, 400, 450, 450]],
        [0.6, 0.7, 0.9, 0.8],
    )
    merged = weighted_nms(found, iou_threshold=0.3)
    assert merged.scores.tolist() == pytest.approx([0.9, 0.8, 0.7])  # best first, best score kept
    expected_x0 = (100 * 0.6 + 104 * 0.9) / 1.5
    np.testing.assert_allclose(merged.boxes_xyxy[0], [expected_x0, 100, expected_x0 + 100, 200], atol=1e-4)
    np.testing.assert_allclose(merged.keypoints[0, 0], [expected_x0 + 50, 150], atol=1e-4)
    np.testing.assert_allclose(merged.boxes_xyxy[1:], [[400, 400, 450, 450], [300, 100, 360, 160]])


def test_weighted_nms_of_nothing_is_nothing() -> None:
    assert weighted_nms(Candidates.empty(), 0.3).scores.shape == (0,)


def test_tiles_cover_the_frame_with_overlap() -> None:
    tiles = plan_tiles((1280, 720), grid=2, overlap=0.25)
    assert tiles == [(0, 0, 731, 720), (549, 0, 1280, 720)]
    tiles = plan_tiles((500, 375), grid=2, overlap=0.25)
    assert len(tiles) == 4
    covered = np.zeros((375, 500), bool)
    for x0, y0, x1, y1 in tiles:
        covered[y0:y1, x0:x1] = True
        assert 0.8 < (x1 - x0) / (y1 - y0) < 1.25
    assert covered.all()


def test_faces_cut_by_an_inner_tile_edge_are_flagged() -> None:
    boxes = np.array([[10, 10, 50, 50], [700, 10, 760, 70], [0, 600, 40, 719]], np.float32)
    cut = inner_edge_mask(boxes, (0, 0, 731, 720), (1280, 720), margin=2.0)
    assert cut.tolist() == [False, True, False]  # only the right edge is inside the frame


# --- the detector on synthetic input -------------------------------------------------------------


class _FakeModel(TfliteModel):
    """Answers every call with one face (logit 5) at anchor (row 20, column 10) and counts the calls."""

    def __init__(self, box_size_px: float, logit: float = 5.0) -> None:
        self.path = Path("fake.tflite")
        self.input_shape = (1, INPUT_SIZE, INPUT_SIZE, 3)
        self._outputs = [("reshaped_classifier_face_4", 1), ("reshaped_regressor_face_4", 0)]
        self.calls = 0
        self._regressors = np.zeros((1, NUM_ANCHORS, 16), np.float32)
        self._regressors[0, 20 * CELLS + 10, 2:4] = box_size_px
        self._logits = np.full((1, NUM_ANCHORS, 1), -10.0, np.float32)
        self._logits[0, 20 * CELLS + 10, 0] = logit

    def run(self, input_nhwc: FloatArray) -> list[FloatArray]:
        assert input_nhwc.shape == self.input_shape and input_nhwc.dtype == np.float32
        assert input_nhwc.min() >= -1.0 and input_nhwc.max() <= 1.0
        self.calls += 1
        return [self._logits.copy(), self._regressors.copy()]


def test_detect_maps_a_model_box_through_the_letterbox_to_frame_pixels() -> None:
    model = _FakeModel(box_size_px=40.0)
    faces = BlazeFaceDetector(model=model).detect(np.zeros((192, 384, 3), np.uint8))
    # anchor centre (42, 82) input px; the 384x192 frame is scaled by 0.5 and shifted down by 48
    assert len(faces) == 1 and model.calls == 1
    np.testing.assert_allclose(faces[0].bbox_xyxy, [44.0, 28.0, 124.0, 108.0], atol=1e-3)
    np.testing.assert_allclose(faces[0].keypoints_6, [[84.0, 68.0]] * 6, atol=1e-3)
    assert faces[0].score == pytest.approx(1 / (1 + np.exp(-5.0)), abs=1e-6)


def test_auto_second_look_runs_only_for_small_or_missing_faces() -> None:
    frame = np.zeros((720, 1280, 3), np.uint8)
    big = _FakeModel(box_size_px=60.0)  # 400 frame pixels: one inference
    BlazeFaceDetector(model=big).detect(frame)
    assert big.calls == 1
    small = _FakeModel(box_size_px=10.0)  # 67 frame pixels, under 0.125 of 1280: tiles too
    BlazeFaceDetector(model=small).detect(frame)
    assert small.calls == 1 + len(plan_tiles((1280, 720), 2, 0.25))
    never = _FakeModel(box_size_px=10.0)
    BlazeFaceDetector(second_look="never", model=never).detect(frame)
    assert never.calls == 1
    nothing = _FakeModel(box_size_px=40.0, logit=-10.0)  # no face: zoomed-out view, then tiles
    assert BlazeFaceDetector(model=nothing).detect(frame) == []
    assert nothing.calls == 1 + 1 + len(plan_tiles((1280, 720), 2, 0.25))


def test_keyword_settings_override_options() -> None:
    options = BlazeFaceOptions(score_threshold=0.7, tile_grid=3)
    built = BlazeFaceDetector(options, num_threads=1, min_face_px=30.0, model=_FakeModel(40.0))
    assert built.options == BlazeFaceOptions(
        score_threshold=0.7, tile_grid=3, num_threads=1, min_face_px=30.0
    )
    with pytest.raises(ValueError, match="score_threshold"):
        BlazeFaceDetector(score_threshold=2.0, model=_FakeModel(40.0))


def test_faces_under_min_face_px_are_dropped() -> None:
    frame = np.zeros((192, 192, 3), np.uint8)
    assert BlazeFaceDetector(model=_FakeModel(8.0)).detect(frame) == []  # 8 px < 20 px default
    kept = BlazeFaceDetector(min_face_px=0.0, model=_FakeModel(8.0)).detect(frame)
    assert len(kept) == 1 and kept[0].width == pytest.approx(8.0)


def test_black_and_tiny_frames_have_no_face(detector: BlazeFaceDetector) -> None:
    assert detector.detect(np.zeros((720, 1280, 3), np.uint8)) == []
    assert detector.detect(np.full((480, 640, 3), 128, np.uint8)) == []
    assert detector.detect(np.zeros((1, 1, 3), np.uint8)) == []
    assert detector.detect(np.zeros((5, 3), np.uint8)) == []


def test_input_layouts_are_converted_or_refused_clearly() -> None:
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert as_bgr(grey).shape == (3, 4, 3)
    assert as_bgr(grey[:, :, np.newaxis]).shape == (3, 4, 3)
    bgra = np.dstack([np.full((3, 4, 3), 7, np.uint8), np.zeros((3, 4), np.uint8)])
    assert as_bgr(bgra).shape == (3, 4, 3) and as_bgr(bgra).max() == 7
    with pytest.raises(ValueError, match="uint8"):
        as_bgr(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="channels"):
        as_bgr(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        as_bgr(np.zeros((0, 4, 3), np.uint8))
    with pytest.raises(TypeError, match="numpy array"):
        as_bgr([[0, 0, 0]])


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="score_threshold"):
        BlazeFaceOptions(score_threshold=1.5)
    with pytest.raises(ValueError, match="second_look"):
        BlazeFaceOptions(second_look="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_threads"):
        BlazeFaceOptions(num_threads=0)


# --- real media ----------------------------------------------------------------------------------


def _imglab_boxes(xml_path: Path, file_name: str) -> list[FloatArray]:
    for image in ET.parse(xml_path).getroot().iter("image"):
        if image.get("file") == file_name:
            return [
                np.array([left, top, left + width, top + height], np.float32)
                for left, top, width, height in (
                    (float(b.get(k, 0)) for k in ("left", "top", "width", "height"))
                    for b in image.iter("box")
                )
            ]
    raise AssertionError(f"{file_name} not in {xml_path}")


def _read_image(path: Path) -> Frame:
    image = cv2.imread(str(path))
    assert image is not None, f"cannot read {path}"
    return np.asarray(image, dtype=np.uint8)


@pytest.mark.media
@pytest.mark.parametrize(
    ("xml_name", "file_name"),
    [
        ("training.xml", "2008_002079.jpg"),
        ("testing.xml", "2008_002470.jpg"),
        ("testing.xml", "2008_002506.jpg"),
    ],
)
def test_group_photo_faces_match_the_hand_drawn_boxes(
    detector: BlazeFaceDetector, media_dir: Path, xml_name: str, file_name: str
) -> None:
    groups = media_dir / "images" / "groups"
    truth = _imglab_boxes(groups / xml_name, file_name)
    faces = detector.detect(_read_image(groups / file_name))
    unmatched = list(range(len(faces)))
    for box in truth:
        ious = [iou_xyxy(box, faces[i].bbox_xyxy) for i in unmatched]
        assert ious and max(ious) >= 0.4, f"face {box.tolist()} in {file_name} not found"
        unmatched.pop(int(np.argmax(ious)))
    assert unmatched == [], f"false alarms in {file_name}: {[faces[i].bbox_xyxy.tolist() for i in unmatched]}"
    scores = [f.score for f in faces]
    assert scores == sorted(scores, reverse=True)


def _video_frame(path: Path, index: int) -> Frame:
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = capture.read()
    capture.release()
    assert ok, f"cannot read frame {index} of {path}"
    return np.asarray(frame, dtype=np.uint8)


@pytest.mark.media
def test_video_frame_has_one_face_with_plausible_key_points(
    detector: BlazeFaceDetector, media_dir: Path
) -> None:
    frame = _video_frame(media_dir / "videos" / "d18.mp4", 30)
    faces = detector.detect(frame)
    assert len(faces) == 1
    face = faces[0]
    x0, y0, x1, y1 = face.bbox_xyxy.tolist()
    assert face.score > 0.5 and face.width > 100
    assert 0 <= x0 < x1 <= frame.shape[1] and 0 <= y0 < y1 <= frame.shape[0]
    eyes_nose_mouth = face.keypoints_6[:4]
    assert np.all((eyes_nose_mouth[:, 0] > x0) & (eyes_nose_mouth[:, 0] < x1))
    assert np.all((eyes_nose_mouth[:, 1] > y0) & (eyes_nose_mouth[:, 1] < y1))
    right_eye, left_eye, nose, mouth = eyes_nose_mouth
    assert right_eye[0] < left_eye[0], "subject's right eye should be on the image left for a frontal face"
    assert max(right_eye[1], left_eye[1]) < nose[1] < mouth[1], "eyes above nose above mouth"
    # grey and BGRA versions of the same frame give the same face
    grey = detector.detect(np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), dtype=np.uint8))
    bgra = detector.detect(np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA), dtype=np.uint8))
    assert len(grey) == 1 and iou_xyxy(grey[0].bbox_xyxy, face.bbox_xyxy) > 0.8
    assert len(bgra) == 1 and np.allclose(bgra[0].bbox_xyxy, face.bbox_xyxy)


@pytest.mark.media
def test_close_up_filling_the_frame_is_found(detector: BlazeFaceDetector, media_dir: Path) -> None:
    # d3.mp4 around frame 340: a face 3/4 of the frame wide; the whole-frame pass alone scores it under
    # 0.5 and the zoomed-out second look finds it
    frame = _video_frame(media_dir / "videos" / "d3.mp4", 340)
    faces = detector.detect(frame)
    assert len(faces) == 1
    assert faces[0].width > 0.5 * frame.shape[1]
