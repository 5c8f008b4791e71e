"""Whole-swap speed with a trained model (onnxruntime, CPU) against the instant mesh swapper, side by side.

Target (issue 6): on s18.mp4 (1280x720, one face) a swap with the exported model runs at at least half
the frames per second of the same swap with the mesh swapper.

    .venv/bin/python bench/trained_inference.py [--model MODEL_DIR] [--sizes 64 96 128] [--repeats 1]

Without --model, random-weight models of the trainer's default ``cpu`` preset are exported (by
``swap/trained/export.py``) at each of --sizes; when the trainer's modules are not there, a stand-in
conv net (four strided 5 x 5 downs, four pixel-shuffle ups) is exported instead. Either needs PyTorch.
"""

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from facecraft.cli.runtime import tune_allocator
from facecraft.faces.alignment import warp_to_crop
from facecraft.faces.face import Face
from facecraft.faceset.crop import FaceType, crop_matrix, parse_face_type
from facecraft.media.image import read_image, write_image
from facecraft.media.probe import probe
from facecraft.media.reader import FrameReader
from facecraft.pipeline.builder import build_analyzer
from facecraft.pipeline.marking import MarkingOptions
from facecraft.pipeline.swap import EncodeOptions, SwapComponents, SwapRequest, run_swap
from facecraft.pipeline.swap_builder import SwapConfig, build_swap, build_swap_marking
from facecraft.swap.trained.card import ONNX_FILE, SOURCE_FACE_FILE, FacesetSummary, ModelCard
from facecraft.swap.trained.onnx_swapper import TrainedSwapper
from facecraft.types import Frame

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


@dataclass(slots=True)
class Contender:
    """One swap set-up, built once, run in turn with the others (so machine load drifts hit all alike)."""

    label: str
    config: SwapConfig
    components: SwapComponents
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    frames: int = 0
    stage_ms: dict[str, float] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames / statistics.median(self.wall_s)

    @property
    def cpu_ms_per_frame(self) -> float:
        return 1000.0 * statistics.median(self.cpu_s) / self.frames


def run_once(contender: Contender, target: Path, work: Path, end_s: float | None) -> None:
    """One whole swap (read, analyse, swap, blend, mark, encode, sign): wall and process CPU seconds."""
    config = contender.config
    request = SwapRequest(target, work / "swap.mp4", end_s=end_s, encode=EncodeOptions())
    marking = build_swap_marking(config, request, MarkingOptions(config_dir=work / "config"))
    cpu = time.process_time()
    report = run_swap(request, contender.components, marking)
    contender.cpu_s.append(time.process_time() - cpu)
    contender.wall_s.append(report.seconds)
    contender.frames, contender.stage_ms = report.frames, report.stage_ms


def describe(contender: Contender) -> str:
    stages = ", ".join(f"{k} {v:.1f}" for k, v in contender.stage_ms.items())
    return (
        f"{contender.fps:5.1f} fps, process CPU {contender.cpu_ms_per_frame:5.1f} ms/frame "
        f"(runs: {', '.join(f'{s:.1f}' for s in contender.wall_s)} s); stage ms/frame: {stages}"
    )


def source_crop(photo: Path, size: int, face_type: FaceType) -> Frame:
    image = read_image(photo)
    face = max(build_analyzer().analyze(image), key=lambda f: f.area_px)
    return warp_to_crop(image, crop_matrix(face.landmarks_478, size, face_type), (size, size), "replicate")


def bench_card(size: int, face_type: FaceType, what: str) -> ModelCard:
    return ModelCard(
        size=size,
        face_type=face_type,
        steps=0,
        source=FacesetSummary("(benchmark: random weights)", 0),
        target=FacesetSummary("(benchmark: random weights)", 0),
        architecture={"benchmark": what},
    )


def export_random_model(model_dir: Path, size: int, face_type: FaceType, source_bgr: Frame) -> str:
    """A random-weight model of the trainer's ``cpu`` preset (or a stand-in); says which."""
    import torch

    torch.manual_seed(0)
    try:
        from facecraft.swap.trained.export import export_model
        from facecraft.swap.trained.nets import SwapModel, preset_config
    except ImportError:
        what = "stand-in conv net (trainer modules absent)"
        model_dir.mkdir(parents=True, exist_ok=True)
        export_stand_in(model_dir, size)
        bench_card(size, face_type, what).save(model_dir)
        write_image(model_dir / SOURCE_FACE_FILE, source_bgr)
        return what
    what = "trainer 'cpu' preset, random weights"
    config = preset_config("cpu", size, face_type)
    model = SwapModel(config).eval()
    card = bench_card(size, face_type, what)
    card = replace(card, architecture={**config.to_json(), "benchmark": what})
    export_model(model, model_dir, card, source_bgr)
    return what


def export_stand_in(model_dir: Path, size: int) -> None:
    import torch
    from torch import nn

    def down(i: int, o: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(i, o, 5, stride=2, padding=2), nn.LeakyReLU(0.1))

    def up(i: int, o: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(i, o * 4, 3, padding=1), nn.LeakyReLU(0.1), nn.PixelShuffle(2))

    class StandIn(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(down(3, 24), down(24, 48), down(48, 96), down(96, 192))
            self.face = nn.Sequential(
                up(192, 192), up(192, 96), up(96, 48), up(48, 24), nn.Conv2d(24, 3, 5, padding=2)
            )
            self.mask = nn.Sequential(
                up(192, 32), up(32, 16), up(16, 8), up(8, 8), nn.Conv2d(8, 1, 5, padding=2)
            )

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            code = self.body(x)
            return torch.sigmoid(self.face(code)), torch.sigmoid(self.mask(code))

    axes = {"face": {0: "batch"}, "swapped_face": {0: "batch"}, "mask": {0: "batch"}}
    torch.onnx.export(
        StandIn().eval(),
        (torch.rand(1, 3, size, size),),
        str(model_dir / ONNX_FILE),
        dynamo=False,
        opset_version=17,
        input_names=["face"],
        output_names=["swapped_face", "mask"],
        dynamic_axes=axes,
    )


def swap_call_ms(model_dir: Path, frame_bgr: Frame, face: Face, threads: int, runs: int = 100) -> float:
    """Median milliseconds of one ``TrainedSwapper.swap`` (crop, model, back to BGR), alone (no video)."""
    swapper = TrainedSwapper(model_dir, num_threads=threads)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        swapper.swap(frame_bgr, face)
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def first_face(target: Path) -> tuple[Frame, Face]:
    with FrameReader(target) as reader:
        frame = next(iter(reader)).image_bgr
    return frame, max(build_analyzer().analyze(frame), key=lambda f: f.area_px)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=None, help="a trained model folder (default: random)")
    parser.add_argument("--source", type=Path, default=MEDIA / "images" / "d30.jpg")
    parser.add_argument("--target", type=Path, default=MEDIA / "videos" / "s18.mp4")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 96, 128])
    parser.add_argument("--face-type", default="whole-face")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[1, 2], help="trained swapper's ORT threads"
    )
    parser.add_argument("--end", type=float, default=None, help="swap only up to this time (seconds)")
    args = parser.parse_args()
    tune_allocator()  # as the facecraft command does
    face_type = parse_face_type(args.face_type)
    info = probe(args.target)
    print(f"target {args.target.name} {info.width}x{info.height}, {info.frame_count} frames")
    print(
        f"encoder libx264 crf 18 preset medium; median of {args.repeats} interleaved run(s); "
        "1 analysis thread"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        models: list[tuple[str, Path]] = []
        if args.model is not None:
            models.append((f"model {args.model.name}", args.model))
        else:
            for size in args.sizes:
                model_dir = work / f"model{size}"
                crop = source_crop(args.source, size, face_type)
                what = export_random_model(model_dir, size, face_type, crop)
                models.append((f"{what}, {size} px {face_type}", model_dir))
        frame, face = first_face(args.target)
        mesh_config = SwapConfig(source=args.source)
        contenders = [Contender("mesh", mesh_config, build_swap(mesh_config))]
        for what, model_dir in models:
            card = TrainedSwapper(model_dir).card
            print(f"{what}: architecture {json.dumps(card.architecture)}")
            calls = ", ".join(f"{swap_call_ms(model_dir, frame, face, t):.1f} ms at {t}" for t in (1, 2))
            print(f"  one swap call (crop, model, back to BGR) alone: {calls} thread(s)")
            for threads in args.threads:
                config = SwapConfig(
                    source=None, swapper="trained", model_dir=model_dir, swapper_threads=threads
                )
                contenders.append(Contender(f"{what}, {threads} thread(s)", config, build_swap(config)))
        for _ in range(args.repeats):
            for contender in contenders:
                run_once(contender, args.target, work, args.end)
    mesh = contenders[0]
    print(f"mesh swapper: {describe(mesh)}")
    best: dict[str, float] = {}
    for contender in contenders[1:]:
        ratio = contender.fps / mesh.fps
        cpu_ratio = contender.cpu_ms_per_frame / mesh.cpu_ms_per_frame
        model = str(contender.config.model_dir)
        best[model] = max(best.get(model, 0.0), ratio)
        print(f"trained ({contender.label}): {describe(contender)}")
        print(f"  fps ratio to mesh {ratio:.2f} (target >= 0.5); CPU per frame {cpu_ratio:.2f} x mesh's")
    ok = min(best.values()) >= 0.5
    print("PASS (every model at its best thread count)" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
