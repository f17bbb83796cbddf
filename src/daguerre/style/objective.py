"""The style-transfer objective: a painting's texture statistics, a photo's structure.

One objective serves both ways of styling: the ``style`` training recipe minimises it over a
network's weights, the optimisation mode over the pixels of one image. Its terms, unweighted:

* ``style``: random-feature statistics against the painting (:func:`daguerre.losses.style_loss`,
  Gram or sliced Wasserstein) of the whole image, which carry mostly its palette and tones;
* ``texture``: the same statistics of the detail layers (image minus its Gaussian blur), which
  carry brush strokes and surface texture. Random features of whole images are dominated by
  colour: a colour transfer of the photo scores *closer* to the painting than a crop of the
  painting itself, so a style trained on ``style`` alone only tints. On detail layers the
  painting crop is closer by an order of magnitude;
* ``content``: deep random features against the photo (:func:`daguerre.losses.content_loss`),
  which keeps objects and layout;
* ``structure``: luminance edges and low frequencies against the photo (:func:`structure_loss`),
  which keeps the drawing and the distribution of lights and darks;
* ``edges``: 1 − SSIM between the full-resolution edge maps of the output and of the photo
  (:func:`edge_loss`), which keeps contours sharp *and* flat areas calm where the photo's are:
  what a person needs to recognise the subject at first glance;
* ``tv``: total variation (:func:`total_variation`), against speckle.

No pretrained network is involved: the features come from a fixed random-weight network.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from daguerre.color import REC601_LUMA
from daguerre.losses import RandomFeatureNet, content_loss, ssim, style_loss
from daguerre.nets.arbitrary import AdaINNet, FeatureStats

STYLE_KINDS = ("gram", "sliced_wasserstein")
_MIN_STD = 1e-2  # keeps standardising a flat image from amplifying noise
DETAIL_SIGMA = 4.0  # pixels; the blur whose residual is the texture layer
EDGE_SIGMA = 1.0  # pixels; smoothing before the edge filter, so that grain is not structure
TERMS = ("style", "texture", "content", "structure", "edges", "tv")
# Balanced by eye in the optimisation mode (Starry Night, The Scream). The statistics terms are
# relative errors that fall to about 1e-4 once matched (daguerre.losses.style_loss), hence their
# large weights.
DEFAULT_WEIGHTS: dict[str, float] = {
    "style": 50.0,
    "texture": 5000.0,
    "content": 50.0,
    "structure": 0.3,
    "edges": 0.0,
    "tv": 0.05,
}
_SOBEL = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))


def luminance(x: torch.Tensor) -> torch.Tensor:
    """N×1×H×W luma of N×3×H×W RGB (Rec.601); a 1-channel batch is returned as is."""
    if x.shape[1] == 1:
        return x
    weights = torch.tensor(REC601_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * weights).sum(dim=1, keepdim=True)


def _standardize(y: torch.Tensor) -> torch.Tensor:
    """Each image shifted and scaled to zero mean and unit standard deviation."""
    mean = y.mean(dim=(1, 2, 3), keepdim=True)
    std = y.std(dim=(1, 2, 3), keepdim=True, unbiased=False)
    return (y - mean) / std.clamp_min(_MIN_STD)


def _differences(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return y[..., :, 1:] - y[..., :, :-1], y[..., 1:, :] - y[..., :-1, :]


def structure_loss(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    edge_scales: Sequence[int] = (2, 4, 8),
    low_scale: int = 16,
) -> torch.Tensor:
    """How far the luminance structure of ``a`` is from that of ``b`` (same-size batches).

    Each luminance is first standardised per image, so a global change of brightness or
    contrast, which a style may well impose, costs nothing: what counts is *where* the lights,
    darks and edges are. Edges: L1 between the horizontal and vertical differences of the
    luminance average-pooled by each of ``edge_scales``; pooling lets brush strokes texture the
    finest scale freely while the contours they draw stay in place. Low frequencies: L1 between
    the luminances pooled by ``low_scale``. Scales larger than the image are skipped.
    """
    if a.shape[-2:] != b.shape[-2:]:
        raise ValueError(f"structure_loss needs equal sizes, got {a.shape[-2:]} and {b.shape[-2:]}")
    ya, yb = _standardize(luminance(a)), _standardize(luminance(b))
    smallest = min(a.shape[-2:])
    terms = []
    for scale in edge_scales:
        if 2 * scale <= smallest:
            pooled_a, pooled_b = F.avg_pool2d(ya, scale), F.avg_pool2d(yb, scale)
            for diff_a, diff_b in zip(_differences(pooled_a), _differences(pooled_b), strict=True):
                terms.append((diff_a - diff_b).abs().mean())
    if low_scale <= smallest:
        terms.append((F.avg_pool2d(ya, low_scale) - F.avg_pool2d(yb, low_scale)).abs().mean())
    if not terms:
        return (ya - yb).abs().mean()
    return torch.stack(terms).mean()


def edge_magnitude(x: torch.Tensor, sigma: float = EDGE_SIGMA) -> torch.Tensor:
    """N×1×H×W Sobel gradient magnitude of the luminance smoothed by ``sigma`` pixels."""
    y = gaussian_blur(luminance(x), sigma)
    kernel = torch.tensor(_SOBEL, dtype=y.dtype, device=y.device)
    kernels = torch.stack([kernel, kernel.t()]).unsqueeze(1)
    mode = "reflect" if min(y.shape[-2:]) > 1 else "replicate"
    gradients = F.conv2d(F.pad(y, (1, 1, 1, 1), mode=mode), kernels)
    return (gradients.square().sum(dim=1, keepdim=True) + 1e-8).sqrt()


def edge_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """1 − SSIM between the edge maps (:func:`edge_magnitude`) of same-size batches ``a``, ``b``.

    Each pair of maps is divided by its larger peak first, as
    :func:`daguerre.style.evaluate.edge_ssim` does, so a photo's contrast does not matter.
    """
    if a.shape[-2:] != b.shape[-2:]:
        raise ValueError(f"edge_loss needs equal sizes, got {a.shape[-2:]} and {b.shape[-2:]}")
    edges_a, edges_b = edge_magnitude(a), edge_magnitude(b)
    peak = torch.maximum(edges_a.amax(dim=(1, 2, 3)), edges_b.amax(dim=(1, 2, 3)))
    peak = peak.detach().clamp_min(1e-6).view(-1, 1, 1, 1)
    return 1 - ssim(edges_a / peak, edges_b / peak)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of each channel (reflect padding, 3σ radius)."""
    radius = max(1, math.ceil(3 * sigma))
    coords = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    window = torch.exp(-coords.square() / (2 * sigma * sigma))
    window = window / window.sum()
    channels = x.shape[1]
    size = 2 * radius + 1
    mode = "reflect" if min(x.shape[-2:]) > radius else "replicate"
    x = F.pad(x, (radius, radius, radius, radius), mode=mode)
    x = F.conv2d(x, window.view(1, 1, size, 1).expand(channels, 1, size, 1), groups=channels)
    return F.conv2d(x, window.view(1, 1, 1, size).expand(channels, 1, 1, size), groups=channels)


def detail_layer(x: torch.Tensor, sigma: float = DETAIL_SIGMA) -> torch.Tensor:
    """``x`` minus its Gaussian blur, around mid-gray: the texture without the colours."""
    return x - gaussian_blur(x, sigma) + 0.5


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between horizontal and between vertical neighbours."""
    horizontal, vertical = _differences(x)
    return horizontal.abs().mean() + vertical.abs().mean()


class _KnownTargets:
    """A feature extractor that answers for fixed target images from a cache.

    ``style_loss`` asks for the features of both of its images on every call; the painting's
    (and its detail layer's) never change, so they are computed once.
    """

    def __init__(self, net: RandomFeatureNet, *targets: torch.Tensor) -> None:
        self.net = net
        with torch.no_grad():
            self.cache = [(target, net.features(target)) for target in targets]

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        for target, features in self.cache:
            if x is target:
                return features
        return self.net.features(x)


class StyleObjective:
    """The unweighted terms of the objective against one painting (1×C×H×W in [0, 1]).

    ``kind`` chooses the style statistics (:data:`STYLE_KINDS`); ``seed`` the random feature
    network; ``content_stages`` its stages compared for content. Everything lives on the
    painting's device and in float32. Photos and outputs must be at least 16 pixels on a side.
    """

    def __init__(
        self,
        painting: torch.Tensor,
        *,
        kind: str = "sliced_wasserstein",
        seed: int = 0,
        content_stages: Sequence[int] = (2,),
    ) -> None:
        if kind not in STYLE_KINDS:
            raise ValueError(f"unknown style statistics {kind!r}; expected one of {STYLE_KINDS}")
        if painting.ndim != 4 or painting.shape[0] != 1:
            raise ValueError(f"painting must be 1×C×H×W, got {tuple(painting.shape)}")
        self.kind = kind
        self.content_stages = tuple(content_stages)
        self.painting = painting.detach().float()
        self.painting_detail = detail_layer(self.painting)
        self.net = RandomFeatureNet(seed).to(painting.device)
        self._targets = _KnownTargets(self.net, self.painting, self.painting_detail)

    def _statistics(
        self, x: torch.Tensor, target: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        net: Any = self._targets  # duck-typed: style_loss only calls .features() on its network
        return style_loss(net, x, target, self.kind, generator=generator)

    def terms(
        self,
        x: torch.Tensor,
        photo: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> dict[str, torch.Tensor]:
        """The terms (:data:`TERMS`) of an output ``x`` made from ``photo``, both N×C×H×W.

        ``generator`` draws the sliced-Wasserstein directions (fixed ones when omitted).
        """
        x, photo = x.float(), photo.float()
        return {
            "style": self._statistics(x, self.painting, generator),
            "texture": self._statistics(detail_layer(x), self.painting_detail, generator),
            "content": content_loss(self.net, x, photo, self.content_stages),
            "structure": structure_loss(x, photo),
            "edges": edge_loss(x, photo),
            "tv": total_variation(x),
        }


TRANSFER_TERMS = ("content", "stats", "style", "texture", "edges")


def transfer_terms(
    net: AdaINNet,
    features: RandomFeatureNet,
    photo: torch.Tensor,
    painting: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """The unweighted terms (:data:`TRANSFER_TERMS`) that teach ``net``'s decoder to draw
    ``photo``'s code moved to a painting's statistics (both N×C×H×W, the same size).

    Each photo's code moves to the statistics of its ``painting`` crop. ``content``: the
    output's code against the moved code; ``stats``: mean and standard deviation of every
    encoder stage of the output against the painting crops'; ``style`` and ``texture``: Gram
    distances of ``features`` of the output, and of its detail layer, against the crops';
    ``edges``: :func:`edge_loss` against the photo. Gradients reach the decoder only.
    """
    with torch.no_grad():
        code = net.encode(photo)[-1]
        targets = [FeatureStats.of(f) for f in net.encode(painting)]
    moved = net.move(code, FeatureStats.of(code), targets[-1])
    output = net.decode(moved)
    encoded = net.encode(output)
    stats = [FeatureStats.of(f) for f in encoded]
    return {
        "content": (encoded[-1] - moved).square().mean(),
        "stats": torch.stack(
            [
                (a.mean - b.mean).square().mean() + (a.std - b.std).square().mean()
                for a, b in zip(stats, targets, strict=True)
            ]
        ).mean(),
        "style": style_loss(features, output, painting),
        "texture": style_loss(features, detail_layer(output), detail_layer(painting)),
        "edges": edge_loss(output, photo),
    }


def weighted_sum(terms: Mapping[str, torch.Tensor], weights: Mapping[str, float]) -> torch.Tensor:
    """Sum of ``weights[name] * terms[name]`` over the terms with a non-zero weight."""
    return torch.stack(
        [weights[name] * value for name, value in terms.items() if weights[name]]
    ).sum()
