"""Training-free colour and tone transfer from a style image onto an image.

Every transfer works in CIE Lab, computed with OpenCV's float32 sRGB (D65) conversion, so L lies in
[0, 100] and a, b roughly in [-128, 127]. Lab separates lightness from colour and is close to
perceptually uniform, which keeps matched statistics meaningful to the eye. Results are converted
back to sRGB and clipped to [0, 1]; colours pushed out of the sRGB gamut are clipped there.

Gray images (C = 1) are handled on lightness alone and stay gray; the style image may then be gray
or RGB (only its lightness is used). An RGB image with a gray style takes on the style's neutral
colours, i.e. it becomes gray too. The style image may have any size.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from daguerre.color import lab_to_rgb, rgb_to_lab

_KNOTS = 1024  # quantiles that define each 1-D matching function
_GRID = 4096  # uniform samples on which each matching function is tabulated
_MIN_STD = 1e-6  # guards the Reinhard scale on flat channels
_CHUNK = 1 << 20  # pixels moved at a time by the sliced OT replay
_REGRAIN_SIDE = 1024  # long side (pixels) at which the regraining filter is computed
_REGRAIN_RADIUS = 2  # its window radius at that size
_REGRAIN_EPS = 1e-4  # its edge threshold: colour variance, Lab divided by 100


def _check(array: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 3 or array.shape[2] not in (1, 3):
        raise ValueError(f"{name} must be an H×W×C array with C = 1 or 3, got shape {array.shape}")
    return np.ascontiguousarray(array, dtype=np.float32)


def _check_same_size(first: np.ndarray, second: np.ndarray, names: str) -> None:
    if first.shape[:2] != second.shape[:2]:
        raise ValueError(
            f"{names} must have the same height and width: {first.shape} vs {second.shape}"
        )


def _to_lab(image: np.ndarray, channels: int) -> np.ndarray:
    """Lab of an RGB or gray image, cut to its lightness alone when ``channels`` is 1."""
    return rgb_to_lab(image)[..., :channels]


def _from_lab(lab: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] from Lab (H×W×3), or gray from lightness alone (H×W×1)."""
    if lab.shape[2] == 1:
        neutral = np.concatenate([lab, np.zeros_like(lab), np.zeros_like(lab)], axis=2)
        return lab_to_rgb(neutral).mean(axis=2, keepdims=True)
    return lab_to_rgb(lab)


def _lab_pair(image: np.ndarray, style: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image and style in the image's working space: Lab, or lightness when the image is gray."""
    image = _check(image, "image")
    style = _check(style, "style")
    channels = image.shape[2]
    return _to_lab(image, channels), _to_lab(style, channels)


def _subsample(points: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``count`` rows of an N×C array, drawn without replacement."""
    if len(points) <= count:
        return points
    return points[rng.choice(len(points), size=count, replace=False, shuffle=False)]


def _quantiles(values: np.ndarray) -> np.ndarray:
    """Quantiles of ``values`` at ``_KNOTS`` evenly spaced levels, linearly interpolated.

    One sort is faster than ``np.quantile``'s partitioning for this many levels.
    """
    ordered = np.sort(values)
    return np.interp(np.linspace(0, len(ordered) - 1, _KNOTS), np.arange(len(ordered)), ordered)


@dataclass(frozen=True)
class _QuantileMap:
    """Monotone 1-D map sending one distribution onto another, tabulated on a uniform grid.

    Quantile k of the source goes to quantile k of the target, linearly in between. Tied source
    quantiles (flat regions, 8-bit data) merge into one knot mapped to the mean of their target
    quantiles, the least-squares image of that atom of mass. The map is resampled on ``_GRID``
    evenly spaced points so that evaluating it is an index computation, not a search; values
    outside the source range map to the ends of the target range.
    """

    start: float
    inverse_step: float
    table: np.ndarray
    deltas: np.ndarray

    @classmethod
    def fit(cls, source: np.ndarray, target: np.ndarray) -> _QuantileMap:
        xs, group = np.unique(_quantiles(source), return_inverse=True)
        ys = np.bincount(group, weights=_quantiles(target)) / np.bincount(group)
        span = xs[-1] - xs[0]
        table = np.interp(np.linspace(xs[0], xs[-1], _GRID), xs, ys)
        return cls(
            start=float(xs[0]),
            inverse_step=(_GRID - 1) / span if span > 0 else 0.0,
            table=table,
            deltas=np.diff(table, append=table[-1]),
        )

    def __call__(self, values: np.ndarray) -> np.ndarray:
        position = (values - self.start) * self.inverse_step
        np.clip(position, 0, _GRID - 1, out=position)
        index = position.astype(np.intp)
        position -= index
        return self.table[index] + position * self.deltas[index]


def reinhard_transfer(image: np.ndarray, style: np.ndarray) -> np.ndarray:
    """Match the per-channel mean and standard deviation of ``image`` to ``style`` in Lab.

    Reinhard et al. (2001), with CIE Lab in place of their lαβ space.
    """
    source, target = _lab_pair(image, style)
    source_mean, source_std = cv2.meanStdDev(np.ascontiguousarray(source))
    target_mean, target_std = cv2.meanStdDev(np.ascontiguousarray(target))
    scale = (target_std / np.maximum(source_std, _MIN_STD)).ravel().astype(np.float32)
    shift = (target_mean.ravel() - source_mean.ravel() * scale).astype(np.float32)
    return _from_lab(source * scale + shift)


def histogram_match(
    image: np.ndarray, style: np.ndarray, *, sample: int = 1 << 18, seed: int = 0
) -> np.ndarray:
    """Match the histogram of each Lab channel of ``image`` to that of ``style``.

    Lab rather than RGB because its channels are far less correlated, so matching them one by one
    shifts tones and colours without the hue casts that per-channel RGB matching produces. The
    matching functions are estimated from at most ``sample`` pixels of each image (drawn with
    ``seed``) and applied to every pixel by piecewise-linear interpolation.
    """
    source, target = _lab_pair(image, style)
    channels = source.shape[2]
    rng = np.random.default_rng(seed)
    source_points = _subsample(source.reshape(-1, channels), sample, rng)
    target_points = _subsample(target.reshape(-1, channels), sample, rng)
    matched = np.empty_like(source)
    for channel in range(channels):
        match = _QuantileMap.fit(source_points[:, channel], target_points[:, channel])
        matched[..., channel] = match(source[..., channel])
    return _from_lab(matched)


def _random_rotation(size: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly distributed random orthonormal matrix (columns are the projection axes)."""
    q, r = np.linalg.qr(rng.standard_normal((size, size)))
    return q * np.sign(np.diag(r))


def _transport_step(points: np.ndarray, change: np.ndarray, maps: list[_QuantileMap]) -> np.ndarray:
    """Rotate C×N ``points`` by ``change`` and move each coordinate by its 1-D map."""
    return np.stack([match(row) for match, row in zip(maps, change @ points, strict=True)])


def _solve_symmetric(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve many 1×1 or 3×3 symmetric systems at once, in closed form.

    ``np.linalg.solve`` spends most of its time on per-matrix overhead for such small systems.
    """
    if matrix.shape[-1] == 1:
        return rhs / matrix
    a, b, c = matrix[..., 0, 0], matrix[..., 0, 1], matrix[..., 0, 2]
    d, e, f = matrix[..., 1, 1], matrix[..., 1, 2], matrix[..., 2, 2]
    m00, m01, m02 = d * f - e * e, c * e - b * f, b * e - c * d
    m11, m12, m22 = a * f - c * c, b * c - a * e, a * d - b * b
    adjugate = np.stack([m00, m01, m02, m01, m11, m12, m02, m12, m22], axis=-1)
    determinant = a * m00 + b * m01 + c * m02
    return (adjugate.reshape(matrix.shape) @ rhs) / determinant[..., None, None]


def _regrain(source: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """``source`` plus the displacement ``moved - source`` smoothed by a guided filter.

    He et al.'s guided filter with the source colours as the guide, computed at a reduced
    resolution and upsampled (their fast variant): the displacement becomes locally affine in the
    source colour, so it keeps following edges, lightness and colour edges alike, but loses the
    grain, speckle and banding that an exact transport map leaves in smooth areas. This plays the
    part of Pitié et al.'s regraining step at a fraction of its cost. Overwrites ``moved``.
    """
    height, width, channels = source.shape
    scale = min(1.0, _REGRAIN_SIDE / max(height, width))
    small = (max(1, round(width * scale)), max(1, round(height * scale)))

    def shrink(values: np.ndarray) -> np.ndarray:
        return cv2.resize(values, small, interpolation=cv2.INTER_AREA).reshape(*small[::-1], -1)

    def box(values: np.ndarray) -> np.ndarray:
        """Window mean of an h×w×... array, per trailing element."""
        flat = values.reshape(*values.shape[:2], -1)
        size = (2 * _REGRAIN_RADIUS + 1,) * 2
        return cv2.boxFilter(flat, -1, size, borderType=cv2.BORDER_REFLECT).reshape(values.shape)

    source_small = shrink(source)
    guide = source_small / np.float32(100.0)  # unit-range colours, the scale _REGRAIN_EPS uses
    shift = shrink(moved) - source_small
    guide_mean, shift_mean = box(guide), box(shift)
    guide_cov = box(guide[..., :, None] * guide[..., None, :])
    guide_cov -= guide_mean[..., :, None] * guide_mean[..., None, :]
    guide_cov += _REGRAIN_EPS * np.eye(channels, dtype=np.float32)
    cross_cov = box(guide[..., :, None] * shift[..., None, :])
    cross_cov -= guide_mean[..., :, None] * shift_mean[..., None, :]
    slope = _solve_symmetric(guide_cov, cross_cov)  # h×w×guide×output
    offset = shift_mean - np.einsum("...io,...i->...o", slope, guide_mean)

    for out in range(channels):
        # The slope divided by 100 applies to the full-resolution Lab source directly.
        coefficients = np.concatenate([slope[..., out] / 100, offset[..., out, None]], axis=2)
        full = cv2.resize(box(coefficients), (width, height), interpolation=cv2.INTER_LINEAR)
        full = full.reshape(height, width, channels + 1)
        moved[..., out] = source[..., out] + full[..., channels]
        moved[..., out] += np.einsum("...i,...i->...", full[..., :channels], source)
    return moved


def sliced_ot_transfer(
    image: np.ndarray,
    style: np.ndarray,
    *,
    iterations: int = 10,
    sample: int = 1 << 16,
    seed: int = 0,
    regrain: bool = True,
) -> np.ndarray:
    """Transport the Lab colour distribution of ``image`` onto that of ``style``.

    Iterative distribution transfer (Pitié et al. 2005/2007, the sliced optimal transport of Rabin
    et al. 2011): each iteration draws a random orthonormal basis and moves the colours along every
    axis by the 1-D optimal transport (a quantile match) between their projections. Unlike
    per-channel matching this also transfers the correlations between channels, i.e. the palette.

    The matching functions are learnt on at most ``sample`` pixels of each image and then replayed
    on every pixel of ``image`` (a table lookup per axis and step), so the result is defined
    everywhere at a cost linear in the number of pixels.
    Deterministic for a given ``seed``. A gray image needs a single step: in one dimension the
    quantile match already is the optimal transport.

    An exact transport map stretches some colour ranges and squeezes others, which shows as grain
    and posterisation in smooth areas. ``regrain`` (default) smooths the colour displacement with
    an edge-aware filter guided by the image's colours (see ``_regrain``), keeping the palette and
    the image's own fine structure; ``regrain=False`` returns the exact transport.
    """
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    source, target = _lab_pair(image, style)
    height, width, channels = source.shape
    rng = np.random.default_rng(seed)
    moving = _subsample(source.reshape(-1, channels), sample, rng).T.astype(np.float64)
    fixed = _subsample(target.reshape(-1, channels), sample, rng).T.astype(np.float64)

    # Points are carried in the coordinates of the latest basis, so each step costs one rotation.
    frame = np.eye(channels)
    steps = []
    for _ in range(iterations if channels > 1 else 1):
        basis = _random_rotation(channels, rng)
        change = basis.T @ frame
        projected = zip(change @ moving, basis.T @ fixed, strict=True)
        maps = [_QuantileMap.fit(points, reference) for points, reference in projected]
        moving = _transport_step(moving, change, maps)
        steps.append((change, maps))
        frame = basis

    # Replay on every pixel in float64: the maps can be steep, and float32 rounding would be
    # amplified from step to step. Chunks bound the memory this takes.
    flat = source.reshape(-1, channels)
    result = np.empty_like(flat)
    for start in range(0, len(flat), _CHUNK):
        colors = flat[start : start + _CHUNK].T.astype(np.float64)
        for change, maps in steps:
            colors = _transport_step(colors, change, maps)
        result[start : start + _CHUNK] = (frame @ colors).T
    moved = result.reshape(height, width, channels)
    return _from_lab(_regrain(source, moved) if regrain else moved)


def preserve_colors(stylized: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Lightness of ``stylized`` with the colour (Lab a, b) of ``original``.

    Lab, not YCbCr, because its lightness/chroma split follows perception, so the original's hues
    survive unchanged where the stylized image is lighter or darker. The result has the original's
    channel count: a gray original gives the stylized lightness as gray.
    """
    stylized = _check(stylized, "stylized")
    original = _check(original, "original")
    _check_same_size(stylized, original, "stylized and original")
    lab = _to_lab(original, original.shape[2])
    lab[..., 0] = _to_lab(stylized, 1)[..., 0]
    return _from_lab(lab)


def blend(original: np.ndarray, stylized: np.ndarray, strength: float | np.ndarray) -> np.ndarray:
    """Mix ``original`` (strength 0, returned exactly) and ``stylized`` (strength 1, exactly).

    In between the mix is linear in Lab: being close to perceptually uniform, it makes strength
    0.5 look half-way in lightness and colour, where sRGB or linear-light mixing would let the
    darker or the lighter image dominate. ``strength`` is one number or an H×W×1 map of them;
    where a map is 0 or 1 the result is exactly ``original`` or ``stylized`` there too.
    """
    original = _check(original, "original")
    stylized = _check(stylized, "stylized")
    if original.shape != stylized.shape:
        raise ValueError(
            f"original and stylized shapes differ: {original.shape} vs {stylized.shape}"
        )
    weight = np.asarray(strength, dtype=np.float32)
    if weight.ndim and weight.shape != (*original.shape[:2], 1):
        raise ValueError(f"a strength map must be H×W×1 like the image, got {weight.shape}")
    if not (weight.min() >= 0.0 and weight.max() <= 1.0):
        raise ValueError(f"strength must lie in [0, 1], got {weight.min()} to {weight.max()}")
    if not weight.ndim and weight == 0.0:
        return original.copy()
    if not weight.ndim and weight == 1.0:
        return stylized.copy()
    channels = original.shape[2]
    mixed = (1 - weight) * _to_lab(original, channels) + weight * _to_lab(stylized, channels)
    result = _from_lab(mixed)
    if weight.ndim:
        result = np.where(weight >= 1.0, stylized, np.where(weight <= 0.0, original, result))
    return result
