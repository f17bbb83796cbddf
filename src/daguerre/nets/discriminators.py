"""Discriminators: PatchGAN single and multi-scale (pix2pixHD style), and a per-pixel U-Net."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as apply_spectral_norm

from daguerre.nets.blocks import ConvNormAct, crop_padding, init_weights, pad_to_multiple
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


class _BlurDown(nn.Module):
    """Anti-aliased halving: a fixed binomial [1, 2, 1]² low-pass, then a strided 3×3 conv."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        kernel = (taps[:, None] * taps[None, :]) / 16.0
        self.register_buffer("kernel", kernel.expand(in_channels, 1, 3, 3).clone())
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), self.kernel, groups=x.shape[1])
        return F.leaky_relu(self.conv(x), 0.2)


@records_spec("unet_judge")
class UNetDiscriminator(nn.Module):
    """A U-Net discriminator that scores every pixel (Schönfeld et al. 2020; Real-ESRGAN's).

    ``depth`` anti-aliased halvings (:class:`_BlurDown`: blur before the stride, so the
    gradients it sends the generator carry no grid of the stride's period) widen from
    ``base_channels``; bilinear doublings with skip connections bring the features back to
    full size, and two 3×3 convolutions end in one logit per pixel. Spectral norm wraps every
    convolution but the first when ``spectral_norm``. With ``unshuffle`` > 1 the picture is
    first cut into its ``unshuffle``² pixel phases (space to depth), so the very first
    convolution compares neighbouring sub-pixels — where an upscaler's pixel shuffle prints its
    pattern — and the network runs at 1/``unshuffle`` of the size; its logits are then
    repeated back to every pixel. Sides that are not multiples of ``unshuffle · 2**depth`` are
    padded up to one.
    """

    def __init__(
        self,
        in_channels: int = 3,
        base_channels: int = 64,
        depth: int = 3,
        spectral_norm: bool = True,
        unshuffle: int = 1,
    ) -> None:
        super().__init__()
        if depth < 1 or unshuffle < 1:
            raise ValueError(f"need depth >= 1 and unshuffle >= 1, got {depth} and {unshuffle}")
        self.unshuffle = unshuffle
        self.multiple = unshuffle * 2**depth
        widths = [base_channels * 2**i for i in range(depth + 1)]
        self.stem = nn.Conv2d(in_channels * unshuffle**2, base_channels, 3, padding=1)
        self.downs = nn.ModuleList(_BlurDown(widths[i], widths[i + 1]) for i in range(depth))
        self.ups = nn.ModuleList(
            nn.Conv2d(widths[i + 1], widths[i], 3, padding=1, bias=False)
            for i in reversed(range(depth))
        )
        self.head = nn.ModuleList(
            [
                nn.Conv2d(base_channels, base_channels, 3, padding=1, bias=False),
                nn.Conv2d(base_channels, base_channels, 3, padding=1, bias=False),
                nn.Conv2d(base_channels, 1, 3, padding=1),
            ]
        )
        init_weights(self, "kaiming")
        if spectral_norm:
            for module in self.modules():
                if isinstance(module, nn.Conv2d) and module is not self.stem:
                    apply_spectral_norm(module)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activations of every level, coarse to fine; the last entry is the logit map."""
        x, pads = pad_to_multiple(x, self.multiple)
        if self.unshuffle > 1:
            x = F.pixel_unshuffle(x, self.unshuffle)
        skips = [F.leaky_relu(self.stem(x), 0.2)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        x = skips.pop()
        feats = [x]
        for up in self.ups:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = F.leaky_relu(up(x), 0.2) + skips.pop()
            feats.append(x)
        for conv in self.head[:-1]:
            x = F.leaky_relu(conv(x), 0.2)
            feats.append(x)
        logits = self.head[-1](x)
        if self.unshuffle > 1:
            logits = F.interpolate(logits, scale_factor=self.unshuffle, mode="nearest")
        feats.append(crop_padding(logits, pads))
        return feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)[-1]
