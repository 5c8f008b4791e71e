"""The trained swapper's networks: the DF design (shared encoder and inter, one decoder per identity).

Encoder: four strided 5 x 5 convolutions (channels e, 2e, 4e, 8e). Inter: a dense bottleneck, a dense
layer back to a (size / 16)^2 grid, one pixel-shuffle upscale. Decoder: three pixel-shuffle upscales with
residual blocks and an RGB head, beside a thinner mask branch; both heads end in a sigmoid. The critic is
a PatchGAN. ``SwapModel`` holds the encoder, the inter and decoder A (source) and B (target); the swap is
B face -> encoder -> inter -> decoder A.
"""

from dataclasses import asdict, dataclass, replace
from typing import Literal, get_args

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from facecraft.faceset.crop import FaceType

Preset = Literal["tiny", "cpu", "df"]
PRESETS: tuple[str, ...] = get_args(Preset)

MIN_SIZE_PX = 32
MAX_SIZE_PX = 256
SIZE_STEP_PX = 16
"""Sizes must be multiples of 16: four stride-2 downs reach a whole grid."""

_LEAK = 0.1


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """The shape of a swap model.

    size: crop side in pixels; encoder_ch: channels of the first down (doubling three times);
    bottleneck: the dense code's width; inter_ch: channels of the inter's output grid;
    decoder_ch: the decoder's base width (stages 8x, 4x, 2x of it); mask_ch: the mask branch's base width;
    res_blocks: residual blocks after each decoder upscale; disc_ch: the PatchGAN's first width.
    """

    size: int
    face_type: FaceType
    preset: str
    encoder_ch: int
    bottleneck: int
    inter_ch: int
    decoder_ch: int
    mask_ch: int
    res_blocks: int
    disc_ch: int

    def __post_init__(self) -> None:
        if not MIN_SIZE_PX <= self.size <= MAX_SIZE_PX or self.size % SIZE_STEP_PX:
            raise ValueError(
                f"model size must be a multiple of {SIZE_STEP_PX} in [{MIN_SIZE_PX}, {MAX_SIZE_PX}], "
                f"got {self.size}"
            )
        widths = (
            self.encoder_ch,
            self.bottleneck,
            self.inter_ch,
            self.decoder_ch,
            self.mask_ch,
            self.disc_ch,
        )
        if min(widths) < 1 or self.res_blocks < 0:
            raise ValueError(f"model widths must be positive and res_blocks >= 0, got {self}")

    @property
    def grid(self) -> int:
        """Side of the encoder's output grid (and the inter's dense grid)."""
        return self.size // SIZE_STEP_PX

    def to_json(self) -> dict[str, int | str]:
        return dict(asdict(self))


_PRESET_SHAPES: dict[str, dict[str, int]] = {
    "tiny": {
        "encoder_ch": 8,
        "bottleneck": 32,
        "inter_ch": 32,
        "decoder_ch": 8,
        "mask_ch": 4,
        "res_blocks": 0,
        "disc_ch": 8,
    },
    "cpu": {
        "encoder_ch": 32,
        "bottleneck": 128,
        "inter_ch": 64,
        "decoder_ch": 8,
        "mask_ch": 4,
        "res_blocks": 0,
        "disc_ch": 16,
    },
    "df": {
        "encoder_ch": 64,
        "bottleneck": 256,
        "inter_ch": 256,
        "decoder_ch": 64,
        "mask_ch": 22,
        "res_blocks": 1,
        "disc_ch": 64,
    },
}


PRESET_LR: dict[str, float] = {"tiny": 5e-4, "cpu": 3e-4, "df": 5e-5}
"""Default learning rates: small models for short runs take bigger steps; the DF class uses DFL's."""


def parse_preset(name: str) -> Preset:
    for choice in get_args(Preset):
        if choice == name:
            return choice  # type: ignore[no-any-return]
    raise ValueError(f"unknown model preset '{name}'; choose one of {', '.join(PRESETS)}")


def preset_config(preset: str, size: int, face_type: FaceType) -> ModelConfig:
    """A preset's shape at ``size`` px for ``face_type`` crops."""
    shape = _PRESET_SHAPES[parse_preset(preset)]
    return ModelConfig(size=size, face_type=face_type, preset=preset, **shape)


def config_from_json(data: dict[str, object]) -> ModelConfig:
    """The inverse of ``ModelConfig.to_json`` (a checkpoint's record)."""
    base = preset_config(str(data["preset"]), int(str(data["size"])), data["face_type"])  # type: ignore[arg-type]
    ints = {name: int(str(data[name])) for name in _PRESET_SHAPES["tiny"] if name in data}
    return replace(base, **ints)  # type: ignore[arg-type]


# --- blocks --------------------------------------------------------------------------------------


class Down(nn.Module):
    """5 x 5 convolution, stride 2, leaky ReLU."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 5, stride=2, padding=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.conv(x), _LEAK)


class Up(nn.Module):
    """3 x 3 convolution to 4x the channels, leaky ReLU, pixel shuffle: twice the side."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch * 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(F.leaky_relu(self.conv(x), _LEAK), 2)


class ResidualBlock(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.leaky_relu(self.conv1(x), 0.2))
        return F.leaky_relu(x + y, 0.2)


# --- the generator ---------------------------------------------------------------------------------


class Encoder(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        e = config.encoder_ch
        self.downs = nn.Sequential(Down(3, e), Down(e, e * 2), Down(e * 2, e * 4), Down(e * 4, e * 8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.downs(x)
        return torch.flatten(out, 1)


class Inter(nn.Module):
    """Dense bottleneck, dense back to a grid, one upscale: (N, 8e * g * g) -> (N, inter_ch, 2g, 2g)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        g = config.grid
        self.grid = g
        self.inter_ch = config.inter_ch
        self.dense1 = nn.Linear(config.encoder_ch * 8 * g * g, config.bottleneck)
        self.dense2 = nn.Linear(config.bottleneck, g * g * config.inter_ch)
        self.up = Up(config.inter_ch, config.inter_ch)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        x = self.dense2(self.dense1(code))
        out: torch.Tensor = self.up(x.view(-1, self.inter_ch, self.grid, self.grid))
        return out


class Decoder(nn.Module):
    """(N, inter_ch, 2g, 2g) -> face (N, 3, S, S) and mask (N, 1, S, S), both in [0, 1]."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d, m, blocks = config.decoder_ch, config.mask_ch, config.res_blocks
        widths = (d * 8, d * 4, d * 2)
        stages: list[nn.Module] = []
        in_ch = config.inter_ch
        for width in widths:
            stages.append(Up(in_ch, width))
            stages.extend(ResidualBlock(width) for _ in range(blocks))
            in_ch = width
        self.face = nn.Sequential(*stages)
        self.face_out = nn.Conv2d(in_ch, 3, 5, padding=2)
        self.mask = nn.Sequential(Up(config.inter_ch, m * 8), Up(m * 8, m * 4), Up(m * 4, m * 2))
        self.mask_out = nn.Conv2d(m * 2, 1, 5, padding=2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        face = torch.sigmoid(self.face_out(self.face(x)))
        mask = torch.sigmoid(self.mask_out(self.mask(x)))
        return face, mask


class SwapModel(nn.Module):
    """Shared encoder and inter; decoder A makes the source person, decoder B the target footage's."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.inter = Inter(config)
        self.decoder_a = Decoder(config)
        self.decoder_b = Decoder(config)

    def latent(self, faces: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.inter(self.encoder(faces))
        return out


class SwapPath(nn.Module):
    """B -> A: a target-footage face (N, 3, S, S RGB [0, 1]) rendered as the source person, with its mask."""

    def __init__(self, model: SwapModel) -> None:
        super().__init__()
        self.encoder = model.encoder
        self.inter = model.inter
        self.decoder = model.decoder_a

    def forward(self, face: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out: tuple[torch.Tensor, torch.Tensor] = self.decoder(self.inter(self.encoder(face)))
        return out


def swap_module(model: SwapModel) -> nn.Module:
    """The inference path that is exported: target face -> (source-person face, mask)."""
    return SwapPath(model)


# --- the critic ------------------------------------------------------------------------------------


class PatchDiscriminator(nn.Module):
    """PatchGAN: 4 x 4 convolutions (three stride 2, one stride 1) to a grid of real/fake logits.

    No batch statistics (no normalisation layers): each sample's logits depend on that sample alone, which
    the trainer relies on when it scores real and fake faces in one batch."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c = config.disc_ch
        self.net = nn.Sequential(
            nn.Conv2d(3, c, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(c, c * 2, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(c * 2, c * 4, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(c * 4, c * 8, 4, stride=1, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(c * 8, 1, 4, stride=1, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x)
        return out


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
