"""CycleGAN-style ResNet generator with resize-convolution upsampling."""

from __future__ import annotations

import torch
from torch import nn

from daguerre.nets.blocks import (
    ConvNormAct,
    ImageGenerator,
    ResidualBlock,
    ResizeConv,
    init_weights,
)
from daguerre.nets.spec import records_spec


@records_spec("resnet")
class ResnetGenerator(ImageGenerator):
    """Reflect-padded 7×7 stem, strided downsampling, residual blocks, resize-conv upsampling.

    Widths double at each of the ``n_downsampling`` steps. The 7×7 ``head`` uses
    reflect padding like the stem. Any H×W works: the input is padded to a multiple
    of ``2**n_downsampling`` (and to a size where every reflect padding is valid),
    then cropped back. ``out_activation`` applies to the network's own output (the
    delta when ``residual``).
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        base_channels: int = 64,
        n_blocks: int = 9,
        n_downsampling: int = 2,
        norm: str = "instance",
        residual: bool = False,
        out_activation: str = "none",
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            residual=residual,
            out_activation=out_activation,
            multiple=2**n_downsampling,
            min_size=max(4, 2 ** (n_downsampling + 1)),
        )
        widths = [base_channels * 2**i for i in range(n_downsampling + 1)]
        layers: list[nn.Module] = [
            ConvNormAct(in_channels, widths[0], 7, norm=norm, act="relu", padding_mode="reflect")
        ]
        layers += [
            ConvNormAct(widths[i], widths[i + 1], stride=2, norm=norm, act="relu")
            for i in range(n_downsampling)
        ]
        layers += [ResidualBlock(widths[-1], norm=norm) for _ in range(n_blocks)]
        layers += [
            ResizeConv(widths[i + 1], widths[i], norm=norm, act="relu")
            for i in reversed(range(n_downsampling))
        ]
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Conv2d(widths[0], out_channels, 7, padding=3, padding_mode="reflect")
        init_weights(self, "kaiming")
        self.zero_head(self.head)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))
