"""A small regression network for five facial landmarks (eyes, nose tip, mouth corners).

It sees a square crop around a face (any size: the input is resized to ``size``² and each
image standardised to zero mean and unit variance, so brightness and contrast do not matter)
and returns the points as N×``points``×2 (x, y) in units of the crop's width and height, 0 at
the left/top edge and 1 at the right/bottom edge.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from daguerre.nets.blocks import ConvNormAct, init_weights
from daguerre.nets.spec import records_spec


@records_spec("landmarks")
class LandmarkNet(nn.Module):
    """Convolutional stages halving the size ``depth`` times, then two linear layers.

    Widths double from ``base_channels`` up to ``max_channels``. The output starts at the
    crop's centre (the last layer is zero-initialised) and moves from there.
    """

    def __init__(
        self,
        in_channels: int = 1,
        size: int = 64,
        base_channels: int = 16,
        depth: int = 4,
        max_channels: int = 128,
        hidden: int = 128,
        points: int = 5,
    ) -> None:
        super().__init__()
        if size % 2**depth:
            raise ValueError(f"size {size} must be a multiple of 2**depth = {2**depth}")
        self.in_channels = in_channels
        self.size = size
        self.points = points
        width = base_channels
        layers: list[nn.Module] = [ConvNormAct(in_channels, width, norm="none", act="relu")]
        for _ in range(depth):
            wider = min(width * 2, max_channels)
            layers += [
                ConvNormAct(width, wider, stride=2, norm="group", act="relu"),
                ConvNormAct(wider, wider, norm="group", act="relu"),
            ]
            width = wider
        self.features = nn.Sequential(*layers)
        side = size // 2**depth
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(width * side * side, hidden), nn.ReLU(inplace=True)
        )
        self.out = nn.Linear(hidden, 2 * points)
        init_weights(self)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.in_channels:
            raise ValueError(f"expected {self.in_channels} input channels, got {x.shape[1]}")
        if x.shape[-2:] != (self.size, self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", antialias=True)
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        std = x.std(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) / (std + 1e-3)
        offsets = self.out(self.head(self.features(x)))
        return 0.5 + offsets.view(-1, self.points, 2)
