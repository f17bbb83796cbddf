"""Paste restored, aligned faces back into the photo without a seam or a halo.

Each face crop goes back through the inverse of its :class:`~daguerre.faces.align.FaceTransform`
and is blended with a feathered ellipse over the face (:func:`face_mask`). Before blending, its
low frequencies are replaced by the photo's (in CIE Lab for colour photos, on the gray level
for gray ones): the difference of the two images' masked Gaussian means, ``color_sigma`` of the
crop's side wide, is added to the face, so its overall tone and colour follow the surrounding
photo while its detail is the restorer's. Overlapping faces blend order-independently: the
coverage is ``1 - Π(1 - mᵢ)`` and the colour the mask-weighted mean of the faces. Gray photos
(one channel, or three equal ones) stay gray. NumPy and OpenCV only.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from daguerre.color import as_pixels, lab_to_rgb, luma, rgb_to_lab
from daguerre.faces.align import TEMPLATE, FaceTransform
from daguerre.faces.types import FaceError

# The ellipse over the face in units of the crop's side: centred between the eyes and the
# mouth, wide enough for the cheeks and tall enough for brow to chin on the FFHQ template.
MASK_CENTER = (0.5, float((TEMPLATE[[0, 1], 1].mean() + TEMPLATE[[3, 4], 1].mean()) / 2))
MASK_AXES = (0.34, 0.42)
FEATHER = 0.35  # the soft border's width, as a fraction of the ellipse's radii (inside it)
COLOR_SIGMA = 0.12  # low frequencies matched to the photo, in crop sides
GRAY_TOLERANCE = 1.0 / 255


def face_mask(
    size: int,
    center: tuple[float, float] = MASK_CENTER,
    axes: tuple[float, float] = MASK_AXES,
    feather: float = FEATHER,
) -> np.ndarray:
    """A size×size float32 mask: 1 inside the ellipse shrunk by ``feather``, 0 outside the
    ellipse (``center`` and ``axes`` in units of the side), a smoothstep between."""
    if not 0 < feather < 1:
        raise ValueError(f"feather must be in (0, 1), got {feather}")
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size
    dx = (coords[None, :] - center[0]) / axes[0]
    dy = (coords[:, None] - center[1]) / axes[1]
    radius = np.sqrt(dx**2 + dy**2)
    t = np.clip((1.0 - radius) / feather, 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def is_gray(image: np.ndarray) -> bool:
    """One channel, or three that differ by at most one 8-bit level."""
    pixels = as_pixels(image)
    if pixels.shape[2] == 1:
        return True
    return float(np.ptp(pixels, axis=2).max(initial=0.0)) <= GRAY_TOLERANCE


def _region(transform: FaceTransform, shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The photo rectangle (left, top, right, bottom) the crop covers, clipped; None if none."""
    size = transform.size
    corners = np.array(
        [[-0.5, -0.5], [size - 0.5, -0.5], [-0.5, size - 0.5], [size - 0.5, size - 0.5]]
    )
    photo = transform.to_photo(corners)
    left, top = np.floor(photo.min(0)).astype(int) - 1
    right, bottom = np.ceil(photo.max(0)).astype(int) + 2
    left, top = max(0, left), max(0, top)
    right, bottom = min(shape[1], right), min(shape[0], bottom)
    if right <= left or bottom <= top:
        return None
    return int(left), int(top), int(right), int(bottom)


def _masked_mean(values: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian mean of ``values`` (H×W×C) weighted by ``weight`` (H×W)."""
    blur_w = cv2.GaussianBlur(weight, (0, 0), sigma)[..., None]
    blurred = cv2.GaussianBlur(values * weight[..., None], (0, 0), sigma)
    blurred = blurred.reshape(values.shape)
    return blurred / np.maximum(blur_w, 1e-6)


def _to_working(pixels: np.ndarray, gray: bool) -> np.ndarray:
    """Gray level (H×W×1) for gray photos, Lab otherwise."""
    return luma(pixels)[..., None] if gray else rgb_to_lab(pixels)


def paste(
    image: np.ndarray,
    crops: Sequence[np.ndarray],
    transforms: Sequence[FaceTransform],
    *,
    match_color: bool = True,
    color_sigma: float = COLOR_SIGMA,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """``image`` with each aligned face of ``crops`` pasted back through its transform.

    ``image``: float32 H×W or H×W×C (C = 1 or 3) in [0, 1]; the result has its shape and is a
    new array. ``crops``: size×size(×C) float32 faces (a colour crop on a gray photo is taken as
    its gray level). ``mask``: the blending mask in crop pixels (default :func:`face_mask`).
    Pixels outside every face's mask are returned unchanged, bit for bit.
    """
    if len(crops) != len(transforms):
        raise FaceError(f"{len(crops)} crops but {len(transforms)} transforms")
    pixels = as_pixels(image)
    gray = is_gray(pixels)
    height, width = pixels.shape[:2]
    out = pixels.copy()
    if not crops:
        return out.reshape(np.shape(image))
    work = _to_working(pixels, gray)
    numerator = np.zeros(work.shape, np.float32)
    weights = np.zeros((height, width), np.float32)
    uncovered = np.ones((height, width), np.float32)
    for crop, transform in zip(crops, transforms, strict=True):
        crop = as_pixels(crop)
        size = transform.size
        if crop.shape[:2] != (size, size):
            raise FaceError(
                f"a crop is {crop.shape[1]}×{crop.shape[0]}, its transform is for {size}²"
            )
        weight = mask if mask is not None else face_mask(size)
        if weight.shape != (size, size):
            raise FaceError(f"the mask is {weight.shape}, the crops {size}×{size}")
        region = _region(transform, (height, width))
        if region is None:
            continue
        left, top, right, bottom = region
        inverse = transform.inverse.copy()
        inverse[:, 2] -= (left, top)
        dsize = (right - left, bottom - top)
        face = cv2.warpAffine(
            np.ascontiguousarray(_to_working(crop, gray)),
            inverse,
            dsize,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        ).reshape(dsize[1], dsize[0], work.shape[2])
        alpha = cv2.warpAffine(
            weight.astype(np.float32), inverse, dsize, flags=cv2.INTER_LINEAR, borderValue=0.0
        )
        alpha = np.clip(alpha, 0.0, 1.0)
        if match_color:
            sigma = max(1.0, color_sigma * size / transform.scale)
            support = (alpha > 0).astype(np.float32)
            here = work[top:bottom, left:right]
            face = face + _masked_mean(here, support, sigma) - _masked_mean(face, support, sigma)
        numerator[top:bottom, left:right] += face * alpha[..., None]
        weights[top:bottom, left:right] += alpha
        uncovered[top:bottom, left:right] *= 1.0 - alpha
    covered = weights > 0
    if not covered.any():
        return out.reshape(np.shape(image))
    blend = numerator[covered] / weights[covered][:, None]
    coverage = (1.0 - uncovered[covered])[:, None]
    mixed = work[covered] + coverage * (blend - work[covered])
    if gray:
        values = np.clip(mixed, 0.0, 1.0)
        out[covered] = np.repeat(values, pixels.shape[2], axis=1)
    else:
        out[covered] = lab_to_rgb(mixed[None])[0]
    return out.reshape(np.shape(image))
