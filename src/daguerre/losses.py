"""Training losses: adversarial, reconstruction, structural, spectral and random-feature style.

All functions take N×C×H×W tensors (images in [0, 1] unless stated) and return a
differentiable scalar tensor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

Logits = torch.Tensor | Sequence[torch.Tensor]
Features = Sequence[torch.Tensor] | Sequence[Sequence[torch.Tensor]]

ADVERSARIAL_MODES = ("lsgan", "nonsaturating", "hinge")


def _as_list(logits: Logits) -> list[torch.Tensor]:
    return [logits] if isinstance(logits, torch.Tensor) else list(logits)


def _mean_over_scales(logits: Logits, term: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    return torch.stack([term(scale) for scale in _as_list(logits)]).mean()


class AdversarialLoss:
    """GAN objectives on raw discriminator logits.

    ``mode``:
      * ``"lsgan"``: D minimises (real - 1)² + fake², G minimises (fake - 1)².
      * ``"nonsaturating"``: D minimises softplus(-real) + softplus(fake) (binary cross
        entropy on logits), G minimises softplus(-fake).
      * ``"hinge"``: D minimises relu(1 - real) + relu(1 + fake), G minimises -fake.

    Each term is the mean over the logit map; the discriminator loss is the sum of
    its real and fake terms. Lists of logits (multi-scale discriminators) are
    averaged over scales. The caller detaches the fake images for the D step.
    """

    def __init__(self, mode: str = "lsgan") -> None:
        if mode not in ADVERSARIAL_MODES:
            raise ValueError(
                f"unknown adversarial mode {mode!r}; expected one of {ADVERSARIAL_MODES}"
            )
        self.mode = mode

    def _real_term(self, logits: torch.Tensor) -> torch.Tensor:
        """Penalty for the discriminator when ``logits`` come from real images."""
        if self.mode == "lsgan":
            return (logits - 1).square().mean()
        if self.mode == "nonsaturating":
            return F.softplus(-logits).mean()
        return F.relu(1 - logits).mean()

    def _fake_term(self, logits: torch.Tensor) -> torch.Tensor:
        """Penalty for the discriminator when ``logits`` come from generated images."""
        if self.mode == "lsgan":
            return logits.square().mean()
        if self.mode == "nonsaturating":
            return F.softplus(logits).mean()
        return F.relu(1 + logits).mean()

    def generator(self, fake_logits: Logits) -> torch.Tensor:
        """Generator loss: low when the discriminator scores the fakes as real."""
        if self.mode == "hinge":
            return _mean_over_scales(fake_logits, lambda t: -t.mean())
        return _mean_over_scales(fake_logits, self._real_term)

    def discriminator(self, real_logits: Logits, fake_logits: Logits) -> torch.Tensor:
        """Discriminator loss: low when reals score high and fakes score low."""
        real = _mean_over_scales(real_logits, self._real_term)
        fake = _mean_over_scales(fake_logits, self._fake_term)
        return real + fake


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference."""
    return (a - b).abs().mean()


def log_mse(output: torch.Tensor, target: torch.Tensor, floor: float = 1e-5) -> torch.Tensor:
    """Mean over the batch of each image's log10 mean squared error: −1/10 of its mean PSNR.

    Every image counts alike, whatever its error: a plain MSE over the batch would be ruled by
    the worst images. ``floor`` (1e-5: 50 dB) stops images that are already right pulling.
    """
    mse = (output.float() - target.float()).pow(2).flatten(1).mean(dim=1)
    return torch.log10(mse + floor).mean()


def charbonnier(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Mean of sqrt((a - b)² + eps²) - eps: a smooth L1 that is 0 for identical inputs."""
    return (torch.sqrt((a - b).square() + eps * eps) - eps).mean()


def cycle_loss(reconstructed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """CycleGAN cycle consistency: L1 between F(G(x)) and x."""
    return l1(reconstructed, original)


def identity_loss(mapped: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """CycleGAN identity term: L1 between G(y) and y for y already in G's target domain."""
    return l1(mapped, original)


def feature_matching(real_feats: Features, fake_feats: Features) -> torch.Tensor:
    """pix2pixHD feature matching: L1 between discriminator activations of real and fake.

    Accepts ``PatchDiscriminator.features`` (a list of tensors) or
    ``MultiScaleDiscriminator.features`` (a list per scale). Real activations are
    detached. The L1 is averaged over the layers of a scale, then over scales.
    """
    real_scales = [real_feats] if isinstance(real_feats[0], torch.Tensor) else real_feats
    fake_scales = [fake_feats] if isinstance(fake_feats[0], torch.Tensor) else fake_feats
    if len(real_scales) != len(fake_scales):
        raise ValueError(f"{len(real_scales)} real scales but {len(fake_scales)} fake scales")
    per_scale = []
    for real, fake in zip(real_scales, fake_scales, strict=True):
        layers = [l1(f, r.detach()) for r, f in zip(real, fake, strict=True)]
        per_scale.append(torch.stack(layers).mean())
    return torch.stack(per_scale).mean()


def fft_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """L1 between the 2-D spectra of ``a`` and ``b`` (real and imaginary parts).

    Uses ``rfft2`` with orthonormal scaling, so by Parseval the spectrum carries the
    image's energy and the loss does not grow with image size. Comparing real and
    imaginary parts (not only amplitude) keeps phase, so a shifted image is not
    mistaken for a match; high frequencies count as much as low ones, which is what
    penalises blur.
    """
    spec_a = torch.view_as_real(torch.fft.rfft2(a.float(), norm="ortho"))
    spec_b = torch.view_as_real(torch.fft.rfft2(b.float(), norm="ortho"))
    return (spec_a - spec_b).abs().mean()


def _gaussian_window(size: int, sigma: float, device: torch.device) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    window = torch.exp(-coords.square() / (2 * sigma * sigma))
    return window / window.sum()


def _separable_blur(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Depthwise 'valid' convolution with ``window`` along H then W."""
    channels = x.shape[1]
    size = window.numel()
    x = F.conv2d(x, window.view(1, 1, size, 1).expand(channels, 1, size, 1), groups=channels)
    return F.conv2d(x, window.view(1, 1, 1, size).expand(channels, 1, 1, size), groups=channels)


def ssim(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    window_size: int = 11,
    sigma: float = 1.5,
    data_range: float = 1.0,
) -> torch.Tensor:
    """Mean structural similarity of two N×C×H×W batches (Wang et al. 2004), differentiable.

    Gaussian window (σ = 1.5, 11 taps), population statistics and only positions
    where the window fits inside the image: the same definition as scikit-image's
    ``structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)``. Images smaller than the window use the largest
    odd window that fits.
    """
    if a.shape != b.shape:
        raise ValueError(f"ssim needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    smallest = min(a.shape[-2:])
    size = min(window_size, smallest if smallest % 2 else smallest - 1)
    window = _gaussian_window(size, sigma, a.device)
    a, b = a.float(), b.float()
    channels = a.shape[1]
    stats = _separable_blur(torch.cat([a, b, a * a, b * b, a * b], dim=1), window)
    mu_a, mu_b, aa, bb, ab = stats.split(channels, dim=1)
    var_a = aa - mu_a.square()
    var_b = bb - mu_b.square()
    cov = ab - mu_a * mu_b
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    numerator = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    denominator = (mu_a.square() + mu_b.square() + c1) * (var_a + var_b + c2)
    return (numerator / denominator).mean()


def ssim_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """1 - :func:`ssim`: 0 for identical images."""
    return 1 - ssim(a, b)


class RandomFeatureNet(nn.Module):
    """Fixed multi-scale convolutional features with random weights, for style losses.

    Random shallow networks capture texture statistics well (Ustyuzhaninov et al.
    2017; He et al. 2016), and need no pretrained download. Stage ``i`` is a 3×3
    convolution with dilation ``dilations[i]`` and ``channels[i]`` filters followed
    by LeakyReLU(0.2); a 2×2 average pool precedes every stage but the first, so the
    stages see 1, 1/2, 1/4, ... of the resolution and growing context. Filters are
    zero-mean He-normal and drawn from a ``torch.Generator`` seeded with ``seed`` on
    the CPU, so the same seed gives the same network on every machine. Parameters
    never require gradients; inputs must be at least 16×16 for the default stages.
    """

    def __init__(
        self,
        seed: int = 0,
        in_channels: int = 3,
        channels: Sequence[int] = (32, 64, 128, 256),
        dilations: Sequence[int] = (1, 2, 2, 1),
    ) -> None:
        super().__init__()
        if len(channels) != len(dilations):
            raise ValueError("channels and dilations must have the same length")
        generator = torch.Generator().manual_seed(seed)
        self.in_channels = in_channels
        self.stages = nn.ModuleList()
        previous = in_channels
        for width, dilation in zip(channels, dilations, strict=True):
            conv = nn.Conv2d(
                previous, width, 3, padding=dilation, dilation=dilation, padding_mode="reflect"
            )
            weight = torch.randn(conv.weight.shape, generator=generator)
            weight -= weight.mean(dim=(1, 2, 3), keepdim=True)
            with torch.no_grad():
                conv.weight.copy_(weight * math.sqrt(2.0 / (previous * 9)))
                conv.bias.copy_(0.1 * torch.randn(width, generator=generator))
            self.stages.append(conv)
            previous = width
        self.requires_grad_(False)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activations of every stage, finest first. A 1-channel input is repeated to 3."""
        if x.shape[1] == 1 and self.in_channels == 3:
            x = x.expand(-1, 3, -1, -1)
        x = x - 0.5
        feats = []
        for index, conv in enumerate(self.stages):
            if index:
                x = F.avg_pool2d(x, 2)
            x = F.leaky_relu(conv(x), 0.2)
            feats.append(x)
        return feats

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.features(x)


def _gram(feat: torch.Tensor) -> torch.Tensor:
    """Channel Gram matrix per image, normalised by the number of positions."""
    flat = feat.flatten(2)
    return flat @ flat.transpose(1, 2) / flat.shape[-1]


def _sorted_projections(
    feat: torch.Tensor, directions: torch.Tensor, length: int | None = None
) -> torch.Tensor:
    """Project N×C×H×W features on C×K unit directions and sort each projection.

    With ``length`` the sorted values are resampled (linear quantile interpolation)
    to that many samples, so feature maps of different sizes can be compared.
    """
    projected = torch.einsum("nchw,ck->nkhw", feat, directions).flatten(2)
    ordered = projected.sort(dim=-1).values
    if length is not None and length != ordered.shape[-1]:
        ordered = F.interpolate(ordered, size=length, mode="linear", align_corners=True)
    return ordered


def style_loss(
    net: RandomFeatureNet,
    a: torch.Tensor,
    b: torch.Tensor,
    kind: str = "gram",
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Texture distance between ``a`` and the style image(s) ``b``.

    ``b`` may have another size than ``a`` and a batch of 1 (one style image for the
    whole batch). Each stage's squared error is divided by the mean square of ``b``'s
    statistic (a relative error, so stages weigh alike and the loss does not depend
    on the feature scale), then stages are averaged: 0 for a match, of order 0.1–1
    for unrelated textures. ``kind``:

    * ``"gram"``: mean squared difference of position-normalised Gram matrices.
    * ``"sliced_wasserstein"`` (Heitz et al. 2021): features of each stage are
      projected on as many random unit directions as the stage has channels; each
      projection's values are sorted and compared by mean squared difference (the 1-D
      optimal transport cost). Directions come from ``generator`` (a fresh one seeded
      with 0 when omitted, so the loss is deterministic); pass a generator that
      advances between training steps to draw fresh directions each step.
    """
    if kind not in ("gram", "sliced_wasserstein"):
        raise ValueError(
            f"unknown style loss kind {kind!r}; expected 'gram' or 'sliced_wasserstein'"
        )
    if kind == "sliced_wasserstein" and generator is None:
        generator = torch.Generator().manual_seed(0)
    terms = []
    for fa, fb in zip(net.features(a), net.features(b), strict=True):
        if kind == "gram":
            stat_a, stat_b = _gram(fa), _gram(fb)
        else:
            channels = fa.shape[1]
            directions = F.normalize(torch.randn(channels, channels, generator=generator), dim=0)
            directions = directions.to(device=fa.device, dtype=fa.dtype)
            stat_a = _sorted_projections(fa, directions)
            stat_b = _sorted_projections(fb, directions, stat_a.shape[-1])
        scale = stat_b.detach().square().mean() + 1e-8
        terms.append((stat_a - stat_b).square().mean() / scale)
    return torch.stack(terms).mean()


def content_loss(
    net: RandomFeatureNet, a: torch.Tensor, b: torch.Tensor, stages: Sequence[int] = (2,)
) -> torch.Tensor:
    """Mean squared difference of deep random features of two same-size images.

    The default compares the third stage (1/4 resolution, receptive field 30
    pixels): it keeps layout and edges while leaving fine texture free to change,
    which is what a style transfer should preserve from the content image.
    """
    if a.shape[-2:] != b.shape[-2:]:
        raise ValueError(f"content_loss needs equal sizes, got {a.shape[-2:]} and {b.shape[-2:]}")
    feats_a = net.features(a)
    feats_b = net.features(b)
    return torch.stack([(feats_a[i] - feats_b[i]).square().mean() for i in stages]).sum()


def random_feature_l1(net: RandomFeatureNet, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """L1 between the random features of ``a`` and ``b``, averaged over every stage: a
    perceptual loss with no pretrained network (``b``'s features are detached)."""
    if a.shape[-2:] != b.shape[-2:]:
        raise ValueError(f"needs equal sizes, got {a.shape[-2:]} and {b.shape[-2:]}")
    with torch.no_grad():
        feats_b = net.features(b)
    return torch.stack([l1(fa, fb) for fa, fb in zip(net.features(a), feats_b, strict=True)]).mean()


def periodic_loss(a: torch.Tensor, b: torch.Tensor, period: int, block: int = 8) -> torch.Tensor:
    """How much of ``a - b`` repeats with ``period`` pixels: the pattern an upscaler's pixel
    shuffle prints when each of its ``period²`` sub-pixel filters drifts its own way.

    The difference is split into its ``period²`` phases (every ``period``-th pixel from each
    offset); in blocks of ``block`` × ``block`` phase samples (``block · period`` pixels) each
    phase's mean is compared with the mean of all phases, by L1. A difference without a
    period-``period`` pattern costs little, so edges and texture are left to the other terms.
    Sides must be multiples of ``period · block``.
    """
    diff = a - b
    height, width = diff.shape[-2:]
    if height % (period * block) or width % (period * block):
        raise ValueError(f"sides {height}×{width} must be multiples of {period * block}")
    phases = F.pixel_unshuffle(diff, period)  # N × C·period² × H/period × W/period
    phases = phases.unflatten(1, (diff.shape[1], period * period))
    means = F.avg_pool3d(phases, (1, block, block))
    return (means - means.mean(dim=2, keepdim=True)).abs().mean()


def artifact_map(output: torch.Tensor, target: torch.Tensor, window: int = 7) -> torch.Tensor:
    """Where ``output`` is likely to hold invented artefacts rather than detail (after Liang et
    al. 2022, "Details or Artifacts"): the local variance of the residual in ``window``²
    pixels, normalised to a mean of 1 per image (so a weight on it reads like an L1 weight).
    Detached."""
    with torch.no_grad():
        residual = (output - target).abs().mean(dim=1, keepdim=True)
        pad = window // 2
        padded = F.pad(residual, (pad, pad, pad, pad), mode="reflect")
        mean = F.avg_pool2d(padded, window, stride=1)
        local = (F.avg_pool2d(padded.square(), window, stride=1) - mean.square()).clamp_min(0)
        return local / local.mean(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)
