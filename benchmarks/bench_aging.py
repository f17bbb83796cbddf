"""Speed of the aging engine: milliseconds per RGB picture for each preset, op and damage.

Single-threaded (OpenCV and NumPy), over many seeds: the median and 90th percentile of the
wall-clock time and the median of the thread's CPU time (the steadier figure on a busy machine).

    python benchmarks/bench_aging.py [--runs 50] [--size 512]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from skimage import data  # noqa: E402

from daguerre.aging import DAMAGES, OPS, PRESETS, AgingPipeline  # noqa: E402


def _timed(fn: Callable[[int], object], runs: int) -> tuple[float, float, float]:
    """Median and p90 wall and median CPU milliseconds of ``fn(seed)`` over ``runs`` seeds."""
    fn(runs)
    wall, cpu = [], []
    for seed in range(runs):
        w, c = time.perf_counter(), time.thread_time()
        fn(seed)
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - w)
    p90 = statistics.quantiles(wall, n=10)[-1]
    return 1e3 * statistics.median(wall), 1e3 * p90, 1e3 * statistics.median(cpu)


def _row(name: str, times: tuple[float, float, float]) -> None:
    print(f"  {name:<18}" + "".join(f"{t:9.2f}" for t in times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="seeds per measurement")
    parser.add_argument("--size", type=int, default=512, help="side of the square test picture")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    photo = data.astronaut().astype(np.float32) / 255.0
    image = cv2.resize(photo, (args.size, args.size), interpolation=cv2.INTER_AREA)

    print(f"{args.size}×{args.size} RGB, median of {args.runs} seeds, ms")
    print(f"  {'':<18}{'wall':>9}{'wall p90':>9}{'cpu':>9}")
    print("presets")
    for name in PRESETS:
        pipeline = AgingPipeline(name)
        _row(name, _timed(lambda seed, p=pipeline: p(image, seed), args.runs))
    print("ops (parameters drawn from their default ranges)")
    for name, op in OPS.items():
        _row(name, _timed(lambda seed, op=op: op(image, np.random.default_rng(seed)), args.runs))
    print("damage (severity 0.5)")
    for name, fn in DAMAGES.items():
        _row(name, _timed(lambda seed, fn=fn: fn(image, np.random.default_rng(seed)), args.runs))


if __name__ == "__main__":
    main()
