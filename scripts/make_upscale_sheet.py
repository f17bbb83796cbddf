"""Make ``docs/upscale.png``: ×4 enlargements of photos/val beside bicubic and the truth, and real
old photos enlarged ×2.

Validation rows (reproducible): ``--count`` photos of ``../shared/data/photos/val`` at evenly
spaced places of its sorted list; each photo's central 512² is the truth, shrunk ×4 as
``daguerre eval upscale --degrade clean`` does, then enlarged back. The row shows the central
``--view``² of the results, each ``--size`` px: ``input (pixels) | bicubic | fidelity | GAN |
truth``, GAN when a GAN model is installed. Old-photo rows: the photos of
``benchmarks/faces_old_boxes.json`` with the largest labelled faces up to ``--max-face`` px, the
scan's own pixels around that face (a square ``--context``× the face box) enlarged ×2 by each
method and shown at that size: ``input (pixels) | bicubic | fidelity | GAN`` (no truth).

    python scripts/make_upscale_sheet.py [--weights DIR] [--output docs/upscale.png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from make_faces_sheet import LABELS, row  # the sibling scripts: the same layout
from make_restore_sheet import two_columns
from rich.progress import track

from daguerre import hub, image
from daguerre.color import to_rgb
from daguerre.image import find_images
from daguerre.upscale.evaluate import center_crop, classical, degrade
from daguerre.upscale.upscaler import Upscaler

GAP = 8


def middle(picture: np.ndarray, side: int, size: int) -> np.ndarray:
    """The central ``side``² of ``picture`` shown at ``size``² (pixels repeated, not smoothed)."""
    top, left = (picture.shape[0] - side) // 2, (picture.shape[1] - side) // 2
    crop = picture[top : top + side, left : left + side]
    return np.clip(cv2.resize(crop, (size, size), interpolation=cv2.INTER_NEAREST), 0, 1)


def enlarged(given: np.ndarray, scale: int, upscalers: list[Upscaler]) -> list[np.ndarray]:
    """``given`` enlarged ``scale``×: its pixels repeated, bicubic, then each upscaler."""
    height, width = given.shape[:2]
    pixels = cv2.resize(given, (width * scale, height * scale), interpolation=cv2.INTER_NEAREST)
    return [pixels, classical(given, scale, cv2.INTER_CUBIC), *(u(given) for u in upscalers)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--val", type=Path, default=Path("../shared/data/photos/val"))
    parser.add_argument("--old", type=Path, default=Path("../shared/data/old"))
    parser.add_argument("--weights", type=Path, default=None, help="upscale-* models folder")
    parser.add_argument("--output", type=Path, default=Path("docs/upscale.png"))
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--old-count", type=int, default=2)
    parser.add_argument("--view", type=int, default=192, help="side of the shown centre")
    parser.add_argument("--size", type=int, default=240, help="side of each ×4 panel")
    parser.add_argument("--context", type=float, default=1.3, help="old rows: face box ×")
    parser.add_argument("--max-face", type=int, default=160, help="old rows: largest face")
    args = parser.parse_args()

    # the fidelity model, and the GAN model when one is installed (×2: the ×4 ones halved)
    sharpness = [0.0, 1.0] if hub.has_model("upscale-x4", args.weights) else [0.0]
    methods = " | ".join(["input | bicubic | fidelity", "GAN"][: len(sharpness)])

    def models(scale: int) -> list[Upscaler]:
        return [Upscaler(scale, sharpness=s, weights_dir=args.weights) for s in sharpness]

    rows = []
    photos = find_images([args.val])
    picks = [photos[i * len(photos) // args.count] for i in range(args.count)]
    for path in track(picks, description="×4 val"):
        truth = center_crop(image.read(path).pixels, 512, 4)
        outputs = [*enlarged(degrade(truth, 4, "clean"), 4, models(4)), truth]
        panels = [middle(picture, args.view, args.size) for picture in outputs]
        rows.append(row(panels, f"x4  {path.name[:48]}: {methods} | truth"))
    labels = json.loads(LABELS.read_text())
    largest = {name: max(boxes, key=lambda b: b[2]) for name, boxes in labels.items() if boxes}
    faces = sorted(
        ((box[2], name) for name, box in largest.items() if box[2] <= args.max_face), reverse=True
    )
    for _, name in track(faces[: args.old_count], description="×2 old"):
        scan = to_rgb(image.read(args.old / name).pixels)
        x, y, w, h = largest[name]
        side = min(round(max(w, h) * args.context), *scan.shape[:2])
        top = int(np.clip(y + h // 2 - side // 2, 0, scan.shape[0] - side))
        left = int(np.clip(x + w // 2 - side // 2, 0, scan.shape[1] - side))
        given = np.ascontiguousarray(scan[top : top + side, left : left + side])
        panels = [np.clip(p, 0, 1) for p in enlarged(given, 2, models(2))]
        rows.append(row(panels, f"x2  {name[:48]}: {methods}"))
    sheet = two_columns(rows, GAP)
    image.write(args.output, sheet)
    print(f"wrote {args.output} ({sheet.shape[1]}×{sheet.shape[0]})")


if __name__ == "__main__":
    main()
