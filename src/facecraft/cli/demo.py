"""``make demo``: swap a sample photo onto a sample video and say where the result is.

Inputs: real footage from ``../shared/media`` when that folder sits beside the project; otherwise the
group photo that ships inside the insightface wheel, and a short clip made by panning across it.
"""

import argparse
import importlib.util
from pathlib import Path

import cv2
import numpy as np
from rich.console import Console

from facecraft.blend.compositor import CompositeSettings
from facecraft.cli.runtime import tune_allocator
from facecraft.cli.swap_command import make_command, run_swap_command
from facecraft.errors import FacecraftError
from facecraft.media.image import read_image, write_image
from facecraft.media.writer import FrameWriter
from facecraft.pipeline.marking import MarkingOptions
from facecraft.pipeline.swap import EncodeOptions
from facecraft.types import Frame

DEFAULT_MEDIA_DIR = Path("..") / "shared" / "media"


def packaged_group_photo() -> Path:
    """insightface's t1 group photo, installed with ``pip install --no-deps insightface==2.1``."""
    spec = importlib.util.find_spec("insightface")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        photo = Path(folder) / "data" / "images" / "t1.jpg"
        if photo.is_file():
            return photo
    raise FacecraftError(
        "no sample input: ../shared/media is absent and insightface's t1.jpg is not installed. "
        "Install it with: pip install --no-deps insightface==2.1"
    )


def make_pan_clip(photo_bgr: Frame, out: Path, seconds: float = 3.0, fps: float = 25.0) -> Path:
    """A short video panning a 16:9 window across a photo (a stand-in target with moving faces)."""
    height, width = photo_bgr.shape[:2]
    window_w = min(width, int(height * 16 / 9)) // 2 * 2
    window_h = min(height, int(window_w * 9 / 16)) // 2 * 2
    frames = round(seconds * fps)
    with FrameWriter(out, fps=fps) as writer:
        for i in range(frames):
            x = round((width - window_w) * (0.5 - 0.5 * np.cos(np.pi * i / max(frames - 1, 1))))
            window = np.ascontiguousarray(photo_bgr[:window_h, x : x + window_w])
            resized = np.asarray(cv2.resize(window, (960, 540), interpolation=cv2.INTER_AREA), dtype=np.uint8)
            writer.write(resized, i / fps)
    return out


def sample_inputs(media_dir: Path, out_dir: Path) -> tuple[Path, Path]:
    """(source photo, target video) to run on."""
    if (media_dir / "videos").is_dir():
        return media_dir / "images" / "d30.jpg", media_dir / "videos" / "d18.mp4"
    group = read_image(packaged_group_photo())
    width = group.shape[1]
    source = write_image(out_dir / "source_face.png", np.ascontiguousarray(group[:, : width // 3]))
    return source, make_pan_clip(group[:, width // 3 :], out_dir / "pan_clip.mp4")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA_DIR, help="real footage, if present")
    args = parser.parse_args()
    tune_allocator()
    console = Console()
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / "swapped.mp4"
    try:
        source, target = sample_inputs(args.media, out_dir)
        console.print(f"[bold]facecraft swap[/] {source} {target} -o {output}")
        command = make_command(
            source,
            target,
            output,
            faces="largest",
            swapper="mesh",
            composite=CompositeSettings(),
            encode=EncodeOptions(),
            start_s=None,
            end_s=None,
            report_path=out_dir / "swap_report.json",
            marking=MarkingOptions(),
        )
        report = run_swap_command(command, console)
    except FacecraftError as error:
        console.print(f"[bold red]error:[/] {error}")
        return 2
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(
        f"\nSwapped {report.faces_swapped} face(s) in {report.frames} frame(s) at {report.fps:.1f} fps."
        f"\nResult: [bold]{output.resolve()}[/] (report: {out_dir.resolve() / 'swap_report.json'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
