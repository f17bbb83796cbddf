"""Measure restoration on clean photos aged with a fixed seed: input vs. classical vs. pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from daguerre import image as imageio
from daguerre import metrics
from daguerre.aging import AgingPipeline, AgingResult
from daguerre.aging.damage import VISIBLE_OPACITY
from daguerre.restore.classical import classical_restore
from daguerre.restore.pipeline import RestorePipeline

CROP = 512


def centre_crop(pixels: np.ndarray, size: int = CROP) -> np.ndarray:
    """The central ``size``×``size`` square (or the whole side where the image is smaller)."""
    height, width = pixels.shape[:2]
    top, left = max(0, (height - size) // 2), max(0, (width - size) // 2)
    return pixels[top : top + size, left : left + size]


def aged_samples(
    files: Sequence[Path], preset: str, seed: int
) -> Iterator[tuple[Path, np.ndarray, AgingResult]]:
    """The evaluation's inputs: each file's centre crop (the truth) and its aging (seed + index)."""
    aging = AgingPipeline(preset)
    for index, path in enumerate(files):
        clean = imageio.to_rgb(centre_crop(imageio.read(path).pixels))
        yield path, clean, aging(clean, seed + index)


@dataclass
class Evaluation:
    """Per-image scores of each method and the damage-mask scores, with their means."""

    names: list[str] = field(default_factory=list)
    scores: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    mask: list[dict[str, float]] = field(default_factory=list)
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


def evaluate(
    files: Sequence[Path],
    *,
    preset: str = "moderate",
    seed: int = 0,
    pipeline: RestorePipeline | None = None,
    extra: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] | None = None,
    sheet_size: int = 6,
) -> Evaluation:
    """Age each file's centre crop (seed + index), restore it, score every method against truth.

    ``extra`` adds more methods (name → function of the aged image and the pipeline's result),
    e.g. finishing applied to the result, so one run compares them all on the same inputs.
    The detected mask is scored against the damage that shows (drawn with more than
    :data:`~daguerre.aging.damage.VISIBLE_OPACITY`), as the detector is trained to find it.
    """
    if not files:
        raise ValueError("no photos to evaluate")
    pipeline = pipeline or RestorePipeline()
    result = Evaluation()
    for path, clean, aged in aged_samples(files, preset, seed):
        restored = pipeline(aged.aged)
        result.names.append(path.name)
        result.add("input", aged.aged, clean)
        result.add("classical", classical_restore(aged.aged), clean)
        result.add("daguerre", restored.image, clean)
        for name, method in (extra or {}).items():
            result.add(name, method(aged.aged, restored.image), clean)
        visible = aged.mask > VISIBLE_OPACITY
        if restored.mask is not None and visible.any():
            result.mask.append(metrics.mask_scores(restored.mask, visible))
        if len(result.sheet_rows) < sheet_size:
            result.sheet_rows.append([aged.aged, restored.image, clean])
    return result


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
