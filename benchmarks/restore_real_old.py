"""Noise, sharpness and NIQE after ``daguerre restore`` on real old photos, which have no truth.

Every ``--every``-th photo of ``--data`` (all 233 of ``../shared/data/old`` by default, at most
``--limit``), shrunk so its longest side is at most ``--side`` pixels, is restored with the
bundled models (or ``--weights DIR``). Printed, over the photos:

- the mean estimated noise (:func:`daguerre.metrics.noise_sigma`, in 8-bit levels) and
  sharpness (:func:`daguerre.metrics.sharpness`, ×1000) of the inputs and the restorations:
  less noise at the same sharpness is better; both falling means the photos were smoothed;
- NIQE (:func:`daguerre.metrics.niqe`, lower is more natural) of the inputs and the
  restorations: mean, median, and the fraction of photos whose restoration scores lower than
  its input (photos under 192 px a side after shrinking get no NIQE and are counted apart).

``--csv FILE`` also writes the per-photo figures. About 4 s a photo at 768 px on 2 busy cores
(16 min for all 233 photos).

    python benchmarks/restore_real_old.py [--data ../shared/data/old] [--limit 8] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np
from rich.progress import track

from daguerre import image as imageio
from daguerre import metrics
from daguerre.color import preview, to_rgb
from daguerre.restore import RestorePipeline

COLUMNS = ("noise_in", "noise_out", "sharpness_in", "sharpness_out", "niqe_in", "niqe_out")


def niqe_or_nan(picture: np.ndarray) -> float:
    """NIQE, or NaN for a photo too small to score."""
    try:
        return metrics.niqe(picture)
    except ValueError:
        return math.nan


def measure(photo: np.ndarray, restored: np.ndarray) -> list[float]:
    """One photo's figures, in the order of :data:`COLUMNS`."""
    return [
        255 * metrics.noise_sigma(photo),
        255 * metrics.noise_sigma(restored),
        1e3 * metrics.sharpness(photo),
        1e3 * metrics.sharpness(restored),
        niqe_or_nan(photo),
        niqe_or_nan(restored),
    ]


def report(table: np.ndarray, count: int, data: Path, side: int) -> None:
    """Print the means and the NIQE table of the rows of ``table`` (columns: :data:`COLUMNS`)."""
    noise_in, noise_out, sharp_in, sharp_out = table[:, :4].mean(axis=0)
    print(f"{count} photos of {data}, longest side at most {side} px")
    print(f"noise (8-bit levels): input {noise_in:.2f}  restored {noise_out:.2f}")
    print(f"sharpness (x1000):    input {sharp_in:.2f}  restored {sharp_out:.2f}")
    scored = table[np.isfinite(table[:, 4:]).all(axis=1), 4:]
    if not len(scored):
        print("NIQE: no photo large enough (192 px a side) to score")
        return
    before, after = scored[:, 0], scored[:, 1]
    better = float(np.mean(after < before))
    unscored = count - len(scored)
    print(f"NIQE (lower is more natural): {len(scored)} photos scored, {unscored} too small")
    print("            mean  median")
    print(f"input     {before.mean():6.2f}  {np.median(before):6.2f}")
    print(f"restored  {after.mean():6.2f}  {np.median(after):6.2f}")
    print(f"change    {(after - before).mean():+6.2f}  {np.median(after - before):+6.2f}")
    print(f"restoration scores lower than its input: {better:.0%} of photos")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/old"))
    parser.add_argument("--weights", type=Path, default=None, help="restore-* models folder")
    parser.add_argument("--side", type=int, default=768, help="longest side, px (never enlarged)")
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--limit", "--count", type=int, default=None, help="at most this many")
    parser.add_argument("--csv", type=Path, default=None, help="write per-photo figures here")
    args = parser.parse_args()

    pipeline = RestorePipeline(weights_dir=args.weights)
    paths = imageio.find_images(args.data)[:: args.every][: args.limit]
    names, rows = [], []
    for path in track(paths, description="restoring"):
        try:
            photo = preview(to_rgb(imageio.read(path).pixels), args.side)
        except imageio.ImageError as error:
            print(f"skipped {error}")
            continue
        rows.append(measure(photo, pipeline(photo).image))
        names.append(path.name)
    if not rows:
        raise SystemExit(f"no photo read from {args.data}")
    if args.csv:
        with args.csv.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["file", *COLUMNS])
            writer.writerows(
                [name, *(f"{v:.4f}" for v in row)] for name, row in zip(names, rows, strict=True)
            )
    report(np.array(rows), len(rows), args.data, args.side)


if __name__ == "__main__":
    main()
