"""Image quality scores: full-reference (PSNR, SSIM), mask agreement, and no-reference estimates.

Images are float32 H×W×C arrays in [0, 1] with C = 1 or 3; masks are H×W (or H×W×1) arrays.
The no-reference scores (``sharpness``, ``noise_sigma``, ``niqe``) are for real old photos, which
come without a clean original to compare against.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from daguerre import niqe as _niqe
from daguerre.color import luma

_MAD_TO_SIGMA = 0.6745  # median absolute deviation of a unit Gaussian


def _image(array: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 3 or array.shape[2] not in (1, 3):
        raise ValueError(f"{name} must be an H×W×C array with C = 1 or 3, got shape {array.shape}")
    return array


def _image_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = _image(a, "a"), _image(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"images must have the same shape, got {a.shape} and {b.shape}")
    return a, b


def _mask(array: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        raise ValueError(f"{name} must be an H×W or H×W×1 mask, got shape {array.shape}")
    return array


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB; ``inf`` for identical images (zero error)."""
    a, b = _image_pair(a, b)
    mse = float(np.mean(np.square(a.astype(np.float64) - b.astype(np.float64))))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(data_range**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float:
    """Mean structural similarity in the standard setting of Wang et al. (2004).

    Gaussian window with sigma 1.5 and population covariances, averaged over channels (one
    channel for gray images). Both sides must be at least 11 pixels, the window's extent.
    """
    a, b = _image_pair(a, b)
    if min(a.shape[:2]) < 11:
        raise ValueError(f"ssim needs images of at least 11×11 pixels, got {a.shape[:2]}")
    return float(
        structural_similarity(
            a.astype(np.float64),
            b.astype(np.float64),
            data_range=data_range,
            channel_axis=2,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
    )


def mask_scores(
    pred_prob: np.ndarray, truth: np.ndarray, threshold: float = 0.5
) -> dict[str, float]:
    """Precision, recall, IoU and F1 of a predicted mask against the true one.

    ``pred_prob`` is a probability map, positive where it is at least ``threshold``; ``truth``
    is boolean or a [0, 1] mask, positive where it is at least 0.5.

    Empty cases: two empty masks agree perfectly and score 1.0 on every measure; an empty
    prediction against a non-empty truth (a miss), or the reverse (a false alarm on a clean
    photo), scores 0.0 on every measure.
    """
    pred = _mask(pred_prob, "pred_prob") >= threshold
    true = _mask(truth, "truth") >= 0.5
    if pred.shape != true.shape:
        raise ValueError(
            f"pred_prob and truth must have the same shape: {pred.shape} vs {true.shape}"
        )
    tp = int(np.count_nonzero(pred & true))
    fp = int(np.count_nonzero(pred & ~true))
    fn = int(np.count_nonzero(~pred & true))
    both_empty = tp + fp + fn == 0

    def ratio(numerator: int, denominator: int) -> float:
        # A zero denominator with a non-empty mask means one mask is empty and the other is not.
        return numerator / denominator if denominator else float(both_empty)

    return {
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "iou": ratio(tp, tp + fp + fn),
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
    }


def _luminance(image: np.ndarray) -> np.ndarray:
    """Rec.601 luma as a float32 H×W array."""
    return luma(_image(image, "image"))


def sharpness(image: np.ndarray) -> float:
    """Variance of the Laplacian of the luminance: higher means more fine detail.

    A relative score, useful to compare versions of the same photo (e.g. before and after
    restoration); noise raises it as well as real detail does.
    """
    return float(cv2.Laplacian(_luminance(image), cv2.CV_32F).var(dtype=np.float64))


def noise_sigma(image: np.ndarray) -> float:
    """Estimated standard deviation of white Gaussian noise, averaged over channels.

    Donoho's robust estimator: the median absolute value of the finest diagonal Haar wavelet
    coefficients divided by 0.6745. Image content barely reaches that sub-band while noise fills
    it, so the estimate is reliable for noise that is not much weaker than the fine texture.
    (This is what ``skimage.restoration.estimate_sigma`` computes with PyWavelets, which daguerre
    does not depend on.)
    """
    image = _image(image, "image").astype(np.float64)
    height, width = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    if height == 0 or width == 0:
        raise ValueError(f"noise_sigma needs at least 2×2 pixels, got {image.shape[:2]}")
    blocks = image[:height, :width]
    diagonal = (
        blocks[0::2, 0::2] - blocks[0::2, 1::2] - blocks[1::2, 0::2] + blocks[1::2, 1::2]
    ) / 2.0
    sigmas = np.median(np.abs(diagonal), axis=(0, 1)) / _MAD_TO_SIGMA
    return float(np.mean(sigmas))


def niqe(image: np.ndarray) -> float:
    """NIQE naturalness (Mittal et al. 2013) against our pristine model: lower is more natural.

    ``image``: H×W, H×W×1 or H×W×3 floats in [0, 1], at least 192 pixels a side (``ValueError``
    otherwise). Clean photos score about 3-5; noise, blur and blocking raise it. Scores depend on
    the scale a photo is seen at, so compare images of the same size. See :mod:`daguerre.niqe`.
    """
    return _niqe.niqe(image)
