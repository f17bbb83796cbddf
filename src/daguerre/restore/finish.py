"""Finishing touches after restoration: auto levels, white balance, gentle sharpening.

Each step is deliberately mild and bounded, so that it cannot wreck a photo it misjudges;
`daguerre eval restore --finish` measures whether it helps.
"""

from __future__ import annotations

import cv2
import numpy as np

LEVELS_CLIP = 0.5  # percent of pixels allowed to clip at each end of the range
LEVELS_MAX_GAIN = 1.6  # never stretch the range more than this
WHITE_BALANCE_MAX_GAIN = 1.25  # a channel gain stays within [1/x, x]
SHARPEN_AMOUNT = 0.35
SHARPEN_SIGMA = 1.0


def auto_levels(image: np.ndarray, clip_percent: float = LEVELS_CLIP) -> np.ndarray:
    """Stretch the luminance range so that ``clip_percent`` of pixels clip at each end.

    The same affine map is applied to every channel, so hues do not shift. When the gain is
    capped, the stretched range stays centred on the original one (kept inside [0, 1]), so a
    faded photo gains contrast without being pushed darker or lighter.
    """
    luma = image.mean(axis=-1)
    low, high = np.percentile(luma, [clip_percent, 100.0 - clip_percent])
    span = max(float(high - low), 1.0 / LEVELS_MAX_GAIN)
    low = float(np.clip((low + high - span) / 2.0, 0.0, 1.0 - span))
    return np.clip((image - low) / span, 0.0, 1.0).astype(np.float32)


def white_balance(image: np.ndarray, max_gain: float = WHITE_BALANCE_MAX_GAIN) -> np.ndarray:
    """Gray-world white balance on the mid-tones, with each channel's gain bounded.

    Gray images are returned unchanged.
    """
    if image.shape[-1] == 1:
        return image.copy()
    luma = image.mean(axis=-1)
    midtones = (luma > 0.15) & (luma < 0.85)
    pixels = image[midtones] if midtones.sum() > 64 else image.reshape(-1, image.shape[-1])
    means = pixels.mean(axis=0)
    gains = np.clip(means.mean() / np.maximum(means, 1e-6), 1.0 / max_gain, max_gain)
    return np.clip(image * gains.astype(np.float32), 0.0, 1.0).astype(np.float32)


def sharpen(
    image: np.ndarray, amount: float = SHARPEN_AMOUNT, sigma: float = SHARPEN_SIGMA
) -> np.ndarray:
    """Unsharp mask on the image: ``image + amount * (image - blur(image))``."""
    blurred = cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    blurred = blurred.reshape(image.shape)
    return np.clip(image + amount * (image - blurred), 0.0, 1.0).astype(np.float32)


def finish(image: np.ndarray) -> np.ndarray:
    """Auto levels, then white balance, then gentle sharpening."""
    return sharpen(white_balance(auto_levels(image)))
