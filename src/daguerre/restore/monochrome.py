"""Is a photo black and white: plain gray (:func:`looks_gray`) or toned (:func:`looks_toned`)?

Both judge a ~64-px :func:`daguerre.color.preview` of the photo; pass them one to share it.
"""

from __future__ import annotations

import numpy as np

from daguerre.color import as_pixels, preview, rgb_to_lab


def looks_gray(array: np.ndarray, tol: float = 0.02) -> bool:
    """Whether an RGB image is a black-and-white photo: chroma (max - min channel) is near zero.

    The image is first averaged down to about 64 px so noise cancels, then 99 % of the pixels
    must have chroma <= ``tol``. A consistent tint (sepia, cyanotype) is :func:`looks_toned`.
    """
    array = as_pixels(array)
    if array.shape[2] == 1:
        return True
    array = preview(array)
    chroma = array.max(axis=2) - array.min(axis=2)
    return bool(np.percentile(chroma, 99) <= tol)


def looks_toned(
    array: np.ndarray, spread: float = 2.0, max_chroma: float = 25.0, drift: float = 3.0
) -> bool:
    """Whether an RGB image is a toned black-and-white print (sepia, selenium, cyanotype).

    On a ~64-px thumbnail in CIE Lab the tint must be weak and a function of lightness, in
    either of two ways: 99 % of the pixels have (a*, b*) chroma <= ``max_chroma`` and lie
    within ``spread`` of the line through neutral along the main hue; or — for a tint that
    drifts with lightness (warm shadows, cream highlights) or a small off-hue mark such as a
    watermark — 95 % have chroma <= ``max_chroma`` and lie within ``drift`` of the median tint
    of their lightness band (12 bands). Colour photos spread over several hues at one
    lightness: of the project's 466 training photos 4 pass (near-monochrome scenes), of its
    233 real old photos 46.
    """
    array = as_pixels(array)
    if array.shape[2] == 1:
        return False
    lab = rgb_to_lab(preview(array)).reshape(-1, 3).astype(np.float64)
    tint = lab[:, 1:]
    chroma = np.hypot(tint[:, 0], tint[:, 1])
    _, _, axes = np.linalg.svd(tint, full_matrices=False)
    across = tint @ np.array([-axes[0, 1], axes[0, 0]])
    if np.percentile(chroma, 99) <= max_chroma and np.percentile(np.abs(across), 99) <= spread:
        return True
    bands = np.minimum((lab[:, 0] * (12 / 100)).astype(int), 11)
    off_tint = np.empty(len(lab))
    for band in np.unique(bands):
        inside = bands == band
        off_tint[inside] = np.linalg.norm(tint[inside] - np.median(tint[inside], axis=0), axis=1)
    return bool(np.percentile(chroma, 95) <= max_chroma and np.percentile(off_tint, 95) <= drift)
