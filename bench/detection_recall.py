"""Face detection recall, precision and speed against dlib's hand-drawn boxes on the group photos.

Target: recall 1.0 and precision >= 0.97 at IoU 0.4 on the 43 boxes of groups/{training,testing}.xml.
Exit code 1 when below target, 2 when the media is missing.

    .venv/bin/python bench/detection_recall.py [--media ../shared/media] [--second-look auto]
"""

import argparse
import shlex
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from facecraft.faces.detector import SECOND_LOOK_CHOICES, BlazeFaceDetector, BlazeFaceOptions
from facecraft.faces.face import iou_xyxy
from facecraft.types import FloatArray, Frame

DEFAULT_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
XML_FILES = ("training.xml", "testing.xml")
MATCH_IOU = 0.4
TARGET_RECALL = 1.0
TARGET_PRECISION = 0.97


@dataclass(frozen=True, slots=True)
class LabelledImage:
    path: Path
    boxes_xyxy: list[FloatArray]
    ignored: int


@dataclass(frozen=True, slots=True)
class ImageResult:
    name: str
    truth: int
    found: int
    false_alarms: int
    mean_iou: float
    ms: float


def parse_imglab(xml_path: Path) -> list[LabelledImage]:
    """Boxes of a dlib imglab XML file as xyxy pixels; boxes marked ignore='1' are counted, not kept."""
    images: list[LabelledImage] = []
    for image in ET.parse(xml_path).getroot().iter("image"):
        boxes: list[FloatArray] = []
        ignored = 0
        for box in image.iter("box"):
            if box.get("ignore") == "1":
                ignored += 1
                continue
            left, top = float(box.get("left", 0)), float(box.get("top", 0))
            width, height = float(box.get("width", 0)), float(box.get("height", 0))
            boxes.append(np.array([left, top, left + width, top + height], dtype=np.float32))
        images.append(LabelledImage(xml_path.parent / str(image.get("file")), boxes, ignored))
    return images


def greedy_match(
    truth: list[FloatArray], found: list[FloatArray], min_iou: float
) -> list[tuple[int, int, float]]:
    """Pairs (truth index, found index, IoU), best IoU first, each box used at most once."""
    pairs = [(iou_xyxy(t, f), ti, fi) for ti, t in enumerate(truth) for fi, f in enumerate(found)]
    matches: list[tuple[int, int, float]] = []
    used_truth: set[int] = set()
    used_found: set[int] = set()
    for iou, ti, fi in sorted(pairs, reverse=True):
        if iou < min_iou:
            break
        if ti in used_truth or fi in used_found:
            continue
        used_truth.add(ti)
        used_found.add(fi)
        matches.append((ti, fi, iou))
    return matches


def median_ms(detector: BlazeFaceDetector, frame_bgr: Frame, repeats: int) -> float:
    times: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        detector.detect(frame_bgr)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def evaluate_image(detector: BlazeFaceDetector, image: LabelledImage, repeats: int) -> ImageResult:
    loaded = cv2.imread(str(image.path))
    if loaded is None:
        raise FileNotFoundError(f"cannot read {image.path}")
    frame_bgr: Frame = np.asarray(loaded, dtype=np.uint8)
    detections = detector.detect(frame_bgr)
    matches = greedy_match(image.boxes_xyxy, [d.bbox_xyxy for d in detections], MATCH_IOU)
    mean_iou = statistics.fmean(iou for _, _, iou in matches) if matches else 0.0
    ms = median_ms(detector, frame_bgr, repeats)
    return ImageResult(
        image.path.name, len(image.boxes_xyxy), len(matches), len(detections) - len(matches), mean_iou, ms
    )


def read_frames(video: Path, count: int) -> list[Frame]:
    capture = cv2.VideoCapture(str(video))
    frames: list[Frame] = []
    while len(frames) < count:
        ok, frame_bgr = capture.read()
        if not ok:
            break
        frames.append(np.asarray(frame_bgr, dtype=np.uint8))
    capture.release()
    return frames


def time_video(detector: BlazeFaceDetector, frames: list[Frame]) -> tuple[float, float]:
    """Median ms per frame and mean faces per frame (after one warm-up call)."""
    detector.detect(frames[0])
    times: list[float] = []
    faces = 0
    for frame_bgr in frames:
        start = time.perf_counter()
        faces += len(detector.detect(frame_bgr))
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times), faces / len(frames)


def print_table(results: list[ImageResult]) -> None:
    print(f"{'image':<20} {'truth':>5} {'found':>5} {'false':>5} {'IoU':>5} {'ms':>6}")
    for r in results:
        print(f"{r.name:<20} {r.truth:>5} {r.found:>5} {r.false_alarms:>5} {r.mean_iou:>5.2f} {r.ms:>6.1f}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    defaults = BlazeFaceOptions()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA, help="the shared media folder")
    parser.add_argument("--score-threshold", type=float, default=defaults.score_threshold)
    parser.add_argument("--nms-iou", type=float, default=defaults.nms_iou_threshold)
    parser.add_argument("--min-face-px", type=float, default=defaults.min_face_px)
    parser.add_argument("--threads", type=int, default=defaults.num_threads)
    parser.add_argument("--second-look", choices=SECOND_LOOK_CHOICES, default=defaults.second_look)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per image (median)")
    parser.add_argument("--frames", type=int, default=60, help="720p frames of s18.mp4 to time")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    print("$ " + shlex.join([sys.executable, *sys.argv]))
    args = parse_args(argv)
    groups = args.media / "images" / "groups"
    if not groups.is_dir():
        print(f"media not found at {groups}; pass --media")
        return 2
    options = BlazeFaceOptions(
        score_threshold=args.score_threshold,
        nms_iou_threshold=args.nms_iou,
        min_face_px=args.min_face_px,
        num_threads=args.threads,
        second_look=args.second_look,
    )
    print(f"options: {options}")
    detector = BlazeFaceDetector(options)
    images = [image for name in XML_FILES for image in parse_imglab(groups / name)]
    ignored = sum(image.ignored for image in images)
    print(
        f"{len(images)} images from {', '.join(XML_FILES)}; boxes marked ignore='1': {ignored} (left out)\n"
    )
    results = [evaluate_image(detector, image, args.repeats) for image in images]
    print_table(results)

    truth = sum(r.truth for r in results)
    found = sum(r.found for r in results)
    false_alarms = sum(r.false_alarms for r in results)
    recall = found / truth if truth else 0.0
    precision = found / (found + false_alarms) if found + false_alarms else 0.0
    print(
        f"\nground truth {truth}  found {found}  recall {recall:.3f}  false alarms {false_alarms}  "
        f"precision {precision:.3f}  (match IoU >= {MATCH_IOU})"
    )
    print(f"median ms per image: {statistics.median(r.ms for r in results):.1f}")

    frames = read_frames(args.media / "videos" / "s18.mp4", args.frames)
    if frames:
        height, width = frames[0].shape[:2]
        ms, faces = time_video(detector, frames)
        print(
            f"median ms per {width}x{height} frame (s18.mp4, {len(frames)} frames): {ms:.1f}  "
            f"faces per frame {faces:.2f}"
        )
        if options.second_look == "auto":
            every_view = BlazeFaceDetector(replace(options, second_look="always"))
            ms_all, _ = time_video(every_view, frames[:20])
            print(f"  same frames with every view forced (second_look='always'): {ms_all:.1f} ms")
        blank: Frame = np.zeros_like(frames[0])
        ms_blank = median_ms(detector, blank, args.repeats)
        print(f"  a black {width}x{height} frame (no face: {options.second_look} views): {ms_blank:.1f} ms")

    passed = recall >= TARGET_RECALL and precision >= TARGET_PRECISION
    verdict = "PASS" if passed else "FAIL"
    print(f"\ntarget recall >= {TARGET_RECALL} and precision >= {TARGET_PRECISION}: {verdict}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
