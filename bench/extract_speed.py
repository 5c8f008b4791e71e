"""Faceset extraction speed: faces per second for one clip, end to end (decode, track, crop, filter, write).

    .venv/bin/python bench/extract_speed.py [--video ../shared/media/videos/d10.mp4] [--size 256]
        [--face-type face] [--every 1]

Two runs into a temporary folder: with the default near-duplicate filter (most faces dropped, few PNGs
written) and with it off (every face written: the worst case for disk work). Model loading is timed
apart. "faces/s" is faces looked at (one per frame used) per second of the whole call, the writing of
faceset.json and the contact sheet included.
"""

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from facecraft.faceset.crop import FACE_TYPES, parse_face_type
from facecraft.faceset.extract import ExtractOptions, extract_faceset
from facecraft.pipeline.builder import build_analyzer

DEFAULT_VIDEO = Path(__file__).resolve().parents[2] / "shared" / "media" / "videos" / "d10.mp4"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--face-type", default="face", choices=FACE_TYPES)
    parser.add_argument("--every", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    build_analyzer()
    load_s = time.perf_counter() - start
    print(f"video {args.video.name}, size {args.size}, face type {args.face_type}, every {args.every}")
    print(f"model loading: {load_s:.2f} s (included in the runs below)")
    for label, dedupe in (("dedupe on ", True), ("dedupe off", False)):
        with tempfile.TemporaryDirectory() as tmp:
            options = ExtractOptions(
                (args.video,),
                Path(tmp) / "set",
                size=args.size,
                face_type=parse_face_type(args.face_type),
                every=args.every,
            )
            if not dedupe:
                options = replace(options, duplicate_distance=0.0)
            started = time.perf_counter()
            summary = extract_faceset(options)
            seconds = time.perf_counter() - started
        print(
            f"{label}: {summary.candidates} faces looked at, {summary.faces} kept "
            f"({summary.dropped_duplicates} near-duplicates, {summary.dropped_blurred} blurred) in "
            f"{seconds:.2f} s: {summary.candidates / seconds:.1f} faces/s "
            f"(index and contact sheet writing: {seconds - summary.seconds:.2f} s of it)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
