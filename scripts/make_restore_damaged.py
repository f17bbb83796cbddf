"""Make ``docs/restore-damaged.png``: the most damaged real old photos before and after restore.

Selection rule (reproducible, rerun after retraining): every photo of ``--data`` is shrunk so
its longest side is at most ``--side`` pixels, and scored by the fraction of its pixels that
both the classical thin-defect detector (:func:`daguerre.restore.classical.detect_defects`,
morphological top-hats) and the bundled damage detector (probability over one half) mark. The
classical detector alone fires on every fine texture (foliage, brickwork, crowds: 30-80 % of
some photos) and the learned one alone on bright flat areas; where they agree are thin,
contrasted marks that look like damage: specks, scratches, cracks. The ``--count`` photos with
the highest fraction (ties by name) are restored with the bundled models (or ``--weights``).

The sheet has two columns of rows ``before | after | mask`` (each photo ``--height`` px high,
the detector's damage probability small beside it, white = damaged), ranked left to right and
top to bottom, each row labelled with its rank, file and damage fraction. The mask is widened
(a 5×5 maximum) before it is shrunk, so that thin marks stay visible at that size.

    python scripts/make_restore_damaged.py [--data ../shared/data/old]
        [--output docs/restore-damaged.png] [--count 16] [--side 768] [--height 384]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from make_restore_sheet import two_columns  # the sibling script: the same white canvas
from rich.progress import track

from daguerre import image
from daguerre.color import preview, to_rgb
from daguerre.restore import RestorePipeline
from daguerre.restore.classical import detect_defects

DETECTED = 0.5  # damage probability over which the learned detector marks a pixel
LABEL = 26  # pixels of label strip under each row
GAP = 8


def load(path: Path, side: int) -> np.ndarray:
    """The photo as RGB float32, its longest side at most ``side`` px."""
    return preview(to_rgb(image.read(path).pixels), side)


def damage_fraction(photo: np.ndarray, probability: np.ndarray) -> float:
    """Fraction of pixels both the classical and the learned detector mark."""
    both = (detect_defects(photo) > 0.5) & (probability > DETECTED)
    return float(both.mean())


def panel_row(
    before: np.ndarray, after: np.ndarray, mask: np.ndarray, height: int, label: str
) -> np.ndarray:
    """``before | after | mask`` scaled to ``height`` rows (the mask to half), label under."""
    width = round(before.shape[1] * height / before.shape[0])
    size = (width, height)
    small = (max(1, width // 2), height // 2)
    mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    panels = [
        cv2.resize(before, size, interpolation=cv2.INTER_AREA),
        cv2.resize(after, size, interpolation=cv2.INTER_AREA),
        np.pad(
            np.repeat(cv2.resize(mask, small, interpolation=cv2.INTER_AREA)[..., None], 3, 2),
            ((0, height - small[1]), (0, 0), (0, 0)),
            constant_values=1,
        ),
    ]
    gutter = np.ones((height, GAP // 2, 3), np.float32)
    row = np.concatenate([panels[0], gutter, panels[1], gutter, panels[2]], axis=1)
    strip = np.ones((LABEL, row.shape[1], 3), np.uint8) * 255
    cv2.putText(strip, label, (2, LABEL - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
    return np.concatenate([row, strip.astype(np.float32) / 255], axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/old"))
    parser.add_argument("--output", type=Path, default=Path("docs/restore-damaged.png"))
    parser.add_argument("--weights", type=Path, default=None, help="restore-* models folder")
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--side", type=int, default=768, help="working size, longest side px")
    parser.add_argument("--height", type=int, default=384, help="shown height of each photo")
    args = parser.parse_args()

    detector = RestorePipeline(inpaint=False, enhance=False, weights_dir=args.weights)
    scores = []
    for path in track(image.find_images(args.data), description="scoring damage"):
        try:
            photo = load(path, args.side)
        except image.ImageError as error:
            print(f"skipped {error}")
            continue
        mask = detector(photo).mask
        assert mask is not None
        scores.append((-damage_fraction(photo, mask), path.name, path))
    chosen = sorted(scores)[: args.count]

    pipeline = RestorePipeline(weights_dir=args.weights)
    rows = []
    for rank, (negative, name, path) in enumerate(chosen, 1):
        photo = load(path, args.side)
        result = pipeline(photo)
        assert result.mask is not None
        label = f"{rank}. {name}  damage {-negative:.2%}"
        rows.append(panel_row(photo, to_rgb(result.image), result.mask, args.height, label))
        print(f"{rank:2d}  {-negative:.4f}  {name}")
    sheet = two_columns(rows, GAP)
    image.write(args.output, sheet)
    print(f"wrote {args.output} ({sheet.shape[1]}×{sheet.shape[0]})")


if __name__ == "__main__":
    main()
