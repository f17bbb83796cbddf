"""How much of an aging preset's loss a global colour correction can win back.

On the inputs of ``daguerre eval restore`` (centre crops aged with the preset, seed + index) it
scores PSNR / SSIM of: the aged input; the best affine colour map per photo, fitted by least
squares *to the clean truth* (a ceiling no blind method reaches: it knows the answer); a
classical blind stretch of each channel between its 0.5 % and 99.5 % quantiles; and the
bundled pipeline. The gap between the ceiling and the blind stretch shows how much of the
preset's fading and casts cannot be told apart from the photo's own tones.

    python benchmarks/tone_ceiling.py --data ../shared/data/photos/val --preset moderate
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from daguerre import image as imageio
from daguerre import metrics
from daguerre.restore import RestorePipeline
from daguerre.restore.evaluate import aged_samples


def oracle_affine(aged: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """``aged`` through the 3×4 colour map that best fits ``clean`` (least squares)."""
    design = np.concatenate([aged.reshape(-1, 3), np.ones((aged.size // 3, 1), np.float32)], 1)
    fit, *_ = np.linalg.lstsq(design, clean.reshape(-1, 3), rcond=None)
    return np.clip(design @ fit, 0, 1).reshape(clean.shape).astype(np.float32)


def stretch(aged: np.ndarray, low: float = 0.5, high: float = 99.5) -> np.ndarray:
    """Each channel stretched so that its ``low`` / ``high`` percentiles become 0 / 1."""
    lo, hi = np.percentile(aged, [low, high], axis=(0, 1))
    return np.clip((aged - lo) / np.maximum(hi - lo, 1e-3), 0, 1).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--preset", default="moderate")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pipeline = RestorePipeline()
    scores: dict[str, list[tuple[float, float]]] = {}
    files = imageio.find_images([args.data])
    for _, clean, aging in aged_samples(files, args.preset, args.seed):
        aged = aging.aged
        for name, picture in (
            ("aged input", aged),
            ("oracle affine colour map (knows the truth)", oracle_affine(aged, clean)),
            ("blind 0.5-99.5 % stretch per channel", stretch(aged)),
            ("daguerre restore", pipeline(aged).image),
        ):
            score = (metrics.psnr(picture, clean), metrics.ssim(picture, clean))
            scores.setdefault(name, []).append(score)
    print(f"{args.preset} preset, {len(scores['aged input'])} photos of {args.data}")
    print(f"{'method':46s} {'PSNR dB':>8s} {'SSIM':>7s}")
    for name, values in scores.items():
        psnr, ssim = np.mean(values, axis=0)
        print(f"{name:46s} {psnr:8.2f} {ssim:7.4f}")


if __name__ == "__main__":
    main()
