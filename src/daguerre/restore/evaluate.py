"""Measure restoration on clean photos aged with a fixed seed: input vs. classical vs. pipeline.

The inputs are damaged either by the aging engine the models were trained on (``damage="aging"``,
its presets) or by the held-out renderer of :mod:`daguerre.restore.heldout`, which training never
sees (``damage="heldout"``, its levels); the preset ``"none"`` leaves the photos clean, to measure
that a clean photo comes back unharmed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from daguerre import image as imageio
from daguerre import metrics
from daguerre.aging import PRESETS, AgingPipeline, AgingResult
from daguerre.aging.damage import VISIBLE_OPACITY
from daguerre.color import to_rgb
from daguerre.restore import heldout
from daguerre.restore.classical import classical_restore
from daguerre.restore.pipeline import RestorePipeline

CROP = 512
#: What damages the inputs: the aging engine (training's own) or the held-out renderer.
DAMAGES = ("aging", "heldout")
#: The preset that draws no damage at all, with either renderer (no aging either).
NO_DAMAGE = "none"
#: Every row of ``daguerre eval restore --preset all``: (row name, preset, damage).
EVERY_PRESET: tuple[tuple[str, str, str], ...] = (
    (NO_DAMAGE, NO_DAMAGE, "aging"),
    *((name, name, "aging") for name in PRESETS if name != NO_DAMAGE),
    ("heldout", "heldout", "heldout"),
)


def center_crop(pixels: np.ndarray, size: int = CROP) -> np.ndarray:
    """The central ``size``×``size`` square (or the whole side where the image is smaller)."""
    height, width = pixels.shape[:2]
    top, left = max(0, (height - size) // 2), max(0, (width - size) // 2)
    return pixels[top : top + size, left : left + size]


def resolve_preset(preset: str | None, damage: str = "aging") -> str:
    """The preset to use: ``preset`` checked against ``damage``'s own, or that one's default.

    ``damage="aging"`` takes an aging preset (default "moderate"), ``damage="heldout"`` a level
    of the held-out renderer (default "heldout"); both take "none".
    """
    if damage not in DAMAGES:
        raise ValueError(f"unknown damage {damage!r}; known: {', '.join(DAMAGES)}")
    known = PRESETS if damage == "aging" else heldout.LEVELS
    if preset is None:
        return "moderate" if damage == "aging" else "heldout"
    if preset != NO_DAMAGE and preset not in known:
        names = ", ".join(dict.fromkeys([NO_DAMAGE, *known]))
        raise ValueError(f"unknown preset {preset!r} for damage {damage!r}; known: {names}")
    return preset


def aged_samples(
    files: Sequence[Path], preset: str | None, seed: int, damage: str = "aging"
) -> Iterator[tuple[Path, np.ndarray, AgingResult]]:
    """The evaluation's inputs: each file's centre crop (the truth) and its damage (seed + index).

    ``damage`` picks the renderer and ``preset`` its preset (see :func:`resolve_preset`).
    """
    preset = resolve_preset(preset, damage)
    aging = AgingPipeline(preset) if damage == "aging" and preset != NO_DAMAGE else None
    for index, path in enumerate(files):
        clean = to_rgb(center_crop(imageio.read(path).pixels))
        if aging is not None:
            yield path, clean, aging(clean, seed + index)
        elif preset == NO_DAMAGE:
            mask = np.zeros(clean.shape[:2], np.float32)
            yield path, clean, AgingResult(aged=clean.copy(), clean=clean, mask=mask)
        else:
            damaged, mask = heldout.render(clean, seed + index, level=preset)
            yield path, clean, AgingResult(aged=damaged, clean=clean, mask=mask)


@dataclass
class Evaluation:
    """Per-image scores of each method and the damage-mask scores, with their means."""

    names: list[str] = field(default_factory=list)
    scores: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    mask: list[dict[str, float]] = field(default_factory=list)
    flagged: list[float] = field(default_factory=list)
    sheet_rows: list[list[np.ndarray]] = field(default_factory=list)

    def add(self, method: str, restored: np.ndarray, truth: np.ndarray) -> None:
        self.scores.setdefault(method, []).append(
            (metrics.psnr(restored, truth), metrics.ssim(restored, truth))
        )

    def summary(self) -> dict[str, dict[str, float]]:
        """Mean PSNR / SSIM per method, and mean mask precision / recall / IoU."""
        table = {
            method: {
                "psnr": float(np.mean([p for p, _ in values])),
                "ssim": float(np.mean([s for _, s in values])),
            }
            for method, values in self.scores.items()
        }
        if self.mask:
            table["mask"] = {
                key: float(np.mean([entry[key] for entry in self.mask]))
                for key in ("precision", "recall", "iou")
            }
        return table

    def flagged_fraction(self) -> float | None:
        """Mean fraction of the pixels the pipeline marked as damage (None without a mask).

        On clean inputs (preset "none") every marked pixel is a false alarm.
        """
        return float(np.mean(self.flagged)) if self.flagged else None


def evaluate(
    files: Sequence[Path],
    *,
    preset: str | None = None,
    seed: int = 0,
    pipeline: RestorePipeline | None = None,
    extra: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] | None = None,
    sheet_size: int = 6,
    damage: str = "aging",
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Age each file's centre crop (seed + index), restore it, score every method against truth.

    ``damage`` is "aging" (the engine training uses; ``preset`` one of its presets, default
    "moderate") or "heldout" (the held-out renderer; ``preset`` one of its levels, default
    "heldout"); ``preset="none"`` keeps the photos clean. ``progress(done, total)`` is called
    after each photo.

    ``extra`` adds more methods (name → function of the aged image and the pipeline's result),
    e.g. finishing applied to the result, so one run compares them all on the same inputs.
    The detected mask is scored against the damage that shows (drawn with more than
    :data:`~daguerre.aging.damage.VISIBLE_OPACITY`), as the detector is trained to find it; the
    held-out renderer's mask is read the same way.
    """
    if not files:
        raise ValueError("no photos to evaluate")
    preset = resolve_preset(preset, damage)  # a bad name fails before any model loads
    pipeline = pipeline or RestorePipeline()
    result = Evaluation()
    for done, (path, clean, aged) in enumerate(aged_samples(files, preset, seed, damage), 1):
        restored = pipeline(aged.aged)
        result.names.append(path.name)
        result.add("input", aged.aged, clean)
        result.add("classical", classical_restore(aged.aged), clean)
        result.add("daguerre", restored.image, clean)
        for name, method in (extra or {}).items():
            result.add(name, method(aged.aged, restored.image), clean)
        visible = aged.mask > VISIBLE_OPACITY
        if restored.mask is not None:
            result.flagged.append(float(np.mean(restored.mask >= 0.5)))
            if visible.any():
                result.mask.append(metrics.mask_scores(restored.mask, visible))
        if len(result.sheet_rows) < sheet_size:
            result.sheet_rows.append([aged.aged, restored.image, clean])
        if progress is not None:
            progress(done, len(files))
    return result


def evaluate_every(
    files: Sequence[Path],
    *,
    progress: Callable[[str, int, int], None] | None = None,
    **options: object,
) -> dict[str, Evaluation]:
    """:func:`evaluate` once per row of :data:`EVERY_PRESET`, with one pipeline for them all.

    ``options`` go to each :func:`evaluate` call (not ``preset`` nor ``damage``);
    ``progress(row, done, total)`` is called after each photo.
    """
    if "preset" in options or "damage" in options:
        raise ValueError("evaluate_every runs every preset and damage itself")
    options.setdefault("pipeline", RestorePipeline())
    results = {}
    for row, preset, damage in EVERY_PRESET:
        report = None if progress is None else functools.partial(progress, row)
        results[row] = evaluate(files, preset=preset, damage=damage, progress=report, **options)
    return results


def write_sheet(result: Evaluation, path: Path, height: int = 256) -> Path:
    """A PNG of the evaluation's first rows: aged input, restored, truth."""
    if not result.sheet_rows:
        raise ValueError("the evaluation has no rows to draw")
    rows = []
    for row in result.sheet_rows:
        tiles = [
            cv2.resize(image, (round(image.shape[1] * height / image.shape[0]), height))
            for image in row
        ]
        rows.append(np.concatenate([t.reshape(height, -1, 3) for t in tiles], axis=1))
    width = max(row.shape[1] for row in rows)
    padded = [
        np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0)), constant_values=1) for row in rows
    ]
    return imageio.write(path, np.concatenate(padded, axis=0))
