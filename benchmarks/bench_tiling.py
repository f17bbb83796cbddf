"""Tiled inference on a 24-megapixel image versus untiled inference on a 2-megapixel one.

Runs each case in a fresh subprocess so that the peak resident set size (ru_maxrss) belongs
to that case alone, then prints best-of-N seconds, megapixels per second and peak RSS side by
side, with the activation memory an untiled run would need by the tiling module's estimate.

    python benchmarks/bench_tiling.py [--tile 512] [--overlap 32] [--threads 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import torch
from torch import nn

from daguerre.tiling import estimate_bytes_per_pixel, run_tiled

CASES = {"tiled-24MP": (4000, 6000), "untiled-2MP": (1000, 2000)}


def small_net() -> nn.Module:
    """Three 3×3 convolutions (3 → 16 → 16 → 3), seeded: a stand-in for a light restorer."""
    net = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 3, 3, padding=1),
    )
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in net.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * 0.1)
    return net.eval()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_case(case: str, tile: int, overlap: int, repeat: int) -> dict[str, float]:
    height, width = CASES[case]
    net = small_net()
    image = np.random.default_rng(0).random((height, width, 3), dtype=np.float32)
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        if case.startswith("tiled"):
            run_tiled(net, image, tile=tile, overlap=overlap)
        else:
            with torch.inference_mode():
                x = torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0)
                net(x).squeeze(0).permute(1, 2, 0).numpy()
        timings.append(time.perf_counter() - start)
    seconds = min(timings)
    megapixels = height * width / 1e6
    return {
        "megapixels": megapixels,
        "seconds": seconds,
        "mp_per_s": megapixels / seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3, help="report the best of N runs")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--case", choices=sorted(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.case:
        print(json.dumps(run_case(args.case, args.tile, args.overlap, args.repeat)))
        return

    bpp = estimate_bytes_per_pixel(small_net(), 3)
    print(
        f"net: 3x3 convs 3-16-16-3, {args.threads} thread(s), tile {args.tile}, "
        f"overlap {args.overlap}; estimated activations {bpp:.0f} bytes/pixel"
    )
    print(
        f"{'case':<12} {'MP':>6} {'seconds':>8} {'MP/s':>6} {'input+out MB':>12} "
        f"{'peak RSS MB':>11} {'est. untiled MB':>15}"
    )
    options = [f"--{key}={getattr(args, key)}" for key in ("tile", "overlap", "threads", "repeat")]
    for case, (height, width) in CASES.items():
        command = [sys.executable, __file__, "--case", case, *options]
        result = json.loads(
            subprocess.run(command, check=True, capture_output=True, text=True).stdout
        )
        arrays_mb = height * width * 3 * 4 * 2 / 2**20
        untiled_mb = bpp * height * width / 2**20
        print(
            f"{case:<12} {result['megapixels']:>6.1f} {result['seconds']:>8.2f} "
            f"{result['mp_per_s']:>6.2f} {arrays_mb:>12.0f} {result['peak_rss_mb']:>11.0f} "
            f"{untiled_mb:>15.0f}"
        )


if __name__ == "__main__":
    main()
