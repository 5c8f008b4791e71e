"""Invisible watermark: marking, reading back, invisibility, robustness to a re-encode, no false alarms."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.media.image import read_image, write_image
from facecraft.media.reader import FrameReader
from facecraft.media.writer import FrameWriter
from facecraft.provenance import watermark
from facecraft.provenance.payload import WatermarkPayload
from facecraft.provenance.watermark import (
    WatermarkReading,
    WatermarkStage,
    detect_watermark,
    mark_image,
    match_frames,
    read_frame_bits,
    read_frames,
)
from facecraft.provenance.watermark_pattern import build_layout, render_pattern
from facecraft.types import Frame

PAYLOAD = WatermarkPayload(record_id=0xA5F3C)


def textured_frame(height: int = 360, width: int = 640, seed: int = 0) -> Frame:
    """A synthetic picture with smooth shading and fine texture, like a photo (not flat)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 1.0, (height // 8, width // 8, 3)).astype(np.float32)
    shapes = cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC) * 40.0
    grain = cv2.GaussianBlur(rng.normal(0.0, 12.0, (height, width, 3)).astype(np.float32), (0, 0), 1.2)
    ramp = np.linspace(60.0, 190.0, width, dtype=np.float32)[None, :, None]
    return np.clip(ramp + shapes + grain, 0, 255).astype(np.uint8)


def psnr(reference: Frame, other: Frame) -> float:
    mse = float(np.mean((reference.astype(np.float32) - other.astype(np.float32)) ** 2))
    return 10.0 * float(np.log10(255.0**2 / mse))


def write_marked_clip(source: Path, output: Path, seconds: float, crf: int) -> int:
    stage = WatermarkStage(PAYLOAD)
    with (
        FrameReader(source, end_s=seconds) as reader,
        FrameWriter(output, fps=reader.info.fps, crf=crf) as writer,
    ):
        for frame in reader:
            writer.write(stage.process(frame.image_bgr, frame.index, frame.time_s), frame.time_s)
        return writer.frames_written


# --- synthetic frames -------------------------------------------------------------------------


def test_payload_round_trip_on_a_synthetic_frame() -> None:
    frame = textured_frame()
    reading = read_frame_bits(mark_image(frame, PAYLOAD))
    assert reading.found
    assert reading.payload == PAYLOAD
    assert reading.bit_accuracy > 0.99


def test_marked_frame_keeps_psnr_above_40_db_and_follows_the_keyed_pattern() -> None:
    frame = textured_frame()
    marked = mark_image(frame, PAYLOAD)
    assert marked.shape == frame.shape and marked.dtype == np.uint8
    assert psnr(frame, marked) >= 40.0
    difference = (marked.astype(np.int16) - frame.astype(np.int16))[:, :, 0]
    unclipped = np.all((frame > 6) & (frame < 249), axis=2)
    same_on_bgr = marked.astype(np.int16) - frame.astype(np.int16) == difference[:, :, None]
    assert np.all(same_on_bgr[unclipped])  # luma moves, chroma does not
    assert np.abs(difference).max() <= 6
    signs = render_pattern(build_layout().cell_signs(PAYLOAD.to_bits()), *frame.shape[:2])
    changed = (difference != 0) & unclipped
    assert changed.mean() > 0.9
    assert np.array_equal(np.sign(difference)[changed], signs[changed])


def test_flat_areas_get_a_sparse_one_level_grain_and_texture_carries_the_mark() -> None:
    frame = textured_frame()
    frame[:, :320] = 128  # left half a flat grey wall
    marked = mark_image(frame, PAYLOAD)
    difference = marked.astype(np.int16) - frame.astype(np.int16)
    flat = np.abs(difference[20:-20, 20:280])  # away from the wall's edge
    assert flat.max() <= 1
    assert 0.15 < (flat > 0).mean() < 0.35  # a quarter of the pixels, by one level
    assert np.abs(difference[:, 360:]).mean() > 4 * flat.mean()
    assert psnr(frame, marked) >= 40.0
    assert read_frame_bits(marked).payload == PAYLOAD


def test_psnr_budget_is_a_cap_not_a_target_on_a_flat_frame() -> None:
    frame = np.full((360, 640, 3), 128, np.uint8)
    marked = mark_image(frame, PAYLOAD)
    assert np.abs(marked.astype(np.int16) - 128).max() <= 1
    assert psnr(frame, marked) > 50.0


def test_unmarked_synthetic_frame_is_not_found() -> None:
    reading = read_frame_bits(textured_frame(seed=3))
    assert not reading.found
    assert reading.payload is None
    assert reading.bit_accuracy < 0.8


def test_a_different_record_id_reads_back_as_itself() -> None:
    other = WatermarkPayload(record_id=0x00001)
    reading = read_frame_bits(mark_image(textured_frame(seed=5), other))
    assert reading.payload == other


def test_reader_undoes_a_crop() -> None:
    marked = mark_image(textured_frame(480, 854, seed=1), PAYLOAD)
    cropped = marked[30 : 30 + 432, 20 : 20 + 768]  # 10% off each side, off centre
    match = match_frames([cropped])
    assert match.scale_xy == pytest.approx((1 / 0.9, 1 / 0.9), abs=0.01)
    assert read_frame_bits(cropped).payload == PAYLOAD


def test_reader_undoes_a_mirror_flip() -> None:
    marked = mark_image(textured_frame(seed=4), PAYLOAD)
    mirrored = np.ascontiguousarray(marked[:, ::-1])
    assert match_frames([mirrored]).mirrored
    assert read_frame_bits(mirrored).payload == PAYLOAD


def test_reader_undoes_a_resize_to_half() -> None:
    marked = mark_image(textured_frame(480, 854, seed=2), PAYLOAD)
    half: Frame = np.asarray(cv2.resize(marked, (427, 240), interpolation=cv2.INTER_AREA), np.uint8)
    assert read_frame_bits(half).payload == PAYLOAD


def test_pattern_is_keyed_and_cells_split_between_sync_and_bits() -> None:
    layout = build_layout()
    assert np.array_equal(layout.role, build_layout().role)
    assert (layout.role == -1).mean() == pytest.approx(0.25)
    counts = np.bincount(layout.role[layout.role >= 0].ravel(), minlength=32)
    assert counts.min() == counts.max() == 24
    signs = layout.cell_signs(PAYLOAD.to_bits())
    assert set(np.unique(render_pattern(signs, 200, 300)).tolist()) == {-1, 1}


def test_stage_follows_a_change_of_frame_size() -> None:
    stage = WatermarkStage(PAYLOAD)
    small = stage.process(textured_frame(240, 320), 0, 0.0)
    large = stage.process(textured_frame(360, 640), 1, 0.04)
    assert small.shape == (240, 320, 3) and large.shape == (360, 640, 3)
    assert read_frame_bits(large).payload == PAYLOAD


def test_stage_marks_every_frame_between_strength_refreshes() -> None:
    stage = WatermarkStage(PAYLOAD)
    frames = [textured_frame(seed=seed) for seed in range(watermark.STRENGTH_REFRESH_FRAMES + 2)]
    outputs = [stage.process(frame, index, index / 30) for index, frame in enumerate(frames)]
    signs = render_pattern(build_layout().cell_signs(PAYLOAD.to_bits()), *frames[0].shape[:2])
    for frame, output in zip(frames, outputs, strict=True):
        difference = output[:, :, 1].astype(np.int16) - frame[:, :, 1].astype(np.int16)
        unclipped = (frame[:, :, 1] > 6) & (frame[:, :, 1] < 249) & (difference != 0)
        assert np.array_equal(np.sign(difference)[unclipped], signs[unclipped])
        assert psnr(frame, output) >= 40.0
    assert len({id(output) for output in outputs}) == len(outputs)  # fresh arrays, not a reused buffer
    assert not np.shares_memory(outputs[0], outputs[1])


def test_too_small_frames_are_refused_for_marking_and_unreadable() -> None:
    with pytest.raises(ValueError, match="too small to carry the watermark"):
        mark_image(textured_frame(120, 160), PAYLOAD)
    assert read_frame_bits(textured_frame(64, 80)) == WatermarkReading(False, 0.0, None)


def test_reading_to_json_has_the_verify_keys() -> None:
    reading = read_frame_bits(mark_image(textured_frame(), PAYLOAD))
    assert reading.to_json() == {
        "found": True,
        "bit_accuracy": pytest.approx(1.0, abs=1e-3),
        "payload": {"tag": "0xfc5", "record_id": "a5f3c"},
    }
    assert WatermarkReading(False, 0.5, None).to_json() == {
        "found": False,
        "bit_accuracy": 0.5,
        "payload": None,
    }


def test_frames_of_different_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        read_frames([textured_frame(360, 640), textured_frame(400, 640)])


# --- real media -------------------------------------------------------------------------------


def test_real_frame_round_trip_and_psnr(media_dir: Path) -> None:
    with FrameReader(media_dir / "videos" / "s18.mp4", end_s=0.1) as reader:
        frame = next(iter(reader)).image_bgr
    marked = mark_image(frame, PAYLOAD)
    assert psnr(frame, marked) >= 40.0
    assert read_frame_bits(marked).payload == PAYLOAD


def test_mark_survives_h264_crf28_reencode(media_dir: Path, tmp_path: Path) -> None:
    marked = tmp_path / "marked.mp4"
    frames = write_marked_clip(media_dir / "videos" / "d18.mp4", marked, seconds=1.5, crf=18)
    attacked = tmp_path / "crf28.mp4"
    with FrameReader(marked) as reader, FrameWriter(attacked, fps=reader.info.fps, crf=28) as writer:
        for frame in reader:
            writer.write(frame.image_bgr)
    assert frames == 45
    reading = detect_watermark(attacked)
    assert reading.found
    assert reading.payload == PAYLOAD


def test_long_videos_are_sampled_by_seeking(
    media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marked = tmp_path / "marked.mp4"
    write_marked_clip(media_dir / "videos" / "d18.mp4", marked, seconds=2.0, crf=23)
    monkeypatch.setattr(watermark, "SEQUENTIAL_FRAME_LIMIT", 10)
    assert detect_watermark(marked, max_frames=4).payload == PAYLOAD


def test_marked_jpeg_quality_90_round_trip(media_dir: Path, tmp_path: Path) -> None:
    photo = read_image(media_dir / "images" / "d30.jpg")
    output = write_image(tmp_path / "marked.jpg", mark_image(photo, PAYLOAD), quality=90)
    reading = detect_watermark(output)
    assert reading.found
    assert reading.payload == PAYLOAD


@pytest.mark.parametrize(
    "relative", ["videos/d0.mp4", "videos/d18.mp4", "images/d8.jpg", "images/groups/2008_002470.jpg"]
)
def test_unmarked_real_media_is_not_found(media_dir: Path, relative: str) -> None:
    reading = detect_watermark(media_dir / relative)
    assert not reading.found
    assert reading.payload is None
