"""A compact super-resolution generator (after Real-ESRGAN's SRVGGNetCompact), sized for the CPU."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from daguerre.nets.blocks import init_weights
from daguerre.nets.spec import records_spec

UPSAMPLE_MODES = ("nearest", "bilinear", "bicubic")


@records_spec("compact_sr")
class CompactUpscaler(nn.Module):
    """A plain stack of 3×3 convolutions at the input's resolution, then pixel shuffle.

    ``n_convs`` convolutions of ``channels`` feature maps (a first one from the image, then
    ``n_convs - 1`` more), each followed by a PReLU (one slope per channel) or a LeakyReLU; a
    last 3×3 convolution gives ``out_channels · scale²`` maps that pixel shuffle arranges into a
    ``scale``× larger image; the network adds that to the input enlarged by ``upsample``
    (a global residual: it learns only the detail interpolation misses). The last convolution
    starts at zero, so a fresh network is plain interpolation. Any H×W works (zero padding, no
    down-sampling); the receptive-field radius is ``n_convs + 1`` input pixels.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        scale: int = 4,
        channels: int = 48,
        n_convs: int = 12,
        act: str = "prelu",
        upsample: str = "bilinear",
    ) -> None:
        super().__init__()
        if scale < 1 or n_convs < 1:
            raise ValueError(f"need scale >= 1 and n_convs >= 1, got {scale} and {n_convs}")
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f"unknown upsample {upsample!r}; expected one of {UPSAMPLE_MODES}")
        if act not in ("prelu", "leaky"):
            raise ValueError(f"unknown act {act!r}; expected prelu or leaky")
        if out_channels > in_channels:
            raise ValueError(
                f"the residual needs out_channels ({out_channels}) <= in_channels ({in_channels})"
            )
        self.scale = scale
        self.out_channels = out_channels
        self.upsample = upsample
        layers: list[nn.Module] = []
        for index in range(n_convs):
            layers.append(nn.Conv2d(in_channels if index == 0 else channels, channels, 3, 1, 1))
            layers.append(nn.PReLU(channels) if act == "prelu" else nn.LeakyReLU(0.2, inplace=True))
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(channels, out_channels * scale * scale, 3, 1, 1)
        self.shuffle = nn.PixelShuffle(scale)
        init_weights(self, "kaiming")
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def enlarge(self, x: torch.Tensor) -> torch.Tensor:
        """The input's first ``out_channels`` enlarged by interpolation (the residual's base)."""
        x = x[:, : self.out_channels]
        if self.scale == 1:
            return x
        align = None if self.upsample == "nearest" else False
        return F.interpolate(x, scale_factor=self.scale, mode=self.upsample, align_corners=align)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.enlarge(x) + self.shuffle(self.head(self.body(x)))
