"""Write docs/aging-varied.png: 12 training photos aged with the "varied" preset, masks beside.

Each photo (every n-th file of the folder, sorted by name) is shrunk so that its shorter side is
``--side`` px, like the damage detector's training crops of photos seen at half size, and its
centre ``--tile``² crop is aged with seed = its index. Each pair shows the aged crop and its
damage mask: grey where damage was drawn, white where it is visible (opacity above
``VISIBLE_OPACITY``, what the detector learns to find).

    python scripts/make_aging_varied.py [--photos ../shared/data/photos/train]
        [--out docs/aging-varied.png] [--count 12] [--tile 256]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from daguerre.aging import AgingPipeline
from daguerre.aging.damage import VISIBLE_OPACITY

COLUMNS = 4
LABEL_HEIGHT = 22
GAP = 6


def load_crop(path: Path, side: int, tile: int) -> np.ndarray:
    """The centre ``tile``² crop of the photo shrunk to a shorter side of ``side``, RGB float32."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"could not read {path}")
    h, w = bgr.shape[:2]
    scale = side / min(h, w)
    size = (max(round(w * scale), tile), max(round(h * scale), tile))
    bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    y, x = (bgr.shape[0] - tile) // 2, (bgr.shape[1] - tile) // 2
    crop = bgr[y : y + tile, x : x + tile, ::-1]
    return np.ascontiguousarray(crop, np.float32) / 255.0


def to_bgr8(image: np.ndarray) -> np.ndarray:
    rgb = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image
    return cv2.cvtColor(np.round(rgb * 255).astype(np.uint8), cv2.COLOR_RGB2BGR)


def show_mask(mask: np.ndarray) -> np.ndarray:
    """Drawn damage in grey, visible damage in white."""
    shown = np.where(mask > VISIBLE_OPACITY, 1.0, 0.45 * (mask > 0)).astype(np.float32)
    return to_bgr8(shown[..., None])


def labeled(tile: np.ndarray, text: str) -> np.ndarray:
    band = np.full((LABEL_HEIGHT, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(band, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([band, tile])


def build(photos: list[Path], side: int, tile: int) -> np.ndarray:
    pipeline = AgingPipeline("varied")
    pairs = []
    for seed, path in enumerate(photos):
        result = pipeline(load_crop(path, side, tile), seed)
        visible = 100 * float(np.mean(result.mask > VISIBLE_OPACITY))
        pair = np.hstack([to_bgr8(result.aged), show_mask(result.mask)])
        pairs.append(labeled(pair, f"{path.stem[:28]}, seed {seed}: {visible:.1f} % visible"))
    blank = np.full_like(pairs[0], 255)
    pairs += [blank] * (-len(pairs) % COLUMNS)
    rows = []
    for start in range(0, len(pairs), COLUMNS):
        cells = [np.pad(p, ((0, GAP), (0, GAP), (0, 0)), constant_values=255) for p in pairs]
        rows.append(np.hstack(cells[start : start + COLUMNS]))
    return np.vstack(rows)[:-GAP, :-GAP]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=Path("../shared/data/photos/train"))
    parser.add_argument("--out", type=Path, default=Path("docs/aging-varied.png"))
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--tile", type=int, default=256, help="side of each crop in pixels")
    parser.add_argument("--side", type=int, default=384, help="shorter side before cropping")
    args = parser.parse_args()
    files = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in {".jpg", ".png"})
    if len(files) < args.count:
        raise SystemExit(f"{args.photos}: {len(files)} photos, {args.count} wanted")
    photos = files[:: len(files) // args.count][: args.count]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet = build(photos, args.side, args.tile)
    if not cv2.imwrite(str(args.out), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise SystemExit(f"could not write {args.out}")
    print(f"{args.out}: {sheet.shape[1]}×{sheet.shape[0]}, {args.out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
