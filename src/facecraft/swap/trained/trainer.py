"""Training a swap model: two facesets in, a model directory out (checkpoints, previews, history, ONNX).

``train(options)`` runs until ``steps`` (the total step count, resumed runs included) or ``minutes`` (this
run's wall-clock budget), Ctrl-C or ``stop()``; then it writes a checkpoint, the previews, the history and
the export. On CPU a resumed run continues bit for bit where the uninterrupted run would have been: the
batches are a function of (seed, step) and the checkpoint holds every state that matters.
"""

import math
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

import numpy as np
import torch

from facecraft.errors import FacecraftError
from facecraft.faceset.crop import FaceType
from facecraft.faceset.index import FacesetError
from facecraft.swap.trained.augment import AugmentSettings
from facecraft.swap.trained.card import FacesetSummary, ModelCard, RecipeValue
from facecraft.swap.trained.checkpoint import (
    LATEST_FILE,
    State,
    check_compatible,
    checkpoint_dir,
    load_checkpoint,
    save_checkpoint,
)
from facecraft.swap.trained.dataset import (
    MIN_FACES,
    Batch,
    FaceBank,
    PairBatches,
    batch_loader,
    load_face_bank,
    pick_source_face,
)
from facecraft.swap.trained.export import export_model
from facecraft.swap.trained.losses import (
    GanLoss,
    discriminator_loss,
    dssim,
    gaussian_window,
    generator_adv_loss,
    mask_loss,
    ssim_window_px,
    weighted_l1,
)
from facecraft.swap.trained.nets import (
    PRESET_LR,
    ModelConfig,
    PatchDiscriminator,
    SwapModel,
    count_params,
    preset_config,
)
from facecraft.swap.trained.previews import (
    HistoryRow,
    draw_history_plot,
    preview_grid,
    write_history_csv,
    write_image,
)
from facecraft.types import Frame

Device = Literal["auto", "cpu", "cuda"]
DEVICES: tuple[str, ...] = get_args(Device)
Schedule = Literal["constant", "cosine"]
CompileMode = Literal["cudagraphs", "step"]
"""What torch.compile does on CUDA: ``step`` compiles the generator's and the critic's whole forward passes
with their losses (two graphs and their backward graphs, few launches: a 128 px step is bound by the
host's launches otherwise); ``cudagraphs`` replays those as CUDA graphs (``mode="reduce-overhead"``)."""
T = TypeVar("T")

PREVIEWS_DIR = "previews"
HISTORY_CSV = "history.csv"
HISTORY_PNG = "history.png"
PREVIEW_FACES = 4
LOSS_NAMES = ("loss_a", "loss_b", "mask", "g_adv", "d")


class TrainError(FacecraftError):
    """Training cannot start as asked (device, options, model directory)."""


@dataclass(frozen=True, slots=True)
class TrainOptions:
    """What to train and how. ``steps`` is the total to reach (a resumed run counts its earlier steps);
    ``minutes`` is this run's budget. With both, whichever comes first ends the run.

    lr: Adam's learning rate (None: the preset's, ``nets.PRESET_LR``); schedule: constant after the
    warm-up, or cosine down to a tenth by the end of ``steps`` or of ``minutes``, whichever comes first
    (a clock-driven curve is not bit-reproducible: give ``steps`` alone for that);
    feature_weight: extra L1 weight on eyes and mouth; gan_weight: the adversarial loss's weight (0: off),
    switched on after gan_warmup_steps; log_every: steps between loss read-outs (each is a device sync);
    threads: torch CPU threads (None: torch's default); compile: torch.compile the networks
    (None: on CUDA, where it is about 1.5x faster; never on CPU, where it needs a C++ toolchain);
    compile_mode: what is compiled (``CompileMode``);
    sharpen: the share of ``steps`` at the end trained without the random warp (DeepFaceLab's finishing
    phase, for sharper faces; needs ``steps``), 0: warped throughout.
    """

    source_dir: Path
    target_dir: Path
    model_dir: Path
    size: int = 64
    preset: str = "cpu"
    steps: int | None = None
    minutes: float | None = None
    batch: int = 8
    lr: float | None = None
    warmup_steps: int = 100
    schedule: Schedule = "constant"
    gan_weight: float = 0.1
    gan_warmup_steps: int = 5000
    gan_loss: GanLoss = "lsgan"
    feature_weight: float = 3.0
    preview_every: int = 500
    checkpoint_minutes: float = 10.0
    log_every: int = 10
    device: Device = "auto"
    seed: int = 0
    resume: bool = False
    num_workers: int = 2
    threads: int | None = None
    min_faces: int = MIN_FACES
    export_onnx: bool = True
    compile: bool | None = None
    compile_mode: CompileMode = "cudagraphs"
    augment: AugmentSettings = field(default_factory=AugmentSettings)
    sharpen: float = 0.0

    def __post_init__(self) -> None:
        if self.steps is None and self.minutes is None:
            raise TrainError("say how long to train: give --steps N or --minutes M")
        if self.steps is not None and self.steps < 1:
            raise TrainError(f"--steps must be at least 1, got {self.steps}")
        if self.minutes is not None and self.minutes <= 0:
            raise TrainError(f"--minutes must be above 0, got {self.minutes}")
        if self.batch < 1:
            raise TrainError(f"--batch must be at least 1, got {self.batch}")
        if self.gan_weight < 0:
            raise TrainError(f"--gan-weight must be 0 (off) or more, got {self.gan_weight}")
        if self.schedule not in get_args(Schedule):
            raise TrainError(
                f"--schedule must be one of {', '.join(get_args(Schedule))}, got {self.schedule!r}"
            )
        if self.compile_mode not in get_args(CompileMode):
            raise TrainError(
                f"--compile-mode must be one of {', '.join(get_args(CompileMode))}, got {self.compile_mode!r}"
            )
        if self.num_workers < 0:
            raise TrainError(f"--workers must be 0 or more, got {self.num_workers}")
        if self.feature_weight < 0:
            raise TrainError(f"--eyes-mouth-weight must be 0 or more, got {self.feature_weight}")
        if not 0.0 <= self.sharpen < 1.0:
            raise TrainError(f"--sharpen is a share of --steps in [0, 1), got {self.sharpen}")
        if self.sharpen > 0 and self.steps is None:
            raise TrainError("--sharpen is a share of --steps: give --steps (with or without --minutes)")
        try:
            preset_config(self.preset, self.size, "face")
        except ValueError as error:
            raise TrainError(str(error)) from error


@dataclass(frozen=True, slots=True)
class StepInfo:
    """Progress after ``step`` steps: mean losses since the last read-out and the speed over it.

    ``loader_wait_share``: the share of that interval's wall time (previews and checkpoints included) the
    loop spent blocked on the data loader's next batch. Near 0: the model sets the pace; large: the loader
    does, and more ``--workers`` would help. On CUDA steps run asynchronously, so this is an upper bound on
    the time the GPU sat idle for want of data, not a measure of it.
    """

    step: int
    total_steps: int | None
    losses: dict[str, float]
    it_per_s: float
    elapsed_s: float
    remaining_s: float | None
    loader_wait_share: float = 0.0
    note: str | None = None


@dataclass(frozen=True, slots=True)
class TrainResult:
    model_dir: Path
    steps: int
    losses: dict[str, float]
    elapsed_s: float
    it_per_s: float
    checkpoint: Path
    onnx: Path | None
    interrupted: bool
    note: str | None = None


def resolve_device(device: str) -> torch.device:
    """``auto`` is CUDA when PyTorch sees a GPU; asking for CUDA without one is an error saying why."""
    if device not in DEVICES:
        raise TrainError(f"unknown device '{device}'; choose one of {', '.join(DEVICES)}")
    if device == "cuda" or (device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            build = torch.__version__
            raise TrainError(
                f"--device cuda was asked for, but PyTorch {build} sees no CUDA GPU "
                f"({'a CPU-only build' if torch.version.cuda is None else 'no driver or device visible'}). "
                "Install a CUDA build of torch on a machine with an NVIDIA GPU, or use --device cpu"
            )
        return torch.device("cuda")
    return torch.device("cpu")


# --- the step ------------------------------------------------------------------------------------


class StepRunner:
    """The model, the critic, their optimisers and schedulers, and one training step on a batch."""

    def __init__(self, config: ModelConfig, options: TrainOptions, device: torch.device) -> None:
        self.config = config
        self.options = options
        self.device = device
        self.time_progress = 0.0
        """The share of the run's time budget spent (``time_share``; 0 without ``--minutes``); the cosine
        schedule reads it."""
        self.model = SwapModel(config).to(device)
        self.disc = PatchDiscriminator(config).to(device)
        cuda = device.type == "cuda"
        if cuda:
            torch.backends.cudnn.benchmark = True
        # Channels-last convolutions are faster on both: on this 2-core CPU (oneDNN) 2-7% a step for the
        # cpu preset at 96 px (bench/train_throughput.py --compare-layout), with the batches laid out the
        # same way (``to_device``).
        self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.disc.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        betas = (0.5, 0.999)
        lr = options.lr if options.lr is not None else PRESET_LR[config.preset]
        self.opt_g = torch.optim.Adam(self.model.parameters(), lr=lr, betas=betas, fused=cuda or None)
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=lr, betas=betas, fused=cuda or None)
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, self._lr_factor)
        self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, self._lr_factor)
        self.window = gaussian_window(ssim_window_px(config.size), 1.5).to(device)
        self._generator_fn = self._generator_pass
        self._critic_fn = self._critic_pass
        self._mark_step = False
        self._compiled = False
        self.compile_note: str | None = None
        if cuda and options.compile is not False:
            self.compile(options.compile_mode)

    def compile(self, mode: CompileMode, backend: str = "inductor") -> None:
        """Compile the two passes (static shapes: each batch size seen gets its own graph). Graphs are built
        on first use; ``backend`` is for tests (``aot_eager`` needs no C++ toolchain)."""
        compile_mode = "reduce-overhead" if mode == "cudagraphs" else None
        self._generator_fn = torch.compile(
            self._generator_pass, dynamic=False, mode=compile_mode, backend=backend
        )
        self._critic_fn = torch.compile(self._critic_pass, dynamic=False, mode=compile_mode, backend=backend)
        self._mark_step = mode == "cudagraphs"
        self._compiled = True

    def _lr_factor(self, step: int) -> float:
        """The learning rate's factor: a linear warm-up, then constant or a cosine falling to a tenth over
        the run's length: ``--steps``, the time budget (``time_progress``), whichever runs out first."""
        warm = min(1.0, (step + 1) / max(1, self.options.warmup_steps))
        if self.options.schedule != "cosine":
            return warm
        total = self.options.steps
        progress = min(1.0, max(step / total if total else 0.0, self.time_progress))
        return warm * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))

    def autocast(self) -> torch.autocast:
        enabled = self.device.type == "cuda"
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=enabled)

    def to_device(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The uint8 batch on the device (the passes scale it to [0, 1] themselves, inside their graphs);
        on the CPU laid out channels-last like the networks (on CUDA the graphs' first layers do that)."""
        if self.device.type == "cuda":
            return {key: value.to(self.device, non_blocking=True) for key, value in batch.items()}
        return {key: value.contiguous(memory_format=torch.channels_last) for key, value in batch.items()}

    @staticmethod
    def _unit(image: torch.Tensor) -> torch.Tensor:
        return image.float() / 255.0

    def _reconstruction(
        self, pred: torch.Tensor, pred_mask: torch.Tensor, data: dict[str, torch.Tensor], side: str
    ) -> torch.Tensor:
        target, mask, feats = data[f"target_{side}"], data[f"mask_{side}"], data[f"features_{side}"]
        # Losses in float32 even under bf16 autocast: DSSIM's variances (E[x^2] - E[x]^2) cancel
        # catastrophically in bf16, and a 128 px run on an H100 diverged at step ~2800 with them in bf16.
        with torch.autocast(self.device.type, enabled=False):
            pred = pred.float()
            structure = dssim(pred * mask, target * mask, self.window)
            l1 = weighted_l1(pred, target, mask, feats, self.options.feature_weight)
            return 10.0 * structure + 10.0 * l1 + 10.0 * mask_loss(pred_mask.float(), mask)

    def _generator_pass(
        self, data: dict[str, torch.Tensor], gan_on: bool
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        """The generator's forward pass and losses on a uint8 batch: (total loss, detached losses, the
        detached A reconstruction for the critic)."""
        floats = {key: self._unit(value) for key, value in data.items()}
        with self.autocast():
            n = floats["input_a"].shape[0]
            latent = self.model.latent(torch.cat([floats["input_a"], floats["input_b"]]))
            pred_a, mask_a = self.model.decoder_a(latent[:n])
            pred_b, mask_b = self.model.decoder_b(latent[n:])
            loss_a = self._reconstruction(pred_a, mask_a, floats, "a")
            loss_b = self._reconstruction(pred_b, mask_b, floats, "b")
            total = loss_a + loss_b
            g_adv = torch.zeros((), device=total.device)
            if gan_on:
                # the critic's weights as constants here: this pass needs its gradient to the image only
                frozen = {name: param.detach() for name, param in self.disc.named_parameters()}
                fake_logits = torch.func.functional_call(self.disc, frozen, (pred_a * floats["mask_a"],))
                g_adv = generator_adv_loss(fake_logits.float(), self.options.gan_loss)
                total = total + self.options.gan_weight * g_adv
        mask_err = mask_loss(mask_a.float(), floats["mask_a"]) + mask_loss(mask_b.float(), floats["mask_b"])
        losses = {
            "loss_a": loss_a.detach(),
            "loss_b": loss_b.detach(),
            "mask": mask_err.detach(),
            "g_adv": g_adv.detach(),
        }
        return total, losses, pred_a.detach()

    def _critic_pass(self, real: torch.Tensor, fake: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The critic's loss on real (uint8) and generated (float) faces, both masked (uint8 mask)."""
        unit_mask = self._unit(mask)
        with self.autocast():
            # one pass over real and fake together (the critic has no batch statistics): half the launches
            logits = self.disc(torch.cat([self._unit(real) * unit_mask, fake * unit_mask]))
            real_logits, fake_logits = logits.float().chunk(2)
            return discriminator_loss(real_logits, fake_logits, self.options.gan_loss)

    def _uncompile(self, error: Exception) -> None:
        cause = getattr(error, "inner_exception", None) or error
        first_line = (str(cause).strip().splitlines() or [""])[0][:200]
        self.compile_note = (
            f"torch.compile failed ({type(cause).__name__}: {first_line}); training goes on uncompiled, "
            "about half as fast on a GPU (--no-compile skips the attempt; --compile-mode step avoids only "
            "the CUDA graphs)"
        )
        self._generator_fn, self._critic_fn = self._generator_pass, self._critic_pass
        self._mark_step = self._compiled = False

    def _guarded(self, work: Callable[[], T], optimizer: torch.optim.Optimizer) -> T:
        """``work`` (a pass and its backward, nothing applied yet); when compiled and it fails, its gradients
        are dropped and it runs again uncompiled, with ``compile_note`` saying so. Graphs are built on first
        use, forward and backward apart, and their failures come as many types (Dynamo's, Inductor's, a
        plain RuntimeError from a backward compiled late), hence the broad catch; uncompiled, errors pass."""
        if not self._compiled:
            return work()
        try:
            return work()
        except Exception as error:
            optimizer.zero_grad(set_to_none=True)
            self._uncompile(error)
            return work()

    def _generator_update(
        self, data: dict[str, torch.Tensor], gan_on: bool
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        total, losses, fake = self._generator_fn(data, gan_on)
        total.backward()  # type: ignore[no-untyped-call]
        return losses, fake

    def _critic_update(self, real: torch.Tensor, fake: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        loss = self._critic_fn(real, fake, mask)
        loss.backward()  # type: ignore[no-untyped-call]
        return loss.detach()

    def run_step(self, batch: Batch, step: int) -> dict[str, torch.Tensor]:
        """One generator (and, once the GAN is on, critic) update; returns detached losses. Under
        ``cudagraphs`` they live in the graphs' memory: read them (or copy them) before the next step."""
        if self._mark_step:
            torch.compiler.cudagraph_mark_step_begin()  # type: ignore[no-untyped-call]
        data = self.to_device(batch)
        gan_on = self.options.gan_weight > 0 and step >= self.options.gan_warmup_steps
        self.model.train()
        self.opt_g.zero_grad(set_to_none=True)
        losses, fake = self._guarded(lambda: self._generator_update(data, gan_on), self.opt_g)
        self.opt_g.step()
        self.sched_g.step()
        d_loss = torch.zeros((), device=self.device)
        if gan_on:
            self.opt_d.zero_grad(set_to_none=True)
            d_loss = self._guarded(
                lambda: self._critic_update(data["target_a"], fake, data["mask_a"]), self.opt_d
            )
            self.opt_d.step()
            self.sched_d.step()
        return {**losses, "d": d_loss}

    def state(self) -> State:
        return {
            "model": self.model.state_dict(),
            "disc": self.disc.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "sched_g": self.sched_g.state_dict(),
            "sched_d": self.sched_d.state_dict(),
        }

    def load_state(self, state: State) -> None:
        self.model.load_state_dict(state["model"])
        self.disc.load_state_dict(state["disc"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.sched_g.load_state_dict(state["sched_g"])
        self.sched_d.load_state_dict(state["sched_d"])


# --- random states -------------------------------------------------------------------------------


def _rng_state() -> dict[str, Any]:
    _, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    version, internal, gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "numpy": [
            torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            int(pos),
            int(has_gauss),
            float(cached),
        ],
        "python": [int(version), list(internal), gauss],
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state(("MT19937", keys.numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached)))
    version, internal, gauss = state["python"]
    random.setstate((int(version), tuple(int(v) for v in internal), gauss))


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


# --- previews ------------------------------------------------------------------------------------


def _preview_picks(bank: FaceBank) -> np.ndarray:
    count = min(PREVIEW_FACES, len(bank))
    return np.linspace(0, len(bank) - 1, count).round().astype(np.int64)


def _to_tensor(faces_bgr: np.ndarray, device: torch.device) -> torch.Tensor:
    rgb = np.ascontiguousarray(faces_bgr[..., ::-1].transpose(0, 3, 1, 2))
    return torch.from_numpy(rgb).to(device).float().div_(255.0)


def _to_bgr(images: torch.Tensor) -> list[Frame]:
    array = (images.float().clamp(0, 1) * 255.0 + 0.5).byte().cpu().numpy()
    return [np.ascontiguousarray(img.transpose(1, 2, 0)[..., ::-1]) for img in array]


def render_preview(runner: StepRunner, bank_a: FaceBank, bank_b: FaceBank) -> Frame:
    """Rows of: A, A rec, A->B, B, B rec, B->A, on fixed faces of each faceset (no augmentation)."""
    picks_a, picks_b = _preview_picks(bank_a), _preview_picks(bank_b)
    count = min(len(picks_a), len(picks_b))
    model = runner.model
    model.eval()
    with torch.no_grad(), runner.autocast():
        faces_a = _to_tensor(bank_a.faces_bgr[picks_a[:count]], runner.device)
        faces_b = _to_tensor(bank_b.faces_bgr[picks_b[:count]], runner.device)
        za, zb = model.latent(faces_a), model.latent(faces_b)
        columns = [faces_a, model.decoder_a(za)[0], model.decoder_b(za)[0]]
        columns += [faces_b, model.decoder_b(zb)[0], model.decoder_a(zb)[0]]
        tiles = [_to_bgr(column) for column in columns]
    model.train()
    rows = [[tiles[c][r] for c in range(len(columns))] for r in range(count)]
    return preview_grid(rows)


# --- the run -------------------------------------------------------------------------------------


def _faceset_type(bank_a: FaceBank, bank_b: FaceBank) -> FaceType:
    type_a, type_b = bank_a.index.face_type, bank_b.index.face_type
    if type_a != type_b:
        raise FacesetError(
            f"the source faceset '{bank_a.directory}' holds {type_a} crops but the target faceset "
            f"'{bank_b.directory}' holds {type_b} crops; extract both with the same --face-type"
        )
    return type_a


def _summary(bank: FaceBank) -> FacesetSummary:
    return FacesetSummary(path=str(bank.directory), faces=len(bank), inputs=bank.index.inputs)


class _Run:
    """The state of one call to :func:`train`: what it loaded, what it has done, where it writes."""

    def __init__(self, options: TrainOptions) -> None:
        self.options = options
        self.device = resolve_device(options.device)
        if options.threads is not None:
            torch.set_num_threads(max(1, options.threads))
        self.bank_a = load_face_bank(options.source_dir, options.size, "source", options.min_faces)
        self.bank_b = load_face_bank(options.target_dir, options.size, "target", options.min_faces)
        face_type = _faceset_type(self.bank_a, self.bank_b)
        self.config = preset_config(options.preset, options.size, face_type)
        self.model_dir = options.model_dir
        self.note: str | None = None
        self.step = 0
        self.elapsed_before_s = 0.0
        self.history: list[HistoryRow] = []
        self._prepare_dir()
        _seed_everything(options.seed)
        self.runner = StepRunner(self.config, options, self.device)
        if options.resume:
            self._resume()

    def _prepare_dir(self) -> None:
        latest = checkpoint_dir(self.model_dir) / LATEST_FILE
        if not self.options.resume and latest.exists():
            raise TrainError(
                f"'{self.model_dir}' already holds a model ({latest}); pass --resume to continue "
                "training it, or name another output directory"
            )
        (self.model_dir / PREVIEWS_DIR).mkdir(parents=True, exist_ok=True)

    def _resume(self) -> None:
        loaded = load_checkpoint(self.model_dir)
        check_compatible(loaded.config, self.config, loaded.path)
        state = loaded.state
        self.runner.load_state(state)
        self.step = loaded.step
        self.elapsed_before_s = float(state.get("elapsed_s", 0.0))
        self.history = [dict(row) for row in state.get("history", [])]
        _set_rng_state(state["rng"])
        self.note = loaded.note

    def checkpoint_state(self, elapsed_s: float) -> State:
        return {
            **self.runner.state(),
            "config": self.config.to_json(),
            "step": self.step,
            "seed": self.options.seed,
            "elapsed_s": elapsed_s,
            "history": self.history,
            "rng": _rng_state(),
            "source": str(self.options.source_dir),
            "target": str(self.options.target_dir),
            "training": training_recipe(self.options, self.config),
        }

    def card(self, elapsed_s: float) -> ModelCard:
        last = self.history[-1] if self.history else {}
        architecture: dict[str, int | float | str] = dict(self.config.to_json())
        architecture["generator_params"] = count_params(self.runner.model)
        architecture["discriminator_params"] = count_params(self.runner.disc)
        return ModelCard(
            size=self.config.size,
            face_type=self.config.face_type,
            steps=self.step,
            source=_summary(self.bank_a),
            target=_summary(self.bank_b),
            losses={k: float(v) for k, v in last.items() if k in LOSS_NAMES},
            architecture=architecture,
            training=training_recipe(self.options, self.config),
            training_seconds=round(elapsed_s, 1),
            device=str(self.device),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def write_previews(self) -> None:
        grid = render_preview(self.runner, self.bank_a, self.bank_b)
        directory = self.model_dir / PREVIEWS_DIR
        write_image(directory / f"preview_{self.step:07d}.png", grid)
        write_image(directory / "latest.png", grid)

    def write_history(self) -> None:
        write_history_csv(self.model_dir / HISTORY_CSV, self.history)
        write_image(self.model_dir / HISTORY_PNG, draw_history_plot(self.history, LOSS_NAMES[:3]))

    def finish(self, elapsed_s: float, export: bool) -> tuple[Path, Path | None]:
        checkpoint = save_checkpoint(self.model_dir, self.checkpoint_state(elapsed_s))
        self.write_previews()
        self.write_history()
        onnx = None
        if export:
            source_face = pick_source_face(self.bank_a)
            onnx = export_model(self.runner.model, self.model_dir, self.card(elapsed_s), source_face)
        return checkpoint, onnx


class _Meter:
    """Sums losses on the device between read-outs (one sync per read-out), times the interval and the
    part of it spent waiting for batches."""

    def __init__(self, step: int) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0
        self.mark_step = step
        self.mark_time = time.perf_counter()
        self.it_per_s = 0.0
        self.wait_s = 0.0
        self.loader_wait_share = 0.0

    def add(self, losses: dict[str, torch.Tensor]) -> None:
        for key, value in losses.items():
            self.sums[key] = self.sums[key] + value if key in self.sums else value.clone()
        self.count += 1

    def read(self, step: int) -> dict[str, float]:
        now = time.perf_counter()
        means = {key: float(value.item()) / max(1, self.count) for key, value in self.sums.items()}
        if step > self.mark_step:
            interval = max(now - self.mark_time, 1e-9)
            self.it_per_s = (step - self.mark_step) / interval
            self.loader_wait_share = self.wait_s / interval
        self.sums, self.count, self.mark_step, self.mark_time, self.wait_s = {}, 0, step, now, 0.0
        return means


def _remaining(run: _Run, meter: _Meter, started: float) -> float | None:
    options = run.options
    left: list[float] = []
    if options.steps is not None and meter.it_per_s > 0:
        left.append((options.steps - run.step) / meter.it_per_s)
    if options.minutes is not None:
        left.append(options.minutes * 60.0 - (time.perf_counter() - started))
    return max(0.0, min(left)) if left else None


def time_share(options: TrainOptions, elapsed_before_s: float, elapsed_s: float) -> float:
    """How far through its time the training is, for the cosine schedule: the training time so far over
    that plus what is left of this run's ``--minutes`` (0 without it). Resuming with the minutes that were
    left continues the curve where it stopped."""
    if options.minutes is None:
        return 0.0
    total_s = elapsed_before_s + options.minutes * 60.0
    return min(1.0, (elapsed_before_s + elapsed_s) / total_s)


def _done(run: _Run, started: float) -> bool:
    options = run.options
    if options.steps is not None and run.step >= options.steps:
        return True
    return options.minutes is not None and time.perf_counter() - started >= options.minutes * 60.0


class _CtrlC:
    """While active (main thread only), the first Ctrl-C asks the loop to stop after the current step;
    a second one interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> "_CtrlC":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)


def _log(run: _Run, meter: _Meter, on_step: Callable[[StepInfo], None] | None, started: float) -> None:
    """Read the losses since the last read-out into the history and tell ``on_step``."""
    means = meter.read(run.step)
    elapsed = run.elapsed_before_s + time.perf_counter() - started
    lr = float(run.runner.opt_g.param_groups[0]["lr"])
    run.history.append({"step": float(run.step), "elapsed_s": round(elapsed, 2), **means, "lr": lr})
    if on_step is not None:
        remaining = _remaining(run, meter, started)
        info = StepInfo(
            step=run.step,
            total_steps=run.options.steps,
            losses=means,
            it_per_s=meter.it_per_s,
            elapsed_s=elapsed,
            remaining_s=remaining,
            loader_wait_share=meter.loader_wait_share,
            note=run.runner.compile_note,
        )
        on_step(info)


def _next_batch(batches: Iterator[Batch], meter: _Meter) -> Batch:
    asked = time.perf_counter()
    batch = next(batches)
    meter.wait_s += time.perf_counter() - asked
    return batch


def _loop(
    run: _Run,
    batches: Iterator[Batch],
    meter: _Meter,
    on_step: Callable[[StepInfo], None] | None,
    stop: Callable[[], bool],
    started: float,
) -> None:
    options = run.options
    last_checkpoint = time.perf_counter()
    while not _done(run, started) and not stop():
        run.runner.time_progress = time_share(options, run.elapsed_before_s, time.perf_counter() - started)
        losses = run.runner.run_step(_next_batch(batches, meter), run.step)
        run.step += 1
        meter.add(losses)
        if run.step % max(1, options.log_every) == 0:
            _log(run, meter, on_step, started)
        if options.preview_every > 0 and run.step % options.preview_every == 0:
            run.write_previews()
            run.write_history()
        if time.perf_counter() - last_checkpoint >= options.checkpoint_minutes * 60.0:
            save_checkpoint(
                run.model_dir, run.checkpoint_state(run.elapsed_before_s + time.perf_counter() - started)
            )
            last_checkpoint = time.perf_counter()


def training_recipe(options: TrainOptions, config: ModelConfig) -> dict[str, RecipeValue]:
    """The options a run trained with, as the model card and the checkpoint keep them: the effective
    learning rate (the preset's when none was given), the schedule, the GAN's weight and warm-up, the
    eyes-and-mouth weight, sharpening, the seed and the augmentation. Paths, devices and display settings
    are left out: they say where it ran, not how the model was made."""
    recipe: dict[str, RecipeValue] = {
        "preset": options.preset,
        "batch": options.batch,
        "lr": options.lr if options.lr is not None else PRESET_LR[config.preset],
        "warmup_steps": options.warmup_steps,
        "schedule": options.schedule,
        "steps": options.steps,
        "minutes": options.minutes,
        "gan_weight": options.gan_weight,
        "gan_warmup_steps": options.gan_warmup_steps,
        "gan_loss": options.gan_loss,
        "eyes_mouth_weight": options.feature_weight,
        "sharpen": options.sharpen,
        "seed": options.seed,
    }
    recipe.update({f"augment_{name}": value for name, value in asdict(options.augment).items()})
    return recipe


def warp_until(options: TrainOptions) -> int | None:
    """The first step trained without the random warp (None: warped throughout)."""
    if options.sharpen <= 0 or options.steps is None:
        return None
    return round(options.steps * (1.0 - options.sharpen))


def train(
    options: TrainOptions,
    on_step: Callable[[StepInfo], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train (or, with ``options.resume``, continue) a swap model into ``options.model_dir``.

    Ctrl-C writes a checkpoint and the export, then re-raises ``KeyboardInterrupt``.
    """
    run = _Run(options)
    pin = run.device.type == "cuda"
    dataset = PairBatches(
        run.bank_a, run.bank_b, options.batch, options.seed, options.augment, warp_until(options)
    )
    batches = batch_loader(dataset, run.step, options.num_workers, pin)
    started = time.perf_counter()
    meter = _Meter(run.step)
    interrupted = False
    with _CtrlC() as ctrl_c:
        try:
            _loop(run, batches, meter, on_step, lambda: ctrl_c.requested or bool(stop and stop()), started)
            if meter.count:
                _log(run, meter, on_step, started)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            del batches
        interrupted = interrupted or ctrl_c.requested
    elapsed = run.elapsed_before_s + time.perf_counter() - started
    checkpoint, onnx = run.finish(elapsed, export=options.export_onnx)
    if interrupted:
        raise KeyboardInterrupt
    last = run.history[-1] if run.history else {}
    return TrainResult(
        model_dir=run.model_dir,
        steps=run.step,
        losses={k: float(v) for k, v in last.items() if k in LOSS_NAMES},
        elapsed_s=elapsed,
        it_per_s=meter.it_per_s,
        checkpoint=checkpoint,
        onnx=onnx,
        interrupted=interrupted,
        note="; ".join(note for note in (run.note, run.runner.compile_note) if note) or None,
    )


def export_from_checkpoint(model_dir: Path, source_dir: Path | None = None) -> Path:
    """Re-export MODEL_DIR's newest checkpoint (``facecraft export``); the source face comes from the
    source faceset the checkpoint names, or ``source_dir``."""
    loaded = load_checkpoint(model_dir)
    state = loaded.state
    model = SwapModel(loaded.config)
    model.load_state_dict(state["model"])
    source = Path(source_dir or str(state.get("source", "")))
    bank = load_face_bank(source, loaded.config.size, "source", minimum=1)
    target_path = Path(str(state.get("target", "")))
    try:
        target = load_face_bank(target_path, loaded.config.size, "target", minimum=1)
        target_summary = _summary(target)
    except FacesetError:
        target_summary = FacesetSummary(path=str(target_path), faces=0)
    history = list(state.get("history", []))
    last = history[-1] if history else {}
    architecture: dict[str, int | float | str] = dict(loaded.config.to_json())
    architecture["generator_params"] = count_params(model)
    card = ModelCard(
        size=loaded.config.size,
        face_type=loaded.config.face_type,
        steps=loaded.step,
        source=_summary(bank),
        target=target_summary,
        losses={k: float(v) for k, v in last.items() if k in LOSS_NAMES},
        architecture=architecture,
        training=dict(state.get("training", {})),
        training_seconds=round(float(state.get("elapsed_s", 0.0)), 1),
        device="cpu",
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return export_model(model, model_dir, card, pick_source_face(bank))
