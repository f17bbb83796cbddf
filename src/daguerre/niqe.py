"""NIQE, the Natural Image Quality Evaluator (Mittal, Soundararajan & Bovik, 2013).

A "completely blind" score: 36 statistics of the mean-subtracted, contrast-normalised (MSCN)
luminance are measured on 96×96 patches at two scales and fitted with a multivariate Gaussian
(MVG); the score is the distance between that MVG and one fitted on pristine photos (lower is
more natural). The steps follow the paper and its reference release: 8-bit luminance, a 7×7
Gaussian window with sigma 7/6 and C = 1 for the MSCN map, per patch a generalised Gaussian
shape and scale of the MSCN values and an asymmetric one (shape, mean, left and right scales) of
the products of horizontal, vertical and both diagonal neighbours (18 numbers), the same again
on the image halved with MATLAB's antialiased bicubic kernel (48×48 patches there). The pristine
model keeps only the sharpest patches of each photo (mean local deviation above 0.75 of the
photo's sharpest patch).

The pristine parameters are our own, fitted on daguerre's clean training photos by
``scripts/fit_niqe.py`` and shipped as ``metrics_data/niqe-pristine.json``; scores are therefore
comparable between runs of daguerre, not with published NIQE figures.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from daguerre.color import luma

PATCH = 96  # patch side at the full scale (48 at the half scale)
MIN_SIDE = 2 * PATCH  # at least 2×2 patches, so the test image's covariance is defined
SHARPNESS_THRESHOLD = 0.75  # pristine patches: mean local deviation > 0.75 × the photo's maximum
FEATURES = 36
PRISTINE_PATH = Path(__file__).parent / "metrics_data" / "niqe-pristine.json"

_WINDOW_SIGMA = 7 / 6
_WINDOW = np.exp(-0.5 * (np.arange(-3, 4) / _WINDOW_SIGMA) ** 2)
_WINDOW /= _WINDOW.sum()
# MATLAB imresize(x, 0.5): the bicubic kernel (a = -0.5) stretched ×2 to antialias, 8 taps at
# distances ±0.5, ±1.5, ±2.5, ±3.5 from the output pixel's centre, normalised to sum 1.
_HALVE = np.array([-0.0234375, -0.0703125, 0.2265625, 0.8671875]) / 2.0
_HALVE = np.concatenate([_HALVE, _HALVE[::-1]])  # pixels 2j-3 .. 2j+4 for output pixel j
_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))  # horizontal, vertical, main and anti-diagonal
_SHAPES = np.arange(0.2, 10.0005, 0.001)  # the grid the shape parameter is read from


@cache
def _gamma_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """On the shape grid: r(a) = Γ(2/a)² / (Γ(1/a) Γ(3/a)), √(Γ(1/a) / Γ(3/a)), Γ(2/a) / Γ(1/a)."""
    g1, g2, g3 = (np.array([math.gamma(k / a) for a in _SHAPES]) for k in (1, 2, 3))
    return g2**2 / (g1 * g3), np.sqrt(g1 / g3), g2 / g1


def _shape_from_ratio(ratio: np.ndarray) -> np.ndarray:
    """Index of the grid shape whose ratio r(a) is nearest to each of ``ratio`` (NaN -> -1)."""
    table = _gamma_table()[0]  # increases with the shape a
    right = np.clip(np.searchsorted(table, ratio), 1, len(table) - 1)
    left = right - 1
    nearest = np.where(np.abs(table[left] - ratio) <= np.abs(table[right] - ratio), left, right)
    return np.where(np.isfinite(ratio), nearest, -1)


def fit_aggd(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Asymmetric generalised Gaussian fit of each row: shape, mean, left and right scales.

    Moment matching as in the paper: the shape comes from (E|x|)² / E[x²] corrected for the
    ratio of left to right deviations; rows without negative or positive values give NaN.
    """
    squares = values**2
    negative, positive = values < 0, values > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.sqrt((squares * negative).sum(1) / negative.sum(1))
        right = np.sqrt((squares * positive).sum(1) / positive.sum(1))
        skew = left / right
        ratio = np.abs(values).mean(1) ** 2 / squares.mean(1)
        ratio = ratio * (skew**3 + 1) * (skew + 1) / (skew**2 + 1) ** 2
    index = _shape_from_ratio(ratio)
    _, scale, mean = _gamma_table()
    valid = index >= 0
    shape = np.where(valid, _SHAPES[index], np.nan)
    scale = np.where(valid, scale[index], np.nan)
    left, right = left * scale, right * scale
    return shape, (right - left) * mean[index], left, right


def _patch_features(mscn: np.ndarray, side: int) -> np.ndarray:
    """The 18 statistics of each ``side``×``side`` patch of an MSCN map, rows in raster order."""
    rows, cols = mscn.shape[0] // side, mscn.shape[1] // side
    patches = mscn.reshape(rows, side, cols, side).transpose(0, 2, 1, 3).reshape(-1, side, side)
    flat = patches.reshape(len(patches), -1)
    shape, _, left, right = fit_aggd(flat)
    columns = [shape, (left + right) / 2]
    for shift in _SHIFTS:
        # products with the neighbour, wrapping round inside the patch as the reference does
        pairs = (patches * np.roll(patches, shift, axis=(1, 2))).reshape(len(patches), -1)
        columns += fit_aggd(pairs)
    return np.stack(columns, axis=1)


def _mscn(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MSCN coefficients (x - μ) / (σ + 1) and the local deviation σ, replicated borders."""
    mu = cv2.sepFilter2D(gray, cv2.CV_64F, _WINDOW, _WINDOW, borderType=cv2.BORDER_REPLICATE)
    square = cv2.sepFilter2D(
        gray * gray, cv2.CV_64F, _WINDOW, _WINDOW, borderType=cv2.BORDER_REPLICATE
    )
    sigma = np.sqrt(np.abs(square - mu * mu))
    return (gray - mu) / (sigma + 1.0), sigma


def _halve(gray: np.ndarray) -> np.ndarray:
    """Half size (even sides) with MATLAB ``imresize(x, 0.5)``'s antialiased bicubic kernel."""
    for axis in (0, 1):
        padding = [(0, 0), (0, 0)]
        padding[axis] = (3, 4)
        padded = np.pad(gray, padding, mode="symmetric")
        half = gray.shape[axis] // 2
        taps = [
            np.take(padded, np.arange(k, k + 2 * half, 2), axis=axis) for k in range(len(_HALVE))
        ]
        gray = sum(w * t for w, t in zip(_HALVE, taps, strict=True))
    return gray


def gray_255(image: np.ndarray) -> np.ndarray:
    """8-bit luminance (Rec.601, rounded) as float64 in [0, 255], like the reference's input.

    ``image``: H×W, H×W×1 or H×W×3 floats in [0, 1].
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[2] not in (1, 3):
        raise ValueError(f"niqe needs an H×W, H×W×1 or H×W×3 image, got shape {image.shape}")
    if min(image.shape[:2]) < MIN_SIDE:
        raise ValueError(
            f"niqe needs at least {MIN_SIDE} pixels a side (2×2 patches of {PATCH}), "
            f"got {image.shape[0]}×{image.shape[1]}"
        )
    return np.round(np.clip(luma(image), 0.0, 1.0) * 255.0).astype(np.float64)


def features(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-patch NIQE features of an 8-bit-range luminance plane (see :func:`gray_255`).

    Returns the N×36 features (18 at the full scale, then 18 at the half) of the N whole
    96×96 patches in raster order and each patch's sharpness (its mean local deviation).
    """
    rows, cols = gray.shape[0] // PATCH, gray.shape[1] // PATCH
    gray = np.ascontiguousarray(gray[: rows * PATCH, : cols * PATCH], dtype=np.float64)
    mscn, sigma = _mscn(gray)
    full = _patch_features(mscn, PATCH)
    sharpness = sigma.reshape(rows, PATCH, cols, PATCH).mean(axis=(1, 3)).ravel()
    half = _patch_features(_mscn(_halve(gray))[0], PATCH // 2)
    return np.concatenate([full, half], axis=1), sharpness


def sharp_patches(feats: np.ndarray, sharpness: np.ndarray) -> np.ndarray:
    """The rows the pristine model keeps: sharpness above 0.75 × the photo's sharpest patch."""
    return feats[sharpness > SHARPNESS_THRESHOLD * sharpness.max()]


def _finite_rows(feats: np.ndarray) -> np.ndarray:
    return feats[np.isfinite(feats).all(axis=1)]


@dataclass(frozen=True)
class PristineModel:
    """The multivariate Gaussian of pristine patches' features, with how it was made."""

    mean: np.ndarray
    covariance: np.ndarray
    provenance: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(cls, feats: np.ndarray, provenance: dict[str, Any] | None = None) -> PristineModel:
        """Mean and (sample) covariance of the finite rows of N×36 ``feats``."""
        rows = _finite_rows(np.asarray(feats, np.float64))
        if len(rows) <= FEATURES:
            raise ValueError(f"need more than {FEATURES} pristine patches, got {len(rows)}")
        info = {**(provenance or {}), "patches": len(rows)}
        return cls(rows.mean(axis=0), np.cov(rows, rowvar=False), info)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``mean`` (36), ``covariance`` (36×36) and ``provenance``."""
        return {
            "format": "daguerre-niqe-pristine/1",
            "provenance": self.provenance,
            "mean": self.mean.tolist(),
            "covariance": self.covariance.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PristineModel:
        """Read :meth:`to_dict`'s form back; ``ValueError`` when shapes or values are wrong."""
        mean = np.asarray(data.get("mean"), np.float64)
        covariance = np.asarray(data.get("covariance"), np.float64)
        if mean.shape != (FEATURES,) or covariance.shape != (FEATURES, FEATURES):
            raise ValueError(
                f"NIQE model needs a mean of {FEATURES} and a {FEATURES}×{FEATURES} covariance, "
                f"got {mean.shape} and {covariance.shape}"
            )
        if not (np.isfinite(mean).all() and np.isfinite(covariance).all()):
            raise ValueError("NIQE model holds non-finite numbers")
        return cls(mean, covariance, dict(data.get("provenance", {})))


@cache
def pristine() -> PristineModel:
    """The bundled pristine model (``metrics_data/niqe-pristine.json``), read once."""
    try:
        data = json.loads(PRISTINE_PATH.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise RuntimeError(
            f"cannot read the NIQE pristine model {PRISTINE_PATH}: {error}"
        ) from error
    return PristineModel.from_dict(data)


def niqe(image: np.ndarray, model: PristineModel | None = None) -> float:
    """NIQE of ``image`` (H×W, H×W×1 or H×W×3 floats in [0, 1], ≥ 192 px a side): lower is
    more natural. Every whole 96×96 patch counts (no sharpness selection on test images).

    ``model`` defaults to the bundled pristine model. Raises ``ValueError`` for a wrong shape, a
    side under 192 px, or an image with fewer than two textured patches (e.g. a flat one).
    """
    model = model or pristine()
    feats = _finite_rows(features(gray_255(image))[0])
    if len(feats) < 2:
        raise ValueError("niqe needs at least two textured 96×96 patches; the image is too flat")
    difference = model.mean - feats.mean(axis=0)
    covariance = (model.covariance + np.cov(feats, rowvar=False)) / 2
    return float(math.sqrt(max(difference @ np.linalg.pinv(covariance) @ difference, 0.0)))
