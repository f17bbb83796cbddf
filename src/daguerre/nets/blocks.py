"""Building blocks shared by the generators and discriminators.

Everything here is a plain ``torch.nn`` piece: norm and activation factories, a
conv + norm + activation unit, a residual block, resize-convolution upsampling,
padding helpers that let fully convolutional nets accept any image size, and
the common generator shell (pad, run, crop back, optional residual output).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

NORMS = ("batch", "instance", "group", "none")
ACTIVATIONS = ("relu", "leaky", "tanh", "sigmoid", "none")

Padding = tuple[int, int, int, int]  # (left, right, top, bottom), the order F.pad expects


def make_norm(kind: str, channels: int) -> nn.Module:
    """Return a normalisation layer for ``channels`` feature maps.

    ``"group"`` uses up to 32 groups (the largest power of two dividing ``channels``).
    """
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "group":
        return nn.GroupNorm(math.gcd(32, channels), channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; expected one of {NORMS}")


def make_activation(kind: str) -> nn.Module:
    """Return an activation module; ``"leaky"`` is LeakyReLU with slope 0.2."""
    if kind == "relu":
        return nn.ReLU(inplace=True)
    if kind == "leaky":
        return nn.LeakyReLU(0.2, inplace=True)
    if kind == "tanh":
        return nn.Tanh()
    if kind == "sigmoid":
        return nn.Sigmoid()
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown activation {kind!r}; expected one of {ACTIVATIONS}")


class ConvNormAct(nn.Sequential):
    """Convolution followed by a norm layer and an activation.

    Padding keeps the spatial size at stride 1 (odd kernels) and halves it at
    stride 2 for even inputs. The conv has no bias when a norm follows it.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        *,
        stride: int = 1,
        dilation: int = 1,
        norm: str = "instance",
        act: str = "leaky",
        padding_mode: str = "zeros",
    ) -> None:
        padding = dilation * (kernel_size - 1) // 2
        conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            bias=norm == "none",
            padding_mode=padding_mode,
        )
        super().__init__(conv, make_norm(norm, out_channels), make_activation(act))


class ResidualBlock(nn.Module):
    """Two 3×3 convolutions with a skip connection (CycleGAN style, reflect padding)."""

    def __init__(self, channels: int, *, norm: str = "instance", act: str = "relu") -> None:
        super().__init__()
        self.body = nn.Sequential(
            ConvNormAct(channels, channels, norm=norm, act=act, padding_mode="reflect"),
            ConvNormAct(channels, channels, norm=norm, act="none", padding_mode="reflect"),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResizeConv(nn.Sequential):
    """Upsample by ``scale`` (nearest or bilinear), then convolve.

    Resizing before the convolution avoids the checkerboard artefacts of
    transposed convolutions.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        scale: int = 2,
        mode: str = "nearest",
        norm: str = "instance",
        act: str = "relu",
        padding_mode: str = "reflect",
    ) -> None:
        align = False if mode == "bilinear" else None
        super().__init__(
            nn.Upsample(scale_factor=scale, mode=mode, align_corners=align),
            ConvNormAct(in_channels, out_channels, norm=norm, act=act, padding_mode=padding_mode),
        )


def pad_to_multiple(
    x: torch.Tensor, multiple: int, min_size: int = 1
) -> tuple[torch.Tensor, Padding]:
    """Pad ``x`` (N×C×H×W) so H and W are multiples of ``multiple`` and at least ``min_size``.

    Padding is split evenly between the two sides. Reflect padding is used when the
    image is large enough for it, replicate padding otherwise (e.g. a 3-pixel-wide
    strip padded to 16). Returns the padded tensor and the padding for
    :func:`crop_padding`.
    """
    height, width = x.shape[-2:]

    def split(size: int) -> tuple[int, int]:
        target = max(min_size, size)
        target = -(-target // multiple) * multiple
        total = target - size
        return total // 2, total - total // 2

    top, bottom = split(height)
    left, right = split(width)
    pads = (left, right, top, bottom)
    if not any(pads):
        return x, pads
    reflect_ok = max(left, right) < width and max(top, bottom) < height
    return F.pad(x, pads, mode="reflect" if reflect_ok else "replicate"), pads


def crop_padding(x: torch.Tensor, pads: Padding) -> torch.Tensor:
    """Undo :func:`pad_to_multiple` on a tensor with the same spatial size as the padded input."""
    left, right, top, bottom = pads
    height, width = x.shape[-2:]
    return x[..., top : height - bottom, left : width - right]


def init_weights(module: nn.Module, scheme: str = "kaiming") -> None:
    """Initialise convolutions in place from the global torch RNG (seed with torch.manual_seed).

    ``"kaiming"``: He-normal for LeakyReLU(0.2), used by the generators.
    ``"normal"``: N(0, 0.02) as in pix2pix, used by the discriminators.
    Biases start at zero; affine norm layers at weight 1 and bias 0.
    """
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            if scheme == "kaiming":
                nn.init.kaiming_normal_(layer.weight, a=0.2, nonlinearity="leaky_relu")
            elif scheme == "normal":
                nn.init.normal_(layer.weight, 0.0, 0.02)
            else:
                raise ValueError(f"unknown init scheme {scheme!r}")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm)) and layer.affine:
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)


class ImageGenerator(nn.Module):
    """Shell shared by the generators: pad, run :meth:`body`, activate, crop, add residual.

    Subclasses build their layers and implement :meth:`body` on padded input whose
    sides are multiples of ``multiple`` and at least ``min_size``. With
    ``residual=True`` the output is ``x[:, :out_channels] + activation(body(x))``
    and the last layer ``head`` starts at zero, so a fresh network is the identity.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        residual: bool,
        out_activation: str,
        multiple: int,
        min_size: int,
    ) -> None:
        super().__init__()
        if residual and out_channels > in_channels:
            raise ValueError(
                f"residual output needs out_channels ({out_channels}) <= in_channels "
                f"({in_channels})"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.residual = residual
        self.multiple = multiple
        self.min_size = min_size
        self.out_activation = make_activation(out_activation)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def zero_head(self, head: nn.Conv2d) -> None:
        """Zero the final conv when residual, so training starts from the identity map."""
        if self.residual:
            nn.init.zeros_(head.weight)
            if head.bias is not None:
                nn.init.zeros_(head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.in_channels:
            raise ValueError(f"expected {self.in_channels} input channels, got {x.shape[1]}")
        padded, pads = pad_to_multiple(x, self.multiple, self.min_size)
        out = crop_padding(self.out_activation(self.body(padded)), pads)
        if self.residual:
            out = x[:, : self.out_channels] + out
        return out


class MirrorAveraged(nn.Module):
    """A network's output averaged over the image and its mirror image (mirrored back).

    A cheap test-time ensemble for a dense predictor whose errors depend on orientation: the
    damage detector's false alarms on scene lines mostly fire in one orientation only.
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (self.net(x) + self.net(x.flip(-1)).flip(-1))
