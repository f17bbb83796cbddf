"""Noise left and sharpness after ``daguerre restore`` on real old photos, which have no truth.

Every ``--every``-th photo of ``--data`` (at most ``--count``), shrunk to ``--side`` pixels, is
restored with the bundled models (or ``--weights DIR``); the mean estimated noise
(:func:`daguerre.metrics.noise_sigma`, in 8-bit levels) and sharpness
(:func:`daguerre.metrics.sharpness`, ×1000) of the inputs and the restorations are printed.
Less noise at the same sharpness is better; both falling means the photos were smoothed.

    python benchmarks/restore_real_old.py --data ../shared/data/old
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from daguerre import image as imageio
from daguerre import metrics
from daguerre.color import preview, to_rgb
from daguerre.restore import RestorePipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/old"))
    parser.add_argument("--weights", type=Path, default=None, help="restore-* models folder")
    parser.add_argument("--side", type=int, default=384)
    parser.add_argument("--every", type=int, default=6)
    parser.add_argument("--count", type=int, default=40)
    args = parser.parse_args()

    pipeline = RestorePipeline(weights_dir=args.weights)
    rows = []
    for path in imageio.find_images(args.data)[:: args.every][: args.count]:
        try:
            photo = preview(to_rgb(imageio.read(path).pixels), args.side)
        except imageio.ImageError as error:
            print(f"skipped {error}")
            continue
        restored = pipeline(photo).image
        rows.append(
            [
                255 * metrics.noise_sigma(photo),
                255 * metrics.noise_sigma(restored),
                1e3 * metrics.sharpness(photo),
                1e3 * metrics.sharpness(restored),
            ]
        )
    noise_in, noise_out, sharp_in, sharp_out = np.mean(rows, axis=0)
    print(f"{len(rows)} photos of {args.data}, longest side {args.side} px")
    print(f"noise (8-bit levels): input {noise_in:.2f}  restored {noise_out:.2f}")
    print(f"sharpness (x1000):    input {sharp_in:.2f}  restored {sharp_out:.2f}")


if __name__ == "__main__":
    main()
