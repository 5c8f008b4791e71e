"""Nudity detection with the NudeNet 320n model (a YOLOv8n detector) on onnxruntime.

The ONNX file ships inside the ``nudenet`` wheel (``pip install --no-deps nudenet==3.4.2``); it is found
with ``importlib.util.find_spec`` and the package itself is never imported. Everything around the
network is ours, following what the package documents about the model:

* input: ``images``, float32 N x 3 x H x W, RGB in [0, 1]; the model was exported at 320 x 320. The frame
  is scaled so its longer side is 320, placed in the top-left corner of a black 320 x 320 square
  (NudeNet pads bottom and right), then scaled to [0, 1].
* output: ``output0``, float32 N x 22 x 2100 (40x40 + 20x20 + 10x10 anchors at strides 8, 16, 32):
  rows 0-3 are the box centre x, centre y, width, height in input pixels; rows 4-21 are the scores
  (already sigmoids, in [0, 1]) of the 18 classes in :data:`NUDITY_LABELS` order.
* class names: checked against the ``names`` entry of the model's metadata when it loads, because a
  model with the classes in another order would make the gate look at the wrong scores.

Decoding differs from the package's on purpose. The package keeps only each anchor's best class and
runs NMS across classes, so a "covered" box can hide an overlapping "exposed" one. Here every
(anchor, class) pair scoring at least ``min_score`` is a candidate and NMS runs per class, so an exposed
class is reported whenever its own score is high, whatever the other classes say at the same place.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.errors import FacecraftError
from facecraft.faces.detector import iou_one_to_many
from facecraft.faces.models import ModelFile
from facecraft.types import FloatArray, Frame

NudityLabel = Literal[
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
]
"""The classes of the NudeNet 320n model, in the order of its score rows."""
NUDITY_LABELS: tuple[NudityLabel, ...] = get_args(NudityLabel)

NUDENET_INSTALL = "pip install --no-deps nudenet==3.4.2"
NUDENET_320N = ModelFile("nudenet", "320n.onnx", "nudenet", NUDENET_INSTALL, "AGPL-3.0")
"""The model file. Its metadata says Ultralytics YOLOv8 8.2.46, licence AGPL-3.0 (the wheel says MIT)."""

INPUT_SIZE = 320
"""Side of the square model input, in pixels (the model's export size, ``imgsz`` in its metadata)."""
BOX_ROWS = 4
DEFAULT_MIN_SCORE = 0.2
"""Lowest class score reported: NudeNet's own cut-off. Gate thresholds must not be below it."""
DEFAULT_NMS_IOU = 0.45
"""Boxes of one class overlapping a better one by more than this IoU are dropped (NudeNet's value)."""

_IntArray = npt.NDArray[np.int64]


class NudityModelMismatchError(FacecraftError):
    """The model file is not the NudeNet model facecraft was written for."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"the nudity model '{path}' is not the one facecraft expects ({detail}). "
            f"Reinstall it with: {NUDENET_INSTALL}"
        )
        self.path = path


@dataclass(frozen=True, slots=True)
class Finding:
    """One region the detector labelled: a class, its score in [0, 1] and a box in frame pixels."""

    label: NudityLabel
    score: float
    box_xyxy: FloatArray

    def __post_init__(self) -> None:
        if self.label not in NUDITY_LABELS:
            raise ValueError(f"label must be one of {NUDITY_LABELS}, got {self.label!r}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be in [0, 1], got {self.score}")
        box = np.asarray(self.box_xyxy, dtype=np.float32)
        if box.shape != (4,) or not np.all(np.isfinite(box)):
            raise ValueError(f"box_xyxy must be 4 finite numbers, got {self.box_xyxy!r}")
        if box[2] < box[0] or box[3] < box[1]:
            raise ValueError(f"box_xyxy must have x1 >= x0 and y1 >= y0, got {box.tolist()}")
        object.__setattr__(self, "box_xyxy", box)


@dataclass(frozen=True, slots=True)
class InputPlacement:
    """Where the frame sits in the model input: scaled by ``scale_xy`` into the top-left corner."""

    frame_wh: tuple[int, int]
    resized_wh: tuple[int, int]

    @property
    def scale_xy(self) -> tuple[float, float]:
        """Input pixels per frame pixel along x and y."""
        return self.resized_wh[0] / self.frame_wh[0], self.resized_wh[1] / self.frame_wh[1]


def plan_input(frame_wh: tuple[int, int], size: int = INPUT_SIZE) -> InputPlacement:
    """Scale the frame so its longer side is ``size`` (keeping its aspect ratio)."""
    width, height = frame_wh
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {frame_wh}")
    scale = size / max(width, height)
    resized_wh = (min(size, max(1, round(width * scale))), min(size, max(1, round(height * scale))))
    return InputPlacement(frame_wh, resized_wh)


def to_input_tensor(frame_bgr: Frame, placement: InputPlacement, size: int = INPUT_SIZE) -> FloatArray:
    """The model input: 1 x 3 x size x size float32 RGB in [0, 1], frame top-left, black elsewhere."""
    resized = cv2.resize(frame_bgr, placement.resized_wh, interpolation=cv2.INTER_LINEAR)
    tensor = np.zeros((1, 3, size, size), dtype=np.float32)
    width, height = placement.resized_wh
    rgb_chw = np.asarray(resized, dtype=np.float32)[:, :, ::-1].transpose(2, 0, 1)
    tensor[0, :, :height, :width] = rgb_chw * np.float32(1.0 / 255.0)
    return tensor


def decode_output(
    output_22n: FloatArray,
    placement: InputPlacement,
    min_score: float = DEFAULT_MIN_SCORE,
    nms_iou: float = DEFAULT_NMS_IOU,
) -> list[Finding]:
    """Findings from one image's raw output (4 + classes rows x anchors), best first, in frame pixels."""
    if output_22n.ndim != 2 or output_22n.shape[0] != BOX_ROWS + len(NUDITY_LABELS):
        raise ValueError(f"output must be ({BOX_ROWS + len(NUDITY_LABELS)}, N), got {output_22n.shape}")
    scores_cn = output_22n[BOX_ROWS:]
    class_ids, anchor_ids = np.nonzero(scores_cn >= min_score)
    if class_ids.size == 0:
        return []
    boxes = _frame_boxes(output_22n[:BOX_ROWS, anchor_ids].T, placement)
    scores = scores_cn[class_ids, anchor_ids].astype(np.float32)
    keep = _nms_per_class(boxes, scores, class_ids, nms_iou)
    return [
        Finding(NUDITY_LABELS[int(class_ids[i])], float(min(1.0, scores[i])), boxes[i])
        for i in keep
        if boxes[i, 2] > boxes[i, 0] and boxes[i, 3] > boxes[i, 1]
    ]


def _frame_boxes(cxcywh_n4: FloatArray, placement: InputPlacement) -> FloatArray:
    """Centre/size boxes in input pixels to xyxy boxes in frame pixels, clipped to the frame."""
    sx, sy = placement.scale_xy
    cx, cy, w, h = (cxcywh_n4[:, i].astype(np.float64) for i in range(4))
    boxes = np.stack([(cx - w / 2) / sx, (cy - h / 2) / sy, (cx + w / 2) / sx, (cy + h / 2) / sy], axis=-1)
    width, height = placement.frame_wh
    boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0.0, width)
    boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0.0, height)
    return boxes.astype(np.float32)


def _nms_per_class(boxes_xyxy: FloatArray, scores: FloatArray, class_ids: _IntArray, iou: float) -> list[int]:
    """Greedy NMS within each class; indices of the kept boxes, highest score first."""
    kept: list[int] = []
    for class_id in np.unique(class_ids):
        members = np.flatnonzero(class_ids == class_id)
        kept.extend(int(i) for i in _nms(boxes_xyxy[members], scores[members], iou, members))
    return sorted(kept, key=lambda i: -float(scores[i]))


def _nms(boxes_xyxy: FloatArray, scores: FloatArray, iou: float, ids: _IntArray) -> list[int]:
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    while order.size:
        best, order = order[0], order[1:]
        kept.append(int(ids[best]))
        order = order[iou_one_to_many(boxes_xyxy[best], boxes_xyxy[order]) <= iou]
    return kept


def check_label_metadata(path: Path, metadata: dict[str, str]) -> None:
    """Raise unless the model's ``names`` metadata lists :data:`NUDITY_LABELS` in order."""
    raw = metadata.get("names")
    if raw is None:
        raise NudityModelMismatchError(path, "its metadata has no class names")
    try:
        names = ast.literal_eval(raw)
    except (ValueError, SyntaxError) as error:
        raise NudityModelMismatchError(path, "its class names cannot be read") from error
    if not isinstance(names, dict) or [names.get(i) for i in range(len(names))] != list(NUDITY_LABELS):
        raise NudityModelMismatchError(path, "its classes differ from NudeNet 3.4.2's 18 classes")


class NudityDetector:
    """Find exposed and covered body parts (and faces, feet) in a BGR frame.

    ``NudityDetector().detect(frame_bgr)`` -> findings with every class scoring at least ``min_score``.
    The model loads here, when the object is built; ``num_threads`` 0 lets onnxruntime use every core.
    """

    def __init__(
        self,
        model: ModelFile = NUDENET_320N,
        *,
        min_score: float = DEFAULT_MIN_SCORE,
        nms_iou: float = DEFAULT_NMS_IOU,
        num_threads: int = 0,
    ) -> None:
        if not 0.0 < min_score < 1.0:
            raise ValueError(f"min_score must be in (0, 1), got {min_score}")
        if not 0.0 < nms_iou < 1.0:
            raise ValueError(f"nms_iou must be in (0, 1), got {nms_iou}")
        if num_threads < 0:
            raise ValueError(f"num_threads must be >= 0, got {num_threads}")
        import onnxruntime as ort

        self.path = model.locate()
        self.min_score = min_score
        self.nms_iou = nms_iou
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        # The video decoder runs on another thread meanwhile: idle workers sleep instead of spinning.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(self.path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        check_label_metadata(self.path, dict(self._session.get_modelmeta().custom_metadata_map))
        self._input_name: str = self._session.get_inputs()[0].name

    def detect(self, frame_bgr: Frame) -> list[Finding]:
        """Findings in ``frame_bgr`` (H x W x 3 uint8), best first, boxes in frame pixels."""
        if frame_bgr.dtype != np.uint8 or frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError(f"frame_bgr must be H x W x 3 uint8, got {frame_bgr.shape} {frame_bgr.dtype}")
        placement = plan_input((frame_bgr.shape[1], frame_bgr.shape[0]))
        tensor = to_input_tensor(frame_bgr, placement)
        (output,) = self._session.run(None, {self._input_name: tensor})
        return decode_output(np.asarray(output[0], dtype=np.float32), placement, self.min_score, self.nms_iou)
