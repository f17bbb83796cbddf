"""Uploads in, downloads out: the page's only contact with image files.

Every upload is decoded by :func:`daguerre.image.read`, so the page refuses what the command
line refuses (not an image, truncated, a decompression bomb) with the same words; results are
written at full resolution in the upload's format and bit depth.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import cv2
import numpy as np

from daguerre import image
from daguerre.color import preview, to_rgb

# the largest photo the page decodes: a 100 MP scan needs about 1.2 GB as float32 RGB, and the
# restore, style and age tabs may each hold one at a time
MAX_PIXELS = 100_000_000
# long side of the pictures the page shows (the downloads keep every pixel)
DISPLAY_SIDE = 1024
_SUFFIX_BY_FORMAT = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "BMP": ".bmp", "WEBP": ".webp"}


class UploadError(ValueError):
    """An upload the page cannot use; ``str(e)`` names the file as the user called it."""


def read_upload(path: str | Path) -> image.Image:
    """Decode an uploaded file; raise :class:`UploadError` naming it when that fails."""
    path = Path(path)
    try:
        return image.read(path, max_pixels=MAX_PIXELS)
    except image.ImageError as error:
        raise UploadError(f"{path.name}: {error.reason}") from error


def save_like(picture: image.Image, pixels: np.ndarray, folder: Path, tag: str) -> Path:
    """Write ``pixels`` as ``STEM_TAG`` in ``picture``'s format, bit depth, alpha and metadata.

    Each call gets a folder of its own inside ``folder``, so that two users who upload files
    of the same name never receive each other's result.
    """
    source = picture.path or Path("photo")
    suffix = source.suffix.lower()
    if suffix not in image.IMAGE_SUFFIXES:
        suffix = _SUFFIX_BY_FORMAT.get(picture.format, ".png")
    target = folder / uuid.uuid4().hex / f"{source.stem}_{tag}{suffix}"
    return image.write_like(target, picture, pixels)


def save_mask(mask: np.ndarray, beside: Path) -> Path:
    """Write a damage mask (H×W, 1 = damaged) as a PNG next to the result ``beside``."""
    return image.write(beside.with_name(f"{beside.stem}_mask.png"), mask[..., None])


def display(pixels: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """An 8-bit RGB picture to show: at most :data:`DISPLAY_SIDE` a side, or ``size`` (H, W)."""
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels
    small = preview(pixels, DISPLAY_SIDE)
    if size is not None and small.shape[:2] != size:
        small = cv2.resize(small, (size[1], size[0]), interpolation=cv2.INTER_AREA)
        small = small[..., None] if small.ndim == 2 else small
    return np.round(to_rgb(small).clip(0.0, 1.0) * 255).astype(np.uint8)
