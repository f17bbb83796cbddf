"""Structured damage of old photographs: scratches, dust, cracks, folds, stains and tears, and
bold damage: opaque scratches of any width, emulsion flakes, hairs and craquelure.

Every op has the signature ``fn(image, rng, severity=0.5, **params) -> (damaged, mask)``:

* ``image`` is float32 H×W×C (C = 1 or 3) in [0, 1]; ``damaged`` has the same shape and dtype.
* ``mask`` is float32 H×W in [0, 1]: the opacity of the damage, > 0 exactly where a pixel changed.
* ``severity`` in [0, 1] scales how much damage is drawn; 0 leaves the image untouched.

Each keyword parameter left as ``None`` is drawn from the module-level range named next to it
(``SCRATCH_COUNT``, ``DUST_SIZE``...). Ranges give the span at severity 1: counts are drawn from
the range and multiplied by severity, other amounts are drawn from the low end of the range up to
``low + severity * (high - low)`` (ranges marked log-uniform: up to ``low * (high / low) **
severity``, as many draws per octave). A value passed explicitly is used as given.

Sizes are in pixels of a 512×512 image and scale with sqrt(H·W) / 512, so a photo looks equally
damaged at any resolution; strokes never get thinner than about one pixel.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import cv2
import numpy as np

from daguerre.color import REC601_LUMA

# Damage drawn with more than this opacity shows; fainter strokes (a stain's fringe, a speck's
# soft edge) are in the mask but are not what a damage detector is trained or scored to find.
VISIBLE_OPACITY = 0.25

# --- ranges (span at severity 1) -----------------------------------------------------------------

SCRATCH_COUNT = (2.0, 16.0)  # scratches per image
SCRATCH_WIDTH = (0.7, 3.0)  # peak width, px
SCRATCH_OPACITY = (0.35, 0.95)  # peak opacity
SCRATCH_DARK_FRACTION = 0.3  # chance that a scratch is dark rather than white
SCRATCH_VERTICAL_FRACTION = 0.7  # chance that a scratch runs near-vertically, like film scratches
SCRATCH_SHORT_FRACTION = 0.25  # chance that a scratch is short

DUST_COUNT = (40.0, 400.0)  # specks per image
DUST_SIZE = (0.4, 3.0)  # speck radius, px (small specks are far more common than large ones)
DUST_OPACITY = (0.4, 1.0)  # of specks and hairs alike
DUST_HAIRS = (0.0, 6.0)  # hairs and fibres per image
DUST_HAIR_LENGTH = (12.0, 60.0)  # px
DUST_DARK_FRACTION = 0.5  # chance that a speck or hair is dark rather than white

CRACK_COUNT = (1.0, 4.0)  # crack systems per image
CRACK_CELL = (10.0, 36.0)  # craquelure cell size, px (the same at every severity)
CRACK_EXTENT = (0.12, 0.45)  # patch radius / crack length, fraction of sqrt(H·W)
CRACK_OPACITY = (0.3, 0.85)
CRACK_DARK_FRACTION = 0.7  # chance that a crack system is dark rather than light
CRACK_NETWORK_FRACTION = 0.5  # chance that a system is a craquelure network, else a branching crack

FOLD_COUNT = (1.0, 3.0)  # creases per image
FOLD_WIDTH = (1.0, 3.0)  # width of the bright broken-emulsion core, px
FOLD_OPACITY = (0.5, 1.0)
FOLD_CORNER_FRACTION = 0.3  # chance that a crease cuts off a corner instead of crossing the photo

STAIN_COUNT = (1.0, 5.0)  # stains per image
STAIN_SIZE = (0.03, 0.22)  # radius, fraction of sqrt(H·W)
STAIN_OPACITY = (0.15, 0.6)  # opacity of the stain body; the tide line is darker
STAIN_TINTS = ((0.70, 0.52, 0.30), (0.92, 0.84, 0.66))  # brownish multiply tints, dark..light

TEAR_COUNT = (1.0, 2.0)  # torn corners or edge chunks per image
TEAR_SIZE = (0.08, 0.35)  # depth of the missing piece, fraction of min(H, W)
TEAR_RIM = (0.5, 4.0)  # width of the white paper-fibre rim along the tear, px
TEAR_CORNER_FRACTION = 0.6  # chance of a torn corner rather than a chunk out of an edge
TEAR_DARK_FRACTION = 0.3  # chance that the missing piece shows dark card rather than paper
TEAR_PAPER = ((0.84, 0.82, 0.76), (0.98, 0.97, 0.94))  # paper colours, dark..light
TEAR_CARD = ((0.04, 0.04, 0.04), (0.22, 0.20, 0.18))  # card colours, dark..light

# The kinds below draw bold, often opaque damage, so a detector trained on it also finds what
# real prints show. Their widths and sizes are px at 512² like every size here; the damage
# detector trains on 256² crops, where they are half as large (the ranges in brackets).
BOLD_COUNT = (1.0, 8.0)  # bold scratches per image (a bundle counts as one)
BOLD_WIDTH = (2.0, 12.0)  # width, px [1–6 px], log-uniform: as many thin ones as wide ones
BOLD_OPACITY = (0.6, 1.0)  # of the blended ones
BOLD_OPAQUE_FRACTION = 0.5  # chance that a bold scratch is fully opaque
BOLD_DARK_FRACTION = 0.35  # chance that a bold scratch is near-black rather than paper white
BOLD_SHORT_FRACTION = 0.35  # chance that a bold scratch is short
BOLD_BUNDLE_FRACTION = 0.2  # chance that a scratch comes with 1–4 parallel companions
BOLD_HALO_FRACTION = 0.25  # chance of a soft halo around a scratch
BOLD_WHITE = ((0.86, 0.85, 0.82), (1.0, 1.0, 1.0))  # white targets, dark..light
BOLD_BLACK = ((0.0, 0.0, 0.0), (0.14, 0.13, 0.12))  # dark targets, dark..light

FLAKE_COUNT = (1.0, 6.0)  # clusters of flakes per image
FLAKE_CLUSTER = (2.0, 24.0)  # flakes per cluster
FLAKE_SIZE = (6.0, 64.0)  # diameter, px [3–32 px], log-uniform: small flakes are common
FLAKE_OPACITY = (0.85, 1.0)
FLAKE_DARK_FRACTION = 0.25  # chance that flakes show dark card rather than paper
FLAKE_EDGE_FRACTION = 0.3  # chance that a cluster lines an edge of the photo
FLAKE_CRACK_FRACTION = 0.4  # chance that a cluster lines a crack (drawn too, in the flakes' colour)

HAIR_COUNT = (1.0, 8.0)  # hairs and fibres per image
HAIR_WIDTH = (1.4, 4.0)  # px [0.7–2 px]
HAIR_LENGTH = (0.1, 0.7)  # fraction of sqrt(H·W)
HAIR_OPACITY = (0.5, 1.0)
HAIR_DARK_FRACTION = 0.65  # chance that a hair is dark rather than white

CRAQ_COUNT = (1.0, 3.0)  # crack systems per image
CRAQ_WIDTH = (2.0, 10.0)  # widest part of a crack, px [1–5 px], log-uniform
CRAQ_CELL = (14.0, 64.0)  # network cell size, px (the same at every severity)
CRAQ_EXTENT = (0.2, 0.7)  # network radius / crack length, fraction of sqrt(H·W)
CRAQ_OPACITY = (0.6, 1.0)  # of the blended ones
CRAQ_OPAQUE_FRACTION = 0.5  # chance that a crack system is fully opaque
CRAQ_DARK_FRACTION = 0.4  # chance that a crack system is dark rather than bright
CRAQ_NETWORK_FRACTION = 0.5  # chance that a system is a dense network, else a branching crack

PAPER_WHITE = (0.98, 0.97, 0.93)  # what lost emulsion reveals
GRIME = (0.05, 0.045, 0.04)  # what dark damage tends to

DamageFn = Callable[..., tuple[np.ndarray, np.ndarray]]

_SHIFT = 4  # OpenCV fixed-point bits for subpixel drawing
_ONE = float(1 << _SHIFT)
_LUMA = np.array(REC601_LUMA, np.float32)


# --- shared machinery ----------------------------------------------------------------------------


class _Layer(NamedTuple):
    """Opacity (uint8 0..255 or float32 0..1; the whole image or a window at ``origin``) with
    which pixels move toward a target set by ``mode`` and ``color`` ((C,), or per pixel of the
    window): "lighten" max(px, color), "darken" min(px, color), "multiply" px·color,
    "normal" color."""

    alpha: np.ndarray
    mode: str
    color: np.ndarray
    origin: tuple[int, int] = (0, 0)


_TARGETS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "lighten": np.maximum,
    "darken": np.minimum,
    "multiply": np.multiply,
    "normal": lambda px, color: np.broadcast_to(color, px.shape),
}


def _blend(px: np.ndarray, a: np.ndarray, mode: str, color: np.ndarray) -> np.ndarray:
    """px + a·(target - px), clipped to [0, 1]."""
    out = _TARGETS[mode](px, color) - px
    out *= a
    out += px
    return np.clip(out, 0.0, 1.0, out=out)


def _composite(image: np.ndarray, layers: list[_Layer]) -> tuple[np.ndarray, np.ndarray]:
    """Blend ``layers`` in order onto a copy of ``image``, touching only pixels with opacity.

    The mask keeps each pixel's strongest opacity, then drops pixels that ended up unchanged.
    """
    h, w, c = image.shape
    out = image.copy()
    mask = np.zeros((h, w), np.float32)
    pixels, opacity = out.reshape(-1, c), mask.reshape(-1)
    for layer in layers:
        (y0, x0), (lh, lw) = layer.origin, layer.alpha.shape
        scale = np.float32(1 / 255 if layer.alpha.dtype == np.uint8 else 1)
        hit = layer.alpha.reshape(-1) > 0
        local = np.flatnonzero(hit)
        if 4 * local.size > hit.size:  # dense: blend the whole window
            window = np.s_[y0 : y0 + lh, x0 : x0 + lw]
            a = layer.alpha.astype(np.float32) * scale
            out[window] = _blend(out[window], a[..., None], layer.mode, layer.color)
            np.maximum(mask[window], a, out=mask[window])
        elif local.size:  # sparse: one channel plane at a time, which numpy gathers fastest
            a = layer.alpha.reshape(-1)[local].astype(np.float32) * scale
            if lw == w:
                index = local + y0 * w
            else:
                rows, cols = np.divmod(local, lw)
                index = (rows + y0) * w + cols + x0
            for ch in range(c):
                plane = pixels[:, ch]
                color = layer.color[..., ch]
                color = color.reshape(-1)[local] if color.ndim else color
                plane[index] = _blend(plane[index], a, layer.mode, color)
            opacity[index] = np.maximum(opacity.take(index), a)
    index = np.flatnonzero(opacity > 0)
    same = np.ones(index.size, bool)
    for ch in range(c):
        same &= pixels[index, ch] == image.reshape(-1, c)[index, ch]
    opacity[index[same]] = 0.0
    return out, mask


def _grime_and_paper(
    image: np.ndarray, dark: np.ndarray, light: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Darken toward ``GRIME`` with opacity ``dark``, then lighten toward ``PAPER_WHITE``."""
    c = image.shape[2]
    return _composite(
        image,
        [
            _Layer(dark, "darken", _color(GRIME, c)),
            _Layer(light, "lighten", _color(PAPER_WHITE, c)),
        ],
    )


def _check(image: np.ndarray, severity: float) -> tuple[int, int, int]:
    if image.ndim != 3 or image.shape[2] not in (1, 3) or image.dtype != np.float32:
        raise ValueError(
            f"expected a float32 H×W×C image with C in (1, 3), got {image.dtype} {image.shape}"
        )
    if not 0.0 <= severity <= 1.0:
        raise ValueError(f"severity must lie in [0, 1], got {severity}")
    h, w, c = image.shape
    return h, w, c


def _untouched(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return image.copy(), np.zeros(image.shape[:2], np.float32)


def _unit(h: int, w: int) -> float:
    """Pixels per pixel of the 512×512 reference image."""
    return math.sqrt(h * w) / 512.0


def _count(
    rng: np.random.Generator, given: int | None, bounds: tuple[float, float], severity: float
) -> int:
    """An explicit count, or severity × a draw from ``bounds`` rounded stochastically."""
    if given is not None:
        if given < 0:
            raise ValueError(f"count must be >= 0, got {given}")
        return int(given)
    x = severity * rng.uniform(*bounds)
    return int(x) + int(rng.random() < x - int(x))


def _amount(
    rng: np.random.Generator,
    given: float | None,
    bounds: tuple[float, float],
    severity: float,
    size: int | None = None,
    *,
    log: bool = False,
) -> np.ndarray | float:
    """An explicit value, or draws from the severity-shortened range ``bounds`` (uniform, or
    log-uniform with ``log``)."""
    if given is not None:
        return given if size is None else np.full(size, given, np.float64)
    lo, hi = bounds
    if log:
        return lo * (hi / lo) ** (severity * rng.random(size))
    return lo + (hi - lo) * severity * rng.random(size)


def _color(rgb: tuple[float, float, float] | np.ndarray, channels: int) -> np.ndarray:
    rgb = np.asarray(rgb, np.float32)
    return rgb if channels == 3 else np.array([rgb @ _LUMA], np.float32)


def _profile(rng: np.random.Generator, n: int, knots: int, lo: float, hi: float) -> np.ndarray:
    """A smooth random curve of ``n`` values between ``lo`` and ``hi``."""
    values = rng.uniform(lo, hi, knots + 1)
    return np.interp(np.linspace(0.0, knots, n), np.arange(knots + 1), values)


def _noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Smooth float32 noise in [0, 1] of shape h×w with about ``cells`` blobs across."""
    low = rng.random((cells + 1, cells + 1)).astype(np.float32)
    return np.clip(cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


def _walk(
    rng: np.random.Generator,
    start: np.ndarray,
    heading: float,
    steps: int,
    step: float,
    turn: float,
    curl: float = 0.0,
) -> np.ndarray:
    """Points of a path whose heading takes a random walk (``turn``) plus a steady ``curl``."""
    angles = heading + np.cumsum(rng.normal(curl, turn, steps)) - curl
    moves = step * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return np.vstack([start, start + np.cumsum(moves, axis=0)])


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(points * _ONE).astype(np.int32)


def _stroke(
    layer: np.ndarray, points: np.ndarray, values: np.ndarray, widths: np.ndarray | int
) -> None:
    """Draw a polyline whose opacity (0..255) and width (px) vary per segment; overlaps keep the
    max. ``widths`` may be one width for the whole line."""
    h, w = layer.shape
    values = np.asarray(values, int)
    widths = np.broadcast_to(np.asarray(widths, int), values.shape)
    pad = int(widths.max()) + 2
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + pad
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return
    window = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fixed = _fixed(points - (x0, y0))
    if np.all(values == values[0]) and np.all(widths == widths[0]):
        cv2.polylines(window, [fixed], False, int(values[0]), int(widths[0]), cv2.LINE_AA, _SHIFT)
    else:
        p = fixed.tolist()
        for a, b, v, t in zip(p[:-1], p[1:], values.tolist(), widths.tolist(), strict=True):
            if v > 0:
                cv2.line(window, a, b, v, t, cv2.LINE_AA, _SHIFT)
    np.maximum(layer[y0:y1, x0:x1], window, out=layer[y0:y1, x0:x1])


def _lobes(rng: np.random.Generator, theta: np.ndarray, amount: float, harmonics: range):
    """A random radius factor around 1 for angles ``theta``: a few cosine lobes."""
    r = np.ones_like(theta)
    for k in harmonics:
        r += rng.uniform(0.0, amount) / k * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return r


def _polylines(layer: np.ndarray, lines: np.ndarray | list[np.ndarray], values: np.ndarray) -> None:
    """Draw 1-px antialiased polylines with opacities 0..255, one call per distinct opacity."""
    fixed = list(_fixed(lines)) if isinstance(lines, np.ndarray) else [_fixed(p) for p in lines]
    values = np.round(values).astype(int)
    for value in np.unique(values[values > 0]).tolist():
        group = [fixed[i] for i in np.flatnonzero(values == value)]
        cv2.polylines(layer, group, False, value, 1, cv2.LINE_AA, _SHIFT)


def _blobs(
    rng: np.random.Generator,
    centers: np.ndarray,
    radii: np.ndarray,
    aspects: np.ndarray,
    angles: np.ndarray,
    vertices: int = 12,
) -> np.ndarray:
    """Irregular closed polygons (n×vertices×2): rotated, lobed ellipses with ragged radii."""
    n = len(centers)
    theta = np.linspace(0.0, 2 * np.pi, vertices, endpoint=False)
    k = np.arange(2, 6)[:, None]
    lobes = rng.uniform(0.0, 0.7, (n, len(k), 1)) / k
    phases = rng.uniform(0.0, 2 * np.pi, (n, len(k), 1))
    r = 1.0 + (lobes * np.cos(k * theta + phases)).sum(axis=1)
    r = radii[:, None] * r * rng.uniform(0.85, 1.15, (n, vertices))
    x, y = r * np.cos(theta) * aspects[:, None], r * np.sin(theta)
    c, s = np.cos(angles)[:, None], np.sin(angles)[:, None]
    return centers[:, None, :] + np.stack([x * c - y * s, x * s + y * c], axis=-1)


def _fill(layer: np.ndarray, polygons: np.ndarray, values: np.ndarray) -> None:
    """Fill antialiased polygons (n×k×2) with per-polygon opacity 0..255."""
    for polygon, value in zip(_fixed(polygons), np.asarray(values, int).tolist(), strict=True):
        cv2.fillPoly(layer, [polygon], value, cv2.LINE_AA, _SHIFT)


# --- ops -----------------------------------------------------------------------------------------


def scratches(
    image: np.ndarray,
    rng: np.random.Generator,
    severity: float = 0.5,
    *,
    count: int | None = None,
    width: float | None = None,
    opacity: float | None = None,
    dark_fraction: float = SCRATCH_DARK_FRACTION,
    vertical_fraction: float = SCRATCH_VERTICAL_FRACTION,
    short_fraction: float = SCRATCH_SHORT_FRACTION,
) -> tuple[np.ndarray, np.ndarray]:
    """Thin, long, gently curved white or dark scratches whose width and opacity vary along them.

    ``width`` is the peak width in px (``SCRATCH_WIDTH``), ``opacity`` the peak opacity.
    """
    h, w, _ = _check(image, severity)
    n = _count(rng, count, SCRATCH_COUNT, severity)
    if severity == 0 or n == 0:
        return _untouched(image)
    unit = _unit(h, w)
    diag = math.hypot(h, w)
    widths = np.maximum(_amount(rng, width, SCRATCH_WIDTH, severity, n) * max(unit, 0.5), 0.3)
    peaks = _amount(rng, opacity, SCRATCH_OPACITY, severity, n)
    light = np.zeros((h, w), np.uint8)
    dark = np.zeros((h, w), np.uint8)
    for peak_width, peak in zip(widths, peaks, strict=True):
        layer = dark if rng.random() < dark_fraction else light
        if rng.random() < vertical_fraction:
            heading = np.pi / 2 + rng.normal(0.0, 0.06)
            extent = h
        else:
            heading = rng.uniform(0.0, np.pi)
            extent = diag
        short = rng.random() < short_fraction
        length = extent * (rng.uniform(0.03, 0.15) if short else rng.uniform(0.4, 1.2))
        steps = int(np.clip(length / (16.0 * max(unit, 0.25)), 2, 48))
        direction = np.array([math.cos(heading), math.sin(heading)])
        start = rng.uniform((0, 0), (w, h)) - direction * length / 2
        bend = rng.normal(0.0, 0.2) / steps
        points = _walk(rng, start, heading, steps, length / steps, 0.1 / math.sqrt(steps), bend)
        t = np.linspace(0.0, 1.0, steps)
        fade = rng.uniform(0.02, 0.2)
        taper = np.clip(np.minimum(t, 1.0 - t) / fade, 0.15, 1.0)
        gaps = 0.0 if rng.random() < 0.6 else 0.6  # intermittent scratches have gaps along them
        strength = np.clip(_profile(rng, steps, 5, 0.35 - gaps, 1.0), 0.0, 1.0) * taper
        span = peak_width * _profile(rng, steps, 4, 0.5, 1.0)
        values = np.round(255.0 * peak * strength * np.minimum(span, 1.0)).astype(int)
        _stroke(layer, points, values, np.maximum(np.round(span), 1).astype(int))
    return _grime_and_paper(image, dark, light)


def dust(
    image: np.ndarray,
    rng: np.random.Generator,
    severity: float = 0.5,
    *,
    count: int | None = None,
    size: float | None = None,
    opacity: float | None = None,
    hairs: int | None = None,
    dark_fraction: float = DUST_DARK_FRACTION,
) -> tuple[np.ndarray, np.ndarray]:
    """Many small irregular white and dark specks, plus a few curly hairs and fibres.

    ``size`` fixes the speck radius in px (``DUST_SIZE``, drawn skewed toward small specks).
    """
    h, w, _ = _check(image, severity)
    n = _count(rng, count, DUST_COUNT, severity)
    n_hairs = _count(rng, hairs, DUST_HAIRS, severity)
    if severity == 0 or n + n_hairs == 0:
        return _untouched(image)
    unit = _unit(h, w)
    lo, hi = DUST_SIZE
    if size is None:
        radii = lo * (hi / lo) ** (rng.random(n) ** 3 * severity)
    else:
        radii = np.full(n, size, np.float64)
    radii = np.maximum(radii * unit, 0.35)
    values = np.round(255.0 * _amount(rng, opacity, DUST_OPACITY, severity, n)).astype(int)
    centers = rng.uniform((0, 0), (w, h), (n, 2))
    specks = _blobs(rng, centers, radii, rng.uniform(0.7, 1.4, n), rng.uniform(0, np.pi, n))
    is_dark = rng.random(n) < dark_fraction
    light = np.zeros((h, w), np.uint8)
    dark = np.zeros((h, w), np.uint8)
    _fill(dark, specks[is_dark], values[is_dark])
    _fill(light, specks[~is_dark], values[~is_dark])
    step = max(1.5 * unit, 0.5)
    for _ in range(n_hairs):
        length = rng.uniform(*DUST_HAIR_LENGTH) * unit
        steps = int(np.clip(length / step, 3, 200))
        points = _walk(
            rng,
            rng.uniform((0, 0), (w, h)),
            rng.uniform(0, 2 * np.pi),
            steps,
            step,
            0.25,
            curl=rng.uniform(-0.15, 0.15),
        )
        value = 255.0 * float(_amount(rng, opacity, DUST_OPACITY, severity))
        strength = _profile(rng, steps, 3, 0.5, 1.0)
        layer = dark if rng.random() < dark_fraction else light
        _stroke(layer, points, np.round(value * strength).astype(int), np.ones(steps, int))
    return _grime_and_paper(image, dark, light)


def _craquelure(
    rng: np.random.Generator, center: np.ndarray, radius: float, cell: float
) -> np.ndarray:
    """Jittered edges (n×5×2) of a Voronoi network of cracks, dense at ``center``, thinning out."""
    per_side = int(np.clip(math.ceil(2 * radius / cell), 2, 40))
    grid = (np.arange(per_side) + 0.5) / per_side * 2 * radius - radius
    seeds = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    seeds = center + seeds + rng.uniform(-0.45, 0.45, seeds.shape) * (2 * radius / per_side)
    x0, y0 = np.floor(seeds.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(seeds.max(axis=0)).astype(int) + 2
    subdiv = cv2.Subdiv2D((int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    subdiv.insert(seeds.astype(np.float32).tolist())
    facets, _ = subdiv.getVoronoiFacetList([])
    sizes = np.array([len(f) for f in facets])
    first = np.repeat(np.cumsum(sizes) - sizes, sizes)
    corners = np.concatenate(facets)
    following = first + (np.arange(len(corners)) - first + 1) % np.repeat(sizes, sizes)
    edges = np.stack([corners, corners[following]], axis=1)
    # Neighbouring facets share each edge with opposite orientations: keep one of the two.
    (ax, ay), (bx, by) = edges[:, 0].T, edges[:, 1].T
    edges = edges[(ax < bx) | ((ax == bx) & (ay < by))].astype(np.float64)
    offset = edges.mean(axis=1) - center
    reach = radius * _lobes(rng, np.arctan2(offset[:, 1], offset[:, 0]), 0.8, range(1, 5))
    keep = np.clip(2.0 * (1.0 - np.linalg.norm(offset, axis=1) / reach), 0.0, 0.85)
    edges = edges[rng.random(len(edges)) < keep]
    # Four segments per edge, inner points pushed sideways so the cracks wander.
    a, b = edges[:, None, 0], edges[:, None, 1]
    t = np.linspace(0.0, 1.0, 5)[None, :, None]
    inner = np.array([0.0, 1.0, 1.0, 1.0, 0.0])[None, :, None]
    normal = (b - a)[..., ::-1] * np.array([1.0, -1.0])
    sideways = rng.normal(0.0, 0.07, (len(edges), 5, 1)) * normal
    jitter = rng.normal(0.0, 0.3 * cell / 12.0, (len(edges), 5, 2))
    return a + t * (b - a) + inner * (sideways + jitter)


def _branching(
    rng: np.random.Generator, start: np.ndarray, length: float, unit: float
) -> tuple[list[np.ndarray], np.ndarray]:
    """A jagged crack forking into fainter side cracks: polylines and their relative strength."""
    step = max(5.0 * unit, 1.5)
    found, depths = [], []
    todo = [(start, rng.uniform(0, 2 * np.pi), length, 0)]
    while todo:
        origin, heading, span, depth = todo.pop()
        steps = int(np.clip(span / step, 2, 150))
        points = _walk(rng, origin, heading, steps, step, 0.22)
        found.append(points)
        depths.append(depth)
        if depth < 3:
            for i in np.flatnonzero(rng.random(steps) < 0.07):
                turn = rng.choice([-1.0, 1.0]) * rng.uniform(0.35, 1.1)
                todo.append((points[i], heading + turn, span * rng.uniform(0.2, 0.5), depth + 1))
    return found, 0.7 ** np.array(depths)


def cracks(
    image: np.ndarray,
    rng: np.random.Generator,
    severity: float = 0.5,
    *,
    count: int | None = None,
    cell: float | None = None,
    opacity: float | None = None,
    dark_fraction: float = CRACK_DARK_FRACTION,
    network_fraction: float = CRACK_NETWORK_FRACTION,
) -> tuple[np.ndarray, np.ndarray]:
    """Thin dark or light crack systems: craquelure patches and long forking cracks.

    ``cell`` fixes the craquelure cell size in px (``CRACK_CELL``).
    """
    h, w, _ = _check(image, severity)
    n = _count(rng, count, CRACK_COUNT, severity)
    if severity == 0 or n == 0:
        return _untouched(image)
    unit = _unit(h, w)
    size = math.sqrt(h * w)
    light = np.zeros((h, w), np.uint8)
    dark = np.zeros((h, w), np.uint8)
    for _ in range(n):
        layer = dark if rng.random() < dark_fraction else light
        peak = 255.0 * float(_amount(rng, opacity, CRACK_OPACITY, severity))
        extent = max(float(_amount(rng, None, CRACK_EXTENT, severity)) * size, 2.0)
        center = rng.uniform((0, 0), (w, h))
        if rng.random() < network_fraction:
            cell_px = max(float(_amount(rng, cell, CRACK_CELL, 1.0)) * unit, 3.0)
            lines = _craquelure(rng, center, extent, cell_px)
            strength = np.ones(len(lines))
        else:
            lines, strength = _branching(rng, center, extent * 1.5, unit)
        strength = strength * rng.choice([0.25, 0.5, 0.75, 1.0], len(lines))
        _polylines(layer, lines, peak * strength)
    return _grime_and_paper(image, dark, light)


def _crease_line(rng: np.random.Generator, h: int, w: int, corner_fraction: float) -> np.ndarray:
    """Two far-apart points on a straight line across the photo or across one corner."""
    if rng.random() < corner_fraction:
        depth = rng.uniform(0.15, 0.5) * min(h, w)
        a = np.array([depth * rng.uniform(0.6, 1.6), 0.0])
        b = np.array([0.0, depth * rng.uniform(0.6, 1.6)])
        corner = rng.integers(0, 4)
        if corner & 1:
            a[0], b[0] = w - a[0], w - b[0]
        if corner & 2:
            a[1], b[1] = h - a[1], h - b[1]
    elif rng.random() < 0.5:
        y = rng.uniform(0.15, 0.85) * h
        a, b = np.array([0.0, y]), np.array([w, y + rng.normal(0.0, 0.05) * w])
    else:
        x = rng.uniform(0.15, 0.85) * w
        a, b = np.array([x, 0.0]), np.array([x + rng.normal(0.0, 0.05) * h, h])
    middle, half = (a + b) / 2, (b - a) / 2
    return np.stack([middle - 1.5 * half, middle + 1.5 * half])  # overshoot the borders


def folds(
    image: np.ndarray,
    rng: np.random.Generator,
    severity: float = 0.5,
    *,
    count: int | None = None,
    width: float | None = None,
    opacity: float | None = None,
    corner_fraction: float = FOLD_CORNER_FRACTION,
) -> tuple[np.ndarray, np.ndarray]:
    """Creases: a slightly wavy line across the photo where the emulsion broke, showing a bright
    broken core flanked by a dark grimy edge and a faint shadow, with flakes of lost emulsion.

    ``width`` fixes the core width in px (``FOLD_WIDTH``).
    """
    h, w, _ = _check(image, severity)
    n = _count(rng, count, FOLD_COUNT, severity)
    if severity == 0 or n == 0:
        return _untouched(image)
    unit = _unit(h, w)
    light = np.zeros((h, w), np.uint8)
    dark = np.zeros((h, w), np.uint8)
    for _ in range(n):
        a, b = _crease_line(rng, h, w, corner_fraction)
        length = float(np.linalg.norm(b - a))
        along = (b - a) / max(length, 1e-6)
        normal = np.array([-along[1], along[0]])
        steps = int(np.clip(length / max(5.0 * unit, 2.0), 4, 240))
        t = np.linspace(0.0, 1.0, steps + 1)[:, None]
        sway = _profile(rng, steps + 1, max(steps // 6, 1), -1.0, 1.0) * rng.uniform(0.5, 2.0)
        sway = sway * max(unit, 0.3) + rng.normal(0.0, 0.3, steps + 1)
        core = a + t * (b - a) + sway[:, None] * normal
        peak = 255.0 * float(_amount(rng, opacity, FOLD_OPACITY, severity))
        core_w = max(float(_amount(rng, width, FOLD_WIDTH, severity)) * unit, 0.5)
        px = max(unit, 0.5)
        knots = max(steps // 4, 1)
        broken = np.clip(_profile(rng, steps, knots, -0.1, 1.4), 0.0, 1.0)
        span = core_w * _profile(rng, steps, knots, 0.4, 1.2)
        values = np.round(peak * broken * np.minimum(span, 1.0)).astype(int)
        _stroke(light, core, values, np.maximum(np.round(span), 1).astype(int))
        # Grime caught along one lip of the crease, a soft shadow beside it, a faint highlight
        # on the other side where the paper ridge catches the light.
        side = rng.choice([-1.0, 1.0])
        grime = _profile(rng, steps, knots, 0.2, 0.6)
        _stroke(dark, core + side * (core_w / 2 + px) * normal, np.round(peak * grime), 1)
        band = max(3.0 * unit, 1.0)
        shade = peak * rng.uniform(0.08, 0.18)
        for layer, where, k, value in (
            (dark, side, 1, shade),
            (dark, side, 2, shade / 2),
            (light, -side, 1, shade / 2),
        ):
            shift = where * (core_w / 2 + k * band / 2) * normal
            _stroke(layer, core + shift, np.full(steps, round(value)), round(k * band))
        m = rng.poisson(length / (30.0 * px))
        centers = core[rng.choice(steps + 1, m)] + rng.normal(0.0, core_w / 2, (m, 1)) * normal
        flakes = _blobs(
            rng,
            centers,
            rng.uniform(0.6, 2.2, m) * px,
            rng.uniform(1.5, 4.0, m),
            np.full(m, math.atan2(along[1], along[0])),
        )
        _fill(light, flakes, np.round(peak * rng.uniform(0.7, 1.0, m)))
    return _grime_and_paper(image, dark, light)


def stains(
    image: np.ndarray,
    rng: np.random.Generator,
    severity: float = 0.5,
    *,
    count: int | None = None,
    size: float | None = None,
    opacity: float | None = None,
    tint: tuple[float, float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Semi-transparent brownish blobs and water marks with darker tide lines at their edges.

    ``size`` fixes the radius as a fraction of sqrt(H·W) (``STAIN_SIZE``); ``tint`` fixes the RGB
    multiply colour (drawn between the two ``STAIN_TINTS``).
    """
    h, w, c = _check(image, severity)
    n = _count(rng, count, STAIN_COUNT, severity)
    if severity == 0 or n == 0:
        return _untouched(image)
    lo, hi = (np.asarray(v, np.float32) for v in STAIN_TINTS)
    layers = []
    for _ in range(n):
        radius = max(float(_amount(rng, size, STAIN_SIZE, severity)) * math.sqrt(h * w), 1.0)
        body = float(_amount(rng, opacity, STAIN_OPACITY, severity))
        tide = min(body * rng.uniform(1.3, 2.2), 1.0)
        if rng.random() < 0.3:
            body *= 0.25  # a water mark: mostly a ring
        outline = _stain_outline(rng, rng.uniform((0, 0), (w, h)), radius)
        x0, y0 = np.floor(outline.min(axis=0)).astype(int) - 2
        x1, y1 = np.ceil(outline.max(axis=0)).astype(int) + 2
        cover = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(cover, [_fixed(outline - (x0, y0))], 255, cv2.LINE_AA, _SHIFT)
        inside = cv2.distanceTransform((cover > 0).astype(np.uint8), cv2.DIST_L2, 3)
        edge = np.float32(max(radius * rng.uniform(0.03, 0.1), 0.7))
        mottle = _noise(rng, *cover.shape, 5)
        tide = tide * (0.5 + 0.5 * _noise(rng, *cover.shape, 8))  # uneven along the edge
        alpha = body * (0.5 + 0.5 * mottle) + tide * np.exp((1.0 - inside) / edge)
        if rng.random() < 0.4:  # an older, fainter drying ring inside the stain
            ring = np.float32(rng.uniform(0.2, 0.6) * radius)
            alpha += 0.5 * tide * np.exp(-(((inside - ring) / (2 * edge)) ** 2))
        alpha = np.clip(alpha, 0.0, 1.0) * (cover * np.float32(1 / 255))
        rgb = lo + rng.random() * (hi - lo) if tint is None else tint
        oy, ox = max(y0, 0), max(x0, 0)
        window = alpha[oy - y0 : h - y0, ox - x0 : w - x0]
        layers.append(_Layer(window.astype(np.float32), "multiply", _color(rgb, c), (oy, ox)))
    return _composite(image, layers)


def _stain_outline(rng: np.random.Generator, center: np.ndarray, radius: float) -> np.ndarray:
    """A lobed closed outline with fine raggedness."""
    theta = np.linspace(0.0, 2 * np.pi, 96, endpoint=False)
    r = radius * _lobes(rng, theta, 0.5, range(2, 9)) * rng.uniform(0.96, 1.04, theta.size)
    stretch = rng.uniform(0.6, 1.0)
    return center + np.stack([r * np.cos(theta), stretch * r * np.sin(theta)], axis=1)


def _ragged_edge(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, bulge: np.ndarray):
    """A torn boundary from ``a`` to ``b``: a bowed curve with multi-scale jagged wobble."""
    length = float(np.linalg.norm(b - a))
    n = int(np.clip(length / 1.5, 8, 400))
    t = np.linspace(0.0, 1.0, n)[:, None]
    curve = (1 - t) ** 2 * a + 2 * t * (1 - t) * bulge + t**2 * b
    tangent = np.gradient(curve, axis=0)
    normal = tangent[:, ::-1] * np.array([1.0, -1.0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
    wobble = np.zeros(n)
    for octave in range(4):
        knots = 3 * 2**octave
        wobble += _profile(rng, n, knots, -1.0, 1.0) * length * 0.05 / 2**octave
    wobble += rng.normal(0.0, 0.4, n)
    return curve + wobble[:, None] * normal


def tears(
    image: np.ndarray,
    rng: np.random.Generator,
    severity: float = 0.5,
    *,
    count: int | None = None,
    size: float | None = None,
    rim: float | None = None,
    color: tuple[float, float, float] | None = None,
    corner_fraction: float = TEAR_CORNER_FRACTION,
    dark_fraction: float = TEAR_DARK_FRACTION,
) -> tuple[np.ndarray, np.ndarray]:
    """Torn-off corners and chunks bitten out of an edge, ragged and filled with paper or dark card
    colour, with a white rim of paper fibres along the tear.

    ``size`` fixes the depth as a fraction of min(H, W) (``TEAR_SIZE``), ``rim`` the rim width in
    px (``TEAR_RIM``, 0 for none), ``color`` the RGB fill; ``corner_fraction`` is the chance of a
    corner rather than an edge chunk, ``dark_fraction`` that of dark card rather than paper.
    """
    h, w, c = _check(image, severity)
    n = _count(rng, count, TEAR_COUNT, severity)
    if severity == 0 or n == 0:
        return _untouched(image)
    unit = _unit(h, w)
    if color is None:
        lo, hi = TEAR_CARD if rng.random() < dark_fraction else TEAR_PAPER
        color = np.asarray(lo) + rng.random() * np.subtract(hi, lo)
    rim_layer = np.zeros((h, w), np.uint8)
    fill = np.zeros((h, w), np.uint8)
    for _ in range(n):
        depth = max(float(_amount(rng, size, TEAR_SIZE, severity)) * min(h, w), 1.0)
        outline = _tear_outline(rng, h, w, depth, corner_fraction)
        cv2.fillPoly(fill, [_fixed(outline)], 255, cv2.LINE_AA, _SHIFT)
        edge = outline[1:-2]  # the ragged part, without the closing points outside the image
        rim_w = float(_amount(rng, rim, TEAR_RIM, severity)) * max(unit, 0.5)
        if rim_w > 0:
            span = rim_w * _profile(rng, len(edge) - 1, 6, 0.2, 1.0) * 2  # half lies in the gap
            values = np.round(255 * rng.uniform(0.7, 1.0) * np.minimum(span, 1.0)).astype(int)
            _stroke(rim_layer, edge, values, np.maximum(np.round(span), 1).astype(int))
    layers = [_Layer(rim_layer, "lighten", _color(PAPER_WHITE, c))]
    x, y, bw, bh = cv2.boundingRect(fill)
    if bw and bh:
        cells = int(np.clip(max(bw, bh) / (20.0 * max(unit, 0.05)), 1, 64))
        grain = (_noise(rng, bh, bw, cells) - 0.5) * 0.06 + 1.0  # paper texture
        backing = np.clip(_color(color, c) * grain[..., None], 0.0, 1.0)
        layers.append(_Layer(fill[y : y + bh, x : x + bw], "normal", backing, (y, x)))
    return _composite(image, layers)


def _tear_outline(
    rng: np.random.Generator, h: int, w: int, depth: float, corner_fraction: float
) -> np.ndarray:
    """Closed polygon of a missing piece: a ragged edge plus points outside the image."""
    outside = 4.0 + depth
    if rng.random() < corner_fraction:
        a = np.array([depth * rng.uniform(0.6, 1.8), -2.0])
        b = np.array([-2.0, depth * rng.uniform(0.6, 1.8)])
        bulge = (a + b) / 2 * rng.uniform(0.6, 1.5)
        polygon = np.vstack([[a[0], -outside], _ragged_edge(rng, a, b, bulge), [-outside, b[1]]])
        polygon = np.vstack([polygon, [-outside, -outside]])
        swap, flip_x, flip_y = False, rng.random() < 0.5, rng.random() < 0.5
    else:
        swap = rng.random() < 0.5
        side = w if not swap else h
        half = depth * rng.uniform(0.8, 2.5)
        mid = rng.uniform(0.0, side)
        a, b = np.array([mid - half, -2.0]), np.array([mid + half, -2.0])
        bulge = np.array([mid + rng.normal(0.0, 0.3) * half, 2.0 * depth])
        polygon = np.vstack([[a[0], -outside], _ragged_edge(rng, a, b, bulge), [b[0], -outside]])
        polygon = np.vstack([polygon, [a[0], -outside]])
        far = rng.random() < 0.5  # the opposite side
        flip_x, flip_y = (far, False) if swap else (False, far)
    if swap:
        polygon = polygon[:, ::-1].copy()
    if flip_x:
        polygon[:, 0] = w - 1 - polygon[:, 0]
    if flip_y:
        polygon[:, 1] = h - 1 - polygon[:, 1]
    return polygon


# --- bold damage ---------------------------------------------------------------------------------


def _tone(rng: np.random.Generator, ends: tuple[tuple[float, ...], ...], channels: int):
    """A colour drawn between the two RGB ``ends`` (dark..light)."""
    lo, hi = (np.asarray(v, np.float32) for v in ends)
    return _color(lo + np.float32(rng.random()) * (hi - lo), channels)


def _normals(points: np.ndarray) -> np.ndarray:
    """Unit normals of a polyline at its points."""
    tangent = np.gradient(points, axis=0)
    normal = tangent[:, ::-1] * np.array([-1.0, 1.0])
    return normal / np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)


def bold_scratches(
    image: np.ndarray,
    rng: np.random.Generator,
    severity: float = 0.5,
    *,
    count: int | None = None,
    width: float | None = None,
    opacity: float | None = None,
    dark_fraction: float = BOLD_DARK_FRACTION,
    opaque_fraction: float = BOLD_OPAQUE_FRACTION,
    short_fraction: float = BOLD_SHORT_FRACTION,
    bundle_fraction: float = BOLD_BUNDLE_FRACTION,
    halo_fraction: float = BOLD_HALO_FRACTION,
) -> tuple[np.ndarray, np.ndarray]:
    """Bold scratches: paper-white or near-black lines of any width, fully opaque or blended,
    straight, arched or wandering, long or short, some in parallel bundles or with a soft halo.

    ``width`` fixes the widest part in px (``BOLD_WIDTH``), ``opacity`` the opacity of every
    scratch (else a share ``opaque_fraction`` is fully opaque, the rest ``BOLD_OPACITY``).
    """
    h, w, c = _check(image, severity)
    n = _count(rng, count, BOLD_COUNT, severity)
    if severity == 0 or n == 0:
        return _untouched(image)
    unit = _unit(h, w)
    diag = math.hypot(h, w)
    light = np.zeros((h, w), np.uint8)
    dark = np.zeros((h, w), np.uint8)
    halos: np.ndarray | None = None
    for _ in range(n):
        is_dark = rng.random() < dark_fraction
        layer = dark if is_dark else light
        scratch_w = max(float(_amount(rng, width, BOLD_WIDTH, severity, log=True)) * unit, 0.7)
        if opacity is not None:
            peak = float(opacity)
        elif rng.random() < opaque_fraction:
            peak = 1.0
        else:
            peak = float(_amount(rng, None, BOLD_OPACITY, severity))
        if rng.random() < 0.35:  # along the film, like a transport scratch
            heading, extent = np.pi / 2 + rng.normal(0.0, 0.05), float(h)
        else:
            heading, extent = rng.uniform(0.0, np.pi), diag
        short = rng.random() < short_fraction
        length = extent * (rng.uniform(0.04, 0.2) if short else rng.uniform(0.3, 1.2))
        length = max(length, 4.0 * scratch_w, 3.0)
        steps = int(np.clip(length / max(8.0 * unit, 2.0), 2, 64))
        form = rng.random()
        if form < 0.4:  # straight
            turn, curl = 0.0, 0.0
        elif form < 0.75:  # an arc
            turn, curl = 0.0, rng.normal(0.0, 0.7) / steps
        else:  # wandering
            turn, curl = 0.3 / math.sqrt(steps), rng.normal(0.0, 0.3) / steps
        direction = np.array([math.cos(heading), math.sin(heading)])
        start = rng.uniform((0, 0), (w, h)) - direction * length / 2
        points = _walk(rng, start, heading, steps, length / steps, turn, curl)
        span = _profile(rng, steps, 4, 0.7, 1.0) if rng.random() < 0.5 else np.ones(steps)
        if rng.random() < 0.5:  # tapered ends
            t = np.linspace(0.0, 1.0, steps)
            span = span * np.clip(np.minimum(t, 1.0 - t) / rng.uniform(0.05, 0.3), 0.25, 1.0)
        span = scratch_w * span / span.max()
        strength = peak if peak == 1.0 else peak * _profile(rng, steps, 4, 0.8, 1.0)
        strength = strength / np.max(strength) * peak  # ``peak`` is reached
        values = np.round(255.0 * strength * np.minimum(span, 1.0)).astype(int)
        widths = np.maximum(np.round(span), 1).astype(int)
        _stroke(layer, points, values, widths)
        if rng.random() < bundle_fraction:  # parallel companions, shorter and thinner
            normals = _normals(points)
            gap = scratch_w * rng.uniform(1.5, 3.5) + rng.uniform(1.0, 4.0) * max(unit, 0.5)
            for k in range(1, int(rng.integers(2, 6))):
                i0 = int(rng.integers(0, steps // 3 + 1))
                i1 = steps - int(rng.integers(0, steps // 3 + 1))
                shifted = points + normals * (k * gap * rng.uniform(0.8, 1.2))
                thin = span[i0:i1] * rng.uniform(0.3, 1.0)
                faint = values[i0:i1] * rng.uniform(0.6, 1.0) * np.minimum(thin, 1.0)
                _stroke(layer, shifted[i0 : i1 + 1], np.round(faint), np.maximum(np.round(thin), 1))
        if rng.random() < halo_fraction:
            halos = np.zeros((2, h, w), np.uint8) if halos is None else halos
            glow = np.full(
                steps, round(255.0 * peak * rng.uniform(0.1, 0.25))
            )  # faint: not a target
            _stroke(
                halos[int(is_dark)], points, glow, max(round(scratch_w * rng.uniform(2.5, 5)), 2)
            )
    if halos is not None:
        sigma = 1.5 * max(unit, 0.5)
        for halo, layer in zip(halos, (light, dark), strict=True):
            if halo.any():
                np.maximum(layer, cv2.GaussianBlur(halo, (0, 0), sigma), out=layer)
    return _composite(
        image,
        [
            _Layer(dark, "darken", _tone(rng, BOLD_BLACK, c)),
            _Layer(light, "lighten", _tone(rng, BOLD_WHITE, c)),
        ],
    )


def _chips(
    rng: np.random.Generator,
    centers: np.ndarray,
    radii: np.ndarray,
    aspects: np.ndarray,
    angles: np.ndarray,
    vertices: int = 8,
) -> np.ndarray:
    """Angular irregular polygons (n×vertices×2): chips with uneven straight sides."""
    n = len(centers)
    spacing = 2 * np.pi / vertices
    theta = np.arange(vertices) * spacing + rng.uniform(-0.4, 0.4, (n, vertices)) * spacing
    r = radii[:, None] * rng.uniform(0.45, 1.1, (n, vertices))
    x, y = r * np.cos(theta) * aspects[:, None], r * np.sin(theta)
    c, s = np.cos(angles)[:, None], np.sin(angles)[:, None]
    return centers[:, None, :] + np.stack([x * c - y * s, x * s + y * c], axis=-1)


def _flake_cluster(
    rng: np.random.Generator,
    h: int,
    w: int,
    radii: np.ndarray,
    unit: float,
    edge_fraction: float,
    crack_fraction: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Centres and orientations of a cluster of flakes, and the crack they follow (if any)."""
    m = len(radii)
    spread = rng.uniform(0.04, 0.2) * math.sqrt(h * w)
    u = rng.random()
    if u < edge_fraction:  # along one edge, most of each flake inside the photo
        side = int(rng.integers(4))
        size, across = (w, h) if side < 2 else (h, w)
        along = rng.uniform(0, size) + rng.normal(0.0, spread, m)
        depth = np.abs(rng.normal(0.0, 1.0, m)) * (radii + 3.0 * unit) - 0.3 * radii
        depth = depth if side % 2 == 0 else across - 1 - depth
        centers = np.stack([along, depth] if side < 2 else [depth, along], axis=1)
        angles = np.full(m, 0.0 if side < 2 else np.pi / 2) + rng.normal(0.0, 0.3, m)
        return centers, angles, None
    if u < edge_fraction + crack_fraction:  # strung along a crack
        step = max(4.0 * unit, 1.5)
        steps = int(np.clip(2.5 * spread / step, 3, 200))
        path = _walk(rng, rng.uniform((0, 0), (w, h)), rng.uniform(0, 2 * np.pi), steps, step, 0.2)
        at = rng.integers(0, steps, m)
        tangent = path[at + 1] - path[at]
        centers = path[at] + rng.normal(0.0, 0.4, (m, 2)) * radii[:, None]
        return centers, np.arctan2(tangent[:, 1], tangent[:, 0]), path
    centers = rng.uniform((0, 0), (w, h)) + rng.normal(0.0, spread / 2, (m, 2))
    return centers, rng.uniform(0.0, np.pi, m), None


def flakes(
    image: np.ndarray,
    rng: np.random.Generator,
    severity: float = 0.5,
    *,
    count: int | None = None,
    size: float | None = None,
    opacity: float | None = None,
    dark_fraction: float = FLAKE_DARK_FRACTION,
    edge_fraction: float = FLAKE_EDGE_FRACTION,
    crack_fraction: float = FLAKE_CRACK_FRACTION,
) -> tuple[np.ndarray, np.ndarray]:
    """Emulsion flakes: clusters of small angular chips where the emulsion came off, showing paper
    white (or dark card), scattered round a spot, lining an edge or strung along a crack.

    ``size`` fixes the flake diameter in px (``FLAKE_SIZE``), ``opacity`` their opacity.
    """
    h, w, c = _check(image, severity)
    n = _count(rng, count, FLAKE_COUNT, severity)
    if severity == 0 or n == 0:
        return _untouched(image)
    unit = _unit(h, w)
    paper = np.zeros((h, w), np.uint8)
    card = np.zeros((h, w), np.uint8)
    rims = np.zeros((h, w), np.uint8)
    for _ in range(n):
        layer = card if rng.random() < dark_fraction else paper
        m = max(_count(rng, None, FLAKE_CLUSTER, severity), 1)
        diameters = _amount(rng, size, FLAKE_SIZE, severity, m, log=True) * unit
        radii = np.maximum(diameters / 2, 0.6)
        centers, angles, crack = _flake_cluster(
            rng, h, w, radii, unit, edge_fraction, crack_fraction
        )
        polygons = _chips(rng, centers, radii, rng.uniform(1.0, 1.8, m), angles)
        values = np.round(255.0 * _amount(rng, opacity, FLAKE_OPACITY, severity, m))
        if crack is not None:
            crack_w = max(rng.uniform(1.5, 4.0) * unit, 0.6)
            value = round(float(values.max()) * min(crack_w, 1.0))
            _stroke(layer, crack, np.full(len(crack) - 1, value), max(round(crack_w), 1))
        if layer is paper and rng.random() < 0.5:  # the lifted edge of the emulsion casts a rim
            rim = np.zeros_like(rims)
            rim_value = round(255.0 * rng.uniform(0.25, 0.6))
            cv2.polylines(rim, list(_fixed(polygons)), True, rim_value, 1, cv2.LINE_AA, _SHIFT)
            np.maximum(rims, rim, out=rims)
        _fill(layer, polygons, values)
    layers = [_Layer(rims, "darken", _color(GRIME, c))]
    for fill, ends in ((card, TEAR_CARD), (paper, BOLD_WHITE)):
        x, y, bw, bh = cv2.boundingRect(fill)
        if bw and bh:
            cells = int(np.clip(max(bw, bh) / (16.0 * max(unit, 0.05)), 1, 64))
            grain = (_noise(rng, bh, bw, cells) - 0.5) * 0.06 + 1.0  # paper texture
            backing = np.clip(_tone(rng, ends, c) * grain[..., None], 0.0, 1.0)
            layers.append(_Layer(fill[y : y + bh, x : x + bw], "normal", backing, (y, x)))
    return _composite(image, layers)


def hairs(
    image: np.ndarray,
    rng: np.random.Generator,
    severity: float = 0.5,
    *,
    count: int | None = None,
    width: float | None = None,
    length: float | None = None,
    opacity: float | None = None,
    dark_fraction: float = HAIR_DARK_FRACTION,
) -> tuple[np.ndarray, np.ndarray]:
    """Hairs and fibres: long thin curly curves, dark or white, lying on the print.

    ``width`` fixes the width in px (``HAIR_WIDTH``), ``length`` the length as a fraction of
    sqrt(H·W) (``HAIR_LENGTH``), ``opacity`` the opacity (``HAIR_OPACITY``).
    """
    h, w, c = _check(image, severity)
    n = _count(rng, count, HAIR_COUNT, severity)
    if severity == 0 or n == 0:
        return _untouched(image)
    unit = _unit(h, w)
    step = max(3.0 * unit, 1.5)
    light = np.zeros((h, w), np.uint8)
    dark = np.zeros((h, w), np.uint8)
    for _ in range(n):
        layer = dark if rng.random() < dark_fraction else light
        hair_w = max(float(_amount(rng, width, HAIR_WIDTH, severity)) * unit, 0.5)
        span = float(_amount(rng, length, HAIR_LENGTH, severity)) * math.sqrt(h * w)
        steps = int(np.clip(span / step, 3, 400))
        # Curls of radius 8–80 px (at 512²) whose sense changes along the hair, plus jitter.
        bend = step / (rng.uniform(8.0, 80.0) * max(unit, 0.25))
        curl = _profile(rng, steps, max(steps // 20, 1), -1.0, 1.0) * bend
        angles = rng.uniform(0, 2 * np.pi) + np.cumsum(curl + rng.normal(0.0, 0.05, steps))
        moves = step * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        start = rng.uniform((0, 0), (w, h)) - moves.sum(axis=0) / 2
        points = np.vstack([start, start + np.cumsum(moves, axis=0)])
        value = 255.0 * float(_amount(rng, opacity, HAIR_OPACITY, severity)) * min(hair_w, 1.0)
        _stroke(layer, points, np.full(steps, round(value)), max(round(hair_w), 1))
    return _composite(
        image,
        [
            _Layer(dark, "darken", _tone(rng, BOLD_BLACK, c)),
            _Layer(light, "lighten", _tone(rng, BOLD_WHITE, c)),
        ],
    )


def _draw_grouped(
    layer: np.ndarray, lines: np.ndarray, values: np.ndarray, widths: np.ndarray
) -> None:
    """Draw polylines (n×k×2) with per-line opacity 0..255 and width, one call per distinct pair,
    fainter ones first; the drawing's strongest value is kept where it overlaps ``layer``."""
    drawn = np.zeros_like(layer)
    fixed = _fixed(lines)
    pairs = np.stack([values, widths], axis=1)
    for value, width in np.unique(pairs[values > 0], axis=0).tolist():
        group = fixed[(values == value) & (widths == width)]
        cv2.polylines(drawn, list(group), False, value, width, cv2.LINE_AA, _SHIFT)
    np.maximum(layer, drawn, out=layer)


def craquelure(
    image: np.ndarray,
    rng: np.random.Generator,
    severity: float = 0.5,
    *,
    count: int | None = None,
    width: float | None = None,
    cell: float | None = None,
    opacity: float | None = None,
    dark_fraction: float = CRAQ_DARK_FRACTION,
    opaque_fraction: float = CRAQ_OPAQUE_FRACTION,
    network_fraction: float = CRAQ_NETWORK_FRACTION,
) -> tuple[np.ndarray, np.ndarray]:
    """Strong cracks: bright (or dark) forking cracks that widen and narrow, and dense craquelure
    networks covering a region, fully opaque or blended.

    ``width`` fixes the widest part of a crack in px (``CRAQ_WIDTH``; a network's lines stay
    below an eighth of its cell), ``cell`` the network cell size in px (``CRAQ_CELL``),
    ``opacity`` the opacity of every system (else a share ``opaque_fraction`` is opaque).
    """
    h, w, c = _check(image, severity)
    n = _count(rng, count, CRAQ_COUNT, severity)
    if severity == 0 or n == 0:
        return _untouched(image)
    unit = _unit(h, w)
    size = math.sqrt(h * w)
    light = np.zeros((h, w), np.uint8)
    dark = np.zeros((h, w), np.uint8)
    for _ in range(n):
        layer = dark if rng.random() < dark_fraction else light
        if opacity is not None:
            peak = float(opacity)
        elif rng.random() < opaque_fraction:
            peak = 1.0
        else:
            peak = float(_amount(rng, None, CRAQ_OPACITY, severity))
        crack_w = max(float(_amount(rng, width, CRAQ_WIDTH, severity, log=True)) * unit, 0.7)
        extent = max(float(_amount(rng, None, CRAQ_EXTENT, severity)) * size, 4.0)
        center = rng.uniform((0, 0), (w, h))
        if rng.random() < network_fraction:
            cell_px = max(float(_amount(rng, cell, CRAQ_CELL, 1.0)) * unit, 4.0)
            lines = _craquelure(rng, center, extent, cell_px)
            lines = lines[np.linalg.norm(lines[:, -1] - lines[:, 0], axis=1) < 2.5 * cell_px]
            spans = min(crack_w, max(cell_px / 8, 0.7)) * rng.choice([0.6, 0.8, 1.0], len(lines))
            strength = peak * (1.0 if peak == 1.0 else rng.choice([0.8, 1.0], len(lines)))
            values = np.round(255.0 * strength * np.minimum(spans, 1.0)).astype(int)
            values = np.broadcast_to(values, len(lines))
            _draw_grouped(layer, lines, values, np.maximum(np.round(spans), 1).astype(int))
            continue
        for points, rank in zip(*_branching(rng, center, extent * 1.5, unit), strict=True):
            k = len(points) - 1
            span = crack_w * rank * _profile(rng, k, max(k // 6, 1), 0.35, 1.0)
            values = np.round(255.0 * peak * np.minimum(span, 1.0)).astype(int)
            _stroke(layer, points, values, np.maximum(np.round(span), 1).astype(int))
    return _composite(
        image,
        [
            _Layer(dark, "darken", _tone(rng, BOLD_BLACK, c)),
            _Layer(light, "lighten", _tone(rng, BOLD_WHITE, c)),
        ],
    )


DAMAGES: dict[str, DamageFn] = {
    "scratches": scratches,
    "dust": dust,
    "cracks": cracks,
    "folds": folds,
    "stains": stains,
    "tears": tears,
    "bold_scratches": bold_scratches,
    "flakes": flakes,
    "hairs": hairs,
    "craquelure": craquelure,
}
