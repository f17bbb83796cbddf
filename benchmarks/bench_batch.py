"""Throughput of a batch with ``--workers N``: images per second for each N given.

Writes ``--count`` synthetic photos, then times the command itself (``python -m daguerre``) on
them, start-up and model loading included, once per worker count, into fresh output folders.
The cores are shared out between the workers (``--workers 2`` on 2 cores: 1 thread each), so
the figure says how much a second process gains over one process using every core.
``--ray`` adds a row for ``restore --cluster local`` (a Ray started on this machine).

    python benchmarks/bench_batch.py [--command age] [--workers 1 2] [--count 24] [--size 512]
    python benchmarks/bench_batch.py --command restore --count 8 --size 384 --ray
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from daguerre import image
from daguerre.devices import cores


def photos(folder: Path, count: int, size: int) -> None:
    """``count`` smooth random RGB photos of ``size``² pixels."""
    rng = np.random.default_rng(0)
    for index in range(count):
        coarse = rng.random((size // 32 + 1, size // 32 + 1, 3)).astype(np.float32)
        pixels = np.kron(coarse, np.ones((32, 32, 1), np.float32))[:size, :size]
        image.write(folder / f"photo{index:03d}.png", pixels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--command", default="age", choices=["age", "restore", "stylize"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--ray", action="store_true", help="also time --cluster local")
    args = parser.parse_args()
    extra = {"stylize": ["--style", "vintage"]}.get(args.command, [])
    with tempfile.TemporaryDirectory() as root:
        inputs = Path(root) / "in"
        photos(inputs, args.count, args.size)
        print(f"{args.command}: {args.count} photos of {args.size}² px, {cores()} cores")
        runs = {f"workers {n}": ["--workers", str(n)] for n in args.workers}
        if args.ray:
            runs["ray local"] = ["--cluster", "local"]
        print(f"{'run':>10}  {'seconds':>8}  {'images/s':>8}")
        for index, (name, options) in enumerate(runs.items()):
            out = Path(root) / f"out{index}"
            command = [sys.executable, "-m", "daguerre", args.command, str(inputs), "-o", str(out)]
            start = time.perf_counter()
            subprocess.run([*command, *extra, *options], check=True)
            seconds = time.perf_counter() - start
            print(f"{name:>10}  {seconds:>8.2f}  {args.count / seconds:>8.2f}")


if __name__ == "__main__":
    main()
