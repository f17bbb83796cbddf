"""Colour maths shared by every package: Rec.601 luma, gray and RGB, CIE Lab, small previews.

NumPy and OpenCV only (no Pillow, no torch), so that ``daguerre.aging`` may import it too.
Images are float32 arrays H×W×C in [0, 1] with C = 1 (gray) or 3 (RGB); an H×W array counts
as H×W×1.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np

# The one copy of the Rec.601 luma weights (R, G, B), the ones cv2.COLOR_RGB2GRAY uses. Python
# floats: each user builds the array or tensor of the precision it computes in.
REC601_LUMA: Final[tuple[float, float, float]] = (0.299, 0.587, 0.114)
_LUMA_F32 = np.array(REC601_LUMA, dtype=np.float32)


def as_pixels(array: np.ndarray) -> np.ndarray:
    """``array`` as float32 H×W×C with C = 1 or 3 (H×W becomes H×W×1; no copy if already so)."""
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3):
        raise ValueError(f"expected an H×W×1 or H×W×3 image, got shape {array.shape}")
    return array


def to_gray(array: np.ndarray) -> np.ndarray:
    """H×W×1 luma (Rec.601 weights); gray input is returned as is."""
    array = as_pixels(array)
    if array.shape[2] == 1:
        return array
    return (array @ _LUMA_F32)[..., None]


def luma(array: np.ndarray) -> np.ndarray:
    """H×W luma (Rec.601 weights), the single plane of :func:`to_gray`."""
    return to_gray(array)[..., 0]


def to_rgb(array: np.ndarray) -> np.ndarray:
    """H×W×3; gray input is repeated into three channels."""
    array = as_pixels(array)
    return np.repeat(array, 3, axis=2) if array.shape[2] == 1 else array


def rgb_to_lab(array: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] -> CIE Lab (D65), float32, L in [0, 100]."""
    return cv2.cvtColor(np.ascontiguousarray(to_rgb(array)), cv2.COLOR_RGB2Lab)


def lab_to_rgb(array: np.ndarray) -> np.ndarray:
    """CIE Lab (L in [0, 100]) -> sRGB float32 clipped to [0, 1]."""
    lab = np.ascontiguousarray(array, dtype=np.float32)
    if lab.ndim != 3 or lab.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 Lab image, got shape {lab.shape}")
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0.0, 1.0)


def preview(array: np.ndarray, side: int = 64) -> np.ndarray:
    """``array`` averaged down to about ``side`` pixels on its long side (never enlarged).

    A small photo is returned as is (not a copy); the channel count is kept.
    """
    scale = side / max(array.shape[:2])
    if scale >= 1:
        return array
    size = (max(1, round(array.shape[1] * scale)), max(1, round(array.shape[0] * scale)))
    small = cv2.resize(array, size, interpolation=cv2.INTER_AREA)
    return small.reshape(size[1], size[0], *array.shape[2:])  # OpenCV drops a single channel
