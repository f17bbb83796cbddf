"""Restoration speed and memory: seconds per megapixel of each stage and of the whole pipeline.

Runs the bundled models on the CPU (2 threads by default) through the tiling engine, next to
the classical baseline (NL-means + Telea) and the whole pipeline with the models of an earlier
commit (``--baseline``, by default restoration v1's) on the same image, then measures the peak
resident memory of a whole-pipeline run on a large scan (24 megapixels by default) in a fresh
process, once with glibc's malloc as it comes and once keeping freed memory
(``daguerre.allocator``).

    python benchmarks/bench_restore.py [--size 1024] [--scan-megapixels 24] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from daguerre import allocator, hub
from daguerre.aging import AgingPipeline
from daguerre.restore import RestoreOptions, RestorePipeline
from daguerre.restore.classical import classical_restore

V1 = "0572744"  # main before restoration v2: the models the speed budget is measured against
MODELS = ("restore-damage", "restore-inpaint", "restore-enhance")
STAGES = {
    "detect": {"detect_damage": True, "inpaint": False, "enhance": False},
    "detect + inpaint": {"detect_damage": True, "inpaint": True, "enhance": False},
    "enhance": {"detect_damage": False, "enhance": True},
    "whole pipeline": {},
}


def test_image(height: int, width: int, *, aged: bool = True, seed: int = 0) -> np.ndarray:
    """A smooth synthetic scene, aged with the moderate preset or just noisy (cheaper in memory:
    the memory run must not be dominated by making its input). Content does not change speed.
    """
    rng = np.random.default_rng(seed)
    small = rng.random((max(2, height // 64), max(2, width // 64), 3)).astype(np.float32)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    if aged:
        return AgingPipeline("moderate")(image.clip(0, 1), seed).aged
    image += rng.normal(0.0, 0.03, image.shape).astype(np.float32)
    return np.clip(image, 0.0, 1.0, out=image)


def seconds(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def models_at(commit: str, folder: Path) -> Path:
    """The restore models of ``commit`` (weights and cards, from git) written into ``folder``."""
    repository = Path(__file__).resolve().parents[1]
    weights = hub.WEIGHTS_DIR.relative_to(repository).as_posix()
    for name in MODELS:
        for suffix in (hub.WEIGHTS_SUFFIX, hub.CARD_SUFFIX):
            blob = subprocess.run(
                ["git", "show", f"{commit}:{weights}/{name}{suffix}"],
                cwd=repository,
                capture_output=True,
                check=True,
            ).stdout
            (folder / f"{name}{suffix}").write_bytes(blob)
    return folder


def speed(size: int, runs: int, baseline: str) -> None:
    image = test_image(size, size)
    megapixels = size * size / 1e6
    print(
        f"speed on a {size}×{size} image ({megapixels:.2f} MP), {torch.get_num_threads()} threads"
    )
    print(f"{'stage':<20}{'s/MP':>10}")
    for name, overrides in STAGES.items():
        pipeline = RestorePipeline(RestoreOptions(**overrides))
        pipeline(image[:64, :64])  # load the models outside the timing
        print(f"{name:<20}{seconds(lambda p=pipeline: p(image), runs) / megapixels:>10.2f}")
    with tempfile.TemporaryDirectory() as folder:
        earlier = RestorePipeline(weights_dir=models_at(baseline, Path(folder)))
        earlier(image[:64, :64])
        label = f"whole, at {baseline}"
        print(f"{label:<20}{seconds(lambda: earlier(image), runs) / megapixels:>10.2f}")
    classical = seconds(lambda: classical_restore(image), runs) / megapixels
    print(f"{'classical baseline':<20}{classical:>10.2f}")


def peak_memory(megapixels: float) -> None:
    """Run the whole pipeline on a large image in this (fresh) process; print peak RSS."""
    width = int(np.sqrt(megapixels * 1e6 * 3 / 2))
    height = int(width * 2 / 3)
    image = test_image(height, width, aged=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    RestorePipeline()(image)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    image_mb = image.nbytes / 2**20
    print(
        f"{width}×{height} ({width * height / 1e6:.1f} MP): {elapsed:.1f} s "
        f"({elapsed / (width * height / 1e6):.2f} s/MP), peak RSS {peak:.0f} MB "
        f"(before the run {before:.0f} MB; the float32 image alone is {image_mb:.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scan-megapixels", type=float, default=24.0)
    parser.add_argument("--baseline", default=V1, help="git commit whose models to time too")
    parser.add_argument("--memory-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.memory_only:
        peak_memory(args.scan_megapixels)
        return
    speed(args.size, args.runs, args.baseline)
    command = [sys.executable, __file__, "--memory-only", "--threads", str(args.threads)]
    command += ["--scan-megapixels", str(args.scan_megapixels)]
    # the baseline: glibc's malloc as it comes, returning every large freed block to the kernel
    for label, keep in (("malloc as it comes", "0"), ("freed memory kept", "1")):
        print(f"{label}:", end=" ", flush=True)
        subprocess.run(command, check=True, env={**os.environ, allocator.SWITCH_ENV: keep})


if __name__ == "__main__":
    main()
