"""The NudeNet backend's own pre- and post-processing, on synthetic tensors (no model, no images)."""

from pathlib import Path

import numpy as np
import pytest

from facecraft.errors import ModelMissingError
from facecraft.faces.models import ModelFile
from facecraft.safety.nudenet import (
    BOX_ROWS,
    INPUT_SIZE,
    NUDENET_INSTALL,
    NUDITY_LABELS,
    Finding,
    NudityDetector,
    NudityModelMismatchError,
    check_label_metadata,
    decode_output,
    plan_input,
    to_input_tensor,
)
from facecraft.types import FloatArray

ANCHORS = 2100  # 40x40 + 20x20 + 10x10 at a 320 input


def raw_output() -> FloatArray:
    return np.zeros((BOX_ROWS + len(NUDITY_LABELS), ANCHORS), dtype=np.float32)


def put(output: FloatArray, anchor: int, cxcywh: tuple[float, float, float, float], **scores: float) -> None:
    output[:BOX_ROWS, anchor] = cxcywh
    for label, score in scores.items():
        output[BOX_ROWS + NUDITY_LABELS.index(label), anchor] = score


def test_labels_are_the_model_classes_in_order() -> None:
    assert len(NUDITY_LABELS) == 18
    assert NUDITY_LABELS[0] == "FEMALE_GENITALIA_COVERED"
    assert NUDITY_LABELS[17] == "BUTTOCKS_COVERED"


@pytest.mark.parametrize(
    ("frame_wh", "resized_wh"),
    [((1280, 720), (320, 180)), ((600, 900), (213, 320)), ((320, 320), (320, 320)), ((100, 50), (320, 160))],
)
def test_plan_input_fits_the_longer_side(frame_wh: tuple[int, int], resized_wh: tuple[int, int]) -> None:
    assert plan_input(frame_wh).resized_wh == resized_wh


def test_input_tensor_is_rgb_in_unit_range_top_left_with_black_padding() -> None:
    frame_bgr = np.zeros((90, 160, 3), dtype=np.uint8)
    frame_bgr[:, :, 0] = 255  # pure blue in BGR

    tensor = to_input_tensor(frame_bgr, plan_input((160, 90)))

    assert tensor.shape == (1, 3, INPUT_SIZE, INPUT_SIZE)
    assert tensor.dtype == np.float32
    assert np.allclose(tensor[0, 2, :180, :], 1.0)  # blue is the last channel in RGB
    assert np.allclose(tensor[0, :2, :180, :], 0.0)
    assert np.all(tensor[0, :, 180:, :] == 0.0)


def test_decode_maps_boxes_back_to_frame_pixels() -> None:
    output = raw_output()
    put(output, 7, (100.0, 50.0, 40.0, 20.0), FEMALE_BREAST_EXPOSED=0.8)

    (found,) = decode_output(output, plan_input((1280, 720)))

    assert found.label == "FEMALE_BREAST_EXPOSED"
    assert found.score == pytest.approx(0.8)
    assert found.box_xyxy.tolist() == pytest.approx([320.0, 160.0, 480.0, 240.0])


def test_decode_reports_every_class_of_an_anchor_and_keeps_overlaps_of_other_classes() -> None:
    output = raw_output()
    put(output, 3, (100.0, 100.0, 50.0, 50.0), FEMALE_BREAST_COVERED=0.7, FEMALE_BREAST_EXPOSED=0.5)
    put(output, 4, (102.0, 101.0, 50.0, 50.0), FEMALE_BREAST_EXPOSED=0.45)  # same place, same class
    put(output, 9, (250.0, 250.0, 30.0, 30.0), FACE_MALE=0.9)

    found = decode_output(output, plan_input((320, 320)))

    assert [(f.label, round(f.score, 2)) for f in found] == [
        ("FACE_MALE", 0.9),
        ("FEMALE_BREAST_COVERED", 0.7),
        ("FEMALE_BREAST_EXPOSED", 0.5),
    ]


def test_decode_drops_low_scores_and_clips_boxes_to_the_frame() -> None:
    output = raw_output()
    put(output, 0, (5.0, 5.0, 30.0, 30.0), ANUS_EXPOSED=0.6)
    put(output, 1, (200.0, 100.0, 20.0, 20.0), BUTTOCKS_EXPOSED=0.19)

    (found,) = decode_output(output, plan_input((320, 160)), min_score=0.2)

    assert found.label == "ANUS_EXPOSED"
    assert found.box_xyxy.tolist() == pytest.approx([0.0, 0.0, 20.0, 20.0])


def test_decode_of_silence_is_empty_and_wrong_shapes_are_refused() -> None:
    assert decode_output(raw_output(), plan_input((64, 64))) == []
    with pytest.raises(ValueError):
        decode_output(np.zeros((21, ANCHORS), dtype=np.float32), plan_input((64, 64)))


def test_label_metadata_must_match() -> None:
    good = {"names": repr(dict(enumerate(NUDITY_LABELS)))}
    swapped = list(NUDITY_LABELS)
    swapped[2], swapped[3] = swapped[3], swapped[2]

    check_label_metadata(Path("m.onnx"), good)
    for metadata in ({"names": repr(dict(enumerate(swapped)))}, {}, {"names": "not python"}):
        with pytest.raises(NudityModelMismatchError, match=r"pip install --no-deps nudenet==3\.4\.2"):
            check_label_metadata(Path("m.onnx"), metadata)


def test_missing_model_names_the_install_command() -> None:
    absent = ModelFile("facecraft_no_such_package", "320n.onnx", "nudenet", NUDENET_INSTALL, "AGPL-3.0")

    with pytest.raises(ModelMissingError, match=r"pip install --no-deps nudenet==3\.4\.2"):
        NudityDetector(absent)


@pytest.mark.parametrize(
    ("label", "score", "box"),
    [
        ("NOT_A_LABEL", 0.5, [0, 0, 1, 1]),
        ("FACE_MALE", 1.5, [0, 0, 1, 1]),
        ("FACE_MALE", 0.5, [2, 0, 1, 1]),
        ("FACE_MALE", 0.5, [0, 0, 1]),
        ("FACE_MALE", 0.5, [0, 0, float("nan"), 1]),
    ],
)
def test_finding_validates(label: str, score: float, box: list[float]) -> None:
    with pytest.raises(ValueError):
        Finding(label, score, np.asarray(box, dtype=np.float32))  # type: ignore[arg-type]
