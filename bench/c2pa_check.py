"""C2PA and label figures: signing and reading time on a 10 s 720p MP4, tamper check, label cost.

Run: ``.venv/bin/python bench/c2pa_check.py [--seconds 10] [--keep DIR]``. Everything is made in a
temporary folder (a synthetic clip, a throwaway local identity); nothing touches the user's config.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from facecraft.media.writer import FrameWriter
from facecraft.provenance.c2pa import read_credentials, sign_credentials
from facecraft.provenance.identity import local_identity
from facecraft.provenance.label import LabelStage
from facecraft.provenance.record import InputFile, new_record
from facecraft.types import Frame

FPS = 30
SIZE_WH = (1280, 720)


def textured_frame(index: int, size_wh: tuple[int, int], rng: np.random.Generator) -> Frame:
    width, height = size_wh
    x = np.arange(width, dtype=np.float32)[None, :]
    y = np.arange(height, dtype=np.float32)[:, None]
    base = 128 + 60 * np.sin((x + 4 * index) / 37.0) * np.cos((y - 3 * index) / 23.0)
    noise = rng.normal(0, 6, (height, width)).astype(np.float32)
    grey = np.clip(base + noise, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.stack([grey, np.roll(grey, 7, axis=1), np.roll(grey, 5, axis=0)], axis=2))


def make_clip(path: Path, seconds: float) -> float:
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    with FrameWriter(path, fps=FPS, crf=20, preset="veryfast") as writer:
        for index in range(round(seconds * FPS)):
            writer.write(textured_frame(index, SIZE_WH, rng))
    return time.perf_counter() - started


def flip_mdat_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    offset = 0
    while offset < len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[offset + 8 : offset + 16], "big"), 16
        if data[offset + 4 : offset + 8] == b"mdat":
            data[offset + header + (size - header) // 2] ^= 0xFF
            path.write_bytes(bytes(data))
            return
        offset += size
    raise RuntimeError("no mdat")


def label_ms(size_wh: tuple[int, int], repeats: int = 20) -> float:
    stage = LabelStage()
    frame = np.full((size_wh[1], size_wh[0], 3), 120, np.uint8)
    stage.process(frame, 0, 0.0)  # render once
    started = time.perf_counter()
    for index in range(repeats):
        stage.process(frame, index, 0.0)
    return (time.perf_counter() - started) / repeats * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--keep", type=Path, help="folder to keep the signed clip in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        clip = folder / "clip720.mp4"
        encode_s = make_clip(clip, args.seconds)
        size_mb = clip.stat().st_size / 1e6
        started = time.perf_counter()
        identity = local_identity(Path(tmp) / "config")
        identity_s = time.perf_counter() - started
        record = new_record(
            [InputFile("source", "me.jpg", "a" * 64), InputFile("target", "clip.mp4", "b" * 64)],
            ["mesh"],
            store_dir=Path(tmp) / "records",
        )
        started = time.perf_counter()
        sign_credentials(clip, identity, record)
        sign_s = time.perf_counter() - started
        started = time.perf_counter()
        reading = read_credentials(clip)
        read_s = time.perf_counter() - started
        flip_mdat_byte(clip)
        tampered = read_credentials(clip)
    width, height = SIZE_WH
    print(f"clip: {args.seconds:.0f} s {width}x{height} @ {FPS} fps, {size_mb:.1f} MB")
    print(f"encode: {encode_s:.1f} s")
    print(f"local identity created in {identity_s * 1000:.0f} ms")
    print(f"sign (embed, in place, incl. verify-after-sign): {sign_s * 1000:.0f} ms")
    print(f"read + validate: {read_s * 1000:.0f} ms -> state {reading.state}")
    print(f"one byte flipped in mdat -> state {tampered.state}")
    for size in ((320, 180), (1280, 720), (3840, 2160)):
        print(f"label per frame at {size[0]}x{size[1]}: {label_ms(size):.2f} ms")


if __name__ == "__main__":
    main()
