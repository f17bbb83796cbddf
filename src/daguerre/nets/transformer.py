"""Johnson-style feed-forward image transformer for fast style transfer."""

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


@records_spec("transformer")
class TransformerNet(ImageGenerator):
    """Johnson et al. (2016): 9×9 stem, two stride-2 convs, residual blocks, resize-convs, 9×9 head.

    Widths are ``base_channels`` × (1, 2, 4); the defaults (32, five blocks) give 1.7 M
    parameters. Every convolution pads by reflection, and upsampling is nearest-neighbour
    resizing followed by a 3×3 convolution, which leaves no checkerboard pattern.

    The default ``norm="batch"`` is what makes the net tile-safe: at inference batch norm applies
    fixed running statistics, so the output at a pixel depends only on its neighbourhood and
    a big photo run in tiles matches the photo run whole. Instance norm, the usual choice since
    Ulyanov et al., normalises each *tile* by its own statistics: tiles then differ in contrast
    and the result changes with the tile size. ``"instance"`` remains available for whole-image
    use. Any H×W works (padded to a multiple of 4, cropped back); the sigmoid output is in [0, 1].
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        base_channels: int = 32,
        n_blocks: int = 5,
        norm: str = "batch",
        upsample: str = "nearest",
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            residual=False,
            out_activation="sigmoid",
            multiple=4,
            min_size=8,  # the 1/4-resolution maps stay at least 2 pixels wide for reflect padding
        )
        w0, w1, w2 = base_channels, 2 * base_channels, 4 * base_channels
        unit = {"norm": norm, "padding_mode": "reflect"}
        self.trunk = nn.Sequential(
            ConvNormAct(in_channels, w0, 9, act="relu", **unit),
            ConvNormAct(w0, w1, 3, stride=2, act="relu", **unit),
            ConvNormAct(w1, w2, 3, stride=2, act="relu", **unit),
            *(ResidualBlock(w2, norm=norm) for _ in range(n_blocks)),
            ResizeConv(w2, w1, mode=upsample, act="relu", **unit),
            ResizeConv(w1, w0, mode=upsample, act="relu", **unit),
        )
        self.head = nn.Conv2d(w0, out_channels, 9, padding=4, padding_mode="reflect")
        init_weights(self, "kaiming")

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))
