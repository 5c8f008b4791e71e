"""Training on tiny real facesets: the loss falls, resume is exact, Ctrl-C saves, bad inputs are refused."""

import csv
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
import typer
from torch._dynamo.exc import TorchDynamoException
from typer.testing import CliRunner

from facecraft.cli.train_cli import register
from facecraft.faceset.index import FacesetError, FacesetIndex, load_index, save_index
from facecraft.swap.trained.augment import AugmentSettings
from facecraft.swap.trained.checkpoint import CheckpointMismatchError, load_checkpoint
from facecraft.swap.trained.dataset import Batch, PairBatches, batch_loader, load_face_bank
from facecraft.swap.trained.nets import preset_config
from facecraft.swap.trained.trainer import (
    StepInfo,
    StepRunner,
    TrainError,
    TrainOptions,
    time_share,
    train,
    warp_until,
)
from unit.swap.trained.trained_options import tiny_options


def record(into: dict[int, dict[str, float]]) -> Callable[[StepInfo], None]:
    def on_step(info: StepInfo) -> None:
        into[info.step] = dict(info.losses)

    return on_step


def test_loss_falls_and_outputs_are_written(tiny_facesets: tuple[Path, Path], tmp_path: Path) -> None:
    losses: dict[int, dict[str, float]] = {}
    options = tiny_options(tiny_facesets, tmp_path / "model", 30, gan_warmup_steps=20, preview_every=15)
    result = train(options, on_step=record(losses))
    first = sum(losses[s]["loss_a"] + losses[s]["loss_b"] for s in range(1, 6))
    last = sum(losses[s]["loss_a"] + losses[s]["loss_b"] for s in range(26, 31))
    assert last < 0.7 * first
    assert losses[30]["d"] > 0 and losses[10]["d"] == 0  # the critic starts after the warm-up
    assert result.steps == 30 and result.onnx is not None and result.onnx.is_file()
    model_dir = tmp_path / "model"
    for name in ("card.json", "source_face.png", "history.csv", "history.png", "previews/latest.png"):
        assert (model_dir / name).is_file(), name
    assert (model_dir / "previews" / "preview_0000015.png").is_file()
    assert len((model_dir / "history.csv").read_text().splitlines()) == 31


def test_resume_matches_an_uninterrupted_run(tiny_facesets: tuple[Path, Path], tmp_path: Path) -> None:
    straight: dict[int, dict[str, float]] = {}
    train(tiny_options(tiny_facesets, tmp_path / "straight", 6), on_step=record(straight))
    resumed: dict[int, dict[str, float]] = {}
    train(tiny_options(tiny_facesets, tmp_path / "split", 3), on_step=record(resumed))
    train(tiny_options(tiny_facesets, tmp_path / "split", 6, resume=True), on_step=record(resumed))
    for step in (4, 5, 6):
        assert resumed[step] == straight[step], step


def test_ctrl_c_saves_a_checkpoint_and_exports(tiny_facesets: tuple[Path, Path], tmp_path: Path) -> None:
    def interrupt(info: StepInfo) -> None:
        if info.step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tiny_options(tiny_facesets, tmp_path / "m", 50), on_step=interrupt)
    assert load_checkpoint(tmp_path / "m").step == 3
    assert (tmp_path / "m" / "model.onnx").is_file()


def test_resume_at_another_size_is_refused(tiny_facesets: tuple[Path, Path], tmp_path: Path) -> None:
    train(tiny_options(tiny_facesets, tmp_path / "m", 1))
    with pytest.raises(CheckpointMismatchError, match="size 32 \\(asked for 48\\)"):
        train(tiny_options(tiny_facesets, tmp_path / "m", 2, size=48, resume=True))


def test_existing_model_needs_resume(tiny_facesets: tuple[Path, Path], tmp_path: Path) -> None:
    train(tiny_options(tiny_facesets, tmp_path / "m", 1))
    with pytest.raises(TrainError, match="--resume"):
        train(tiny_options(tiny_facesets, tmp_path / "m", 2))


def test_too_few_faces_is_refused(tiny_facesets: tuple[Path, Path], tmp_path: Path) -> None:
    index = load_index(tiny_facesets[0])
    small = tmp_path / "small"
    small.mkdir()
    save_index(small, FacesetIndex(index.size, index.face_type, index.inputs, index.entries[:5]))
    with pytest.raises(FacesetError, match="5 face"):
        train(tiny_options((small, tiny_facesets[1]), tmp_path / "m", 1))


def test_mixed_face_types_are_refused(tiny_facesets: tuple[Path, Path], tmp_path: Path) -> None:
    other = tmp_path / "head"
    shutil.copytree(tiny_facesets[1], other)
    index = load_index(other)
    save_index(other, FacesetIndex(index.size, "head", index.inputs, index.entries))
    with pytest.raises(FacesetError, match="same --face-type"):
        train(tiny_options((tiny_facesets[0], other), tmp_path / "m", 1))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_an_actionable_error(tiny_facesets: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(TrainError, match="--device cpu"):
        train(tiny_options(tiny_facesets, tmp_path / "m", 1, device="cuda"))
    app = typer.Typer()
    register(app)
    args = ["train", "--source", str(tiny_facesets[0]), "--target", str(tiny_facesets[1])]
    args += ["-o", str(tmp_path / "m"), "--steps", "1", "--device", "cuda", "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "no CUDA GPU" in result.output


def test_a_cosine_schedule_decays_to_a_tenth_over_steps_or_minutes(
    tiny_facesets: tuple[Path, Path], tmp_path: Path
) -> None:
    with pytest.raises(TrainError, match="--schedule"):
        TrainOptions(*tiny_facesets, tmp_path / "m", steps=4, schedule="linear")  # type: ignore[arg-type]
    train(tiny_options(tiny_facesets, tmp_path / "c", 30, schedule="cosine", warmup_steps=1))
    lrs = [float(row["lr"]) for row in csv.DictReader((tmp_path / "c" / "history.csv").open())]
    assert lrs[0] > 5 * lrs[-1] and lrs == sorted(lrs, reverse=True)

    # with --minutes the curve follows the clock too: whichever of steps and time runs out first
    timed = TrainOptions(*tiny_facesets, tmp_path / "t", minutes=10.0, schedule="cosine", warmup_steps=1)
    assert time_share(timed, 0.0, 0.0) == 0.0 and time_share(timed, 0.0, 300.0) == 0.5
    assert time_share(timed, 600.0, 0.0) == 0.5  # resumed after 10 minutes with 10 more
    assert time_share(replace(timed, minutes=None, steps=5), 0.0, 1e6) == 0.0
    runner = StepRunner(preset_config("tiny", 32, "face"), timed, torch.device("cpu"))
    factors = []
    for share in (0.0, 0.5, 1.0):
        runner.time_progress = share
        factors.append(runner._lr_factor(10))
    assert factors == pytest.approx([1.0, 0.55, 0.1])
    both = replace(timed, steps=100)
    runner = StepRunner(preset_config("tiny", 32, "face"), both, torch.device("cpu"))
    runner.time_progress = 0.1
    assert runner._lr_factor(50) == pytest.approx(0.55)  # the steps are further along
    # a run given minutes alone falls with the clock (a few seconds here)
    train(
        replace(tiny_options(tiny_facesets, tmp_path / "m", 1, schedule="cosine"), steps=None, minutes=0.04)
    )
    lrs = [float(row["lr"]) for row in csv.DictReader((tmp_path / "m" / "history.csv").open())]
    assert len(lrs) > 5 and lrs[-1] < 0.3 * max(lrs)


def test_progress_reports_the_share_of_time_spent_waiting_for_data(
    tiny_facesets: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow_loader(
        dataset: PairBatches, start_step: int, num_workers: int, pin_memory: bool
    ) -> Iterator[Batch]:
        for batch in batch_loader(dataset, start_step, num_workers, pin_memory):
            time.sleep(0.3)  # a starved model: each batch takes far longer than a tiny step
            yield batch

    with monkeypatch.context() as patch:
        patch.setattr("facecraft.swap.trained.trainer.batch_loader", slow_loader)
        starved: list[StepInfo] = []
        train(tiny_options(tiny_facesets, tmp_path / "starved", 4), on_step=starved.append)
    assert [info.step for info in starved] == [1, 2, 3, 4]
    assert all(0.5 < info.loader_wait_share < 1.0 for info in starved[1:])

    real_step = StepRunner.run_step

    def slow_step(self: StepRunner, batch: Batch, step: int) -> dict[str, torch.Tensor]:
        time.sleep(0.3)  # the model sets the pace: the loader has the next batch ready in time
        return real_step(self, batch, step)

    monkeypatch.setattr(StepRunner, "run_step", slow_step)
    fed: list[StepInfo] = []
    train(tiny_options(tiny_facesets, tmp_path / "fed", 4), on_step=fed.append)
    assert all(0.0 <= info.loader_wait_share < 0.5 for info in fed[1:])


def test_sharpen_ends_training_without_the_random_warp(
    tiny_facesets: tuple[Path, Path], tmp_path: Path
) -> None:
    with pytest.raises(TrainError, match="--steps"):
        TrainOptions(*tiny_facesets, tmp_path / "m", minutes=1.0, sharpen=0.25)
    with pytest.raises(TrainError, match="--sharpen"):
        TrainOptions(*tiny_facesets, tmp_path / "m", steps=8, sharpen=1.0)
    with pytest.raises(TrainError, match="--eyes-mouth-weight"):
        TrainOptions(*tiny_facesets, tmp_path / "m", steps=8, feature_weight=-1.0)
    options = tiny_options(tiny_facesets, tmp_path / "s", 8, sharpen=0.25)
    assert warp_until(options) == 6 and warp_until(replace(options, sharpen=0.0)) is None

    run = train(options)
    assert run.steps == 8
    bank_a = load_face_bank(tiny_facesets[0], 32, "source")
    bank_b = load_face_bank(tiny_facesets[1], 32, "target")
    batches = PairBatches(bank_a, bank_b, 4, 0, AugmentSettings(), warp_until=6)
    for step in (0, 5):
        warped = batches[step]
        assert not torch.equal(warped["input_a"], warped["target_a"])
        assert not torch.equal(warped["input_b"], warped["target_b"])
    for step in (6, 7, 100):
        clean = batches[step]
        assert torch.equal(clean["input_a"], clean["target_a"])
        assert torch.equal(clean["input_b"], clean["target_b"])
    # the phase is a function of the step alone: a resumed run sees the same batches
    again = PairBatches(bank_a, bank_b, 4, 0, AugmentSettings(), warp_until=6)
    assert torch.equal(again[7]["input_a"], batches[7]["input_a"])


def random_batch(size: int = 64, n: int = 2) -> Batch:
    """A uint8 batch of noise with every key a step reads."""
    gen = torch.Generator().manual_seed(0)
    return {
        f"{kind}_{side}": torch.randint(0, 256, (n, channels, size, size), generator=gen, dtype=torch.uint8)
        for side in "ab"
        for kind, channels in (("input", 3), ("target", 3), ("mask", 1), ("features", 1))
    }


def test_an_unknown_compile_mode_is_refused(tiny_facesets: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(TrainError, match="cudagraphs"):
        TrainOptions(*tiny_facesets, tmp_path / "m", steps=4, compile_mode="fast")  # type: ignore[arg-type]


def test_the_generator_pass_leaves_the_critic_untouched(tmp_path: Path) -> None:
    """With the GAN on, the generator's gradient flows through the critic to the image only: no critic
    weight gets a gradient (the weight gradients there would be computed and then thrown away)."""
    options = TrainOptions(tmp_path, tmp_path, tmp_path / "m", size=64, preset="tiny", steps=4, batch=2)
    runner = StepRunner(preset_config("tiny", 64, "face"), options, torch.device("cpu"))
    data = random_batch()
    total, losses, fake = runner._generator_pass(data, gan_on=True)
    total.backward()  # type: ignore[no-untyped-call]
    assert float(losses["g_adv"]) > 0 and not fake.requires_grad
    assert all(param.grad is None for param in runner.disc.parameters())
    assert all(param.grad is not None for param in runner.model.decoder_a.parameters())
    critic = runner._critic_pass(data["target_a"], fake, data["mask_a"])
    critic.backward()  # type: ignore[no-untyped-call]
    assert all(param.grad is not None for param in runner.disc.parameters())


def _tiny_runner(tmp_path: Path, gan_warmup_steps: int = 0) -> StepRunner:
    options = TrainOptions(
        tmp_path,
        tmp_path,
        tmp_path / "m",
        size=64,
        preset="tiny",
        steps=4,
        batch=2,
        gan_warmup_steps=gan_warmup_steps,
    )
    torch.manual_seed(0)
    return StepRunner(preset_config("tiny", 64, "face"), options, torch.device("cpu"))


class _BackwardFails(torch.autograd.Function):
    """Identity forward; the backward raises, as a backward graph compiled late and failing does."""

    @staticmethod
    def forward(ctx: Any, value: torch.Tensor) -> torch.Tensor:
        return value.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("backward compile: no C++ compiler")


@pytest.mark.parametrize("where", ["generator forward", "generator backward", "critic forward"])
def test_a_step_torch_compile_cannot_build_runs_uncompiled_and_says_so(tmp_path: Path, where: str) -> None:
    runner = _tiny_runner(tmp_path)
    reference = _tiny_runner(tmp_path).run_step(random_batch(), 0)
    calls: list[str] = []

    def broken_generator(data: dict[str, torch.Tensor], gan_on: bool) -> object:
        calls.append(where)
        if where == "generator forward":
            raise TorchDynamoException("inductor: no C++ compiler")
        total, losses, fake = runner._generator_pass(data, gan_on)
        return _BackwardFails.apply(total), losses, fake  # type: ignore[no-untyped-call]

    def broken_critic(*args: torch.Tensor) -> torch.Tensor:
        calls.append(where)
        raise TorchDynamoException("inductor: no C++ compiler")

    runner._compiled = True
    if where.startswith("generator"):
        runner._generator_fn = broken_generator  # type: ignore[assignment]
    else:
        runner._critic_fn = broken_critic  # type: ignore[assignment]
    first = runner.run_step(random_batch(), 0)
    runner.run_step(random_batch(), 1)
    assert calls == [where]  # tried once, uncompiled from then on
    assert runner.compile_note is not None and "--no-compile" in runner.compile_note
    for name in ("loss_a", "loss_b", "g_adv", "d"):  # the retried step is the step an eager runner takes
        assert float(first[name]) == pytest.approx(float(reference[name]), rel=1e-5), name


def test_the_compiled_step_gives_the_eager_losses(tmp_path: Path) -> None:
    """torch.compile's graphs (aot_eager here: no C++ toolchain needed) against the plain passes, through
    the GAN switching on."""
    eager, compiled = _tiny_runner(tmp_path, 1), _tiny_runner(tmp_path, 1)
    compiled.compile("step", backend="aot_eager")
    for step in range(3):
        want, got = eager.run_step(random_batch(), step), compiled.run_step(random_batch(), step)
        for name, value in want.items():
            assert float(got[name]) == pytest.approx(float(value), rel=1e-4, abs=1e-6), (step, name)
    assert compiled.compile_note is None
