"""``daguerre eval upscale``: the upscalers beside bicubic and Lanczos on centre crops of photos.

Each photo's central ``crop``² (512 by default) is the truth; the input is that crop shrunk
``scale``× by an antialiased bicubic (``clean``), or blurred (Gaussian σ 1.2), shrunk, noised
(Gaussian σ 5/255) and JPEG-compressed at quality 60 (``real``), with a seed per photo. Every
method enlarges the input back and is scored against the truth: PSNR and SSIM
(:mod:`daguerre.metrics`, higher is closer) and NIQE (lower is more natural; the truth's own
NIQE is reported beside). The seconds per output megapixel of each method are timed too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from torch import nn

from daguerre import metrics
from daguerre.aging import ops
from daguerre.color import to_rgb
from daguerre.data import shrink_bicubic
from daguerre.image import read
from daguerre.upscale.upscaler import check_scale, upscale

CROP = 512
DEGRADATIONS = ("clean", "real")
REAL_BLUR, REAL_NOISE, REAL_JPEG = 1.2, 5 / 255, 60
CLASSICAL = {"bicubic": cv2.INTER_CUBIC, "lanczos": cv2.INTER_LANCZOS4}

Progress = Callable[[int, int], None]
# another way to enlarge (a peer, say): float H×W×C in [0, 1] → its scale× larger image
Method = Callable[[np.ndarray], np.ndarray]


def center_crop(image: np.ndarray, size: int, multiple: int) -> np.ndarray:
    """The central square of at most ``size`` pixels (a multiple of ``multiple``), RGB."""
    side = min(size, *image.shape[:2]) // multiple * multiple
    if side < multiple:
        raise ValueError(f"image {image.shape[1]}×{image.shape[0]} is too small to crop")
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    return np.ascontiguousarray(to_rgb(image[top : top + side, left : left + side]), np.float32)


def degrade(truth: np.ndarray, scale: int, kind: str, seed: int = 0) -> np.ndarray:
    """The low-resolution input made from ``truth`` (see the module notes)."""
    if kind not in DEGRADATIONS:
        raise ValueError(f"degrade must be one of {DEGRADATIONS}, got {kind!r}")
    rng = np.random.default_rng(seed)
    image = truth
    if kind == "real":
        image = ops.gaussian_blur(image, rng, sigma=REAL_BLUR, ratio=1.0, angle=0.0)
    small = np.clip(shrink_bicubic(image, scale), 0.0, 1.0)
    if kind == "real":
        small = ops.gaussian_noise(small, rng, sigma=REAL_NOISE, mono=False)
        small = ops.jpeg(small, rng, quality=REAL_JPEG)
    return small


def classical(image: np.ndarray, scale: int, interpolation: int) -> np.ndarray:
    """OpenCV's interpolation ``scale``× larger, clipped to [0, 1]."""
    height, width = image.shape[:2]
    out = cv2.resize(image, (width * scale, height * scale), interpolation=interpolation)
    return np.clip(out.reshape(height * scale, width * scale, -1), 0.0, 1.0)


def score(output: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """PSNR, SSIM and NIQE of one output against its truth."""
    return {
        "psnr": metrics.psnr(output, truth),
        "ssim": metrics.ssim(output, truth),
        "niqe": metrics.niqe(output),
    }


@dataclass
class UpscaleEvaluation:
    """Scores per method and photo, and each method's seconds per output megapixel."""

    names: list[str] = field(default_factory=list)
    scores: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    megapixels: float = 0.0
    truth_niqe: list[float] = field(default_factory=list)

    def add(self, method: str, scores: dict[str, float], seconds: float) -> None:
        self.scores.setdefault(method, []).append(scores)
        self.seconds[method] = self.seconds.get(method, 0.0) + seconds

    def summary(self) -> dict[str, dict[str, float]]:
        """Mean PSNR, SSIM, NIQE and seconds per output MP by method."""
        return {
            method: {
                **{key: float(np.mean([r[key] for r in rows])) for key in rows[0]},
                "s_per_mp": self.seconds[method] / max(self.megapixels, 1e-12),
            }
            for method, rows in self.scores.items()
        }


def evaluate(
    photos: Sequence[Path],
    models: Mapping[str, nn.Module | Method],
    *,
    scale: int = 4,
    degradation: str = "clean",
    crop: int = CROP,
    seed: int = 0,
    device: str = "cpu",
    progress: Progress | None = None,
) -> UpscaleEvaluation:
    """Score bicubic, Lanczos and each of ``models`` on ``photos``: name → a network run
    through the tiling engine, or a :data:`Method` called on the whole input."""
    check_scale(scale)
    if degradation not in DEGRADATIONS:
        raise ValueError(f"degrade must be one of {DEGRADATIONS}, got {degradation!r}")
    result = UpscaleEvaluation()
    for index, path in enumerate(photos):
        truth = center_crop(read(path).pixels, crop, scale)
        given = degrade(truth, scale, degradation, seed + index)
        result.names.append(path.name)
        result.megapixels += truth.shape[0] * truth.shape[1] / 1e6
        result.truth_niqe.append(metrics.niqe(truth))
        for method, interpolation in CLASSICAL.items():
            start = time.perf_counter()
            output = classical(given, scale, interpolation)
            result.add(method, score(output, truth), time.perf_counter() - start)
        for name, model in models.items():
            start = time.perf_counter()
            if isinstance(model, nn.Module):
                output = upscale(given, model, scale, device=device)
            else:
                output = np.clip(model(given), 0.0, 1.0)
            result.add(name, score(output, truth), time.perf_counter() - start)
        if progress is not None:
            progress(index + 1, len(photos))
    return result
