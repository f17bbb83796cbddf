"""Make ``docs/restore-old.png``: real old photographs before and after ``daguerre restore``.

The photos come from ``../shared/data/old`` (no ground truth exists for them: this sheet is
for looking). Each is shrunk so its longest side is at most ``--side`` pixels, restored with
the bundled models, and shown as a before / after pair with the detected damage mask.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from daguerre import image
from daguerre.color import preview, to_rgb
from daguerre.restore import RestorePipeline

PHOTOS = (  # scratched, torn, faded, noisy and sepia prints
    "deoldify__FadedDelores.jpg",
    "deoldify__FadedOvermiller.jpg",
    "deoldify__Unidentified1855.jpg",
    "deoldify__1860Girls.jpg",
    "reddit_oldphotos__1af2lpw_0.jpg",
    "reddit_oldphotos__1bz3f1s.jpg",
    "reddit_oldphotos__1ecd34b.jpg",
    "reddit_oldphotos__1hqujtr.jpg",
    "reddit_oldphotos__1ij0b9x.jpg",
    "reddit_oldphotos__1isnzqv_2.jpg",
    "reddit_oldphotos__1kv19gm.jpg",
    "reddit_oldphotos__1m5lm1m.jpg",
)


def row(before: np.ndarray, after: np.ndarray, mask: np.ndarray | None, height: int) -> np.ndarray:
    """Before | after | mask, each scaled to ``height`` rows."""
    panels = [to_rgb(before), to_rgb(after)]
    if mask is not None:
        panels.append(np.repeat(mask[..., None], 3, axis=-1))
    width = round(before.shape[1] * height / before.shape[0])
    resized = [cv2.resize(p, (width, height), interpolation=cv2.INTER_AREA) for p in panels]
    gutter = np.ones((height, 6, 3), np.float32)
    return np.concatenate([x for p in resized for x in (p, gutter)][:-1], axis=1)


def pad(picture: np.ndarray, height: int, width: int) -> np.ndarray:
    """``picture`` on a white canvas of ``height``×``width`` (top-left aligned)."""
    extra = ((0, height - picture.shape[0]), (0, width - picture.shape[1]), (0, 0))
    return np.pad(picture, extra, constant_values=1)


def two_columns(rows: list[np.ndarray], gap: int) -> np.ndarray:
    """``rows`` laid out left, right, left... in two columns on a white canvas."""
    halves = []
    for column in (rows[0::2], rows[1::2]):
        width = max(r.shape[1] for r in column)
        halves.append(np.concatenate([pad(r, r.shape[0] + gap, width) for r in column]))
    height = max(h.shape[0] for h in halves)
    return np.concatenate([pad(h, height, h.shape[1] + 2 * gap) for h in halves], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/old"))
    parser.add_argument("--output", type=Path, default=Path("docs/restore-old.png"))
    parser.add_argument("--side", type=int, default=768)
    parser.add_argument("--height", type=int, default=300)
    args = parser.parse_args()
    pipeline = RestorePipeline()
    rows = []
    for name in PHOTOS:
        before = preview(image.read(args.data / name).pixels, args.side)
        result = pipeline(before)
        rows.append(row(before, result.image, result.mask, args.height))
        print(f"restored {name}")
    width = max(r.shape[1] for r in rows)
    halves = [np.concatenate([pad(r, r.shape[0] + 8, width) for r in rows[i::2]]) for i in (0, 1)]
    height = max(h.shape[0] for h in halves)
    sheet = np.concatenate([pad(h, height, h.shape[1] + 12) for h in halves], axis=1)
    image.write(args.output, preview(sheet, 2400), quality=90)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
