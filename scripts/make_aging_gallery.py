"""Write docs/aging.png: one photo aged with every preset (two seeds each), masks below.

The photo is scikit-image's ``astronaut`` (public domain, NASA). The first column shows the
clean photo and the ``vintage`` look; then for each preset and seed the aged photo above its
damage mask (white = damage drawn).

    python scripts/make_aging_gallery.py [--out docs/aging.png] [--tile 256]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from daguerre.aging import PRESETS, AgingPipeline, vintage

SEEDS = (0, 1)
LABEL_HEIGHT = 22


def to_bgr8(image: np.ndarray) -> np.ndarray:
    rgb = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image
    return cv2.cvtColor(np.round(rgb * 255).astype(np.uint8), cv2.COLOR_RGB2BGR)


def labeled(tile: np.ndarray, text: str) -> np.ndarray:
    band = np.full((LABEL_HEIGHT, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(band, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([band, tile])


def build(tile: int) -> np.ndarray:
    photo = cv2.resize(data.astronaut(), (tile, tile), interpolation=cv2.INTER_AREA)
    clean = photo.astype(np.float32) / 255.0
    columns = [
        np.vstack([labeled(to_bgr8(clean), "clean"), labeled(to_bgr8(vintage(clean)), "vintage")])
    ]
    for name in PRESETS:
        pipeline = AgingPipeline(name)
        for seed in SEEDS:
            result = pipeline(clean, seed)
            aged = labeled(to_bgr8(result.aged), f"{name}, seed {seed}")
            mask = labeled(to_bgr8(result.mask[..., None]), f"{name} mask")
            columns.append(np.vstack([aged, mask]))
    gap = np.full((columns[0].shape[0], 4, 3), 255, np.uint8)
    return np.hstack([part for column in columns for part in (column, gap)][:-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/aging.png"))
    parser.add_argument("--tile", type=int, default=256, help="side of each picture in pixels")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet = build(args.tile)
    if not cv2.imwrite(str(args.out), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise SystemExit(f"could not write {args.out}")
    print(f"{args.out}: {sheet.shape[1]}×{sheet.shape[0]}, {args.out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
