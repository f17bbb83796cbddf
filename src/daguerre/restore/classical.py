"""The classical baseline every trained stage must beat: thin-defect detection, Telea, NL-means.

Nothing here is learned. It is what a careful user could do with OpenCV alone, and the
evaluation reports it next to the trained pipeline so that a gain is a gain over this, not
over doing nothing.
"""

from __future__ import annotations

import cv2
import numpy as np

from daguerre.color import REC601_LUMA

DEFECT_CONTRAST = 0.12  # a thin line must differ this much from its surroundings (0–1 scale)
DEFECT_KERNEL = 7  # the largest defect width (pixels) the top-hat filters look for
TELEA_BAND = 1024  # rows filled by one OpenCV call
TELEA_MARGIN = 64  # rows of picture above and below a band that the fill may draw on
_LUMA = np.array(REC601_LUMA, dtype=np.float32)


def _luma_u8(image: np.ndarray) -> np.ndarray:
    luma = image[..., 0] if image.shape[-1] == 1 else image @ _LUMA
    return np.clip(luma * 255.0 + 0.5, 0, 255).astype(np.uint8)


def to_u8(image: np.ndarray) -> np.ndarray:
    """Float [0,1] H×W×C → uint8 with rounding (C kept), through one float32 scratch copy."""
    scaled = np.multiply(image, np.float32(255.0), dtype=np.float32)
    scaled += np.float32(0.5)
    return np.clip(scaled, 0, 255, out=scaled).astype(np.uint8)


def detect_defects(image: np.ndarray, contrast: float = DEFECT_CONTRAST) -> np.ndarray:
    """Thin bright and dark defects (scratches, dust) by morphological top-hat filtering.

    Returns a float32 H×W mask in {0, 1}.
    """
    luma = _luma_u8(image)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (DEFECT_KERNEL, DEFECT_KERNEL))
    bright = cv2.morphologyEx(luma, cv2.MORPH_TOPHAT, kernel)
    dark = cv2.morphologyEx(luma, cv2.MORPH_BLACKHAT, kernel)
    threshold = contrast * 255.0
    mask = ((bright > threshold) | (dark > threshold)).astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    return mask.astype(np.float32)


def inpaint_telea(
    image: np.ndarray, mask: np.ndarray, radius: int = 3, *, in_place: bool = False
) -> np.ndarray:
    """Fill the pixels where ``mask > 0.5`` with OpenCV's Telea fast-marching method.

    OpenCV works in 8 bits; only the filled pixels take its result, the others keep their values.
    It runs on bands of :data:`TELEA_BAND` rows with :data:`TELEA_MARGIN` rows of picture above
    and below (OpenCV makes several full-size buffers per call: a large scan has no room for
    them). The result is a float32 copy, or with ``in_place`` the (float32) ``image`` itself.
    """
    holes = mask > 0.5
    out = image if in_place else image.astype(np.float32)
    height = image.shape[0]
    for top in range(0, height, TELEA_BAND):
        bottom = min(top + TELEA_BAND, height)
        band_holes = holes[top:bottom]
        if not band_holes.any():
            continue
        # rows of the band above may be filled already; they are holes here too, so refilled
        low, high = max(top - TELEA_MARGIN, 0), min(bottom + TELEA_MARGIN, height)
        filled = cv2.inpaint(
            to_u8(out[low:high]), holes[low:high].astype(np.uint8), radius, cv2.INPAINT_TELEA
        ).reshape(high - low, *image.shape[1:])[top - low : bottom - low]
        out[top:bottom][band_holes] = filled[band_holes] / np.float32(255.0)
    return out


def denoise_nlmeans(image: np.ndarray, strength: float | None = None) -> np.ndarray:
    """Non-local means; the filter strength defaults to the estimated noise σ (0–255 scale).

    Strength ≈ σ measured best on gray and colour test scenes at σ = 5–25; a larger factor
    smooths lightly noisy photos until they score below the noisy input.
    """
    pixels = to_u8(image)
    if strength is None:
        strength = float(np.clip(_noise_sigma_u8(pixels), 3.0, 25.0))
    if image.shape[-1] == 1:
        out = cv2.fastNlMeansDenoising(pixels[..., 0], None, strength, 7, 21)[..., None]
    else:
        out = cv2.fastNlMeansDenoisingColored(pixels, None, strength, strength, 7, 21)
    return out.astype(np.float32) / 255.0


def _noise_sigma_u8(pixels: np.ndarray) -> float:
    """Noise standard deviation (0–255) from the median absolute Laplacian (Immerkær 1996)."""
    luma = pixels if pixels.ndim == 2 else pixels.mean(axis=-1)
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    response = cv2.filter2D(luma.astype(np.float32), -1, kernel)
    return float(np.sqrt(np.pi / 2.0) * np.mean(np.abs(response)) / 6.0)


def classical_restore(image: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """The baseline: detect thin defects (unless a mask is given), Telea-fill them, NL-means."""
    holes = detect_defects(image) if mask is None else mask
    return denoise_nlmeans(inpaint_telea(image, holes))
