"""Safe image I/O, and arrays to and from tensors (colour maths is in :mod:`daguerre.color`).

Inside the library an image is a float32 array H×W×C in [0, 1] with C = 1 (gray) or 3 (RGB);
:func:`read` delivers that (alpha split off, EXIF orientation applied, embedded ICC profiles
converted to sRGB) and :func:`write` stores it back atomically, keeping 16 bits, gray and alpha
wherever the file format can hold them. Every failure of either is an :class:`ImageError` that
names the file and the reason.

Routes: 8-bit files and 16-bit gray decode through Pillow; 16-bit colour PNG/TIFF decode through
OpenCV, because Pillow reduces those to 8 bits. Writing uses Pillow for 8 bits and OpenCV for 16.
"""

from __future__ import annotations

import io
import os
import secrets
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image as PILImage
from PIL import ImageCms, UnidentifiedImageError

from daguerre.color import as_pixels
from daguerre.metadata import Metadata, insert_png_chunks

if TYPE_CHECKING:
    import torch

DEFAULT_MAX_PIXELS = 300_000_000
MAX_PIXELS_ENV = "DAGUERRE_MAX_PIXELS"
_FORMAT_BY_SUFFIX = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".webp": "WEBP",
}
IMAGE_SUFFIXES: frozenset[str] = frozenset(_FORMAT_BY_SUFFIX)
_READ_FORMATS = ("JPEG", "PNG", "TIFF", "BMP", "WEBP")
_SIXTEEN_BIT_FORMATS = frozenset({"PNG", "TIFF"})
_ALPHA_FORMATS = frozenset({"PNG", "TIFF", "WEBP"})
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*")
_EXIF_ORIENTATION = 0x0112
_TIFF_BITS_PER_SAMPLE = 258
_TIFF_PHOTOMETRIC = 262
# EXIF orientation -> (flip rows, flip columns, then swap axes): the view that stands the photo up.
_ORIENTATIONS = {
    1: (False, False, False),
    2: (False, True, False),
    3: (True, True, False),
    4: (True, False, False),
    5: (False, False, True),
    6: (True, False, True),
    7: (True, True, True),
    8: (False, True, True),
}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# Nodes of the 3-D ICC table for 16-bit colour: 8-bit levels, dense in the shadows where
# tone curves bend most (53³ entries).
_LUT_LEVELS = np.array([*range(16), *range(16, 64, 4), *range(64, 256, 8), 255], dtype=np.uint8)
_LUT_CHUNK = 1 << 20  # pixels interpolated per step, bounds the temporary memory


class ImageError(Exception):
    """An image could not be read or written; ``str(e)`` is ``"{path}: {reason}"``."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass
class Image:
    """Pixels float32 H×W×C in [0, 1] (C = 1 or 3), alpha float32 H×W or None, provenance and
    the file's metadata (EXIF, resolution, ICC profile; the pixels are sRGB whatever it says)."""

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8
    format: str = "PNG"
    path: Path | None = None
    metadata: Metadata | None = None

    def __post_init__(self) -> None:
        if self.pixels.ndim != 3 or self.pixels.shape[2] not in (1, 3):
            raise ValueError(f"pixels must be H×W×1 or H×W×3, got shape {self.pixels.shape}")
        if self.alpha is not None and self.alpha.shape != self.pixels.shape[:2]:
            raise ValueError(f"alpha shape {self.alpha.shape} != pixels {self.pixels.shape[:2]}")
        if self.bit_depth not in (8, 16):
            raise ValueError(f"bit_depth must be 8 or 16, got {self.bit_depth}")


# --------------------------------------------------------------------------------------- reading


def read(path: Path | str, *, max_pixels: int | None = None) -> Image:
    """Decode an image file into an :class:`Image`.

    ``max_pixels`` (default: env ``DAGUERRE_MAX_PIXELS`` or 300 megapixels) is checked against
    the header before any pixel is decoded; it replaces Pillow's own decompression-bomb guard.
    """
    path = Path(path)
    limit = _pixel_limit(max_pixels)
    _check_readable(path)
    try:
        with _PILLOW_GUARD, open(path, "rb") as fh:
            head = fh.read(32)
            try:
                pil = PILImage.open(fh, formats=_READ_FORMATS)
            except UnidentifiedImageError:
                raise ImageError(path, _unidentified_reason(head)) from None
            except (OSError, SyntaxError, ValueError, EOFError) as error:
                raise ImageError(path, f"truncated or corrupt header ({error})") from error
            with pil:
                width, height = pil.size
                if width * height > limit:
                    raise ImageError(
                        path,
                        f"too large: {width}×{height} = {width * height:,} pixels exceeds "
                        f"the limit of {limit:,} (raise max_pixels or {MAX_PIXELS_ENV})",
                    )
                bits, gray = _sample_layout(pil, head)
                icc = pil.info.get("icc_profile") or None
                fmt = "JPEG" if pil.format == "MPO" else str(pil.format)
                if bits == 16 and pil.mode in ("RGB", "RGBA", "LA"):
                    fh.seek(0)
                    pixels, alpha = _decode_opencv(fh.read(), gray, icc, path)
                    bit_depth = 16
                else:
                    pixels, alpha, bit_depth = _decode_pillow(pil, icc, path)
                orientation = _exif_orientation(pil, path)
                metadata = Metadata.of(pil, swap_axes=_ORIENTATIONS[orientation][2])
                pages = getattr(pil, "n_frames", 1) if fmt == "TIFF" else 1
    except ImageError:
        raise
    except OSError as error:
        raise ImageError(path, f"cannot read ({error.strerror or error})") from error
    if pages > 1:
        warnings.warn(f"{path}: a TIFF of {pages} pages; only the first is read", stacklevel=2)
    return Image(
        pixels=_orient(pixels, orientation),
        alpha=None if alpha is None else _orient(alpha, orientation),
        bit_depth=bit_depth,
        format=fmt,
        path=path,
        metadata=metadata,
    )


def _unidentified_reason(head: bytes) -> str:
    """Why a file Pillow could not identify is refused, judged from its first bytes."""
    if head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR" and 0 in _png_size(head):
        width, height = _png_size(head)
        return f"a PNG whose header says {width}×{height} pixels: it holds no picture"
    if head.startswith(_TIFF_SIGNATURES):
        return (
            "a TIFF with a sample layout that cannot be read (floating-point or unusual "
            "samples?); save it as an 8- or 16-bit integer TIFF"
        )
    return "not a JPEG, PNG, TIFF, BMP or WebP image"


def _png_size(head: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _pixel_limit(max_pixels: int | None) -> int:
    """The pixel budget: the argument, else the environment variable, else the default."""
    if max_pixels is None:
        setting = os.environ.get(MAX_PIXELS_ENV, "").strip()
        if not setting:
            return DEFAULT_MAX_PIXELS
        try:
            max_pixels = int(setting)
        except ValueError:
            raise ValueError(f"{MAX_PIXELS_ENV} must be an integer, got {setting!r}") from None
    if max_pixels <= 0:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    return max_pixels


def _check_readable(path: Path) -> None:
    """Fail early, with a plain reason, on paths that cannot hold an image."""
    if not path.exists():
        raise ImageError(path, "file not found")
    if path.is_dir():
        raise ImageError(path, "is a directory, not an image file")
    if not path.is_file():
        raise ImageError(path, "not a regular file")
    if path.stat().st_size == 0:
        raise ImageError(path, "empty file")


class _PillowGuardSuspension:
    """Switches Pillow's global decompression-bomb guard off while any read is in flight.

    Our own header check (``max_pixels``) takes its place. Reference-counted so that
    concurrent reads neither serialise nor restore the setting under each other.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved: int | None = None

    def __enter__(self) -> None:
        with self._lock:
            if self._users == 0:
                self._saved = PILImage.MAX_IMAGE_PIXELS
                PILImage.MAX_IMAGE_PIXELS = None
            self._users += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                PILImage.MAX_IMAGE_PIXELS = self._saved


_PILLOW_GUARD = _PillowGuardSuspension()


def _exif_orientation(pil: PILImage.Image, path: Path) -> int:
    """EXIF orientation 1–8; a broken EXIF block or tag is a warning and counts as 1.

    TIFF keeps orientation among its own tags; the other formats carry an EXIF block, which
    Pillow puts in ``info`` (for PNG, blocks after the pixel data appear there once decoded).
    """
    raw = pil.info.get("exif") or b""
    try:
        if pil.format == "TIFF":
            exif = pil.getexif()
        else:
            exif = PILImage.Exif()
            if raw:
                exif.load(raw)
        orientation = exif.get(_EXIF_ORIENTATION, 1)
    except Exception as error:  # Pillow's EXIF parser raises many types on hostile data
        warnings.warn(f"{path}: unreadable EXIF block ignored ({error})", stacklevel=3)
        return 1
    if raw.removeprefix(b"Exif\x00\x00") and not exif:
        warnings.warn(f"{path}: unreadable EXIF block ignored", stacklevel=3)
        return 1
    if orientation not in _ORIENTATIONS:
        warnings.warn(f"{path}: invalid EXIF orientation {orientation!r} ignored", stacklevel=3)
        return 1
    return int(orientation)


def _sample_layout(pil: PILImage.Image, head: bytes) -> tuple[int, bool]:
    """(bits per sample in the file, whether the file stores gray) from the header."""
    if pil.format == "PNG" and head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR":
        return head[24], head[25] in (0, 4)  # PNG colour types 0 and 4 are gray (+alpha)
    if pil.format == "TIFF":
        tags = getattr(pil, "tag_v2", {})
        bits = tags.get(_TIFF_BITS_PER_SAMPLE, (8,))
        bits = max(bits) if isinstance(bits, tuple) else int(bits)
        return bits, tags.get(_TIFF_PHOTOMETRIC) in (0, 1)
    return 8, False


def _decode_pillow(
    pil: PILImage.Image, icc: bytes | None, path: Path
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Decode with Pillow: (pixels, alpha, bit depth) for every mode but 16-bit colour."""
    try:
        pil.load()
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageError(path, f"truncated or corrupt image data ({error})") from error
    mode = pil.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N") or (mode == "I" and _fits_16_bits(pil)):
        gray = _unit_floats(np.asarray(pil), 65535)[..., None]
        return _icc_to_srgb_array(gray, icc, path), None, 16
    pil = _normalize_mode(pil, path)
    alpha = None
    if pil.mode in ("LA", "RGBA"):
        alpha = _unit_floats(np.asarray(pil.getchannel("A")), 255)
        pil = pil.convert(pil.mode[:-1])
    if icc is not None:
        pil = _icc_to_srgb_image(pil, icc, path)
    if pil.mode == "CMYK":
        pil = pil.convert("RGB")
    pixels = _unit_floats(np.asarray(pil), 255)
    return (pixels[..., None] if pixels.ndim == 2 else pixels), alpha, 8


def _fits_16_bits(pil: PILImage.Image) -> bool:
    low, high = pil.getextrema()
    return low >= 0 and high <= 65535


def _normalize_mode(pil: PILImage.Image, path: Path) -> PILImage.Image:
    """Reduce Pillow's many modes to L, LA, RGB, RGBA or CMYK, turning transparency into alpha."""
    mode = pil.mode
    transparent = "transparency" in pil.info
    if mode == "1":
        return pil.convert("L")
    if mode in ("P", "PA"):
        palette_alpha = pil.palette is not None and pil.palette.mode == "RGBA"
        has_alpha = transparent or mode == "PA" or palette_alpha
        return pil.convert("RGBA" if has_alpha else "RGB")
    if mode in ("L", "RGB") and transparent:
        return pil.convert("RGBA" if mode == "RGB" else "LA")
    if mode in ("La", "RGBa"):
        return pil.convert(mode.upper())
    if mode in ("YCbCr", "HSV"):
        return pil.convert("RGB")
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return pil
    raise ImageError(path, f"unsupported pixel mode {mode!r}")


def _unit_floats(array: np.ndarray, peak: int) -> np.ndarray:
    """Integer samples as float32 in [0, 1], with no second full-size copy."""
    out = array.astype(np.float32)
    out /= np.float32(peak)
    return out


def _decode_opencv(
    data: bytes, gray: bool, icc: bytes | None, path: Path
) -> tuple[np.ndarray, np.ndarray | None]:
    """Decode 16-bit colour (or gray+alpha) PNG/TIFF through OpenCV, which keeps all 16 bits."""
    try:
        array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        raise ImageError(path, f"corrupt 16-bit image data ({error})") from error
    if array is None or array.dtype != np.uint16:
        raise ImageError(path, "truncated or corrupt 16-bit image data")
    array = _unit_floats(array, 65535)
    if array.ndim == 2:
        array = array[..., None]
    channels = array.shape[2]
    alpha = array[..., -1].copy() if channels in (2, 4) else None
    pixels = array[..., :1] if gray or channels == 2 else array[..., 2::-1]
    return _icc_to_srgb_array(np.ascontiguousarray(pixels), icc, path), alpha


def _orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation to an H×W or H×W×C array."""
    flip_rows, flip_cols, swap = _ORIENTATIONS[orientation]
    if flip_rows:
        array = array[::-1]
    if flip_cols:
        array = array[:, ::-1]
    if swap:
        array = np.swapaxes(array, 0, 1)
    return np.ascontiguousarray(array)


# ------------------------------------------------------------------------------ colour management


def _icc_transform(
    icc: bytes, in_mode: str, path: Path, *, from_srgb: bool = False
) -> ImageCms.ImageCmsTransform | None:
    """A transform from the embedded profile to sRGB (RGB out), or with ``from_srgb`` from
    sRGB (RGB in) to the profile; None for sRGB or unusable profiles."""
    # lcms's optimised gray->RGB path is coarse in the shadows (errors of several levels).
    precision = ImageCms.Flags.NOOPTIMIZE if in_mode == "L" else ImageCms.Flags.HIGHRESPRECALC
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(profile).lower().replace(" ", ""):
            return None
        ends = (_SRGB, profile) if from_srgb else (profile, _SRGB)
        return ImageCms.buildTransform(
            *ends,
            "RGB" if from_srgb else in_mode,
            in_mode if from_srgb else "RGB",
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
            flags=ImageCms.Flags.BLACKPOINTCOMPENSATION | precision,
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as error:
        warnings.warn(f"{path}: embedded ICC profile ignored ({error})", stacklevel=5)
        return None


def _gray_table(transform: ImageCms.ImageCmsTransform) -> np.ndarray:
    """The sRGB value in [0, 1] of each of the 256 gray levels."""
    ramp = PILImage.fromarray(np.arange(256, dtype=np.uint8)[None])
    rgb = np.asarray(ImageCms.applyTransform(ramp, transform), dtype=np.float32)
    return rgb[0].mean(axis=1) / 255.0


def _icc_to_srgb_image(pil: PILImage.Image, icc: bytes, path: Path) -> PILImage.Image:
    """Convert an 8-bit L, RGB or CMYK image from its embedded profile to sRGB (L stays L)."""
    transform = _icc_transform(icc, pil.mode, path)
    if transform is None:
        return pil
    if pil.mode == "L":
        return pil.point(np.rint(_gray_table(transform) * 255).astype(int).tolist())
    return ImageCms.applyTransform(pil, transform)


def _icc_to_srgb_array(pixels: np.ndarray, icc: bytes | None, path: Path) -> np.ndarray:
    """Convert 16-bit float pixels (1 or 3 channels) from their embedded profile to sRGB.

    Pillow's colour engine works on 8-bit images only, so the transform is sampled on an 8-bit
    grid (every gray level, or 53³ RGB nodes) and interpolated, which keeps gradients smooth.
    """
    if icc is None:
        return pixels
    gray = pixels.shape[2] == 1
    transform = _icc_transform(icc, "L" if gray else "RGB", path)
    if transform is None:
        return pixels
    if gray:
        levels = np.linspace(0.0, 1.0, 256)
        return np.interp(pixels, levels, _gray_table(transform)).astype(np.float32)
    return _apply_lut3d(pixels, _rgb_table(transform), _LUT_LEVELS)


def _rgb_table(transform: ImageCms.ImageCmsTransform) -> np.ndarray:
    """The RGB transform sampled on the 53³ nodes of ``_LUT_LEVELS``, in [0, 1]."""
    n = len(_LUT_LEVELS)
    grid = np.stack(np.meshgrid(_LUT_LEVELS, _LUT_LEVELS, _LUT_LEVELS, indexing="ij"), axis=-1)
    flat = PILImage.fromarray(grid.reshape(1, -1, 3))
    table = np.asarray(ImageCms.applyTransform(flat, transform), np.float32) / 255.0
    return table.reshape(n, n, n, 3)


def _srgb_to_icc_array(pixels: np.ndarray, icc: bytes, path: Path) -> np.ndarray | None:
    """sRGB pixels (1 or 3 channels) converted into the profile ``icc`` for a file that embeds
    it: unchanged for an sRGB profile, None for one of another kind (CMYK, or gray for colour)."""
    gray = pixels.shape[2] == 1
    try:
        space = ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile.xcolor_space.strip()
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    if space != ("GRAY" if gray else "RGB"):
        return None
    transform = _icc_transform(icc, "L" if gray else "RGB", path, from_srgb=not gray)
    if transform is None:
        return pixels
    if gray:  # the inverse of the gray table read() applies (it rises with the level)
        table = _gray_table(transform)
        return np.interp(pixels, table, np.linspace(0.0, 1.0, 256)).astype(np.float32)
    return _apply_lut3d(pixels, _rgb_table(transform), _LUT_LEVELS)


def _apply_lut3d(rgb: np.ndarray, lut: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Trilinear lookup of H×W×3 values in [0, 1] in a table whose nodes sit on 8-bit ``levels``."""
    n = len(levels)
    nodes = levels / np.float32(255.0)
    # The node at or below each 8-bit level: exact, because every node is an 8-bit level.
    node_below = np.clip(np.searchsorted(levels, np.arange(256), side="right") - 1, 0, n - 2)
    table = lut.reshape(-1, 3)
    flat = rgb.reshape(-1, 3)
    out = np.empty_like(flat)
    for start in range(0, len(flat), _LUT_CHUNK):
        value = np.clip(flat[start : start + _LUT_CHUNK], 0.0, 1.0)
        index = node_below[(value * 255).astype(np.intp)]
        high = (value - nodes[index]) / (nodes[index + 1] - nodes[index])
        weights = (1.0 - high, high)
        base = (index[:, 0] * n + index[:, 1]) * n + index[:, 2]
        acc = np.zeros_like(value)
        for r, g, b in product((0, 1), repeat=3):
            weight = weights[r][:, 0] * weights[g][:, 1] * weights[b][:, 2]
            acc += weight[:, None] * np.take(table, base + (r * n * n + g * n + b), axis=0)
        out[start : start + _LUT_CHUNK] = acc
    return out.reshape(rgb.shape)


# --------------------------------------------------------------------------------------- writing


def write(
    path: Path | str,
    image: Image | np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    bit_depth: int | None = None,
    quality: int = 95,
    metadata: Metadata | None = None,
    protect: Iterable[Path | str] = (),
) -> Path:
    """Write pixels atomically, in the format the suffix names; return the path written.

    ``bit_depth`` (default: the image's own, else 8) is kept where the format allows 16 bits
    (PNG, TIFF). Alpha is kept in PNG, TIFF and WebP; JPEG and BMP get it composited over white,
    with a warning. ``metadata`` (default: an :class:`Image`'s own) is kept as far as the format
    holds it; with an ICC profile other than sRGB the pixels are converted into it. ``protect``
    (plus an :class:`Image`'s own ``path``) lists files that must never be overwritten. Parent
    folders are created.
    """
    path = Path(path)
    fmt = _FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(IMAGE_SUFFIXES))
        raise ImageError(path, f"unknown image suffix {path.suffix!r} (use one of {known})")
    protected = [Path(p) for p in protect]
    if isinstance(image, Image):
        alpha = image.alpha if alpha is None else alpha
        bit_depth = image.bit_depth if bit_depth is None else bit_depth
        metadata = image.metadata if metadata is None else metadata
        if image.path is not None:
            protected.append(image.path)
        pixels = image.pixels
    else:
        pixels = image
    pixels, alpha = _checked_arrays(path, pixels, alpha)
    if bit_depth not in (None, 8, 16):
        raise ImageError(path, f"bit depth must be 8 or 16, got {bit_depth}")
    if not 1 <= quality <= 100:
        raise ImageError(path, f"quality must be in 1..100, got {quality}")
    _refuse_overwrite(path, protected)
    if path.is_dir():
        raise ImageError(path, "is a directory")
    if alpha is not None and fmt not in _ALPHA_FORMATS:
        warnings.warn(f"{path}: {fmt} has no alpha channel; composited over white", stacklevel=2)
        coverage = np.clip(alpha, 0.0, 1.0)[..., None]
        pixels = pixels * coverage + (1.0 - coverage)
        alpha = None
    sixteen = bit_depth == 16 and fmt in _SIXTEEN_BIT_FORMATS
    if metadata is not None:
        pixels, metadata = _into_profile(path, fmt, pixels, metadata)
    if sixteen:
        _atomic_write(path, _encode_16(path, fmt, pixels, alpha, metadata))
    else:
        _atomic_write(path, _encode_8(fmt, pixels, alpha, quality, metadata))
    return path


def write_like(
    path: Path | str,
    original: Image,
    pixels: np.ndarray,
    *,
    keep_metadata: bool = True,
    quality: int = 95,
) -> Path:
    """Write ``pixels`` (a result made from ``original``, maybe resized) as ``original`` was:
    its bit depth, its alpha resized to fit, and (``keep_metadata``) its metadata with the
    resolution scaled; ``original``'s own file is never overwritten."""
    alpha = original.alpha
    if alpha is not None and alpha.shape != pixels.shape[:2]:
        size = (pixels.shape[1], pixels.shape[0])
        alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA).clip(0.0, 1.0)
    metadata = None
    if keep_metadata and original.metadata is not None:
        metadata = original.metadata.scaled(pixels.shape[1] / original.pixels.shape[1])
    return write(
        path,
        pixels,
        alpha=alpha,
        bit_depth=original.bit_depth,
        quality=quality,
        metadata=metadata,
        protect=[original.path] if original.path else [],
    )


def _into_profile(
    path: Path, fmt: str, pixels: np.ndarray, metadata: Metadata
) -> tuple[np.ndarray, Metadata]:
    """Pixels in the metadata's ICC profile; a profile the format cannot hold (BMP) or the
    pixels cannot go into is dropped, and the pixels stay sRGB."""
    converted = None
    if metadata.icc and fmt != "BMP":
        converted = _srgb_to_icc_array(pixels, metadata.icc, path)
    if converted is None:
        return pixels, replace(metadata, icc=None)
    return converted, metadata


def _checked_arrays(
    path: Path, pixels: np.ndarray, alpha: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate shapes and values; a 2-D array counts as gray."""
    pixels = np.asarray(pixels)
    if not np.issubdtype(pixels.dtype, np.floating):
        raise ImageError(path, f"pixels must be floats in [0, 1], got {pixels.dtype}")
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 3) or 0 in pixels.shape:
        raise ImageError(path, f"cannot write pixels of shape {pixels.shape} (need H×W×1 or H×W×3)")
    if alpha is not None:
        alpha = np.asarray(alpha)
        if not np.issubdtype(alpha.dtype, np.floating):
            raise ImageError(path, f"alpha must be floats in [0, 1], got {alpha.dtype}")
        if alpha.shape != pixels.shape[:2]:
            raise ImageError(path, f"alpha shape {alpha.shape} does not match {pixels.shape[:2]}")
    for name, array in (("pixels", pixels), ("alpha", alpha)):
        if array is not None and not np.isfinite(array).all():
            raise ImageError(path, f"{name} contain NaN or infinity")
    return pixels, alpha


def _quantize(array: np.ndarray, depth: int, rows: int = 256) -> np.ndarray:
    """Round (not truncate) [0, 1] floats to 8- or 16-bit integers, ``rows`` at a time (the
    float scratch of a 100-megapixel scan would otherwise be several gigabytes)."""
    peak, dtype = (65535, np.uint16) if depth == 16 else (255, np.uint8)
    out = np.empty(array.shape, dtype)
    for top in range(0, array.shape[0], rows):
        block = np.clip(array[top : top + rows], 0.0, 1.0) * np.float32(peak)
        out[top : top + rows] = np.rint(block, out=block)
    return out


def _encode_8(
    fmt: str,
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    quality: int,
    metadata: Metadata | None,
) -> bytes:
    """Encode through Pillow (L, LA, RGB or RGBA)."""
    planes = [_quantize(pixels, 8)]
    if alpha is not None:
        planes.append(_quantize(alpha, 8)[..., None])
    array = np.concatenate(planes, axis=2)
    if fmt == "WEBP" and pixels.shape[2] == 1:  # WebP stores colour only
        array = np.concatenate([array[..., :1]] * 3 + [array[..., 1:]], axis=2)
    pil = PILImage.fromarray(array[..., 0] if array.shape[2] == 1 else array)
    options: dict[str, object] = {
        "JPEG": {"quality": quality, "subsampling": 0},
        "WEBP": {"quality": quality},
        "TIFF": {"compression": "tiff_adobe_deflate"},
    }.get(fmt, {})
    if metadata is not None:
        options.update(metadata.pillow_options(fmt))
    buffer = io.BytesIO()
    pil.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _encode_16(
    path: Path, fmt: str, pixels: np.ndarray, alpha: np.ndarray | None, metadata: Metadata | None
) -> bytes:
    """Encode 16-bit PNG/TIFF through OpenCV (channels in BGR(A) order); metadata goes into a
    PNG as chunks, and a TIFF that has any is written by tifffile instead."""
    array = _quantize(pixels, 16)
    if alpha is not None:
        if array.shape[2] == 1:
            warnings.warn(f"{path}: 16-bit gray+alpha is stored as RGBA", stacklevel=3)
            array = np.repeat(array, 3, axis=2)
        array = np.concatenate([array, _quantize(alpha, 16)[..., None]], axis=2)
    if metadata is not None and fmt == "TIFF":
        return _tiff_16(array, metadata)
    if array.shape[2] >= 3:
        array = array[..., [2, 1, 0, 3][: array.shape[2]]]
    suffix, params = (
        (".png", [cv2.IMWRITE_PNG_COMPRESSION, 6])
        if fmt == "PNG"
        else (".tif", [cv2.IMWRITE_TIFF_COMPRESSION, cv2.IMWRITE_TIFF_COMPRESSION_ADOBE_DEFLATE])
    )
    ok, encoded = cv2.imencode(suffix, np.ascontiguousarray(array), params)
    if not ok:
        raise ImageError(path, f"OpenCV could not encode a 16-bit {fmt}")
    if metadata is not None and fmt == "PNG":
        return insert_png_chunks(encoded.tobytes(), metadata.png_chunks())
    return encoded.tobytes()


def _tiff_16(array: np.ndarray, metadata: Metadata) -> bytes:
    """A deflate-compressed 16-bit TIFF of RGB(A) or gray ``array`` with its metadata, through
    tifffile (OpenCV cannot write a profile or EXIF tags)."""
    import tifffile

    buffer = io.BytesIO()
    channels = array.shape[2]
    tifffile.imwrite(
        buffer,
        array if channels > 1 else array[..., 0],
        photometric="rgb" if channels >= 3 else "minisblack",
        extrasamples=("unassalpha",) if channels in (2, 4) else None,
        compression="zlib",
        predictor=True,
        **metadata.tiff_options(),
    )
    return buffer.getvalue()


def _refuse_overwrite(path: Path, protected: Iterable[Path]) -> None:
    """Raise if ``path`` is (or resolves to) one of the protected input files."""
    target = path.resolve()
    for other in protected:
        same = target == other.resolve()
        if not same and path.exists() and other.exists():
            same = os.path.samefile(path, other)
        if same:
            raise ImageError(path, f"refusing to overwrite the input file {other}")


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        with os.fdopen(os.open(temporary, flags, 0o666), "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ImageError(path, f"cannot write ({error.strerror or error})") from error


# ------------------------------------------------------------------------------------- discovery


def find_images(inputs: Iterable[Path | str] | Path | str, recursive: bool = False) -> list[Path]:
    """Expand folders into their image files (sorted; hidden files skipped); keep files as given.

    A file named explicitly is kept whatever its suffix, so that :func:`read` can report it;
    a single path may be passed instead of an iterable; duplicates are dropped. A path that
    does not exist is an :class:`ImageError`.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    found: list[Path] = []
    for given in map(Path, inputs):
        if given.is_dir():
            found.extend(_images_in(given, recursive))
        elif given.exists():
            found.append(given)
        else:
            raise ImageError(given, "no such file or folder")
    return list(dict.fromkeys(found))


def _images_in(folder: Path, recursive: bool) -> list[Path]:
    return scan_folder(folder, recursive)[0]


def scan_folder(folder: Path, recursive: bool = False) -> tuple[list[Path], list[Path]]:
    """(image files, other files) of ``folder``, each sorted; hidden files and folders are left
    out of both."""
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    images: list[Path] = []
    others: list[Path] = []
    for path in candidates:
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.is_file():
            (images if path.suffix.lower() in IMAGE_SUFFIXES else others).append(path)
    return sorted(images), sorted(others)


# --------------------------------------------------------------------------------- array helpers


def to_tensor(array: np.ndarray) -> torch.Tensor:
    """H×W×C array -> float32 tensor 1×C×H×W, possibly sharing memory with ``array``.

    torch is imported here, not at module level, so that plain I/O never loads it.
    """
    import torch

    return torch.from_numpy(np.ascontiguousarray(as_pixels(array).transpose(2, 0, 1)))[None]


def from_tensor(tensor: torch.Tensor) -> np.ndarray:
    """1×C×H×W or C×H×W tensor -> float32 H×W×C array clipped to [0, 1]."""
    import torch

    if tensor.ndim == 4:
        if tensor.shape[0] != 1:
            raise ValueError(f"expected a batch of one image, got {tensor.shape[0]}")
        tensor = tensor[0]
    if tensor.ndim != 3:
        raise ValueError(f"expected a C×H×W or 1×C×H×W tensor, got shape {tuple(tensor.shape)}")
    with torch.no_grad():
        array = tensor.detach().to("cpu", torch.float32).clamp(0.0, 1.0).numpy()
    return np.ascontiguousarray(array.transpose(1, 2, 0))
