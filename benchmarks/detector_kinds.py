"""What the damage detector finds, kind by kind, on *training* photos: a check for detector runs
that keeps the validation photos for ``daguerre eval restore``.

Each detector (the bundled one, and any ``--weights`` file with its card beside it) runs as the
pipeline runs it (averaged with its mirror image) on the centre crops of ``--count`` photos of
``--data`` (every 25th; 512 px), and the table gives, pooled over the photos:

- for each damage kind of the aging engine, drawn alone at ``--severity`` over ``light`` aging:
  the share of the pixels drawn (opacity over 0.25), the precision and recall of the mask at 0.5,
  and the recall at 0.2 (a detector sure of what it misses gains little there);
- the held-out renderer's damage (:mod:`daguerre.restore.heldout`) on the same photos: precision
  and recall at 0.5;
- the photos left clean (every 12th from the 8th, up to ``--count`` × 2.5 of them): the share of
  pixels flagged at the pipeline's fill threshold (0.9), on average and on the worst photo.

About 25 s a detector for 16 photos on 2 cores.

    python benchmarks/detector_kinds.py [--weights runs/NAME/export/restore-damage.safetensors]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from daguerre import image as imageio
from daguerre.aging import AgingPipeline
from daguerre.aging.damage import DAMAGES, VISIBLE_OPACITY
from daguerre.color import to_rgb
from daguerre.restore import heldout, stages
from daguerre.restore.context import DAMAGE_MODEL, Context, RestoreOptions
from daguerre.restore.evaluate import center_crop


class Counts:
    """Pixels found, flagged and drawn, pooled over the photos."""

    def __init__(self) -> None:
        self.found = self.flagged = self.drawn = 0

    def add(self, probability: np.ndarray, drawn: np.ndarray, threshold: float = 0.5) -> None:
        flagged = probability >= threshold
        self.found += int((flagged & drawn).sum())
        self.flagged += int(flagged.sum())
        self.drawn += int(drawn.sum())

    def precision(self) -> float:
        return self.found / max(self.flagged, 1)

    def recall(self) -> float:
        return self.found / max(self.drawn, 1)


def crops(folder: Path, start: int, step: int, count: int) -> Iterator[np.ndarray]:
    """The 512-px centre crops of every ``step``-th photo from ``start``, ``count`` of them."""
    for path in sorted(folder.iterdir())[start::step][:count]:
        yield to_rgb(center_crop(imageio.read(path).pixels)).astype(np.float32)


def probability(ctx: Context, picture: np.ndarray) -> np.ndarray:
    """The damage probability of ``picture``, as the pipeline computes it."""
    stages.detect_damage(picture, ctx)
    assert ctx.mask is not None
    return ctx.mask


Row = tuple[str, float, float, float, float]  # damage, drawn %, P and R at 0.5, R at 0.2


def measure(
    ctx: Context, photos: list[np.ndarray], clean: list[np.ndarray], severity: float
) -> tuple[list[Row], float, float]:
    """The table's rows for one detector, and the mean and worst % of clean pixels it fills."""
    aging = AgingPipeline("light", damage=False)
    rows: list[Row] = []
    for kind, draw in DAMAGES.items():
        at_half, at_fifth, area = Counts(), Counts(), []
        for index, photo in enumerate(photos):
            rng = np.random.default_rng(1000 + index)
            damaged, opacity = draw(aging(photo, rng).aged, rng, severity=severity)
            drawn = opacity > VISIBLE_OPACITY
            found = probability(ctx, damaged.astype(np.float32))
            at_half.add(found, drawn)
            at_fifth.add(found, drawn, 0.2)
            area.append(drawn.mean())
        rows.append(
            (kind, 100 * np.mean(area), at_half.precision(), at_half.recall(), at_fifth.recall())
        )
    held_out = Counts()
    for index, photo in enumerate(photos):
        damaged, opacity = heldout.render(photo, 500 + index)
        held_out.add(probability(ctx, damaged.astype(np.float32)), opacity > VISIBLE_OPACITY)
    rows.append(("held-out renderer", np.nan, held_out.precision(), held_out.recall(), np.nan))
    fill = ctx.options.mask_threshold
    flagged = [np.mean(probability(ctx, photo) >= fill) for photo in clean]
    return rows, 100 * float(np.mean(flagged)), 100 * float(np.max(flagged))


# the figures' columns: title, width, decimals
COLUMNS = (("drawn %", 8, 2), ("P@0.5", 6, 3), ("R@0.5", 6, 3), ("R@0.2", 6, 3))


def cell(value: float, width: int, decimals: int) -> str:
    """A figure right-aligned in ``width`` characters, or a dash where there is none."""
    return f"{'—':>{width}s}" if np.isnan(value) else f"{value:{width}.{decimals}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/photos/train"))
    parser.add_argument("--weights", type=Path, action="append", default=[])
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--severity", type=float, default=0.6)
    args = parser.parse_args()
    torch.set_num_threads(2)
    photos = list(crops(args.data, 0, 25, args.count))
    clean = list(crops(args.data, 7, 12, round(args.count * 2.5)))
    detectors = {"bundled": {}} | {str(w): {DAMAGE_MODEL: str(w)} for w in args.weights}
    for name, models in detectors.items():
        ctx = Context(RestoreOptions(models=models))
        rows, mean_flagged, worst = measure(ctx, photos, clean, args.severity)
        print(
            f"\n{name}: {len(photos)} photos; clean photos ({len(clean)}) flagged at "
            f"{ctx.options.mask_threshold}: "
            f"{mean_flagged:.3f} % on average, {worst:.2f} % at worst"
        )
        print(f"{'damage':18s}", *(f"{title:>{width}s}" for title, width, _ in COLUMNS))
        for kind, *figures in rows:
            cells = (cell(value, w, d) for value, (_, w, d) in zip(figures, COLUMNS, strict=True))
            print(f"{kind:18s}", *cells)


if __name__ == "__main__":
    main()
