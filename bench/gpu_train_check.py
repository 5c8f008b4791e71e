"""One GPU check of the trainer: the `df` preset (DeepFaceLab SAEHD DF class, ~57.5 M generator params)
at 128 px, batch 16, bf16 autocast, with the real data loader and augmentation; then the same model on
synthetic batches already on the GPU (the yardstick: the plain model did 38.7 it/s on an H200).

Needs only torch, numpy, OpenCV and facecraft. Without facesets (``--source``/``--target``) it draws a
synthetic faceset of structured faces into /tmp, so the data path is still measured.

    python bench/gpu_train_check.py --minutes 3            # about 5 minutes in all
    python bench/gpu_train_check.py --source A --target B  # real facesets

With ``--crops FILE`` (made here by ``bench/gpu_trained_swap.py record``: the aligned target crops a swap of a
video feeds the model, in order), the trained model is exported to ONNX and run on those crops through
onnxruntime; its outputs go to $OUT/swapped_K.npz, for ``bench/gpu_trained_swap.py replay`` to composite
back here and measure (the model itself is too large to bring back).

Prints a table and, when $OUT is set, writes $OUT/gpu_train_check.json (and the model's previews and loss
history with ``--crops``).
"""

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, get_args

import cv2
import numpy as np
import torch

from facecraft.blend.masks import LEFT_EYE, LIPS_OUTER, RIGHT_EYE
from facecraft.faces.face import LANDMARK_POINTS
from facecraft.faceset.index import FACES_DIR, MASKS_DIR, FacesetEntry, FacesetIndex, save_index
from facecraft.swap.trained.nets import count_params, preset_config
from facecraft.swap.trained.trainer import (
    HISTORY_CSV,
    HISTORY_PNG,
    PREVIEWS_DIR,
    CompileMode,
    StepInfo,
    StepRunner,
    TrainOptions,
    train,
)

TARGET_IT_PER_S = 35.0
YARDSTICK_IT_PER_S = 38.7
CHUNK_CROPS = 160  # swapped crops per returned file (each file must stay under 16 MiB)


# --- a synthetic faceset -------------------------------------------------------------------------


def _ring(centre: tuple[float, float], radii: tuple[float, float], count: int) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, count, endpoint=False)
    return np.stack([centre[0] + radii[0] * np.cos(angles), centre[1] + radii[1] * np.sin(angles)], axis=1)


def synthetic_landmarks(rng: np.random.Generator, size: int) -> np.ndarray:
    """478 points: a face oval, with the eye rings and the outer lips where a face has them."""
    s = float(size)
    jitter = rng.normal(0, 0.01 * s, size=2)
    points = np.zeros((LANDMARK_POINTS, 3), dtype=np.float32)
    points[:, :2] = _ring((0.5 * s + jitter[0], 0.52 * s + jitter[1]), (0.3 * s, 0.38 * s), LANDMARK_POINTS)
    for eye, x in ((RIGHT_EYE, 0.36), (LEFT_EYE, 0.64)):
        ring = _ring((x * s + jitter[0], 0.42 * s + jitter[1]), (0.07 * s, 0.035 * s), len(eye.ring))
        points[list(eye.ring), :2] = ring
        points[list(eye.lids), :2] = _ring(
            (x * s + jitter[0], 0.42 * s + jitter[1]), (0.05 * s, 0.02 * s), len(eye.lids)
        )
    mouth = _ring((0.5 * s + jitter[0], 0.7 * s + jitter[1]), (0.12 * s, 0.04 * s), len(LIPS_OUTER))
    points[list(LIPS_OUTER), :2] = mouth
    return points


def synthetic_face(
    rng: np.random.Generator, size: int, landmarks: np.ndarray, tone: np.ndarray
) -> np.ndarray:
    """A face-like image: textured background, skin oval, eyes, mouth, noise."""
    small = (rng.random((size // 8, size // 8, 3)) * 255).astype(np.uint8)
    image = np.asarray(cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC), dtype=np.uint8)
    oval = landmarks[:, :2].astype(np.int32)
    cv2.fillPoly(image, [cv2.convexHull(oval)], [int(c) for c in tone + rng.normal(0, 8, 3)])
    for eye in (RIGHT_EYE, LEFT_EYE):
        cv2.fillPoly(image, [landmarks[list(eye.lids), :2].astype(np.int32)], (40, 40, 40))
    cv2.fillPoly(image, [landmarks[list(LIPS_OUTER), :2].astype(np.int32)], (60, 60, 170))
    noise = rng.normal(0, 6, image.shape)
    return np.clip(image.astype(np.float64) + noise, 0, 255).astype(np.uint8)


def write_synthetic_faceset(directory: Path, faces: int, size: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    (directory / FACES_DIR).mkdir(parents=True, exist_ok=True)
    (directory / MASKS_DIR).mkdir(parents=True, exist_ok=True)
    tone = rng.uniform(90, 210, 3)
    entries = []
    for i in range(faces):
        landmarks = synthetic_landmarks(rng, size)
        name = f"{i:06d}.png"
        cv2.imwrite(str(directory / FACES_DIR / name), synthetic_face(rng, size, landmarks, tone))
        hull = cv2.convexHull(landmarks[:, :2].astype(np.float32)).reshape(-1, 2)
        mask = np.clip(hull_mask_from_polygon(hull, size) * 255 + 0.5, 0, 255).astype(np.uint8)
        cv2.imwrite(str(directory / MASKS_DIR / name), mask)
        entries.append(
            FacesetEntry(
                file=f"{FACES_DIR}/{name}",
                mask_file=f"{MASKS_DIR}/{name}",
                input_index=0,
                frame_index=i,
                time_s=i / 30.0,
                landmarks_crop=landmarks,
                matrix_frame_to_crop=np.eye(2, 3, dtype=np.float32),
                pose_deg=(0.0, 0.0, 0.0),
                sharpness=100.0,
            )
        )
    save_index(directory, FacesetIndex(size, "face", ("synthetic",), tuple(entries)))
    return directory


def hull_mask_from_polygon(polygon: np.ndarray, size: int) -> np.ndarray:
    mask = np.zeros((size, size), dtype=np.uint8)
    cv2.fillPoly(mask, [polygon.round().astype(np.int32)], 255)
    return mask.astype(np.float32) / 255.0


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _reset_peak(device: str) -> None:
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()


def _peak_gib(device: str) -> float:
    return round(torch.cuda.max_memory_allocated() / 2**30, 2) if device == "cuda" else 0.0


# --- measuring -----------------------------------------------------------------------------------


SAMPLED = ("utilization.gpu", "clocks.sm", "power.draw", "temperature.gpu")
"""What GpuSampler reads from nvidia-smi: utilisation, and the clock, power and temperature that show
throttling."""


class GpuSampler:
    """Samples nvidia-smi every half second in a thread: utilisation, SM clock, power and temperature (the
    clock's maximum is in ``_gpu_facts``). A value nvidia-smi cannot give (``[N/A]``, as on a MIG slice) is
    left out, not read as 0."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {name: [] for name in SAMPLED}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            lines = _query_gpu(",".join(SAMPLED), "csv,noheader,nounits").splitlines()
            fields = lines[0].split(",") if lines else []
            for name, text in zip(SAMPLED, fields, strict=False):
                with contextlib.suppress(ValueError):
                    self.samples[name].append(float(text))
            self._stop.wait(0.5)

    def __enter__(self) -> "GpuSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def summary(self, skip: int = 20) -> dict[str, object]:
        out: dict[str, object] = {}
        for name, samples in self.samples.items():
            values = samples[skip:] or samples
            if not values:
                continue
            key = name.replace(".", "_")
            out[f"{key}_median"] = statistics.median(values)
            # a trace, one value per ~10 s, to see a drift (a clock falling as the card heats up)
            chunks = [values[i : i + 20] for i in range(0, len(values), 20)]
            out[f"{key}_trace"] = [round(statistics.fmean(chunk), 1) for chunk in chunks]
        utilisation = self.samples["utilization.gpu"]
        if utilisation:
            out["utilization_gpu_mean"] = round(statistics.fmean(utilisation[skip:] or utilisation), 1)
        return out


def run_real(
    args: argparse.Namespace, source: Path, target: Path, work: Path, mode: CompileMode
) -> dict[str, object]:
    """The trainer itself, real loader and augmentation, the GAN on after ``--gan-warmup`` steps."""
    _clear_dynamo_counters()  # count this run's compiles only, not the synthetic runs' before it
    windows: list[tuple[float, float]] = []
    waits: list[float] = []

    def on_step(info: StepInfo) -> None:
        windows.append((info.elapsed_s, info.it_per_s))
        waits.append(info.loader_wait_share)
        if len(windows) % 10 == 0:
            print(
                f"  step {info.step:6d}  {info.it_per_s:6.1f} it/s  "
                f"loss_a {info.losses.get('loss_a', 0):.4f}  loader wait {info.loader_wait_share:.0%}",
                flush=True,
            )

    options = TrainOptions(
        source_dir=source,
        target_dir=target,
        model_dir=work / "model",
        size=args.size,
        preset=args.preset,
        minutes=args.minutes,
        batch=args.batch,
        preview_every=0,
        checkpoint_minutes=1e6,
        log_every=args.log_every,
        device=args.device,
        num_workers=args.workers,
        min_faces=1,
        export_onnx=args.crops is not None,
        compile=not args.no_compile,
        compile_mode=mode,
        gan_warmup_steps=args.gan_warmup,
        schedule="cosine" if args.steps else "constant",
        steps=args.steps,
    )
    _reset_peak(args.device)
    with GpuSampler() as sampler:
        started = time.perf_counter()
        result = train(options, on_step=on_step)
        total_s = time.perf_counter() - started
    steady = [rate for elapsed, rate in windows if elapsed > args.warmup_s]
    tail = steady[-max(1, len(steady) // 2) :] if steady else [rate for _, rate in windows]
    return {
        "compile_mode": mode,
        "steps": result.steps,
        "it_per_s_median_last_windows": round(statistics.median(tail), 2) if tail else 0.0,
        "it_per_s_all_windows": [round(rate, 1) for _, rate in windows],
        "loader_wait_all_windows": [round(wait, 3) for wait in waits],
        "dynamo_counters": _dynamo_counters(),
        "peak_memory_gib": _peak_gib(args.device),
        "wall_s_including_load_and_export": round(total_s, 1),
        "final_losses": result.losses,
        **sampler.summary(),
    }


def _query_gpu(fields: str, format_: str) -> str:
    """``nvidia-smi --query-gpu=FIELDS --format=FORMAT``'s output, stripped ("" without nvidia-smi)."""
    command = ["nvidia-smi", f"--query-gpu={fields}", f"--format={format_}"]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _gpu_facts() -> str:
    """nvidia-smi's name, driver, MIG mode, power limit and top SM clock for the card, as one line."""
    return _query_gpu("name,driver_version,mig.mode.current,power.limit,clocks.max.sm", "csv,noheader")


def _dynamo_table() -> Any:
    """torch.compile's counters (a dict of Counters), or None where this torch has none."""
    try:
        from torch._dynamo.utils import counters
    except ImportError:
        return None
    return counters


def _clear_dynamo_counters() -> None:
    table = _dynamo_table()
    if table is not None:
        table.clear()


def _dynamo_counters() -> dict[str, dict[str, int]]:
    """torch.compile's own counts (graphs compiled, graph breaks, recompilations), to tell a compile problem
    from a slow step."""
    table = _dynamo_table()
    if table is None:
        return {}
    keep = ("stats", "graph_break", "recompiles")
    return {name: {str(k): int(v) for k, v in table[name].items()} for name in keep if name in table}


def swap_crops(model_dir: Path, crops_path: Path, out: Path) -> dict[str, object]:
    """The exported model on the recorded crops (onnxruntime, as ``facecraft swap`` runs it), written in
    chunks: faces as rounded uint8 RGB (exactly what the swapper keeps), masks as float16."""
    import onnxruntime as ort

    from facecraft.swap.trained.card import ONNX_FILE
    from facecraft.swap.trained.export import INPUT_NAME, OUTPUT_NAMES

    crops = np.load(crops_path)["crops"]
    providers = [
        p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()
    ]
    session = ort.InferenceSession(str(model_dir / ONNX_FILE), providers=providers)
    started = time.perf_counter()
    faces, masks = [], []
    for first in range(0, len(crops), 32):
        batch = crops[first : first + 32].astype(np.float32) / np.float32(255.0)
        face, mask = session.run(list(OUTPUT_NAMES), {INPUT_NAME: batch})
        faces.append(np.rint(np.clip(face * 255.0, 0.0, 255.0)).astype(np.uint8))
        masks.append(mask.astype(np.float16))
    seconds = time.perf_counter() - started
    all_faces, all_masks = np.concatenate(faces), np.concatenate(masks)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for k, first in enumerate(range(0, len(crops), CHUNK_CROPS)):
        path = out / f"swapped_{k}.npz"
        last = first + CHUNK_CROPS
        np.savez_compressed(path, faces=all_faces[first:last], masks=all_masks[first:last], first=first)
        files.append(path.name)
    return {
        "crops": len(crops),
        "providers": session.get_providers(),
        "onnx_seconds": round(seconds, 2),
        "files": files,
    }


def run_synthetic(
    args: argparse.Namespace,
    gan: bool,
    seconds: float,
    compile: bool = False,
    mode: CompileMode = "cudagraphs",
) -> dict[str, object]:
    """The same step on batches already on the GPU: no loader, no augmentation."""
    _clear_dynamo_counters()
    config = preset_config(args.preset, args.size, "face")
    options = TrainOptions(
        Path(), Path(), Path(), size=args.size, preset=args.preset, steps=1, batch=args.batch,
        gan_weight=0.1 if gan else 0.0, gan_warmup_steps=0, device=args.device, compile=compile,
        compile_mode=mode,
    )  # fmt: skip
    device = torch.device(args.device)
    runner = StepRunner(config, options, device)
    gen = torch.Generator().manual_seed(0)
    shape = (args.batch, 3, args.size, args.size)
    batch = {}
    for side in ("a", "b"):
        batch[f"input_{side}"] = torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8).to(device)
        batch[f"target_{side}"] = torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8).to(device)
        batch[f"mask_{side}"] = torch.full((args.batch, 1, args.size, args.size), 255, dtype=torch.uint8).to(
            device
        )
        batch[f"features_{side}"] = torch.zeros((args.batch, 1, args.size, args.size), dtype=torch.uint8).to(
            device
        )
    _reset_peak(args.device)
    step = 0
    warm_start = time.perf_counter()
    for _ in range(20):
        runner.run_step(batch, step)
        step += 1
    _sync(args.device)
    warmup_s = time.perf_counter() - warm_start
    rates = []
    end = time.perf_counter() + seconds
    with GpuSampler() as sampler:
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            for _ in range(50):
                runner.run_step(batch, step)
                step += 1
            _sync(args.device)
            rates.append(50 / (time.perf_counter() - t0))
    return {
        "gan": gan,
        "compile": mode if compile else False,
        "dynamo_counters": _dynamo_counters(),
        "first_20_steps_s": round(warmup_s, 1),
        "it_per_s_median": round(statistics.median(rates), 2),
        "peak_memory_gib": _peak_gib(args.device),
        **sampler.summary(skip=4),
    }


def _save(out: Path, results: dict[str, object]) -> None:
    """Written after each phase, so a run cut off by the device's time limit still brings figures back."""
    (out / "gpu_train_check.json").write_text(json.dumps(results, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="Length of the real-data run.")
    parser.add_argument("--synthetic-seconds", type=float, default=45.0)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--preset", default="df")
    parser.add_argument("--workers", type=int, default=max(2, min(12, (os.cpu_count() or 4) - 3)))
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--warmup-s", type=float, default=20.0)
    parser.add_argument("--source", type=Path)
    parser.add_argument("--target", type=Path)
    parser.add_argument("--faces", type=int, default=300, help="Faces per synthetic faceset.")
    parser.add_argument("--steps", type=int, help="Stop the real run here too (and decay the rate, cosine).")
    parser.add_argument("--gan-warmup", type=int, default=0, help="Steps before the GAN switches on.")
    parser.add_argument("--skip-synthetic", action="store_true", help="Only the real-loader run.")
    parser.add_argument(
        "--compile-mode",
        choices=get_args(CompileMode),
        default="cudagraphs",
        help="How the step is compiled (the trainer's default: cudagraphs).",
    )
    parser.add_argument(
        "--compare-modes",
        type=float,
        default=0.0,
        help="Seconds of synthetic GAN steps in each compile mode first; the real run takes the fastest.",
    )
    parser.add_argument(
        "--synthetic-after",
        type=float,
        default=0.0,
        help="Seconds of compiled synthetic GAN steps right after the real run (0: none).",
    )
    parser.add_argument("--crops", type=Path, help="Recorded target crops to swap with the trained model.")
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="Train uncompiled (the trainer compiles on CUDA by default).",
    )
    parser.add_argument("--device", default="cuda", help="cpu: a dry run of the script's plumbing only.")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this check is for a GPU machine (--device cpu for a dry run)")
    if args.device == "cpu":
        torch.set_num_threads(1)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    work = Path(tempfile.mkdtemp(prefix="fc_gpu_check_"))
    try:
        if args.source and args.target:
            source, target = args.source, args.target
        else:
            started = time.perf_counter()
            source = write_synthetic_faceset(work / "a", args.faces, args.size, 1)
            target = write_synthetic_faceset(work / "b", args.faces, args.size, 2)
            print(f"synthetic facesets written in {time.perf_counter() - started:.1f} s", flush=True)
        config = preset_config(args.preset, args.size, "face")
        from facecraft.swap.trained.nets import PatchDiscriminator, SwapModel

        with torch.device("meta"):
            g_params, d_params = count_params(SwapModel(config)), count_params(PatchDiscriminator(config))
        results: dict[str, object] = {
            "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu (dry run)",
            "nvidia_smi": _gpu_facts() if args.device == "cuda" else "",
            "torch": torch.__version__,
            "cpu_count": os.cpu_count(),
            "preset": args.preset,
            "size": args.size,
            "batch": args.batch,
            "workers": args.workers,
            "generator_params": g_params,
            "discriminator_params": d_params,
            "facesets": "real" if args.source else "synthetic",
        }
        print(
            f"{results['device']}: {args.preset} {args.size}px batch {args.batch}, G {g_params / 1e6:.2f} M, "
            f"D {d_params / 1e6:.2f} M params, {args.workers} loader workers",
            flush=True,
        )
        if not args.skip_synthetic:
            print("(b) synthetic batches on the GPU ...", flush=True)
            results["synthetic_gan"] = run_synthetic(args, gan=True, seconds=args.synthetic_seconds)
            results["synthetic_no_gan"] = run_synthetic(args, gan=False, seconds=args.synthetic_seconds / 2)
            if not args.no_compile:
                results["synthetic_gan_compiled"] = run_synthetic(
                    args, True, args.synthetic_seconds, True, args.compile_mode
                )
            print(json.dumps(results, indent=1), flush=True)
        out = Path(os.environ.get("OUT") or work / "out")
        out.mkdir(parents=True, exist_ok=True)
        mode: CompileMode = args.compile_mode
        if args.compare_modes > 0 and not args.no_compile:
            # What torch.compile covers, side by side on the same card: compiled GAN steps on batches
            # already on the GPU; the real run then uses the fastest.
            rates: dict[CompileMode, float] = {}
            for candidate in get_args(CompileMode):
                print(f"(m) synthetic GAN steps, compile mode {candidate} ...", flush=True)
                key = f"synthetic_gan_{candidate}"
                try:
                    measured = run_synthetic(args, True, args.compare_modes, True, candidate)
                except Exception as error:  # a mode that fails on this torch/card is a finding, not the end
                    results[key] = {"error": f"{type(error).__name__}: {error}"[:2000]}
                    print(f"   failed: {results[key]}", flush=True)
                    continue
                results[key] = measured
                rates[candidate] = float(str(measured["it_per_s_median"]))
                print(f"   {rates[candidate]} it/s", flush=True)
                _save(out, results)
            mode = max(rates, key=lambda name: rates[name]) if rates else mode
        print(f"(a) trainer with the real loader and augmentation for {args.minutes} min ...", flush=True)
        results["real_loader"] = run_real(args, source, target, work, mode)
        real = results["real_loader"]
        assert isinstance(real, dict)
        results["target_it_per_s"] = TARGET_IT_PER_S
        results["meets_target"] = float(real["it_per_s_median_last_windows"]) >= TARGET_IT_PER_S
        _save(out, results)
        if args.synthetic_after > 0:
            # The same card right after the real run (same clocks, same heat), without the loader: if this is
            # fast and the real run was slow, the host side (data, launches) is the limit, not the card.
            print(f"(c) synthetic batches, compiled, GAN on, for {args.synthetic_after} s ...", flush=True)
            results["synthetic_gan_compiled_after"] = run_synthetic(
                args, True, args.synthetic_after, not args.no_compile, mode
            )
            print(json.dumps(results["synthetic_gan_compiled_after"], indent=1), flush=True)
            _save(out, results)
        if args.crops is not None:
            results["swapped_crops"] = swap_crops(work / "model", args.crops, out)
            model_dir = work / "model"
            previews = sorted((model_dir / PREVIEWS_DIR).glob("preview_*.png"))
            for path in [
                *previews[-1:],
                model_dir / HISTORY_CSV,
                model_dir / HISTORY_PNG,
            ]:
                if path.is_file():
                    shutil.copy(
                        path, out / ("preview.png" if path.parent.name == PREVIEWS_DIR else path.name)
                    )
        print(json.dumps(results, indent=2), flush=True)
        _save(out, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
