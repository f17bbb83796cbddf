"""Unstructured aging ops: tone and colour, softness, noise and grain, compression and print.

Every op is ``op(image, rng, **params) -> image`` with keyword-only parameters:

* ``image`` is float32 H×W×C in [0, 1], C = 1 (gray) or 3 (RGB); the result has the same shape
  and dtype, clipped to [0, 1]. The input is never modified.
* ``rng`` (``np.random.Generator``) is the only source of randomness.
* Sizes are in pixels. Blur kernels never reach past the picture's longer side, so tiny
  pictures get small kernels; any size down to 1×1 works.
* A parameter left as ``None`` is drawn from the module-level constant its docstring names:
  a ``(low, high)`` pair of floats is drawn uniformly, a pair of ints uniformly with both ends
  included, a tuple of names by uniform choice.

Gray and black-and-white pictures:

* The colour casts ``yellowing`` and ``sepia`` on gray H×W×1 input return the luminance of the
  cast picture: the image stays gray and keeps only the cast's change of brightness.
* ``dye_fade`` returns neutral pictures (gray, or RGB with equal channels) unchanged: a
  black-and-white print has no dyes to fade.
* Ops that could colour a neutral picture (the noises, grain, halftone) take ``mono``. Left as
  ``None`` it is true for neutral input; on colour input the noises draw it with probability
  ``MONO_P`` and halftone uses one screen per channel.
"""

from __future__ import annotations

import inspect
import math
import statistics
from collections.abc import Callable, Sequence
from functools import cache
from typing import TypeVar

import cv2
import numpy as np

from daguerre.color import REC601_LUMA

Op = Callable[..., np.ndarray]
T = TypeVar("T")

NEUTRAL_TOL = 2 / 255  # largest channel spread of a picture counted as black-and-white
MONO_P = 0.5  # probability of monochrome noise on a colour picture

# Tone and colour.
FADE_AMOUNT = (0.1, 0.45)  # fraction of contrast lost around the mean
FADE_BLACK = (0.02, 0.15)  # black level the darkest tones rise to
YELLOWING_AMOUNT = (0.15, 0.7)
YELLOWING_TINT = (1.0, 0.93, 0.66)  # RGB gain of fully yellowed paper
SEPIA_AMOUNT = (0.5, 1.0)
SEPIA_TINT = (1.0, 0.84, 0.62)  # colour of sepia tone (scaled to unit luminance below)
DYE_CYAN = (0.1, 0.6)  # fraction of each dye's density lost; cyan fades fastest
DYE_MAGENTA = (0.0, 0.25)
DYE_YELLOW = (0.0, 0.35)
EXPOSURE_STOPS = (0.1, 0.5)  # standard deviation of the gain field, in stops
EXPOSURE_CELLS = (2, 5)  # nodes of the gain field along the longer side
VIGNETTE_STRENGTH = (0.2, 0.6)  # darkening at the corners
VIGNETTE_POWER = (1.5, 3.5)  # falloff exponent; larger keeps the centre clear
VIGNETTE_SHIFT = (-0.15, 0.15)  # offset of the optical centre, fraction of the size

# Softness.
BLUR_SIGMA = (0.4, 2.0)  # sigma of the major axis, in pixels
BLUR_RATIO = (0.3, 1.0)  # minor / major sigma; 1 is isotropic
ANGLE = (0.0, 180.0)  # orientation of blur kernels, degrees counter-clockwise from x
DEFOCUS_RADIUS = (1.0, 4.0)
MOTION_LENGTH = (3.0, 11.0)
RESAMPLE_SCALE = (0.25, 0.85)
RESAMPLE_DOWN = ("area", "linear", "cubic", "nearest")
RESAMPLE_UP = ("linear", "cubic", "lanczos")
SMALL_SCALE = (0.125, 0.6)  # a small copy's side against the picture's
SMALL_NOISE = (0.0, 0.05)  # noise sigma added to the small copy

# Noise, grain, compression, print.
GAUSSIAN_SIGMA = (0.01, 0.06)
POISSON_LOG10_PEAK = (1.5, 3.0)  # photons collected at white, as a power of ten
SPECKLE_SIGMA = (0.02, 0.12)
SALT_PEPPER_AMOUNT = (0.001, 0.02)  # fraction of pixels hit
SALT_RATIO = (0.3, 0.7)  # fraction of hit pixels set to white
GRAIN_STRENGTH = (0.02, 0.08)  # standard deviation of grain in midtones
GRAIN_SIZE = (0.4, 1.2)  # sigma of the grain clumps, in pixels
GRAIN_CHROMA = (0.0, 0.3)  # share of independent per-channel grain in colour pictures
GRAIN_FLOOR = 0.15  # grain weight left at pure black and white (midtones weigh 1)
JPEG_QUALITY = (30, 90)
HALFTONE_CELL = (3.0, 8.0)  # screen period in pixels
HALFTONE_ANGLE = (0.0, 90.0)  # screen angle of the black (or only) plate, degrees
HALFTONE_AMOUNT = (0.5, 1.0)  # share of the screened picture left after scanning
HALFTONE_PLATE_ANGLES = (-30.0, 30.0, 45.0)  # cyan, magenta, yellow plates vs. black (R, G, B)
PAPER_STRENGTH = (0.02, 0.08)  # standard deviation of the paper's relative gain
PAPER_FIBRE = (0.6, 1.5)  # sigma across the fibres, in pixels (3× along them)

_SEPIA = (np.array(SEPIA_TINT) / np.dot(SEPIA_TINT, REC601_LUMA)).astype(np.float32)
_INTERPOLATIONS = {
    "nearest": cv2.INTER_NEAREST,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
    "lanczos": cv2.INTER_LANCZOS4,
}
_SMOOTH_GRID = 64  # smooth fields (vignette) are computed on at most this many nodes per side


# --------------------------------------------------------------------------- helpers


def check_image(image: np.ndarray) -> np.ndarray:
    """Validate a picture (H×W×1 or H×W×3, float) and return it as float32 (no copy if it is)."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] not in (1, 3):
        shape = getattr(image, "shape", None)
        raise ValueError(f"expected an H×W×1 or H×W×3 array, got shape {shape}")
    if not np.issubdtype(image.dtype, np.floating):
        raise TypeError(f"expected float pixels in [0, 1], got dtype {image.dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"empty image of shape {image.shape}")
    return image.astype(np.float32, copy=False)


def _done(out: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Restore the channel axis OpenCV drops on single-channel input and clip to [0, 1]."""
    out = out.reshape(shape).astype(np.float32, copy=False)
    return np.clip(out, 0.0, 1.0, out=out)


def _draw(rng: np.random.Generator, value: T | None, bounds: tuple[T, T]) -> T:
    """``value`` if given, else a uniform draw from ``bounds`` (ints inclusive)."""
    if value is not None:
        return value
    low, high = bounds
    if isinstance(low, int) and isinstance(high, int):
        return int(rng.integers(low, high + 1))
    return float(rng.uniform(low, high))


def _choose(rng: np.random.Generator, value: str | None, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))] if value is None else value


def _mono(rng: np.random.Generator, value: bool | None, image: np.ndarray, p: float) -> bool:
    if value is not None:
        return bool(value)
    return is_neutral(image) or bool(rng.random() < p)


def _interpolation(name: str) -> int:
    try:
        return _INTERPOLATIONS[name]
    except KeyError:
        options = sorted(_INTERPOLATIONS)
        raise ValueError(f"unknown interpolation {name!r}; use one of {options}") from None


def _grid_shape(h: int, w: int, long_side: int) -> tuple[int, int]:
    """Node counts of a coarse grid with ``long_side`` nodes along the longer image side."""
    long_side = max(2, long_side)
    if h >= w:
        return long_side, max(2, round(long_side * w / h))
    return max(2, round(long_side * h / w)), long_side


@cache
def _normal_table() -> np.ndarray:
    """The 65 536 mid-quantiles of the standard normal, rescaled to unit variance."""
    quantiles = np.arange(65536, dtype=np.float64) + 0.5
    inverse = statistics.NormalDist().inv_cdf
    table = np.array([inverse(q / 65536) for q in quantiles])
    return (table / table.std()).astype(np.float32)


def _normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal noise by inverse-CDF lookup of 16-bit uniform integers.

    Several times faster than ``rng.standard_normal``; the samples take 65 536 levels and the
    tails stop at ±4.3 sigma, which no image noise can tell apart.
    """
    return _normal_table()[rng.integers(0, 65536, shape, dtype=np.uint16)]


def _gaussian_1d(sigma: float) -> np.ndarray:
    """Normalised 1-D Gaussian kernel reaching 3 sigma (at least 3 taps)."""
    return cv2.getGaussianKernel(2 * max(1, math.ceil(3 * sigma)) + 1, sigma, cv2.CV_32F)


def _unit_noise(
    rng: np.random.Generator, shape: tuple[int, ...], sigma_x: float, sigma_y: float | None = None
) -> np.ndarray:
    """White noise blurred along W (``sigma_x``) and H (``sigma_y``), rescaled to unit std."""
    kx = _gaussian_1d(sigma_x)
    ky = kx if sigma_y is None else _gaussian_1d(sigma_y)
    noise = _normal(rng, shape)
    cv2.sepFilter2D(noise, -1, kx, ky, dst=noise, borderType=cv2.BORDER_REFLECT)
    # The 2-D kernel is the outer product kx ky^T, whose L2 norm is |kx| |ky|.
    noise *= np.float32(1.0 / math.sqrt(float(np.sum(kx**2) * np.sum(ky**2))))
    return noise


def _noise_field(rng: np.random.Generator, image: np.ndarray, mono: bool) -> np.ndarray:
    """Standard normal noise shaped like ``image``; with ``mono`` one field for all channels."""
    h, w, c = image.shape
    return _expand(_normal(rng, (h, w)), c) if mono else _normal(rng, (h, w, c))


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec.601 luminance of an H×W×C picture as an H×W float32 array.

    Computed by OpenCV (``COLOR_RGB2GRAY``, weights :data:`~daguerre.color.REC601_LUMA`), which
    rounds differently from :func:`daguerre.color.luma` in the last bit.
    """
    image = check_image(image)
    if image.shape[2] == 1:
        return image[..., 0]
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def is_neutral(image: np.ndarray, tol: float = NEUTRAL_TOL) -> bool:
    """True for gray pictures and RGB pictures whose channels differ by at most ``tol``."""
    if image.shape[2] == 1:
        return True
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    return bool(max(np.abs(r - g).max(), np.abs(r - b).max()) <= tol)


def _expand(plane: np.ndarray, channels: int) -> np.ndarray:
    """An H×W plane as H×W×channels (OpenCV's copy beats NumPy broadcasting over 3 channels)."""
    if channels == 1:
        return plane.reshape(*plane.shape[:2], 1)
    return cv2.cvtColor(np.ascontiguousarray(plane), cv2.COLOR_GRAY2RGB)


def _cast(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a colour cast given as an RGB 3×3 matrix.

    On gray input the cast is applied to the gray picture seen as RGB and only its luminance
    is returned.
    """
    matrix = np.asarray(matrix, np.float32)
    if image.shape[2] == 3:
        return _done(cv2.transform(image, matrix), image.shape)
    rgb = cv2.transform(_expand(image[..., 0], 3), matrix)
    return _done(cv2.cvtColor(np.clip(rgb, 0.0, 1.0), cv2.COLOR_RGB2GRAY), image.shape)


# --------------------------------------------------------------------------- tone and colour


def fade(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    amount: float | None = None,
    black: float | None = None,
) -> np.ndarray:
    """Fading: contrast shrinks by ``amount`` around the mean and blacks lift to ``black``.

    Drawn from ``FADE_AMOUNT`` and ``FADE_BLACK``.
    """
    img = check_image(image)
    amount = _draw(rng, amount, FADE_AMOUNT)
    black = _draw(rng, black, FADE_BLACK)
    gain = (1.0 - amount) * (1.0 - black)
    offset = black + (1.0 - black) * amount * float(img.mean())
    return _done(img * np.float32(gain) + np.float32(offset), img.shape)


def yellowing(
    image: np.ndarray, rng: np.random.Generator, *, amount: float | None = None
) -> np.ndarray:
    """Yellowed paper and varnish: RGB gains moving from 1 towards ``YELLOWING_TINT``.

    ``amount`` is drawn from ``YELLOWING_AMOUNT``; raises b* (and lowers luminance a little).
    """
    img = check_image(image)
    amount = _draw(rng, amount, YELLOWING_AMOUNT)
    tint = 1.0 - amount * (1.0 - np.asarray(YELLOWING_TINT))
    return _cast(img, np.diag(tint))


def sepia(
    image: np.ndarray, rng: np.random.Generator, *, amount: float | None = None
) -> np.ndarray:
    """Sepia toning: luminance times a warm brown tint, mixed in by ``amount``.

    ``amount`` is drawn from ``SEPIA_AMOUNT``. The tint has unit luminance, so brightness stays
    except where the red channel clips in the highlights (which turn cream).
    """
    img = check_image(image)
    amount = _draw(rng, amount, SEPIA_AMOUNT)
    toned = np.outer(_SEPIA, REC601_LUMA)  # RGB -> luminance -> tint
    return _cast(img, (1.0 - amount) * np.eye(3) + amount * toned)


def dye_fade(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    cyan: float | None = None,
    magenta: float | None = None,
    yellow: float | None = None,
) -> np.ndarray:
    """Fading of the dyes of a colour print: each dye loses a fraction of its density.

    Cyan absorbs red, magenta green, yellow blue, so losing a fraction f of the cyan dye raises
    red to ``red ** (1 - f)``: faded cyan leaves the familiar red-magenta cast. Losses are drawn
    from ``DYE_CYAN``, ``DYE_MAGENTA`` and ``DYE_YELLOW``. Neutral pictures come back unchanged.
    """
    img = check_image(image)
    loss = [
        _draw(rng, cyan, DYE_CYAN),
        _draw(rng, magenta, DYE_MAGENTA),
        _draw(rng, yellow, DYE_YELLOW),
    ]
    if is_neutral(img):
        return img.copy()
    exponents = (1.0 - np.clip(loss, 0.0, 0.95)).astype(np.float32)
    return _done(np.power(img, exponents), img.shape)


def uneven_exposure(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    stops: float | None = None,
    cells: int | None = None,
) -> np.ndarray:
    """Uneven exposure or development: a smooth random gain field.

    The field is Gaussian noise on a grid of ``cells`` nodes along the longer side (from
    ``EXPOSURE_CELLS``) scaled to ``stops`` (from ``EXPOSURE_STOPS``), exponentiated and
    upsampled bicubically.
    """
    img = check_image(image)
    stops = _draw(rng, stops, EXPOSURE_STOPS)
    cells = _draw(rng, cells, EXPOSURE_CELLS)
    h, w = img.shape[:2]
    field = _normal(rng, _grid_shape(h, w, cells))
    gain = cv2.resize(np.exp2(np.float32(stops) * field), (w, h), interpolation=cv2.INTER_CUBIC)
    return _done(img * _expand(gain, img.shape[2]), img.shape)


def vignette(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    strength: float | None = None,
    power: float | None = None,
    shift_x: float | None = None,
    shift_y: float | None = None,
) -> np.ndarray:
    """Lens vignetting: gain ``1 - strength * r**power`` with r = 1 at the corners.

    ``r`` is measured from an optical centre shifted by ``shift_x``/``shift_y`` (fractions of
    the size, from ``VIGNETTE_SHIFT``) and scaled by the half-width and half-height, so the
    falloff follows the frame. ``strength`` and ``power`` come from ``VIGNETTE_STRENGTH`` and
    ``VIGNETTE_POWER``.
    """
    img = check_image(image)
    strength = _draw(rng, strength, VIGNETTE_STRENGTH)
    power = _draw(rng, power, VIGNETTE_POWER)
    shift_x = _draw(rng, shift_x, VIGNETTE_SHIFT)
    shift_y = _draw(rng, shift_y, VIGNETTE_SHIFT)
    h, w = img.shape[:2]
    gh, gw = min(h, _SMOOTH_GRID), min(w, _SMOOTH_GRID)
    y = 2.0 * ((np.arange(gh) + 0.5) / gh - 0.5 - shift_y)
    x = 2.0 * ((np.arange(gw) + 0.5) / gw - 0.5 - shift_x)
    r = np.minimum(np.hypot(y[:, None], x[None, :]) / math.sqrt(2.0), 1.0)
    gain = (1.0 - strength * r**power).astype(np.float32)
    gain = cv2.resize(gain, (w, h), interpolation=cv2.INTER_CUBIC)
    return _done(img * _expand(gain, img.shape[2]), img.shape)


# --------------------------------------------------------------------------- softness


def _reach(img: np.ndarray) -> int:
    """Largest useful kernel radius: beyond the longer side a kernel only sees reflections."""
    return max(img.shape[:2])


def _filter(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return _done(cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT), img.shape)


def _gaussian_kernel(sigma: float, ratio: float, angle: float, radius: int) -> np.ndarray:
    """Rotated anisotropic Gaussian on a (2 radius + 1)² grid, normalised to sum 1."""
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float64)
    theta = math.radians(angle)
    u = x * math.cos(theta) - y * math.sin(theta)  # along the major axis (y points down)
    v = x * math.sin(theta) + y * math.cos(theta)
    kernel = np.exp(-0.5 * ((u / sigma) ** 2 + (v / (sigma * ratio)) ** 2))
    return (kernel / kernel.sum()).astype(np.float32)


def gaussian_blur(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    sigma: float | None = None,
    ratio: float | None = None,
    angle: float | None = None,
    radius: int | None = None,
) -> np.ndarray:
    """Gaussian blur, isotropic (``ratio`` 1) or anisotropic with a rotated kernel.

    ``sigma`` is the major-axis sigma (``BLUR_SIGMA``), ``ratio`` the minor/major ratio
    (``BLUR_RATIO``), ``angle`` the major axis in degrees (``ANGLE``). The kernel reaches
    ``radius`` pixels, by default 3 sigma for isotropic blur (OpenCV's separable filter) and
    2.5 sigma for anisotropic blur (a dense kernel, which OpenCV runs much slower past 11×11).
    """
    img = check_image(image)
    sigma = _draw(rng, sigma, BLUR_SIGMA)
    ratio = _draw(rng, ratio, BLUR_RATIO)
    angle = _draw(rng, angle, ANGLE)
    if sigma <= 0:
        return img.copy()
    isotropic = ratio >= 0.999
    if radius is None:
        radius = math.ceil((3.0 if isotropic else 2.5) * sigma)
    radius = max(1, min(int(radius), _reach(img)))
    if isotropic:
        ksize = (2 * radius + 1, 2 * radius + 1)
        out = cv2.GaussianBlur(img, ksize, sigma, borderType=cv2.BORDER_REFLECT)
        return _done(out, img.shape)
    return _filter(img, _gaussian_kernel(sigma, max(ratio, 0.05), angle, radius))


def defocus_blur(
    image: np.ndarray, rng: np.random.Generator, *, radius: float | None = None
) -> np.ndarray:
    """Out-of-focus blur: an anti-aliased disk kernel of ``radius`` (``DEFOCUS_RADIUS``) px."""
    img = check_image(image)
    radius = min(_draw(rng, radius, DEFOCUS_RADIUS), _reach(img))
    half = max(1, math.floor(radius + 0.5))
    y, x = np.mgrid[-half : half + 1, -half : half + 1]
    kernel = np.clip(radius + 0.5 - np.hypot(x, y), 0.0, 1.0)
    return _filter(img, (kernel / kernel.sum()).astype(np.float32))


def _line_kernel(length: float, angle: float) -> np.ndarray:
    """Anti-aliased segment of ``length`` pixels at ``angle`` degrees, normalised to sum 1."""
    half = max(0.0, (length - 1.0) / 2.0)
    radius = math.ceil(half) + 1
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float64)
    theta = math.radians(angle)
    dx, dy = math.cos(theta), -math.sin(theta)  # image rows grow downwards
    along = np.clip(x * dx + y * dy, -half, half)
    distance = np.hypot(x - along * dx, y - along * dy)
    kernel = np.clip(1.0 - distance, 0.0, None)
    rows, cols = np.any(kernel > 0, axis=1), np.any(kernel > 0, axis=0)
    kernel = kernel[rows][:, cols]  # trim empty borders; stays centred by symmetry
    return (kernel / kernel.sum()).astype(np.float32)


def motion_blur(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    length: float | None = None,
    angle: float | None = None,
) -> np.ndarray:
    """Camera shake: averaging along a segment of ``length`` px (``MOTION_LENGTH``) at ``angle``.

    ``angle`` is in degrees counter-clockwise from the x axis (``ANGLE``).
    """
    img = check_image(image)
    length = min(_draw(rng, length, MOTION_LENGTH), 2 * _reach(img) + 1)
    angle = _draw(rng, angle, ANGLE)
    return _filter(img, _line_kernel(length, angle))


def resample(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    scale: float | None = None,
    down: str | None = None,
    up: str | None = None,
) -> np.ndarray:
    """Down-up resampling: shrink by ``scale`` and enlarge back, losing fine detail.

    ``scale`` from ``RESAMPLE_SCALE``; the interpolations ``down`` and ``up`` (names among
    nearest, linear, cubic, area, lanczos) from ``RESAMPLE_DOWN`` and ``RESAMPLE_UP``.
    """
    img = check_image(image)
    scale = _draw(rng, scale, RESAMPLE_SCALE)
    down = _choose(rng, down, RESAMPLE_DOWN)
    up = _choose(rng, up, RESAMPLE_UP)
    h, w = img.shape[:2]
    small = (max(1, round(w * scale)), max(1, round(h * scale)))
    low = cv2.resize(img, small, interpolation=_interpolation(down))
    return _done(cv2.resize(low, (w, h), interpolation=_interpolation(up)), img.shape)


def small_copy(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    scale: float | None = None,
    noise: float | None = None,
    quality: int | None = None,
    mono: bool | None = None,
) -> np.ndarray:
    """A small, noisy, JPEG-compressed copy enlarged back: a web copy, a thumbnail scan, a
    face cut from a group photo, whose noise and blocks are enlarged with the picture.

    The copy is ``scale`` of the size (``SMALL_SCALE``, area shrink), gets Gaussian noise of
    ``noise`` (``SMALL_NOISE``; ``mono`` as :func:`gaussian_noise`) and a JPEG round trip at
    ``quality`` (``JPEG_QUALITY``), and is enlarged back with a random interpolation of
    ``RESAMPLE_UP``.
    """
    img = check_image(image)
    h, w = img.shape[:2]
    scale = _draw(rng, scale, SMALL_SCALE)
    small = (max(1, round(w * scale)), max(1, round(h * scale)))
    low = _done(cv2.resize(img, small, interpolation=cv2.INTER_AREA), (*small[::-1], img.shape[2]))
    low = gaussian_noise(low, rng, sigma=_draw(rng, noise, SMALL_NOISE), mono=mono)
    low = jpeg(low, rng, quality=quality)
    up = _interpolation(_choose(rng, None, RESAMPLE_UP))
    return _done(cv2.resize(low, (w, h), interpolation=up), img.shape)


# --------------------------------------------------------------------------- noise and grain


def gaussian_noise(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    sigma: float | None = None,
    mono: bool | None = None,
) -> np.ndarray:
    """Additive Gaussian noise of standard deviation ``sigma`` (``GAUSSIAN_SIGMA``).

    ``mono`` adds one noise field to all channels (see the module notes).
    """
    img = check_image(image)
    sigma = _draw(rng, sigma, GAUSSIAN_SIGMA)
    noise = _noise_field(rng, img, _mono(rng, mono, img, MONO_P))
    noise *= np.float32(sigma)
    noise += img
    return _done(noise, img.shape)


def poisson_noise(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    peak: float | None = None,
    mono: bool | None = None,
) -> np.ndarray:
    """Shot noise: ``Poisson(peak * x) / peak`` with ``peak`` photons at white.

    ``peak`` is 10 ** a draw from ``POISSON_LOG10_PEAK``. Sampled through the normal
    approximation (same mean and variance ``x / peak``), which is accurate at these photon counts
    and several times faster than exact Poisson draws. ``mono`` uses one field scaled by
    luminance for all channels.
    """
    img = check_image(image)
    if peak is None:
        peak = 10.0 ** _draw(rng, None, POISSON_LOG10_PEAK)
    mono = _mono(rng, mono, img, MONO_P)
    h, w, c = img.shape
    scale = np.float32(1.0 / peak)
    if mono:
        noise = _expand(np.sqrt(luminance(img) * scale) * _normal(rng, (h, w)), c)
    else:  # noise first: its index buffer is freed before the second full-size array
        noise = _normal(rng, (h, w, c))
        std = np.multiply(img, scale)
        noise *= np.sqrt(std, out=std)
    noise += img
    return _done(noise, img.shape)


def speckle_noise(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    sigma: float | None = None,
    mono: bool | None = None,
) -> np.ndarray:
    """Multiplicative noise ``x * (1 + sigma * n)``, ``sigma`` from ``SPECKLE_SIGMA``."""
    img = check_image(image)
    sigma = _draw(rng, sigma, SPECKLE_SIGMA)
    noise = _noise_field(rng, img, _mono(rng, mono, img, MONO_P))
    noise *= np.float32(sigma)
    noise += np.float32(1.0)
    noise *= img
    return _done(noise, img.shape)


def salt_pepper(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    amount: float | None = None,
    salt: float | None = None,
) -> np.ndarray:
    """Impulse noise: a fraction ``amount`` of pixels set to 1 (share ``salt``) or 0.

    ``amount`` and ``salt`` come from ``SALT_PEPPER_AMOUNT`` and ``SALT_RATIO``; all channels of
    a hit pixel change together.
    """
    img = check_image(image)
    amount = _draw(rng, amount, SALT_PEPPER_AMOUNT)
    salt = _draw(rng, salt, SALT_RATIO)
    u = rng.random(img.shape[:2], dtype=np.float32)
    out = img.copy()
    out[u < amount * salt] = 1.0
    out[(u >= amount * salt) & (u < amount)] = 0.0
    return out


def film_grain(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    strength: float | None = None,
    size: float | None = None,
    chroma: float | None = None,
    mono: bool | None = None,
) -> np.ndarray:
    """Film grain: clumped noise, strongest in the midtones.

    Grain is white noise blurred to clumps of sigma ``size`` (``GRAIN_SIZE``) with standard
    deviation ``strength`` (``GRAIN_STRENGTH``) at mid-gray, weighted by
    ``GRAIN_FLOOR + (1 - GRAIN_FLOOR) * 4 L (1 - L)`` of the luminance L. Colour pictures mix a
    share ``chroma`` (``GRAIN_CHROMA``) of independent grain per dye layer into the shared
    grain, with clumps twice as large; ``mono`` (default: neutral input) keeps it monochrome.
    """
    img = check_image(image)
    strength = _draw(rng, strength, GRAIN_STRENGTH)
    size = _draw(rng, size, GRAIN_SIZE)
    chroma = _draw(rng, chroma, GRAIN_CHROMA)
    mono = img.shape[2] == 1 or (is_neutral(img) if mono is None else bool(mono))
    h, w = img.shape[:2]
    lum = luminance(img)
    weight = np.float32(strength) * (
        np.float32(GRAIN_FLOOR) + np.float32(4.0 * (1.0 - GRAIN_FLOOR)) * lum * (1.0 - lum)
    )
    grain = _unit_noise(rng, (h, w), size)
    if mono or chroma <= 0:
        grain *= weight
        out = _expand(grain, img.shape[2])
    else:
        # Dye clouds: independent per-layer grain drawn at half resolution, so its clumps are
        # twice the size, mixed as sqrt(1 - chroma²) shared + chroma layers, then weighted.
        half = _unit_noise(rng, ((h + 1) // 2, (w + 1) // 2, 3), size)
        out = cv2.resize(half, (w, h), interpolation=cv2.INTER_LINEAR)
        out *= np.float32(chroma)
        grain *= np.float32(math.sqrt(1.0 - chroma**2))
        spread = cv2.cvtColor(grain, cv2.COLOR_GRAY2RGB)  # planes to 3 channels, one buffer
        out += spread
        out *= cv2.cvtColor(weight, cv2.COLOR_GRAY2RGB, dst=spread)
    out += img
    return _done(out, img.shape)


# --------------------------------------------------------------------------- compression and print


def jpeg(image: np.ndarray, rng: np.random.Generator, *, quality: int | None = None) -> np.ndarray:
    """JPEG round trip through ``cv2.imencode`` at ``quality`` (``JPEG_QUALITY``), 8-bit.

    Colour pictures use OpenCV's default 4:2:0 chroma subsampling.
    """
    img = check_image(image)
    quality = int(_draw(rng, quality, JPEG_QUALITY))
    pixels = cv2.convertScaleAbs(img, alpha=255.0)  # rounds and saturates to uint8
    if img.shape[2] == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV failed to encode JPEG")
    decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img.shape[2] == 3:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    return _done(decoded.astype(np.float32) * np.float32(1.0 / 255.0), img.shape)


def _screen(h: int, w: int, cell: float, angle: float) -> np.ndarray:
    """Threshold map of a dot screen in [0, 1]: ink where darkness exceeds it."""
    theta = math.radians(angle)
    y = np.arange(h, dtype=np.float32)[:, None] * np.float32(2 * math.pi / cell)
    x = np.arange(w, dtype=np.float32)[None, :] * np.float32(2 * math.pi / cell)
    c, s = np.float32(math.cos(theta)), np.float32(math.sin(theta))
    return 0.5 + 0.25 * (np.cos(x * c + y * s) + np.cos(y * c - x * s))


def halftone(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    cell: float | None = None,
    angle: float | None = None,
    amount: float | None = None,
    mono: bool | None = None,
) -> np.ndarray:
    """Printed halftone: a rotated amplitude-modulated dot screen, as in newspaper photos.

    Each plate inks a pixel where its darkness exceeds a dot screen of period ``cell`` px
    (``HALFTONE_CELL``) at ``angle`` degrees (``HALFTONE_ANGLE``), with anti-aliased dot edges;
    ``amount`` (``HALFTONE_AMOUNT``) of the screened picture is mixed into the original, as a
    scan blurs the dots. Colour pictures use cyan, magenta and yellow plates at the offsets of
    ``HALFTONE_PLATE_ANGLES``; ``mono`` (default: neutral input) uses one screen for all.
    """
    img = check_image(image)
    cell = max(2.0, _draw(rng, cell, HALFTONE_CELL))
    angle = _draw(rng, angle, HALFTONE_ANGLE)
    amount = _draw(rng, amount, HALFTONE_AMOUNT)
    mono = img.shape[2] == 1 or (is_neutral(img) if mono is None else bool(mono))
    h, w = img.shape[:2]
    if mono:
        screens = _expand(_screen(h, w, cell, angle), img.shape[2])
    else:
        screens = cv2.merge([_screen(h, w, cell, angle + o) for o in HALFTONE_PLATE_ANGLES])
    # ink = clip((1 - img - screen) * sharpness + 1/2): dot edges a pixel or two wide.
    sharpness = np.float32(cell / 2)
    ink = screens
    ink += img
    ink *= -sharpness
    ink += sharpness + np.float32(0.5)
    np.clip(ink, 0.0, 1.0, out=ink)
    # The scanned print: img + amount * ((1 - ink) - img).
    out = cv2.addWeighted(img, 1.0 - amount, ink, -amount, amount)
    return _done(out, img.shape)


def paper_texture(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    strength: float | None = None,
    fibre: float | None = None,
) -> np.ndarray:
    """Paper texture: a multiplicative relief of fibres and coarse mottling.

    Fibres are noise blurred ``fibre`` px (``PAPER_FIBRE``) across and three times that along
    the paper's machine direction (horizontal or vertical); mottling is a coarse bicubic field.
    The relative gain has standard deviation about ``strength`` (``PAPER_STRENGTH``), so the
    texture shows most in the light areas, as on a print.
    """
    img = check_image(image)
    strength = _draw(rng, strength, PAPER_STRENGTH)
    fibre = _draw(rng, fibre, PAPER_FIBRE)
    along = bool(rng.random() < 0.5)  # machine direction: True for horizontal fibres
    h, w = img.shape[:2]
    sigmas = (3.0 * fibre, fibre) if along else (fibre, 3.0 * fibre)
    fibres = _unit_noise(rng, (h, w), *sigmas)
    grid = _normal(rng, _grid_shape(h, w, 12))
    mottle = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    relief = np.float32(strength) * (np.float32(0.8) * fibres + np.float32(0.6) * mottle)
    return _done(img * _expand(1.0 + relief, img.shape[2]), img.shape)


OPS: dict[str, Op] = {
    op.__name__: op
    for op in (
        fade,
        yellowing,
        sepia,
        dye_fade,
        uneven_exposure,
        vignette,
        gaussian_blur,
        defocus_blur,
        motion_blur,
        resample,
        small_copy,
        gaussian_noise,
        poisson_noise,
        speckle_noise,
        salt_pepper,
        film_grain,
        jpeg,
        halftone,
        paper_texture,
    )
}
"""Every op by name: tone and colour, softness, noise and grain, compression and print."""

MONO_OPS = frozenset(name for name, op in OPS.items() if "mono" in inspect.signature(op).parameters)
"""Ops taking ``mono``: the pipeline sets it for black-and-white pictures."""
