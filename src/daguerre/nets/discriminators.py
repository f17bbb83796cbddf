"""PatchGAN discriminators: single scale and multi-scale (pix2pixHD style)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as apply_spectral_norm

from daguerre.nets.blocks import ConvNormAct, init_weights, pad_to_multiple
from daguerre.nets.spec import records_spec


@records_spec("patch")
class PatchDiscriminator(nn.Module):
    """pix2pix PatchGAN: 4×4 convs, ``n_layers`` stride-2 steps, one logit per patch.

    With the default ``n_layers=3`` each logit sees a 70×70 patch. Widths double per
    layer from ``base_channels`` up to 8×. The first layer has no norm, the last no
    norm and no activation. ``spectral_norm`` wraps every convolution. Inputs smaller
    than ``3 * 2**n_layers`` on a side are padded up to it, so any size gives at
    least a 1×1 logit map.
    """

    def __init__(
        self,
        in_channels: int = 3,
        base_channels: int = 64,
        n_layers: int = 3,
        norm: str = "instance",
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be at least 1, got {n_layers}")
        self.min_size = 3 * 2**n_layers
        widths = [in_channels] + [base_channels * min(2**i, 8) for i in range(n_layers + 1)]
        blocks = [ConvNormAct(widths[0], widths[1], 4, stride=2, norm="none", act="leaky")]
        blocks += [
            ConvNormAct(widths[i], widths[i + 1], 4, stride=2, norm=norm, act="leaky")
            for i in range(1, n_layers)
        ]
        blocks += [
            ConvNormAct(widths[-2], widths[-1], 4, norm=norm, act="leaky"),
            ConvNormAct(widths[-1], 1, 4, norm="none", act="none"),
        ]
        self.blocks = nn.ModuleList(blocks)
        init_weights(self, "normal")
        if spectral_norm:
            for module in self.modules():
                if isinstance(module, nn.Conv2d):
                    apply_spectral_norm(module)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activations after every block; the last entry is the logit map."""
        x, _ = pad_to_multiple(x, 1, self.min_size)
        feats = []
        for block in self.blocks:
            x = block(x)
            feats.append(x)
        return feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)[-1]


@records_spec("multiscale")
class MultiScaleDiscriminator(nn.Module):
    """``num_scales`` PatchDiscriminators of the same architecture (separate weights).

    Scale ``k`` sees the input average-pooled ``k`` times by a factor of two, so the
    coarse discriminators judge global structure and the fine one texture. The other
    arguments are every :class:`PatchDiscriminator`'s.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_scales: int = 3,
        base_channels: int = 64,
        n_layers: int = 3,
        norm: str = "instance",
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        if num_scales < 1:
            raise ValueError(f"num_scales must be at least 1, got {num_scales}")
        self.scales = nn.ModuleList(
            PatchDiscriminator(in_channels, base_channels, n_layers, norm, spectral_norm)
            for _ in range(num_scales)
        )

    @staticmethod
    def _downsample(x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)

    def features(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        """Per scale (finest first), the activations of that scale's discriminator."""
        feats = []
        for index, disc in enumerate(self.scales):
            if index:
                x = self._downsample(x)
            feats.append(disc.features(x))
        return feats

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [scale_feats[-1] for scale_feats in self.features(x)]
