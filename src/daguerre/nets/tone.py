"""Global tone and colour from a thumbnail, then a local U-Net: restoration at any size.

Fading, colour casts, vignetting and uneven exposure are properties of the whole photo; a
network that sees one tile cannot tell a faded tile from a pale sky. :class:`ToneNet` looks at
a small thumbnail of the *whole* image once and predicts a few global parameters — a colour
matrix, one monotone tone curve per channel and a coarse grid of per-channel gains — which
are then applied pixel by pixel at full resolution, in any strips or tiles, with the same
result. :class:`TonedUNet` chains it with a local U-Net that removes noise, grain, blur and
JPEG damage; with ``detail_sigma`` the U-Net may change only the detail (:class:`DetailStage`).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from daguerre.nets.blocks import init_weights
from daguerre.nets.spec import records_spec
from daguerre.nets.unet import UNet

ToneParams = dict[str, torch.Tensor]
# Where the black point, white point, midtones and casts show: the thumbnail's channel quantiles.
QUANTILES = (0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.995)


def thumbnail(image: torch.Tensor, size: int) -> torch.Tensor:
    """The image averaged down to ``size``×``size`` (aspect squashed; N×C×H×W)."""
    return F.adaptive_avg_pool2d(image, size)


def apply_curves(x: torch.Tensor, knots: torch.Tensor) -> torch.Tensor:
    """Per-channel piecewise-linear curves: ``knots`` is N×C×(K+1) over [0, 1] evenly.

    Values outside [0, 1] follow the end segments' lines: a hard clamp would stop the
    gradient there, and a tone stage that overshoots could never come back.
    """
    n, c, h, w = x.shape
    segments = knots.shape[-1] - 1
    position = x.reshape(n, c, h * w) * segments
    index = position.floor().clamp(0, segments - 1)
    fraction = position - index
    index = index.long()
    low = torch.gather(knots, 2, index)
    high = torch.gather(knots, 2, index + 1)
    return (low + (high - low) * fraction).reshape(n, c, h, w)


def apply_gains(
    x: torch.Tensor, log2_gain: torch.Tensor, origin: tuple[int, int], full: tuple[int, int]
) -> torch.Tensor:
    """Multiply by a smooth gain field: the grid ``log2_gain`` (N×C×G×G) stretched over the
    whole image (``full`` = H×W), sampled where this piece (top-left at ``origin``) lies."""
    n, _, h, w = x.shape
    full_h, full_w = full
    ys = (torch.arange(h, device=x.device, dtype=torch.float32) + origin[0] + 0.5) / full_h
    xs = (torch.arange(w, device=x.device, dtype=torch.float32) + origin[1] + 0.5) / full_w
    grid_y, grid_x = torch.meshgrid(ys * 2 - 1, xs * 2 - 1, indexing="ij")
    grid = torch.stack([grid_x, grid_y], dim=-1).expand(n, h, w, 2)
    field = F.grid_sample(
        log2_gain.float(), grid, mode="bilinear", padding_mode="border", align_corners=False
    )
    return x * torch.exp2(field)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of an N×C×H×W batch (edges replicated), radius 3σ."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, device=x.device, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = (kernel / kernel.sum()).to(x.dtype)
    channels = x.shape[1]
    x = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


class DetailStage(nn.Module):
    """``net`` (image → image of the same channels) allowed to change only the detail.

    The low frequencies of its change to the input (a Gaussian of ``sigma`` pixels) are taken
    out, so noise, grain, blur and JPEG damage are its job and tone and colour stay the tone
    stage's: a local network that shifts a tile's brightness a little costs PSNR everywhere.
    ``sigma`` 0 leaves ``net`` as it is.
    """

    def __init__(self, net: nn.Module, sigma: float) -> None:
        super().__init__()
        self.net, self.sigma = net, sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        if not self.sigma:
            return out
        change = out - x
        return x + change - gaussian_blur(change, self.sigma)


@records_spec("tone")
class ToneNet(nn.Module):
    """Predicts global tone parameters from a thumbnail and applies them at full size.

    Output = curves(matrix · (x · gain(position)) + bias). A fresh network is the identity.
    """

    def __init__(
        self,
        channels: int = 3,
        thumb_size: int = 128,
        width: int = 32,
        knots: int = 16,
        grid: int = 4,
        max_stops: float = 2.0,
    ) -> None:
        super().__init__()
        self.channels, self.thumb_size, self.knots = channels, thumb_size, knots
        self.grid, self.max_stops = grid, max_stops
        widths = [channels, width, 2 * width, 4 * width, 4 * width]
        layers: list[nn.Module] = []
        for inp, out in itertools.pairwise(widths):
            layers += [nn.Conv2d(inp, out, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
        self.encoder = nn.Sequential(*layers)
        # mean and standard deviation of the last map, and each channel's quantiles
        features = 2 * widths[-1] + channels * len(QUANTILES)
        count = channels * channels + channels + channels * knots
        self.mlp = nn.Sequential(nn.Linear(features, 128), nn.LeakyReLU(0.2), nn.Linear(128, count))
        self.gain_head = nn.Conv2d(widths[-1], channels, 1)
        init_weights(self, "kaiming")
        for head in (self.mlp[-1], self.gain_head):
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def predict(self, thumb: torch.Tensor) -> ToneParams:
        """Parameters from a thumbnail (N×C×S×S, S = ``thumb_size``)."""
        c, k = self.channels, self.knots
        maps = self.encoder(thumb)
        levels = torch.tensor(QUANTILES, device=thumb.device)
        quantiles = torch.quantile(thumb.float().flatten(2), levels, dim=2).permute(1, 2, 0)
        pooled = torch.cat([maps.mean((2, 3)), maps.std((2, 3)), quantiles.flatten(1)], dim=1)
        raw = self.mlp(pooled).float()
        matrix = torch.eye(c, device=raw.device) + raw[:, : c * c].reshape(-1, c, c)
        bias = raw[:, c * c : c * c + c]
        steps = F.softplus(raw[:, c * c + c :].reshape(-1, c, k) + 0.5413)  # softplus(0.5413)=1
        knots = F.pad(torch.cumsum(steps, dim=-1), (1, 0)) / steps.sum(-1, keepdim=True)
        gain = F.adaptive_avg_pool2d(self.gain_head(maps).float(), self.grid)
        return {
            "matrix": matrix,
            "bias": bias,
            "knots": knots,
            "gain": self.max_stops * torch.tanh(gain / self.max_stops),
        }

    def apply(
        self,
        x: torch.Tensor,
        params: ToneParams,
        origin: tuple[int, int] = (0, 0),
        full: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        """Apply ``params`` to ``x``, a piece at ``origin`` of an image of size ``full``."""
        full = full or (x.shape[-2], x.shape[-1])
        x = apply_gains(x.float(), params["gain"], origin, full)
        x = torch.einsum("nij,njhw->nihw", params["matrix"], x) + params["bias"][..., None, None]
        return apply_curves(x, params["knots"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.apply(x, self.predict(thumbnail(x, self.thumb_size)))


@records_spec("toned_unet")
class TonedUNet(nn.Module):
    """:class:`ToneNet` for the whole image, then a :class:`UNet` for the local detail."""

    def __init__(
        self,
        tone: dict[str, Any] | None = None,
        unet: dict[str, Any] | None = None,
        in_channels: int = 3,
        out_channels: int = 3,
        detail_sigma: float = 0.0,
    ) -> None:
        super().__init__()
        if detail_sigma and in_channels != out_channels:
            raise ValueError("detail_sigma needs as many output channels as input channels")
        if detail_sigma < 0:
            raise ValueError(f"detail_sigma must be >= 0, got {detail_sigma}")
        self.detail_sigma = float(detail_sigma)
        tone_args = {**(tone or {}), "channels": in_channels}
        unet_args = {**(unet or {}), "in_channels": in_channels, "out_channels": out_channels}
        self.tone = ToneNet(**tone_args)
        self.local = UNet(**unet_args)

    def _canonical_arguments(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The stages' full specs (defaults in, channels left to this net's own) for the spec."""
        return {
            **arguments,
            "tone": {k: v for k, v in self.tone.spec.items() if k not in ("type", "channels")},
            "unet": {
                k: v
                for k, v in self.local.spec.items()
                if k not in ("type", "in_channels", "out_channels")
            },
            "detail_sigma": self.detail_sigma,
        }

    def local_stage(self) -> DetailStage:
        """The local U-Net as it runs after the tone stage (tiled at restoration time)."""
        return DetailStage(self.local, self.detail_sigma)

    def forward(
        self, x: torch.Tensor, with_tone: bool = False, tone_only: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """The restored image; with ``with_tone`` also the tone stage's output (for its loss);
        with ``tone_only`` just the tone stage's output (to train it alone)."""
        toned = self.tone(x)
        if tone_only:
            return toned
        out = self.local_stage()(toned)
        return (out, toned) if with_tone else out
