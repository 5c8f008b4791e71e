"""The trained swapper on onnxruntime: a tiny exported model (colours inverted, a centre-disc mask)
checked pixel for pixel against the same function in numpy, the card-versus-model checks, and
``facecraft swap --model`` end to end on a real clip."""

import math
import subprocess
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from facecraft.faces.alignment import transform_points, warp_to_crop
from facecraft.faces.face import LANDMARK_POINTS, Face
from facecraft.faceset.crop import FACE_TYPE_ZOOM, FaceType, crop_matrix, template_points
from facecraft.swap.base import SWAPPERS, SwapperConfig
from facecraft.swap.trained.card import (
    ONNX_FILE,
    SOURCE_FACE_FILE,
    FacesetSummary,
    ModelCard,
    ModelCardError,
)
from facecraft.swap.trained.onnx_swapper import (
    TrainedModelError,
    TrainedSwapper,
    check_tensor_shape,
    output_to_bgr,
    session_providers,
    soften_mask,
)
from facecraft.types import FloatArray, Frame
from unit.swap.test_swap_frame_glasses import rim_pixels, target

SIZE = 64
FACE_TYPE: FaceType = "whole-face"
_KEY_INDICES = ((33, 133), (362, 263), (4,), (61,), (291,))


def disc_mask(size: int) -> FloatArray:
    """1 inside a centred disc of radius 0.4 * size, 0 outside."""
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    centre, radius = (size - 1) / 2.0, 0.4 * size
    inside = (xx - centre) ** 2 + (yy - centre) ** 2 <= radius**2
    mask: FloatArray = inside.astype(np.float32)
    return mask


def export_invert_model(path: Path, size: int, face_output: str = "swapped_face") -> None:
    """An ONNX model: face -> (1 - face, centre disc), dynamic batch, exported by PyTorch with the
    output names of ``export.py`` (``swapped_face``, ``mask``)."""
    torch = pytest.importorskip("torch")

    class InvertWithDisc(torch.nn.Module):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("disc", torch.from_numpy(disc_mask(size))[None, None])

        def forward(self, face: object) -> tuple[object, object]:
            return 1.0 - face, face[:, :1] * 0.0 + self.disc  # type: ignore[index,operator]

    axes = {"face": {0: "batch"}, face_output: {0: "batch"}, "mask": {0: "batch"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter is deprecated
        torch.onnx.export(
            InvertWithDisc(),
            (torch.zeros(1, 3, size, size),),
            str(path),
            dynamo=False,
            opset_version=17,
            input_names=["face"],
            output_names=[face_output, "mask"],
            dynamic_axes=axes,
        )


def make_card(size: int, face_type: FaceType = FACE_TYPE, steps: int = 1234) -> ModelCard:
    return ModelCard(
        size=size,
        face_type=face_type,
        steps=steps,
        source=FacesetSummary("faces/source", 40, ("me.jpg",)),
        target=FacesetSummary("faces/target", 300, ("clip.mp4",)),
        losses={"reconstruction": 0.05},
    )


def make_model_dir(
    root: Path,
    model_size: int,
    card_size: int,
    source_face: Frame | None = None,
    face_type: FaceType = FACE_TYPE,
) -> Path:
    """A model directory: model.onnx at ``model_size``, a card saying ``card_size``, a source face."""
    from facecraft.media.image import write_image

    root.mkdir(parents=True, exist_ok=True)
    export_invert_model(root / ONNX_FILE, model_size)
    make_card(card_size, face_type).save(root)
    face = source_face if source_face is not None else np.full((card_size, card_size, 3), 128, np.uint8)
    write_image(root / SOURCE_FACE_FILE, face)
    return root


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_model_dir(tmp_path_factory.mktemp("trained") / "model", SIZE, SIZE)


def synthetic_face(angle_deg: float, scale: float, centre_xy: tuple[float, float]) -> Face:
    """A face whose five crop key points are the crop template turned, scaled and moved into a frame."""
    rng = np.random.default_rng(7)
    template = template_points(100, FACE_TYPE).astype(np.float64) - 50.0
    turn = math.radians(angle_deg)
    rotation = scale * np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    keypoints = template @ rotation.T + np.asarray(centre_xy)
    landmarks = np.zeros((LANDMARK_POINTS, 3), dtype=np.float32)
    landmarks[:, :2] = rng.normal(0.0, 25.0 * scale, (LANDMARK_POINTS, 2)) + np.asarray(centre_xy)
    landmarks[:, 2] = rng.normal(0.0, 10.0, LANDMARK_POINTS)
    for indices, point in zip(_KEY_INDICES, keypoints, strict=True):
        landmarks[list(indices), :2] = point
    lo, hi = landmarks[:, :2].min(axis=0), landmarks[:, :2].max(axis=0)
    return Face(bbox_xyxy=np.concatenate([lo, hi]), score=0.9, landmarks_478=landmarks)


def noise_frame(height: int = 240, width: int = 320) -> Frame:
    frame: Frame = np.random.default_rng(3).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return frame


def test_swap_is_the_models_function_of_the_aligned_crop(model_dir: Path) -> None:
    swapper = TrainedSwapper(model_dir)
    frame = noise_frame()
    # Near the top-left corner, so part of the crop lies outside the frame (edges replicated).
    face = synthetic_face(angle_deg=12.0, scale=1.3, centre_xy=(40.0, 50.0))
    result = swapper.swap(frame, face)

    matrix = crop_matrix(face.landmarks_478, SIZE, FACE_TYPE)
    aligned = warp_to_crop(frame, matrix, (SIZE, SIZE), border="replicate")
    rgb = aligned[..., ::-1].astype(np.float32) / 255.0
    expected_bgr = np.rint(np.clip(1.0 - rgb, 0.0, 1.0) * 255.0)[..., ::-1]
    assert result.crop_bgr.shape == (SIZE, SIZE, 3) and result.crop_bgr.dtype == np.uint8
    difference = np.abs(result.crop_bgr.astype(np.int16) - expected_bgr.astype(np.int16))
    assert difference.max() <= 1 and (difference == 0).mean() > 0.99

    assert result.coverage.dtype == np.float32
    expected_coverage = soften_mask(disc_mask(SIZE), SIZE * FACE_TYPE_ZOOM[FACE_TYPE])
    np.testing.assert_allclose(result.coverage, expected_coverage, atol=1e-6)

    back = transform_points(result.target_landmarks_crop, result.matrix_crop_to_frame)
    np.testing.assert_allclose(back, face.landmarks_478[:, :2], atol=1e-2)
    crop_per_frame_px = SIZE / (100 * 1.3)  # the 100 px template went into the frame 1.3 times larger
    np.testing.assert_allclose(
        result.target_landmarks_crop[:, 2], face.landmarks_478[:, 2] * crop_per_frame_px, rtol=1e-4, atol=1e-4
    )


def test_the_models_mask_fades_out_inside_its_edge_and_the_crops() -> None:
    size = 64
    mask = np.zeros((size, size), dtype=np.float32)
    mask[:40, 8:56] = 1.0  # a face reaching the crop's top edge, cut straight across below
    soft = soften_mask(mask, 0.8 * size)
    assert soft.dtype == np.float32 and soft.shape == mask.shape
    assert float(soft.max()) <= 1.0 and np.all(soft <= mask)  # never beyond the model's own mask
    assert float(soft[0].max()) < 0.05 and float(soft[39].max()) < 0.1  # faded at the crop's edge and its own
    assert float(soft[20, 32]) > 0.99  # solid inside
    column = soft[:40, 32]
    assert np.all(np.diff(column[:20]) >= -1e-6) and np.all(
        np.diff(column[20:]) <= 1e-6
    )  # one smooth rise and fall


def test_each_swap_gets_its_own_arrays(model_dir: Path) -> None:
    swapper = TrainedSwapper(model_dir)
    frame = noise_frame()
    first = swapper.swap(frame, synthetic_face(0.0, 1.0, (160.0, 120.0)))
    kept = first.crop_bgr.copy(), first.coverage.copy()
    swapper.swap(255 - frame, synthetic_face(30.0, 0.8, (150.0, 110.0)))
    assert np.array_equal(first.crop_bgr, kept[0]) and np.array_equal(first.coverage, kept[1])


def test_registered_as_trained_and_built_from_the_swapper_config(model_dir: Path) -> None:
    swapper = SWAPPERS.get("trained")(SwapperConfig(num_threads=2, model_dir=model_dir))
    assert isinstance(swapper, TrainedSwapper)
    assert swapper.size_px == SIZE and swapper.providers[-1] == "CPUExecutionProvider"


def test_no_model_dir_says_to_pass_model() -> None:
    with pytest.raises(TrainedModelError, match="--model MODEL_DIR"):
        SWAPPERS.get("trained")(SwapperConfig())


def test_missing_model_dir_or_card_is_a_card_error(tmp_path: Path) -> None:
    with pytest.raises(ModelCardError, match="not a model directory"):
        TrainedSwapper(tmp_path / "nowhere")
    with pytest.raises(ModelCardError, match=r"card\.json"):
        TrainedSwapper(tmp_path)


def test_card_without_onnx_file_says_to_export(tmp_path: Path) -> None:
    make_card(SIZE).save(tmp_path)
    with pytest.raises(TrainedModelError, match=r"no model\.onnx"):
        TrainedSwapper(tmp_path)


def test_model_exported_at_another_size_than_its_card_is_refused(tmp_path: Path) -> None:
    model = make_model_dir(tmp_path / "model", model_size=48, card_size=SIZE)
    with pytest.raises(
        TrainedModelError, match=r"does not match its card \(64 px whole-face crops\).*48 x 48"
    ):
        TrainedSwapper(model)


def test_the_cards_first_output_name_is_accepted_and_others_refused(tmp_path: Path) -> None:
    make_card(SIZE).save(tmp_path)
    export_invert_model(tmp_path / ONNX_FILE, SIZE, face_output="face")
    assert TrainedSwapper(tmp_path).swap(noise_frame(), synthetic_face(0.0, 1.0, (160, 120))).crop_bgr.any()
    export_invert_model(tmp_path / ONNX_FILE, SIZE, face_output="rgb")
    with pytest.raises(TrainedModelError, match="no output 'swapped_face'"):
        TrainedSwapper(tmp_path)


def test_a_model_from_the_trainers_exporter_swaps(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    export = pytest.importorskip("facecraft.swap.trained.export")
    nets = pytest.importorskip("facecraft.swap.trained.nets")
    model = nets.SwapModel(nets.preset_config("tiny", SIZE, FACE_TYPE))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter is deprecated
        export.export_model(model, tmp_path, make_card(SIZE), np.full((SIZE, SIZE, 3), 90, np.uint8))
    result = TrainedSwapper(tmp_path).swap(noise_frame(), synthetic_face(5.0, 1.1, (150.0, 120.0)))
    assert result.crop_bgr.shape == (SIZE, SIZE, 3) and result.coverage.shape == (SIZE, SIZE)
    assert float(result.coverage.min()) >= 0.0 and float(result.coverage.max()) <= 1.0


def test_unreadable_onnx_file_is_a_typed_error(tmp_path: Path) -> None:
    make_card(SIZE).save(tmp_path)
    (tmp_path / ONNX_FILE).write_bytes(b"not a model")
    with pytest.raises(TrainedModelError, match="cannot be loaded by onnxruntime"):
        TrainedSwapper(tmp_path)


def test_shape_checks_and_conversions() -> None:
    assert check_tensor_shape("input", "face", ["batch", 3, 64, 64], 3, 64) is None
    assert check_tensor_shape("input", "face", ["batch", 3, "h", "w"], 3, 64) is None
    assert "1 x 64 x 64" in str(check_tensor_shape("output", "mask", ["n", 3, 64, 64], 1, 64))
    assert "dimensions" in str(check_tensor_shape("output", "mask", ["n", 64, 64], 1, 64))
    assert session_providers(["AzureExecutionProvider", "CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert session_providers(["CPUExecutionProvider", "CUDAExecutionProvider"]) == [
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    face_chw = np.zeros((3, 2, 2), dtype=np.float32)
    face_chw[0] = 1.0  # red
    face_chw[2, 0, 0] = -0.5  # clipped
    bgr = output_to_bgr(face_chw)
    assert bgr.flags["C_CONTIGUOUS"] and bgr.tolist()[0][0] == [0, 0, 255]


def test_importing_the_swap_builder_does_not_import_torch_or_onnxruntime() -> None:
    code = (
        "import sys, facecraft.pipeline.swap_builder as b; "
        "assert 'trained' in b.swapper_names(); "
        "assert 'torch' not in sys.modules and 'onnxruntime' not in sys.modules, 'heavy import'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# --- end to end on real footage --------------------------------------------------------------------


def real_source_face(media_dir: Path, size: int, face_type: FaceType) -> Frame:
    """An aligned crop of the woman in d30.jpg, as training would keep it beside the model."""
    from facecraft.media.image import read_image
    from facecraft.pipeline.builder import build_analyzer

    photo = read_image(media_dir / "images" / "d30.jpg")
    face = max(build_analyzer().analyze(photo), key=lambda f: f.area_px)
    return warp_to_crop(photo, crop_matrix(face.landmarks_478, size, face_type), (size, size), "replicate")


def test_swap_with_a_model_and_no_source_photo_end_to_end(
    media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from facecraft.cli.main import app
    from facecraft.faces.analyzer import FaceAnalyzer
    from facecraft.media.reader import FrameReader
    from facecraft.pipeline.builder import build_analyzer
    from facecraft.provenance.verify import verify

    monkeypatch.setenv("FACECRAFT_CONFIG_DIR", str(tmp_path / "config"))
    size, face_type = 96, FACE_TYPE
    model = make_model_dir(tmp_path / "model", size, size, real_source_face(media_dir, size, face_type))
    target, output = media_dir / "videos" / "s18.mp4", tmp_path / "out.mp4"
    arguments = ["swap", "--model", str(model), str(target), "-o", str(output), "--end", "0.3"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "source photo:" not in result.output  # the mesh texture's notes do not apply to a model

    report = verify(output, config_dir=tmp_path / "config")
    assert report.marked and report.record is not None
    assert [(f.role, f.name) for f in report.record.inputs] == [
        ("source", SOURCE_FACE_FILE),
        ("target", "s18.mp4"),
    ]
    assert any(
        "trained swapper (model card: 1234 steps, 96 px whole-face)" in m for m in report.record.models
    )

    with FrameReader(target, None, 0.1) as original, FrameReader(output, None, 0.1) as swapped:
        before, after = next(iter(original)).image_bgr, next(iter(swapped)).image_bgr
    analyzer: FaceAnalyzer = build_analyzer()
    face = max(analyzer.analyze(before), key=lambda f: f.area_px)
    changed = np.abs(after.astype(np.int16) - before.astype(np.int16)).max(axis=2) > 40
    x0, y0, x1, y1 = (int(v) for v in face.bbox_xyxy)
    assert changed[y0:y1, x0:x1].mean() > 0.2  # the inverted face shows through the masks
    pad_x, pad_y = (x1 - x0) // 4, (y1 - y0) // 4
    changed[max(y0 - pad_y, 0) : y1 + pad_y, max(x0 - pad_x, 0) : x1 + pad_x] = False
    assert changed.mean() < 0.001  # elsewhere only the watermark and the encode


def test_the_targets_own_glasses_go_back_over_the_models_face(model_dir: Path) -> None:
    frame, face = target()
    result = TrainedSwapper(model_dir).swap(frame, face)
    assert result.frame_keep is not None and result.frame_keep.shape == (SIZE, SIZE)
    size_wh = (frame.shape[1], frame.shape[0])
    in_frame = cv2.warpAffine(result.frame_keep, result.matrix_crop_to_frame, size_wh)
    assert (in_frame[rim_pixels(frame)] > 0.3).mean() > 0.8  # the rims, at the model's resolution
    assert TrainedSwapper(model_dir, target_glasses=False).swap(frame, face).frame_keep is None
