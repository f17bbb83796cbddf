"""Deep Image Prior (Ulyanov, Vedaldi & Lempitsky 2018): restoration without training data.

A randomly initialized U-Net (:class:`daguerre.nets.UNet`) is fitted to one photo from a fixed
noise input. Its structure fits natural images long before it fits noise, so stopping early
gives a clean image. One objective covers the three tasks:

    minimize  || known ⊙ (down(net(z)) − photo) ||²

with ``down`` the ``scale``× antialiased bicubic shrink (identity at scale 1: denoising) and
``known`` the pixels outside the damage mask (inpainting). The result is an exponential average
of the outputs over the iterations (as the authors' code does), and the input noise is jittered
at every step (their ``reg_noise_std``).

This is inference-time optimization: the network is thrown away after each photo.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from daguerre.nets import UNet

# Iterations by task where the PSNR of the averaged output peaked, measured by
# `python benchmarks/dip_iterations.py --count 3 --size 96 --iterations 2000 --threads 1` on
# 3 centre crops of photos/val (96², this U-Net, Adam lr 0.01), PSNR every 100 steps:
# - noise σ 25/255 (input 20.79 dB): 28.51 dB at 500 (400: 28.02, 600: 28.16), then the network
#   fits the noise: 25.05 at 1000, 21.83 at 2000 — all three crops peaked at 500;
# - ×4 (antialiased bicubic shrink; bicubic back: 22.00 dB): 22.03 dB from 800 to 1300, flat
#   to 2000 (22.01); 800 is within 0.01 dB of the peak. ×2 was not measured: it takes ×4's.
# Inpainting was not measured (its holes need more steps than denoising; the authors use
# thousands): with a mask the known pixels then start to take in their noise again.
DENOISE_ITERATIONS = 500
UPSCALE_ITERATIONS = {2: 800, 4: 800}
INPAINT_ITERATIONS = 2000
LEARNING_RATE = 0.01
# a U-Net of 16-32-64-128-128 channels: a quarter of the work of 32 at the start, sized for a CPU
BASE_CHANNELS = 16
DEPTH = 4
INPUT_CHANNELS = 32
INPUT_SCALE = 0.1  # the fixed input: uniform noise in [0, 0.1), as the authors use
JITTER = 1 / 30  # standard deviation of the noise added to the input at every step
AVERAGE = 0.99  # weight of the running average of the outputs

Progress = Callable[[int, int], None]


@dataclass
class DIPResult:
    """The restored image and, when a truth was given, the PSNR of the average every few steps."""

    image: np.ndarray
    psnr: list[tuple[int, float]] = field(default_factory=list)


def default_iterations(scale: int = 1, mask: np.ndarray | None = None) -> int:
    """The measured number of iterations for the task (see the constants above)."""
    if mask is not None and np.any(mask):
        return INPAINT_ITERATIONS
    return DENOISE_ITERATIONS if scale == 1 else UPSCALE_ITERATIONS.get(scale, 800)


def down(x: torch.Tensor, scale: int) -> torch.Tensor:
    """The degradation operator: a ``scale``× antialiased bicubic shrink (identity at 1)."""
    if scale == 1:
        return x
    size = (x.shape[-2] // scale, x.shape[-1] // scale)
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True)


def deep_image_prior(
    image: np.ndarray,
    *,
    scale: int = 1,
    mask: np.ndarray | None = None,
    iterations: int | None = None,
    lr: float = LEARNING_RATE,
    base_channels: int = BASE_CHANNELS,
    depth: int = DEPTH,
    device: str = "cpu",
    seed: int = 0,
    progress: Progress | None = None,
    truth: np.ndarray | None = None,
    every: int = 50,
) -> DIPResult:
    """Restore ``image`` (float H×W×C in [0, 1]) by fitting a fresh U-Net to it.

    ``scale`` (1, 2, 4...) makes the result ``scale``× larger; ``mask`` (H×W, nonzero =
    damaged) marks pixels to paint instead of fit; ``iterations`` defaults to the measured
    :func:`default_iterations`. ``progress(done, total)`` is called every step. With ``truth``
    (the expected result) the PSNR of the running average is recorded every ``every`` steps.
    Seeded: the same seed gives the same result on the same device.
    """
    if image.ndim != 3 or image.shape[2] not in (1, 3) or 0 in image.shape:
        raise ValueError(f"expected an H×W×1 or H×W×3 image, got shape {image.shape}")
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    if mask is not None and np.shape(mask)[:2] != image.shape[:2]:
        raise ValueError(f"mask is {np.shape(mask)[:2]}, image is {image.shape[:2]}")
    steps = default_iterations(scale, mask) if iterations is None else iterations
    if steps < 1:
        raise ValueError(f"iterations must be >= 1, got {steps}")
    height, width, channels = image.shape
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = UNet(
        INPUT_CHANNELS,
        channels,
        base_channels=base_channels,
        depth=depth,
        max_channels=128,
        out_activation="sigmoid",
    ).to(device)
    target = torch.from_numpy(np.ascontiguousarray(image, np.float32)).permute(2, 0, 1)[None]
    target = target.to(device)
    known = torch.ones_like(target[:, :1])
    if mask is not None:
        damaged = np.asarray(mask, np.float32)
        damaged = damaged.max(axis=-1) if damaged.ndim == 3 else damaged
        known = torch.from_numpy((damaged <= 0.5).astype(np.float32))[None, None].to(device)
    noise = torch.rand(1, INPUT_CHANNELS, height * scale, width * scale, generator=generator)
    noise = (noise * INPUT_SCALE).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    average: torch.Tensor | None = None
    history: list[tuple[int, float]] = []
    for step in range(1, steps + 1):
        jitter = torch.randn(noise.shape, generator=generator).to(device) * JITTER
        output = net(noise + jitter)
        loss = ((down(output, scale) - target) ** 2 * known).sum() / (known.sum() * channels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            current = output.detach()
            average = (
                current
                if average is None
                else average.mul_(AVERAGE).add_(current, alpha=1 - AVERAGE)
            )
        if truth is not None and (step % every == 0 or step == steps):
            history.append((step, _psnr(average, truth)))
        if progress is not None:
            progress(step, steps)
    assert average is not None
    result = average[0].permute(1, 2, 0).clamp(0, 1).cpu().numpy()
    return DIPResult(np.ascontiguousarray(result, np.float32), history)


def _psnr(output: torch.Tensor, truth: np.ndarray) -> float:
    expected = torch.from_numpy(np.ascontiguousarray(truth, np.float32)).permute(2, 0, 1)[None]
    mse = float(((output.clamp(0, 1).cpu() - expected) ** 2).mean())
    return 10 * math.log10(1 / max(mse, 1e-12))
