"""At which iteration does Deep Image Prior peak? PSNR of the running average against the truth.

Denoising (Gaussian noise σ 25/255) and ×4 super-resolution (antialiased bicubic shrink) of
centre crops of photos/val; prints the PSNR every ``--every`` steps per crop, the mean curve and
its peak. The defaults of daguerre.upscale.dip were chosen from its output.

    python benchmarks/dip_iterations.py --data ../shared/data/photos/val --count 3 --size 128
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from daguerre.image import find_images, read
from daguerre.upscale.dip import deep_image_prior, down


def crop(path: Path, size: int) -> np.ndarray:
    """The central ``size``² of the photo shrunk to 4× ``size`` on its short side."""
    pixels = read(path).pixels[..., :3]
    factor = 4 * size / min(pixels.shape[:2])
    if factor < 1:
        pixels = cv2.resize(pixels, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    top, left = (pixels.shape[0] - size) // 2, (pixels.shape[1] - size) // 2
    return np.ascontiguousarray(pixels[top : top + size, left : left + size], np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/photos/val"))
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--iterations", type=int, default=2400)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--tasks", default="denoise,x4")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    photos = find_images([args.data])
    picks = [photos[i * len(photos) // args.count] for i in range(args.count)]
    for task in args.tasks.split(","):
        curves = []
        for index, path in enumerate(picks):
            truth = crop(path, args.size)
            if task == "denoise":
                rng = np.random.default_rng(index)
                noisy = truth + rng.normal(0, 25 / 255, truth.shape).astype(np.float32)
                given, scale = np.clip(noisy, 0, 1), 1
            else:
                scale = int(task[1:])
                tensor = torch.from_numpy(truth).permute(2, 0, 1)[None]
                given = down(tensor, scale).clamp(0, 1)[0].permute(1, 2, 0).numpy()
            start = time.perf_counter()
            result = deep_image_prior(
                given,
                scale=scale,
                iterations=args.iterations,
                truth=truth,
                every=args.every,
                device=args.device,
                seed=index,
            )
            seconds = time.perf_counter() - start
            curve = dict(result.psnr)
            curves.append(curve)
            best = max(curve, key=curve.get)
            print(
                f"{task} {path.name}: peak {curve[best]:.2f} dB at {best}, "
                f"last {curve[args.iterations]:.2f}, {seconds:.0f} s",
                flush=True,
            )
        steps = sorted(curves[0])
        mean = {step: float(np.mean([c[step] for c in curves])) for step in steps}
        best = max(mean, key=mean.get)
        print(f"{task} mean: " + " ".join(f"{s}:{mean[s]:.2f}" for s in steps))
        print(f"{task} mean peak {mean[best]:.2f} dB at {best} iterations", flush=True)


if __name__ == "__main__":
    main()
