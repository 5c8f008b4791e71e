"""Where the target-glasses finder (``swap/frame_glasses.py``) says a face wears glasses, on the bundled
media.

Every Nth frame of each clip is analysed and its largest face looked at by a fresh finder (so each frame
decides alone, with no track to agree with): ``G`` glasses, ``.`` none, ``-`` not looked at (no face, or the
eyes closed or lowered). Then every face of the group photos, one string per photo. Only d13.mp4's man wears
glasses among the clips; in the group photos, two faces do (2008_001009 and 2008_002506).

    .venv/bin/python bench/glasses_detection.py [--every 10] [--media ../shared/media]
"""

import argparse
import time
from pathlib import Path

from facecraft.faces.face import Face
from facecraft.media.image import read_image
from facecraft.media.reader import FrameReader
from facecraft.pipeline.builder import build_analyzer
from facecraft.swap.frame_glasses import FrameGlasses, eyes_open
from facecraft.swap.triangles import load_topology
from facecraft.types import Frame

DEFAULT_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
CLIPS = ("d13", "d0", "d3", "d10", "d18", "d20", "s18", "s20", "s29")


def verdict(finder: FrameGlasses, frame: Frame, face: Face) -> str:
    if not eyes_open(face):
        return "-"
    return "G" if finder.rims(frame, face) is not None else "."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA)
    args = parser.parse_args()
    analyzer = build_analyzer()
    topology = load_topology()
    seconds, looks = 0.0, 0
    for name in CLIPS:
        marks = []
        with FrameReader(args.media / "videos" / f"{name}.mp4") as reader:
            for frame in reader:
                if frame.index % args.every:
                    continue
                faces = analyzer.analyze(frame.image_bgr)
                if not faces:
                    marks.append("-")
                    continue
                face = max(faces, key=lambda f: f.area_px)
                started = time.perf_counter()
                marks.append(verdict(FrameGlasses(topology), frame.image_bgr, face))
                seconds += time.perf_counter() - started
                looks += marks[-1] != "-"
        found, looked = marks.count("G"), len(marks) - marks.count("-")
        print(f"{name:>4}: {found:3d} of {looked:3d} looked at  {''.join(marks)}")
    photos = []
    for path in sorted((args.media / "images" / "groups").glob("*.jpg")):
        image = read_image(path)
        verdicts = "".join(verdict(FrameGlasses(topology), image, f) for f in analyzer.analyze(image))
        photos.append(f"{path.stem} {verdicts}")
    print("group photos: " + "  ".join(photos))
    print(f"{1000 * seconds / max(looks, 1):.1f} ms per look (the unwrap and up to two passes of the finder)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
