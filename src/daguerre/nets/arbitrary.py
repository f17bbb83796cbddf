"""Arbitrary style by statistics transfer (Huang & Belongie 2017) in a feature space of our own.

:class:`AdaINNet` is a small convolutional encoder down to 1/4 resolution and a mirrored decoder,
trained by us (no pretrained network exists here): first as an autoencoder, then the decoder
alone learns to draw pictures from *transferred* features, whose per-channel mean and standard
deviation (:class:`FeatureStats`) are the painting's. Every layer is a 3×3 convolution, so the
network is local: given the statistics, any image can be run in tiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from daguerre.nets.blocks import crop_padding, init_weights, pad_to_multiple
from daguerre.nets.spec import records_spec

EPS = 1e-5  # added to variances: a flat channel is not amplified into noise


@dataclass(frozen=True)
class FeatureStats:
    """Per-channel mean and standard deviation of features, each N×C (one row per image)."""

    mean: torch.Tensor
    std: torch.Tensor

    @classmethod
    def of(cls, features: torch.Tensor) -> FeatureStats:
        """The statistics of N×C×H×W ``features`` over their positions."""
        flat = features.flatten(2)
        return cls(flat.mean(dim=2), (flat.var(dim=2, unbiased=False) + EPS).sqrt())


def adain(features: torch.Tensor, content: FeatureStats, style: FeatureStats) -> torch.Tensor:
    """Features normalised by ``content``'s statistics and given ``style``'s (rows broadcast)."""
    normalized = (features - content.mean[..., None, None]) / content.std[..., None, None]
    return normalized * style.std[..., None, None] + style.mean[..., None, None]


def _conv(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride, 1, padding_mode="reflect")


class _Stage(nn.Sequential):
    """Two 3×3 convolutions, each followed by ReLU (the first may stride by 2)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__(
            _conv(in_channels, out_channels, stride),
            nn.ReLU(inplace=True),
            _conv(out_channels, out_channels),
            nn.ReLU(inplace=True),
        )


@records_spec("adain")
class AdaINNet(nn.Module):
    """Encoder (``widths`` channels at 1, 1/2, 1/4 … resolution) and mirrored decoder.

    :meth:`encode` returns every stage's features (finest first; the last is the code that
    statistics transfer works on), :meth:`decode` turns a code back into an image in [0, 1]
    (sigmoid), and calling the network is the plain autoencoder. Inputs are padded to a multiple
    of ``2 ** (len(widths) - 1)`` by reflection and the output cropped back.
    """

    def __init__(self, in_channels: int = 3, widths: Sequence[int] = (16, 32, 64)) -> None:
        super().__init__()
        widths = list(widths)
        if not widths:
            raise ValueError("AdaINNet needs at least one width")
        self.in_channels = in_channels
        self.multiple = 2 ** (len(widths) - 1)
        self.min_size = 2 * self.multiple  # every reflect padding needs 2 pixels
        channels = [in_channels, *widths]
        self.encoder = nn.ModuleList(
            _Stage(channels[i], channels[i + 1], 1 if i == 0 else 2) for i in range(len(widths))
        )
        layers: list[nn.Module] = []
        for i in reversed(range(1, len(widths))):
            layers += [_conv(widths[i], widths[i - 1]), nn.ReLU(inplace=True)]
            layers += [nn.Upsample(scale_factor=2, mode="nearest")]
            layers += [_conv(widths[i - 1], widths[i - 1]), nn.ReLU(inplace=True)]
        layers.append(_conv(widths[0], in_channels))
        self.decoder = nn.Sequential(*layers)
        init_weights(self, "kaiming")

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Features of every encoder stage for N×C×H×W ``x`` (sides a multiple of
        :attr:`multiple`), finest first."""
        features = []
        x = x - 0.5
        for stage in self.encoder:
            x = stage(x)
            features.append(x)
        return features

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        """The image in [0, 1] that the last encoder stage's ``code`` stands for."""
        return torch.sigmoid(self.decoder(code))

    def statistics(self, image: torch.Tensor) -> FeatureStats:
        """The statistics of the code of N×C×H×W ``image`` (any size: padded by reflection)."""
        padded, _ = pad_to_multiple(image, self.multiple, self.min_size)
        return FeatureStats.of(self.encode(padded)[-1])

    @staticmethod
    def move(
        code: torch.Tensor, content: FeatureStats, style: FeatureStats, alpha: float = 1.0
    ) -> torch.Tensor:
        """``code`` with ``style``'s statistics in place of ``content``'s, a fraction ``alpha``
        of the way (0: unchanged)."""
        moved = adain(code, content, style)
        return moved if alpha == 1.0 else torch.lerp(code, moved, alpha)

    def stylize(
        self,
        x: torch.Tensor,
        content: FeatureStats,
        style: FeatureStats,
        alpha: float = 1.0,
    ) -> torch.Tensor:
        """``x`` drawn again from its code with ``style``'s statistics in place of ``content``'s.

        ``alpha`` in [0, 1] moves the code only part of the way (0: the autoencoder's output).
        Local: any piece of a picture gives the same pixels as the whole, given the statistics.
        """
        padded, pads = pad_to_multiple(x, self.multiple, self.min_size)
        code = self.encode(padded)[-1]
        return crop_padding(self.decode(self.move(code, content, style, alpha)), pads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded, pads = pad_to_multiple(x, self.multiple, self.min_size)
        return crop_padding(self.decode(self.encode(padded)[-1]), pads)


@records_spec("adain-learned")
class LearnedAdaINNet(AdaINNet):
    """An :class:`AdaINNet` whose decoder was adapted to one painting (``daguerre style learn``);
    it carries that painting's code statistics (:attr:`style`, buffers of 1×``widths[-1]``)."""

    def __init__(self, in_channels: int = 3, widths: Sequence[int] = (16, 32, 64)) -> None:
        super().__init__(in_channels, widths)
        self.register_buffer("style_mean", torch.zeros(1, list(widths)[-1]))
        self.register_buffer("style_std", torch.ones(1, list(widths)[-1]))

    @property
    def style(self) -> FeatureStats:
        """The painting's code statistics."""
        return FeatureStats(self.style_mean, self.style_std)

    def set_style(self, style: FeatureStats) -> None:
        """Carry ``style`` (one row) from now on."""
        self.style_mean.copy_(style.mean.reshape(self.style_mean.shape))
        self.style_std.copy_(style.std.reshape(self.style_std.shape))


__all__ = ["AdaINNet", "FeatureStats", "LearnedAdaINNet", "adain"]
