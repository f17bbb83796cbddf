"""A held-out damage renderer for evaluation only: training never imports it.

The restore models learn the damage of :mod:`daguerre.aging`. To measure whether they learned
damage in general, this module draws damage its own, independent way (NumPy and OpenCV only):
scratches, film scratches, dust and specks, crack networks, hairs, a fold and a torn corner,
then a mild blur, noise and JPEG over the whole picture. ``render(clean, seed)`` returns the
damaged picture and the opacity of the damage drawn (H×W float32 in [0, 1]).

Every stroke is drawn from its exact distance field, so a line asked to be ``w`` pixels wide
covers ``w`` pixels across (anti-aliased over one pixel at each edge), and a pixel changes
exactly where the mask is above zero (before the global degradations).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

#: Damage density of each level, relative to "heldout" (clearly visible damage on a 512² crop).
LEVELS: dict[str, float] = {"mild": 0.5, "heldout": 1.0, "severe": 2.0}

Rng = np.random.Generator
Points = np.ndarray  # N×2 float (x, y)


class Canvas:
    """The picture being damaged and the union of the opacities drawn on it."""

    def __init__(self, clean: np.ndarray) -> None:
        self.image = clean.copy()
        self.mask = np.zeros(clean.shape[:2], np.float32)
        self.height, self.width = clean.shape[:2]
        self.channels = clean.shape[2]

    def paint(
        self, top: int, left: int, coverage: np.ndarray, color: np.ndarray, opacity: float
    ) -> None:
        """Blend ``colour`` over the window at (top, left) with ``coverage × opacity``."""
        alpha = (np.clip(coverage, 0.0, 1.0) * opacity).astype(np.float32)
        rows = slice(top, top + alpha.shape[0])
        cols = slice(left, left + alpha.shape[1])
        window = self.image[rows, cols]
        window += alpha[..., None] * (color.astype(np.float32) - window)
        mask = self.mask[rows, cols]
        mask += alpha * (1.0 - mask)


def _window(
    canvas: Canvas, x0: float, y0: float, x1: float, y1: float, pad: float
) -> tuple[int, int, np.ndarray, np.ndarray] | None:
    """The clipped integer window around a box, and its pixel-centre grids; None when outside."""
    left = max(0, math.floor(min(x0, x1) - pad))
    top = max(0, math.floor(min(y0, y1) - pad))
    right = min(canvas.width, math.ceil(max(x0, x1) + pad) + 1)
    bottom = min(canvas.height, math.ceil(max(y0, y1) + pad) + 1)
    if right <= left or bottom <= top:
        return None
    ys, xs = np.mgrid[top:bottom, left:right].astype(np.float32)
    return top, left, xs, ys


def stroke_coverage(
    canvas: Canvas, points: Points, widths: np.ndarray | float
) -> tuple[int, int, np.ndarray] | None:
    """Anti-aliased coverage of a polyline whose segment i is ``widths[i]`` pixels wide.

    Returns (top, left, coverage window), or None when the stroke misses the picture.
    """
    points = np.asarray(points, np.float64)
    widths = np.broadcast_to(np.asarray(widths, np.float64), (max(len(points) - 1, 1),))
    pad = float(widths.max()) / 2 + 2
    box = _window(
        canvas, points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max(), pad
    )
    if box is None:
        return None
    top, left, grid, _ = box
    coverage = np.zeros(grid.shape, np.float32)
    for (ax, ay), (bx, by), width in zip(points[:-1], points[1:], widths, strict=False):
        half = width / 2 + 1
        part = _window(canvas, ax, ay, bx, by, half)
        if part is None:
            continue
        ptop, pleft, xs, ys = part
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = ((xs - ax) * dx + (ys - ay) * dy) / length2 if length2 > 0 else 0.0
        t = np.clip(t, 0.0, 1.0)
        distance = np.hypot(xs - (ax + t * dx), ys - (ay + t * dy))
        inside = np.clip(width / 2 + 0.5 - distance, 0.0, 1.0).astype(np.float32)
        sub = coverage[
            ptop - top : ptop - top + xs.shape[0], pleft - left : pleft - left + xs.shape[1]
        ]
        np.maximum(sub, inside, out=sub)
    return top, left, coverage


def draw_stroke(
    canvas: Canvas,
    points: Points,
    widths: np.ndarray | float,
    color: np.ndarray,
    opacity: float,
) -> None:
    """Draw a polyline of the given width(s) in ``colour`` at ``opacity``."""
    drawn = stroke_coverage(canvas, points, widths)
    if drawn is not None:
        canvas.paint(drawn[0], drawn[1], drawn[2], color, opacity)


def draw_blob(
    canvas: Canvas, x: float, y: float, radius: float, color: np.ndarray, opacity: float, rng: Rng
) -> None:
    """An irregular disc: its radius wavers with the angle by a few low harmonics."""
    box = _window(canvas, x, y, x, y, radius * 1.5 + 2)
    if box is None:
        return
    top, left, xs, ys = box
    angle = np.arctan2(ys - y, xs - x)
    wobble = np.ones_like(angle)
    for harmonic in (2, 3, 5):
        wobble += rng.uniform(0, 0.15) * np.cos(harmonic * angle + rng.uniform(0, 2 * np.pi))
    distance = np.hypot(xs - x, ys - y)
    canvas.paint(top, left, np.clip(radius * wobble + 0.5 - distance, 0, 1), color, opacity)


# ----------------------------------------------------------------------------- colours and paths


def _color(canvas: Canvas, rng: Rng, bright: bool) -> np.ndarray:
    """A paper-white (slightly warm) or near-black colour for one piece of damage."""
    value = rng.uniform(0.86, 1.0) if bright else rng.uniform(0.0, 0.18)
    if canvas.channels == 1:
        return np.array([value], np.float32)
    low = (0.96, 0.9) if bright else (0.9, 0.85)  # less green and blue: warm white, brown black
    tint = np.array([1.0, rng.uniform(low[0], 1.0), rng.uniform(low[1], 1.0)])
    return np.clip(value * tint, 0, 1).astype(np.float32)


def _opacity(rng: Rng) -> float:
    """Opaque two times in three, else semi-opaque."""
    return 1.0 if rng.random() < 2 / 3 else float(rng.uniform(0.45, 0.9))


def _curve(
    start: np.ndarray, angle: float, length: float, bend: float, step: float = 4.0
) -> Points:
    """Points along an arc of the given total turn (``bend`` radians) from ``start``."""
    count = max(2, int(length / step) + 1)
    turns = angle + bend * np.linspace(-0.5, 0.5, count)
    steps = np.stack([np.cos(turns), np.sin(turns)], axis=1) * (length / (count - 1))
    steps[0] = 0
    return start + np.cumsum(steps, axis=0)


def _broken(rng: Rng, count: int, gap: float) -> list[slice]:
    """Runs of segment indices with gaps between them (a stroke that is interrupted)."""
    runs, index = [], 0
    while index < count:
        run = int(rng.integers(3, 20))
        runs.append(slice(index, min(count, index + run) + 1))
        index += run + (int(rng.integers(1, 4)) if rng.random() < gap else 0)
    return runs


# ----------------------------------------------------------------------------- damage kinds


def scratches(canvas: Canvas, rng: Rng, density: float) -> None:
    """Lines 1–6 px: straight, gently curved and short ones, and long vertical film scratches."""
    area = canvas.height * canvas.width / 512**2
    side = max(canvas.height, canvas.width)
    for _ in range(rng.poisson(9 * density * area)):
        kind = rng.choice(["straight", "curved", "short"], p=[0.35, 0.35, 0.3])
        length = side * (rng.uniform(0.03, 0.1) if kind == "short" else rng.uniform(0.15, 0.8))
        start = rng.uniform([0, 0], [canvas.width, canvas.height])
        bend = 0.0 if kind == "straight" else rng.uniform(-0.6, 0.6)
        points = _curve(start, rng.uniform(0, 2 * np.pi), length, bend)
        width = rng.choice([1.0, 1.5, 2.0, 3.0, 4.0, 6.0], p=[0.25, 0.2, 0.2, 0.15, 0.12, 0.08])
        taper = np.minimum(
            1.0, np.minimum(np.arange(len(points) - 1), np.arange(len(points) - 1)[::-1]) / 3 + 0.5
        )
        draw_stroke(
            canvas, points, width * taper, _color(canvas, rng, rng.random() < 0.65), _opacity(rng)
        )
    for _ in range(rng.poisson(1.5 * density * canvas.width / 512)):  # film scratches
        x = rng.uniform(0, canvas.width)
        y0 = rng.uniform(-0.1, 0.4) * canvas.height
        y1 = rng.uniform(0.6, 1.1) * canvas.height
        ys = np.linspace(y0, y1, max(2, int((y1 - y0) / 6)))
        wander = rng.uniform(0.5, 3.0) * np.sin(ys / rng.uniform(40, 200) + rng.uniform(0, 6))
        points = np.stack([x + wander + rng.uniform(-0.02, 0.02) * (ys - y0), ys], axis=1)
        color, width = _color(canvas, rng, rng.random() < 0.8), rng.uniform(1.0, 3.0)
        for run in _broken(rng, len(points) - 1, gap=0.3):
            draw_stroke(canvas, points[run], width, color, float(rng.uniform(0.5, 1.0)))


def dust(canvas: Canvas, rng: Rng, density: float) -> None:
    """Many small specks and some larger irregular discs, white and dark."""
    area = canvas.height * canvas.width / 512**2
    for _ in range(rng.poisson(45 * density * area)):
        x, y = rng.uniform([0, 0], [canvas.width, canvas.height])
        radius = rng.uniform(0.6, 1.8)
        color = _color(canvas, rng, rng.random() < 0.6)
        draw_blob(canvas, x, y, radius, color, float(rng.uniform(0.6, 1.0)), rng)
    for _ in range(rng.poisson(7 * density * area)):
        x, y = rng.uniform([0, 0], [canvas.width, canvas.height])
        radius = rng.uniform(2.0, 8.0)
        draw_blob(canvas, x, y, radius, _color(canvas, rng, rng.random() < 0.6), _opacity(rng), rng)


def cracks(canvas: Canvas, rng: Rng, density: float) -> None:
    """Random-walk crack networks that branch and change width, bright or dark."""
    area = canvas.height * canvas.width / 512**2
    for _ in range(rng.poisson(1.3 * density * area)):
        color, opacity = _color(canvas, rng, rng.random() < 0.5), float(rng.uniform(0.7, 1.0))
        start = rng.uniform([0, 0], [canvas.width, canvas.height])
        budget = rng.uniform(0.5, 1.5) * max(canvas.height, canvas.width)
        heading = rng.uniform(0, 2 * np.pi)
        todo = [(start, heading, heading, rng.uniform(1.5, 3.5), budget)]
        branches = 0
        while todo and branches < 40:
            point, angle, heading, width, length = todo.pop()
            branches += 1
            points, widths = [point], []
            for _ in range(int(length / 3)):
                # mostly straight runs with sudden kinks, pulled back towards the heading
                kink = rng.normal(0, 0.7) if rng.random() < 0.12 else rng.normal(0, 0.06)
                angle += kink + 0.15 * (heading - angle)
                width = float(np.clip(width + rng.normal(0, 0.2), 0.8, 4.0))
                point = point + rng.uniform(2, 4) * np.array([np.cos(angle), np.sin(angle)])
                points.append(point)
                widths.append(width)
                if rng.random() < 0.035:
                    turn = angle + rng.choice([-1, 1]) * rng.uniform(0.5, 1.3)
                    rest = length * rng.uniform(0.15, 0.5)
                    todo.append((point, turn, turn, max(0.8, width * 0.7), rest))
                if rng.random() < 0.008:
                    break
            if len(points) > 1:
                draw_stroke(canvas, np.array(points), np.array(widths), color, opacity)


def hairs(canvas: Canvas, rng: Rng, density: float) -> None:
    """Thin curly fibres, dark or white: the curvature itself wanders along the hair."""
    area = canvas.height * canvas.width / 512**2
    for _ in range(rng.poisson(2.5 * density * area)):
        point = rng.uniform([0, 0], [canvas.width, canvas.height])
        angle, curl = rng.uniform(0, 2 * np.pi), rng.normal(0, 0.04)
        points = [point]
        for _ in range(int(rng.uniform(40, 220) / 2)):
            curl = float(np.clip(curl + rng.normal(0, 0.012), -0.07, 0.07))
            angle += curl
            point = point + 2 * np.array([np.cos(angle), np.sin(angle)])
            points.append(point)
        color = _color(canvas, rng, rng.random() < 0.3)
        draw_stroke(
            canvas, np.array(points), rng.uniform(0.7, 1.6), color, float(rng.uniform(0.6, 1.0))
        )


def fold(canvas: Canvas, rng: Rng, density: float) -> None:
    """One crease across the photo: a bright broken line with a darker shadow along one side."""
    if rng.random() >= min(1.0, 0.6 * density):
        return
    height, width = canvas.height, canvas.width
    if rng.random() < 0.5:  # roughly horizontal: left edge to right edge
        ends = np.array(
            [[-5, rng.uniform(0.1, 0.9) * height], [width + 5, rng.uniform(0.1, 0.9) * height]]
        )
    else:
        ends = np.array(
            [[rng.uniform(0.1, 0.9) * width, -5], [rng.uniform(0.1, 0.9) * width, height + 5]]
        )
    count = max(2, int(np.hypot(*(ends[1] - ends[0])) / 5))
    t = np.linspace(0, 1, count)[:, None]
    direction = ends[1] - ends[0]
    normal = np.array([-direction[1], direction[0]]) / np.hypot(*direction)
    sway = rng.uniform(-6, 6) * np.sin(np.pi * t) + np.cumsum(
        rng.normal(0, 0.25, (count, 1)), axis=0
    )
    line = ends[0] + t * direction + sway * normal
    shadow_side = rng.choice([-1.0, 1.0])
    bright_width = rng.uniform(1.5, 3.0)
    shadow = line + shadow_side * (bright_width / 2 + rng.uniform(1.0, 2.5)) * normal
    draw_stroke(
        canvas,
        shadow,
        rng.uniform(2.0, 5.0),
        _color(canvas, rng, False),
        float(rng.uniform(0.3, 0.6)),
    )
    color = _color(canvas, rng, True)
    for run in _broken(rng, count - 1, gap=0.5):
        draw_stroke(canvas, line[run], bright_width, color, float(rng.uniform(0.6, 1.0)))


def torn_corner(canvas: Canvas, rng: Rng, density: float) -> None:
    """Sometimes a corner is missing: a jagged polygon of paper white or dark backing."""
    if rng.random() >= min(1.0, 0.35 * density):
        return
    height, width = canvas.height, canvas.width
    reach = rng.uniform(0.06, 0.22, 2) * (width, height)
    t = np.linspace(0, 1, 24)
    edge = np.stack([reach[0] * t, reach[1] * (1 - t)], axis=1)
    edge += np.cumsum(rng.normal(0, 1.2, (len(t), 2)), axis=0) * np.sin(np.pi * t)[:, None]
    polygon = np.concatenate([[[-2.0, -2.0], [-2.0, reach[1]]], edge, [[reach[0], -2.0]]])
    corner = int(rng.integers(4))  # bit 0: right side, bit 1: bottom side
    for points in (polygon, edge):
        if corner & 1:
            points[:, 0] = width - 1 - points[:, 0]
        if corner & 2:
            points[:, 1] = height - 1 - points[:, 1]
    fill = np.zeros((height, width), np.uint8)  # sub-pixel vertices, anti-aliased edge
    cv2.fillPoly(fill, [np.round(polygon * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    if rng.random() < 0.6:  # the white paper behind the print
        paper = rng.uniform(0.88, 0.97) * np.array([1.0, 0.98, 0.92])
        color = np.full(1, paper.mean()) if canvas.channels == 1 else paper
    else:
        color = _color(canvas, rng, False)
    canvas.paint(0, 0, fill.astype(np.float32) / 255, color.astype(np.float32), 1.0)
    fibres = _color(canvas, rng, True)  # the torn paper's lighter fibres along the edge
    draw_stroke(canvas, edge, rng.uniform(0.8, 1.6), fibres, 0.8)


DAMAGE_KINDS: tuple[Callable[[Canvas, Rng, float], None], ...] = (
    torn_corner,
    fold,
    cracks,
    scratches,
    hairs,
    dust,
)


def degrade(image: np.ndarray, rng: Rng) -> np.ndarray:
    """Over the whole picture, each with its own chance: a mild blur, noise, JPEG (40–90)."""
    image = image.copy()
    if rng.random() < 0.5:
        sigma = rng.uniform(0.4, 1.1)
        image = cv2.GaussianBlur(image, (0, 0), sigma).reshape(image.shape)
    if rng.random() < 0.6:
        image += rng.normal(0, rng.uniform(0.005, 0.03), image.shape).astype(np.float32)
    np.clip(image, 0, 1, out=image)
    if rng.random() < 0.6:
        quality = int(rng.integers(40, 91))
        color = image.shape[2] == 3
        pixels = np.round(image * 255).astype(np.uint8)
        # OpenCV encodes BGR, or a plain H×W gray picture
        pixels = np.ascontiguousarray(pixels[..., ::-1] if color else pixels[..., 0])
        ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("OpenCV could not encode the JPEG")
        decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE)
        if color:
            decoded = decoded[..., ::-1]
        image = (decoded.astype(np.float32) / 255).reshape(image.shape)
    return image


def render(
    clean: np.ndarray,
    rng_or_seed: Rng | int,
    *,
    level: str = "heldout",
    degradations: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Damage ``clean`` (H×W×1 or H×W×3 float in [0, 1]); return (damaged, H×W opacity mask).

    ``level`` scales how much damage is drawn (see :data:`LEVELS`). Each kind of damage and the
    degradations draw from their own generator, split from the seed. ``degradations=False``
    leaves out the blur, noise and JPEG, so pixels change only where the mask is above zero.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown held-out level {level!r}; known: {sorted(LEVELS)}")
    clean = np.asarray(clean)
    if (
        clean.ndim != 3
        or clean.shape[2] not in (1, 3)
        or not np.issubdtype(clean.dtype, np.floating)
    ):
        raise ValueError(f"expected a float H×W×1 or H×W×3 image, got {clean.dtype} {clean.shape}")
    rng = (
        rng_or_seed
        if isinstance(rng_or_seed, np.random.Generator)
        else np.random.default_rng(rng_or_seed)
    )
    seeds = rng.integers(0, 2**63, size=len(DAMAGE_KINDS) + 1)
    canvas = Canvas(np.clip(clean, 0, 1).astype(np.float32))
    for kind, seed in zip(DAMAGE_KINDS, seeds, strict=False):
        kind(canvas, np.random.default_rng(seed), LEVELS[level])
    image = np.clip(canvas.image, 0, 1)
    if degradations:
        image = degrade(image, np.random.default_rng(seeds[-1]))
    return image, np.clip(canvas.mask, 0, 1)
