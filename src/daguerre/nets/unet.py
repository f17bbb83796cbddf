"""U-Net generator sized for CPU training and inference."""

from __future__ import annotations

import torch
from torch import nn

from daguerre.nets.blocks import ConvNormAct, ImageGenerator, init_weights
from daguerre.nets.spec import records_spec


@records_spec("unet")
class UNet(ImageGenerator):
    """Encoder–decoder with skip connections.

    Encoder: a 3×3 stem, then ``depth`` levels of (strided 3×3 conv, 3×3 conv); the
    width doubles per level from ``base_channels`` up to ``max_channels``. Decoder:
    per level a 1×1 conv narrows the coarse features at low resolution, a
    nearest-neighbour upsample brings them to the skip's size, and a 3×3 conv fuses
    the concatenation (a resize-convolution, so no checkerboard artefacts). A 1×1
    ``head`` maps to ``out_channels``.

    Any H×W works: the input is padded to a multiple of ``2**depth`` (and to at least
    ``2**(depth+1)`` so the bottleneck is 2×2 or larger), then cropped back.
    ``out_activation`` applies to the network's own output (the delta when
    ``residual``).
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        base_channels: int = 32,
        depth: int = 4,
        norm: str = "instance",
        residual: bool = False,
        out_activation: str = "none",
        max_channels: int = 256,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            residual=residual,
            out_activation=out_activation,
            multiple=2**depth,
            min_size=2 ** (depth + 1),
        )
        widths = [min(base_channels * 2**level, max_channels) for level in range(depth + 1)]
        conv = {"norm": norm, "act": "leaky", "padding_mode": "reflect"}
        self.stem = ConvNormAct(in_channels, widths[0], **conv)
        self.down = nn.ModuleList(
            nn.Sequential(
                ConvNormAct(widths[i], widths[i + 1], stride=2, **conv),
                ConvNormAct(widths[i + 1], widths[i + 1], **conv),
            )
            for i in range(depth)
        )
        self.narrow = nn.ModuleList(
            nn.Conv2d(widths[i + 1], widths[i], 1, bias=False) for i in range(depth)
        )
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.fuse = nn.ModuleList(
            ConvNormAct(2 * widths[i], widths[i], **conv) for i in range(depth)
        )
        self.head = nn.Conv2d(widths[0], out_channels, 1)
        init_weights(self, "kaiming")
        self.zero_head(self.head)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.stem(x)]
        for down in self.down:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for level in reversed(range(len(self.down))):
            y = self.upsample(self.narrow[level](y))
            y = self.fuse[level](torch.cat([y, skips[level]], dim=1))
        return self.head(y)
