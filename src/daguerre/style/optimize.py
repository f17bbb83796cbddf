"""Optimisation mode: restyle one image after any painting, with no trained network.

Gatys et al. (2016) with the random-feature objective of :mod:`daguerre.style.objective` in
place of VGG: the pixels themselves are optimised (Adam, projected onto [0, 1]) to match the
painting's statistics while keeping the photo's structure (an optimiser over pixels: no network
is trained here). It works coarse to fine: the image is first styled at 1/2**(levels - 1) of
its size, where many cheap iterations settle colours and large strokes; each finer level starts
from the photo at that size plus the upsampled change made so far, and refines the texture with
half as many iterations as the level before.

Cost: every iteration is a forward and backward pass of the feature network over the image.
With the defaults a 512-pixel image takes about a minute on one or two CPU threads (82 s on one
thread of a busy 2-core VM) and a megapixel several minutes; pass a smaller image (the ``size``
option of :func:`daguerre.style.stylize`) for speed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from daguerre.color import to_gray, to_rgb
from daguerre.image import from_tensor, to_tensor
from daguerre.style.color import sliced_ot_transfer
from daguerre.style.objective import DEFAULT_WEIGHTS, TERMS, StyleObjective, weighted_sum

MIN_LEVEL_SIDE = 64  # no level is made whose short side would fall below this
MIN_SIDE = 16  # the feature network's smallest input

Progress = Callable[[int, int], None]


@dataclass
class Optimized:
    """The styled image and, per iteration, its level and loss terms (before that step)."""

    image: np.ndarray
    history: list[dict[str, float]] = field(default_factory=list)


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` (H×W×C) at ``size`` = (height, width): area-averaged when shrinking, bicubic
    (clipped to [0, 1]) when enlarging."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    shrink = height < image.shape[0]
    out = cv2.resize(
        image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
    )
    return np.clip(out.reshape(height, width, image.shape[2]), 0.0, 1.0)


def level_sizes(height: int, width: int, levels: int) -> list[tuple[int, int]]:
    """(height, width) of each level, coarsest first, the last one the image's own size.

    Each level halves the previous one; levels whose short side would fall below
    :data:`MIN_LEVEL_SIDE` are dropped (a small image gets a single level).
    """
    sizes = [(height, width)]
    while len(sizes) < levels:
        h, w = sizes[0]
        if min(h, w) // 2 < MIN_LEVEL_SIDE:
            break
        sizes.insert(0, (max(1, round(h / 2)), max(1, round(w / 2))))
    return sizes


def _painting_at(painting: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The painting with the long side of a level of ``size`` (never enlarged)."""
    scale = min(1.0, max(size) / max(painting.shape[:2]))
    height = max(MIN_SIDE, round(painting.shape[0] * scale))
    width = max(MIN_SIDE, round(painting.shape[1] * scale))
    return resize(painting, (height, width))


def optimize(
    image: np.ndarray,
    painting: np.ndarray,
    *,
    iterations: int = 200,
    levels: int = 3,
    lr: float = 0.02,
    weights: Mapping[str, float] | None = None,
    kind: str = "gram",
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> Optimized:
    """Restyle ``image`` (H×W×C) after ``painting`` (any size) by optimising its pixels.

    ``iterations`` is the count at the coarsest level, halved at each finer one (at least one);
    ``levels`` the number of levels (fewer for small images, see :func:`level_sizes`).
    ``weights`` overrides entries of :data:`DEFAULT_WEIGHTS`. The first level starts from the
    photo with the painting's palette (:func:`~daguerre.style.color.sliced_ot_transfer`).
    ``progress(done, total)`` is called after every iteration. Deterministic for a given
    ``seed`` on a given device. Returns the image (same channels as ``image``) and the history.
    """
    if iterations < 1 or levels < 1:
        raise ValueError(f"iterations and levels must be at least 1, got {iterations}, {levels}")
    chosen = {**DEFAULT_WEIGHTS, **(weights or {})}
    if set(chosen) != set(TERMS):
        raise ValueError(f"unknown weight names {sorted(set(chosen) - set(TERMS))}")
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or image.shape[2] not in (1, 3):
        raise ValueError(f"expected an H×W×1 or H×W×3 image, got shape {image.shape}")
    if min(image.shape[:2]) < MIN_SIDE:
        raise ValueError(f"image is {image.shape[1]}×{image.shape[0]}; need {MIN_SIDE}+ pixels")
    painting = to_gray(painting) if image.shape[2] == 1 else to_rgb(painting)

    sizes = level_sizes(*image.shape[:2], levels)
    counts = [max(1, iterations // 2**index) for index in range(len(sizes))]
    total, done = sum(counts), 0
    generator = torch.Generator().manual_seed(seed)
    history: list[dict[str, float]] = []
    styled = change = None
    for level, (size, count) in enumerate(zip(sizes, counts, strict=True)):
        photo_array = resize(image, size)
        style_array = _painting_at(painting, size)
        photo = to_tensor(photo_array).to(device)
        if change is None:
            start = to_tensor(sliced_ot_transfer(photo_array, style_array, seed=seed)).to(device)
        else:
            start = photo + F.interpolate(change, size=size, mode="bilinear", align_corners=False)
        pixels = start.clamp(0.0, 1.0).requires_grad_(True)
        objective = StyleObjective(to_tensor(style_array).to(device), kind=kind, seed=seed)
        optimizer = torch.optim.Adam([pixels], lr=lr)
        for _ in range(count):
            terms = objective.terms(pixels, photo, generator)
            loss = weighted_sum(terms, chosen)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                pixels.clamp_(0.0, 1.0)
            history.append(
                {"level": level, "loss": loss.item()} | {k: v.item() for k, v in terms.items()}
            )
            done += 1
            if progress is not None:
                progress(done, total)
        styled = pixels.detach()
        change = styled - photo
    assert styled is not None  # at least one level always runs
    return Optimized(from_tensor(styled), history)
