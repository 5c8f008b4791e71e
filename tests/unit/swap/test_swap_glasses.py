"""The source's glasses: found in the texture (and not taken for brows or creases), placed rigidly, drawn."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.media.reader import FrameReader
from facecraft.pipeline.builder import build_analyzer
from facecraft.swap.glasses import ANCHORS, GlassesLayer, draw_glasses, find_glasses, placement
from facecraft.swap.source import SourceSettings, load_source, prepare_source, relative_dip, texture_layout
from facecraft.swap.triangles import LEFT_BROW, LEFT_EYELIDS, RIGHT_BROW, RIGHT_EYELIDS, load_topology
from facecraft.types import FloatArray, Frame

TOPOLOGY = load_topology()
FACE_PX = 300.0
SKIN_BGR = (120, 150, 200)
FRAME_BGR = (30, 30, 35)


def skin_texture() -> tuple[Frame, FloatArray]:
    """A plain skin texture in the unwrapped layout, and where the landmarks sit in it."""
    uv, (width, height) = texture_layout(TOPOLOGY, FACE_PX)
    rng = np.random.default_rng(3)
    texture = np.clip(rng.normal(0.0, 2.0, (height, width, 3)) + SKIN_BGR, 0, 255).astype(np.uint8)
    return texture, uv


def with_rims(texture: Frame, uv: FloatArray, colour: tuple[int, int, int] = FRAME_BGR) -> Frame:
    """Two lens rims around the eyes and a bridge between them, two pixels wide."""
    out = texture.copy()
    centres = []
    for lids in (RIGHT_EYELIDS, LEFT_EYELIDS):
        points = uv[list(lids)]
        centre = points.mean(axis=0)
        width = float(np.ptp(points[:, 0]))
        centres.append(centre)
        axes = (round(0.85 * width), round(0.6 * width))
        cv2.ellipse(out, (round(centre[0]), round(centre[1])), axes, 0, 0, 360, colour, 2)
    (x0, y0), (x1, y1) = sorted(centres, key=lambda c: float(c[0]))
    middle_y = round(0.5 * (y0 + y1) - 0.2 * abs(x1 - x0) / 2)
    cv2.line(out, (round(x0), middle_y), (round(x1), middle_y), colour, 2)
    return out


def with_brows_and_creases(texture: Frame, uv: FloatArray) -> Frame:
    """Dark brows above the eyes and a short crease under each: no glasses."""
    out = texture.copy()
    for brow, lids in ((RIGHT_BROW, RIGHT_EYELIDS), (LEFT_BROW, LEFT_EYELIDS)):
        cv2.fillPoly(out, [np.round(uv[list(brow)]).astype(np.int32)], FRAME_BGR)
        points = uv[list(lids)]
        centre = points.mean(axis=0)
        width = float(np.ptp(points[:, 0]))
        start = (round(centre[0] - 0.2 * width), round(centre[1] + 0.45 * width))
        end = (round(centre[0] + 0.2 * width), round(centre[1] + 0.45 * width))
        cv2.line(out, start, end, FRAME_BGR, 2)
    return out


def layer_of(texture: Frame, uv: FloatArray) -> GlassesLayer | None:
    lightness = cv2.cvtColor(texture, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    dip = relative_dip(lightness, FACE_PX)
    covered = cv2.dilate((dip > 0.15).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)  # dark only
    drawn = np.ones(dip.shape, dtype=bool)
    return find_glasses(texture, lightness, covered, uv, drawn, FACE_PX)


def texture_alpha(layer: GlassesLayer, size_hw: tuple[int, int]) -> np.ndarray:
    """The layer's alpha placed back in the whole texture."""
    out = np.zeros(size_hw, dtype=np.uint8)
    x0, y0 = layer.origin
    height, width = layer.bgra.shape[:2]
    out[y0 : y0 + height, x0 : x0 + width] = layer.bgra[..., 3]
    return out


def test_rims_around_both_eyes_are_found_and_become_the_layer() -> None:
    texture, uv = skin_texture()
    framed = with_rims(texture, uv)
    layer = layer_of(framed, uv)
    assert layer is not None
    alpha = texture_alpha(layer, texture.shape[:2])
    on_rims = np.abs(framed.astype(int) - texture.astype(int)).max(axis=2) > 40
    assert (alpha[on_rims] > 200).mean() > 0.9  # the frames are opaque in the layer
    assert layer.bgra.shape[0] < texture.shape[0] / 2  # only the band with the frames is kept
    mouth_y = int(uv[13, 1])
    assert alpha[mouth_y:].max() == 0  # nothing from below the nose
    for lids in (RIGHT_EYELIDS, LEFT_EYELIDS):  # the eyes stay the swapper's (they follow the gaze)
        opening = np.zeros(texture.shape[:2], dtype=np.uint8)
        cv2.fillPoly(opening, [np.round(uv[list(lids)]).astype(np.int32)], 1)
        assert alpha[opening > 0].max() == 0
    np.testing.assert_allclose(layer.anchors_uv + np.array(layer.origin), uv[list(ANCHORS)], atol=1e-4)
    assert (layer.covers(texture.shape[:2]) == (alpha >= 128)).all()


def test_brows_and_short_creases_are_not_glasses() -> None:
    texture, uv = skin_texture()
    assert layer_of(with_brows_and_creases(texture, uv), uv) is None
    assert layer_of(texture, uv) is None


def test_one_rim_alone_is_not_glasses() -> None:
    texture, uv = skin_texture()
    framed = with_rims(texture, uv)
    half = texture.shape[1] // 2
    framed[:, half:] = texture[:, half:]  # one lens only (a hand, a strand of hair around one eye)
    assert layer_of(framed, uv) is None


def test_the_layer_is_placed_by_one_affine_map_fitted_on_its_anchors() -> None:
    rng = np.random.default_rng(5)
    anchors = rng.uniform(0, 200, (len(ANCHORS), 2)).astype(np.float32)
    truth = np.array([[0.9, 0.1, 12.0], [-0.05, 1.1, -7.0]], dtype=np.float32)
    moved = anchors @ truth[:, :2].T + truth[:, 2]
    np.testing.assert_allclose(placement(anchors, moved), truth, atol=1e-4)


def test_drawing_puts_the_layer_where_the_anchors_are_and_only_where_the_face_is() -> None:
    bgra = np.zeros((40, 40, 4), dtype=np.uint8)
    bgra[..., :3] = 200
    bgra[10:12, 5:35, :3] = (0, 0, 255)
    bgra[10:12, 5:35, 3] = 255
    anchors = np.array([[5, 5], [35, 5], [5, 35], [35, 35], [20, 20], [20, 30]], dtype=np.float32)
    layer = GlassesLayer(bgra, anchors)
    crop = np.full((60, 60, 3), 90, dtype=np.uint8)
    coverage = np.ones((60, 60), dtype=np.float32)
    coverage[:, 40:] = 0.0  # no face drawn there
    draw_glasses(crop, layer, anchors + np.float32(10.0), coverage)
    assert (crop[20:22, 16:44] == (0, 0, 255)).all(axis=2)[:, :24].all()  # shifted by 10, opaque
    assert (crop[:, 40:] == 90).all()  # outside the face, untouched
    assert (crop[30:, :] == 90).all()  # transparent parts of the layer, untouched


@pytest.mark.media
def test_glasses_of_d8_and_d13_are_found_and_d30_has_none(media_dir: Path) -> None:
    analyzer = build_analyzer()
    d8 = load_source(media_dir / "images" / "d8.jpg", analyzer)
    prepared = prepare_source(d8.image_bgr, d8.face, TOPOLOGY)
    assert prepared.glasses is not None
    assert any("glasses found" in note for note in prepared.notes)
    off = prepare_source(d8.image_bgr, d8.face, TOPOLOGY, SourceSettings(glasses=False))
    assert off.glasses is None
    d30 = load_source(media_dir / "images" / "d30.jpg", analyzer)
    assert prepare_source(d30.image_bgr, d30.face, TOPOLOGY).glasses is None
    with FrameReader(media_dir / "videos" / "d13.mp4") as reader:  # thin metal rims, lit from above
        frame = next(f.image_bgr for f in reader if f.index == 60)
    face = max(analyzer.analyze(frame), key=lambda f: f.area_px)
    assert prepare_source(frame, face, TOPOLOGY).glasses is not None


def test_light_metal_rims_are_found_too() -> None:
    texture, uv = skin_texture()
    framed = with_rims(texture, uv, colour=(235, 240, 245))  # rims catching the light
    layer = layer_of(framed, uv)
    assert layer is not None
    on_rims = np.abs(framed.astype(int) - texture.astype(int)).max(axis=2) > 40
    assert (texture_alpha(layer, texture.shape[:2])[on_rims] > 200).mean() > 0.9
