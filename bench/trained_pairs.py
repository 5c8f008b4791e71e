"""Issue 6's quality targets for trained models: faces of d3.mp4 onto d10.mp4 and of d20.mp4 onto d18.mp4.

    .venv/bin/python bench/trained_pairs.py --train-minutes 30   # extract, train both, swap, eval
    .venv/bin/python bench/trained_pairs.py --models /tmp/models   # swap and eval models trained already

Everything runs through the ``facecraft`` command, so the commands printed are the ones a user types. With
``--train-minutes``, the two pairs train side by side, one PyTorch thread each (the machine has two
cores), at 64 px with the ``cpu`` preset and batch 4. Each model then swaps its whole target video, and
``facecraft eval`` measures the dlib identity distance of the swapped face to the source person (a photo:
the middle frame of the source video, which the model saw among its training faces) and to the original
target face.
Targets: distance to the source <= 0.55, to the target > 0.6.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from facecraft.media.image import write_image
from facecraft.media.probe import probe
from facecraft.media.reader import FrameReader

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media" / "videos"
PAIRS = (("d3", "d10"), ("d20", "d18"))
"""(source video, target video) stems from issue 6."""
FACECRAFT = [sys.executable, "-m", "facecraft"]


def run(args: list[str], log: Path | None = None) -> subprocess.Popen[bytes]:
    print("$ facecraft " + " ".join(args[len(FACECRAFT) :]), flush=True)
    out = log.open("wb") if log is not None else subprocess.DEVNULL
    return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)


def wait(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.wait() != 0:
            raise SystemExit(f"command failed ({process.returncode}): {process.args!r}")


def middle_frame(video: Path, out: Path) -> Path:
    """The middle frame of ``video`` as a PNG: the source person's photo for the identity distance."""
    middle_s = probe(video).duration_s / 2
    with FrameReader(video, start_s=middle_s) as reader:
        frame = next(iter(reader))
    write_image(out, frame.image_bgr)
    return out


def train_pairs(work: Path, models: Path, minutes: float) -> None:
    facesets = work / "facesets"
    stems = sorted({stem for pair in PAIRS for stem in pair})
    for stem in stems:
        args = [*FACECRAFT, "extract", str(MEDIA / f"{stem}.mp4"), "-o", str(facesets / stem)]
        wait([run([*args, "--size", "128", "--force"])])
    trainings = []
    for source, target in PAIRS:
        model = models / f"{source}_on_{target}"
        args = [
            *FACECRAFT,
            "train",
            "--source",
            str(facesets / source),
            "--target",
            str(facesets / target),
            "-o",
            str(model),
            "--size",
            "64",
            "--preset",
            "cpu",
            "--batch",
            "4",
            "--minutes",
            str(minutes),
            "--gan-warmup",
            "3000",
            "--threads",
            "1",
            "--workers",
            "1",
            "--device",
            "cpu",
            "--quiet",
        ]
        models.mkdir(parents=True, exist_ok=True)
        trainings.append(run(args, models / f"{source}_on_{target}.log"))
    wait(trainings)


def evaluate_pair(source: str, target: str, model: Path, work: Path) -> dict[str, object]:
    swapped = work / f"{source}_on_{target}.mp4"
    started = time.perf_counter()
    wait([run([*FACECRAFT, "swap", "--model", str(model), str(MEDIA / f"{target}.mp4"), "-o", str(swapped)])])
    swap_s = time.perf_counter() - started
    photo = middle_frame(MEDIA / f"{source}.mp4", work / f"{source}_photo.png")
    row: dict[str, object] = {"pair": f"{source}_on_{target}", "swap_s": round(swap_s, 1)}
    card = json.loads((model / "card.json").read_text())
    row["steps"] = card["steps"]
    for name, reference in (("photo", photo), ("source_face", model / "source_face.png")):
        args = ["eval", "--source", str(reference), "--target", str(MEDIA / f"{target}.mp4")]
        args += ["--swapped", str(swapped), "--json"]
        print("$ facecraft " + " ".join(args), flush=True)
        out = subprocess.run([*FACECRAFT, *args], capture_output=True, check=True, text=True).stdout
        report = json.loads(out)
        row[f"id_to_source_{name}"] = report["id_to_source"]
        row["id_to_target"] = report["id_to_target"]
        row["mar_corr"] = report["mar_corr"]
        row["pose_err_deg"] = report["pose_err_deg"]
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=Path("/tmp/facecraft-bench/models"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/facecraft-bench/trained"))
    parser.add_argument("--train-minutes", type=float, default=None)
    args = parser.parse_args()
    if not MEDIA.is_dir():
        print(f"skipped: {MEDIA} is absent")
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    if args.train_minutes is not None:
        train_pairs(args.work, args.models, args.train_minutes)
    rows = [evaluate_pair(s, t, args.models / f"{s}_on_{t}", args.work) for s, t in PAIRS]
    print()
    print(
        "| pair | steps | id_to_source (photo) | id_to_source (source_face.png) | id_to_target "
        "| mar_corr | pose_err_deg |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['pair']} | {row['steps']} | {row['id_to_source_photo']:.3f} | "
            f"{row['id_to_source_source_face']:.3f} | {row['id_to_target']:.3f} | {row['mar_corr']:.3f} | "
            f"{row['pose_err_deg']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
