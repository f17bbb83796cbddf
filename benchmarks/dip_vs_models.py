"""Deep Image Prior against the trained models, on the same crops: is it worth the wait?

Three tasks on centre crops of photos/val (``--size``², RGB), each scored by PSNR / SSIM against
the truth and timed (seconds per photo, minutes per output megapixel):

- ``denoise``: Gaussian noise σ 25/255 — DIP (its measured 500 iterations) against the restore
  pipeline's enhancer (``RestorePipeline(detect_damage=False, inpaint=False)``);
- ``x4``: an antialiased bicubic ×4 shrink (``daguerre eval upscale``'s clean input) — DIP (800
  iterations) against the bundled ×4 upscalers and bicubic;
- ``inpaint``: white scratches and blotches drawn from a seeded mask — DIP (2,000 iterations)
  against the restore pipeline given the same mask (Telea for thin holes, the inpainting
  network for wide ones).

    python benchmarks/dip_vs_models.py --count 8 --size 96 --threads 1
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from daguerre import hub, metrics
from daguerre.image import find_images, read
from daguerre.restore import RestorePipeline
from daguerre.restore.context import INPAINT_MODEL
from daguerre.upscale.dip import deep_image_prior
from daguerre.upscale.evaluate import center_crop, classical, degrade
from daguerre.upscale.upscaler import Upscaler

NOISE = 25 / 255
Method = Callable[[np.ndarray], np.ndarray]


def scratches(size: int, rng: np.random.Generator) -> np.ndarray:
    """A damage mask (1 = damaged): a few long thin scratches and two blotches."""
    mask = np.zeros((size, size), np.uint8)
    for _ in range(int(rng.integers(3, 7))):
        start, end = rng.integers(0, size, 2), rng.integers(0, size, 2)
        cv2.line(mask, tuple(map(int, start)), tuple(map(int, end)), 1, int(rng.integers(1, 4)))
    for _ in range(2):
        centre = tuple(map(int, rng.integers(size // 8, size - size // 8, 2)))
        axes = tuple(map(int, rng.integers(3, max(size // 24, 4), 2)))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask.astype(np.float32)


class Trained:
    """The trained models, loaded once: the enhancer, the ×4 upscalers, the inpainting network."""

    def __init__(self) -> None:
        self.enhance = RestorePipeline(detect_damage=False, inpaint=False, monochrome=False)
        self.upscalers = {"upscale-x4-fidelity": Upscaler(4, sharpness=0.0)}
        if hub.has_model("upscale-x4"):
            self.upscalers["upscale-x4 (GAN)"] = Upscaler(4, sharpness=1.0)
        self.inpaint = hub.load_network(INPAINT_MODEL)

    def fill(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The restore pipeline's inpainting of ``mask`` (detection and enhancer off)."""
        options = {"mask": mask, "enhance": False, "monochrome": False}
        return RestorePipeline(models={INPAINT_MODEL: self.inpaint}, **options)(image).image


def tasks(
    truth: np.ndarray, seed: int, trained: Trained
) -> dict[str, tuple[np.ndarray, dict[str, Method]]]:
    """Each task's degraded input and its methods (name → input → output)."""
    rng = np.random.default_rng(seed)
    noisy = np.clip(truth + rng.normal(0, NOISE, truth.shape).astype(np.float32), 0, 1)
    small = degrade(truth, 4, "clean", seed)
    mask = scratches(truth.shape[0], rng)
    damaged = np.where(mask[..., None] > 0, 1.0, truth).astype(np.float32)
    return {
        "denoise": (
            noisy,
            {
                "input": lambda x: x,
                "restore enhancer": lambda x: trained.enhance(x).image,
                "DIP": lambda x: deep_image_prior(x, seed=seed).image,
            },
        ),
        "x4": (
            small,
            {
                "bicubic": lambda x: classical(x, 4, cv2.INTER_CUBIC),
                **trained.upscalers,
                "DIP": lambda x: deep_image_prior(x, scale=4, seed=seed).image,
            },
        ),
        "inpaint": (
            damaged,
            {
                "input": lambda x: x,
                "restore inpainting": lambda x: trained.fill(x, mask),
                "DIP": lambda x: deep_image_prior(x, mask=mask, seed=seed).image,
            },
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/photos/val"))
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--tasks", default="denoise,x4,inpaint")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    wanted = args.tasks.split(",")
    photos = find_images([args.data])
    picks = [photos[i * len(photos) // args.count] for i in range(args.count)]
    trained = Trained()
    rows: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for index, path in enumerate(picks):
        truth = center_crop(read(path).pixels, args.size, 4)
        for task, (given, methods) in tasks(truth, index, trained).items():
            if task not in wanted:
                continue
            for name, method in methods.items():
                start = time.perf_counter()
                output = np.clip(method(given), 0, 1)
                seconds = time.perf_counter() - start
                scores = (metrics.psnr(output, truth), metrics.ssim(output, truth), seconds)
                rows.setdefault((task, name), []).append(scores)
                print(f"{task} {path.name} {name}: {scores[0]:.2f} dB {seconds:.1f} s", flush=True)
    megapixels = args.size**2 / 1e6
    threads = torch.get_num_threads()
    print(f"\n{len(picks)} photos of {args.data}, {args.size}² crops, {threads} threads")
    print(f"{'task':8} {'method':22} {'PSNR':>6} {'SSIM':>6} {'s/photo':>8} {'min/MP':>7}")
    for (task, name), scores in rows.items():
        psnr, ssim, seconds = np.mean(scores, axis=0)
        print(
            f"{task:8} {name:22} {psnr:6.2f} {ssim:6.3f} {seconds:8.2f} "
            f"{seconds / megapixels / 60:7.2f}"
        )


if __name__ == "__main__":
    main()
