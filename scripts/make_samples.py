"""Write the bundled sample photos: public-domain / CC0 pictures of scikit-image, aged by us.

``samples/clean/`` holds the originals (downscaled), ``samples/old/`` the same photos pushed
through the aging engine with fixed seeds, so that ``make demo`` has old photos to restore.
Sources and licences (scikit-image's data notes): astronaut (NASA, public domain), camera
(CC0, Lav Varshney), chelsea (CC0, Stefan van der Walt), coffee (CC0, Rachel Michetti),
rocket (SpaceX, public domain).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from daguerre import image
from daguerre.aging import AgingPipeline

SAMPLES = {  # name: (loader, aging preset, seed)
    "astronaut": (data.astronaut, "heavy", 11),
    "camera": (data.camera, "heavy", 3),
    "chelsea": (data.chelsea, "moderate", 5),
    "coffee": (data.coffee, "moderate", 8),
    "rocket": (data.rocket, "heavy", 2),
}
LONGEST_SIDE = 512


def as_float(pixels: np.ndarray) -> np.ndarray:
    """uint8 H×W or H×W×3 → float32 H×W×C in [0, 1], longest side at most ``LONGEST_SIDE``."""
    scale = LONGEST_SIDE / max(pixels.shape[:2])
    if scale < 1:
        size = (round(pixels.shape[1] * scale), round(pixels.shape[0] * scale))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    pixels = pixels.astype(np.float32) / 255.0
    return pixels[..., None] if pixels.ndim == 2 else pixels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("samples"))
    args = parser.parse_args()
    for name, (load, preset, seed) in SAMPLES.items():
        clean = as_float(load())
        aged = AgingPipeline(preset)(clean, seed)
        image.write(args.output / "clean" / f"{name}.jpg", clean, quality=95)
        image.write(args.output / "old" / f"{name}.jpg", aged.aged, quality=90)
        print(f"{name}: {clean.shape[1]}×{clean.shape[0]}, aged with {preset} (seed {seed})")


if __name__ == "__main__":
    main()
