"""Speed of styling on two CPU threads: the fast stylizer next to colour transfer and vintage.

    python benchmarks/bench_style.py [--width 1600 --height 1200 --repeats 2 --tile N]

The fast stylizer is the default ``TransformerNet`` (Johnson-sized, 1.7 M parameters), freshly
initialised: its speed does not depend on what it learnt, so no trained model is needed. It is
exported to a temporary file and loaded like a bundled model (fp16 file, folded batch norm,
channels-last), then run through the tiling engine at the tile size chosen from its memory
budget (or ``--tile``). For reference the same network also runs unprepared (plain eval mode).
Colour transfer is ``stylize(method="color")`` (sliced optimal transport with regraining);
vintage is the aging engine's tone and grain. The image is scikit-image's astronaut upscaled to
the requested size; the painting its coffee photo. Prints wall seconds, seconds per megapixel,
CPU seconds per megapixel and, on a machine shared with other work, an estimate of the idle
machine's seconds per megapixel: CPU time divided by the threads (it assumes perfect scaling).
"""

from __future__ import annotations

import os

# Two threads everywhere: these must be set before NumPy and torch load their thread pools.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "2"

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from skimage import data  # noqa: E402

from daguerre import hub  # noqa: E402
from daguerre.nets import TransformerNet  # noqa: E402
from daguerre.style import Generator, stylize  # noqa: E402
from daguerre.style.fast import MEMORY_BUDGET_MB, OVERLAP  # noqa: E402
from daguerre.tiling import choose_tile, estimate_bytes_per_pixel, run_tiled  # noqa: E402

THREADS = 2


def best_time(method: Callable[[], np.ndarray], repeats: int) -> tuple[float, float]:
    """Wall and CPU seconds of the fastest of ``repeats`` runs (the least disturbed one)."""
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        method()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1200)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--tile", type=int, default=None, help="tile size (default: budget)")
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    cv2.setNumThreads(THREADS)

    size = (args.width, args.height)
    photo = cv2.resize(data.astronaut(), size, interpolation=cv2.INTER_CUBIC)
    photo = photo.astype(np.float32) / 255
    painting = data.coffee().astype(np.float32) / 255
    megapixels = args.width * args.height / 1e6

    torch.manual_seed(0)
    net = TransformerNet().eval()
    tile = args.tile or choose_tile(
        estimate_bytes_per_pixel(net, 3), MEMORY_BUDGET_MB, minimum=2 * OVERLAP
    )
    with tempfile.TemporaryDirectory() as folder:
        model = hub.export(net, Path(folder) / "untrained.safetensors", {"task": "style"})
        generator = Generator(model)
    methods = {
        "fast stylizer (prepared)": lambda: generator(photo, tile=tile),
        "fast stylizer (plain eval net)": lambda: run_tiled(net, photo, tile=tile, overlap=OVERLAP),
        "colour transfer (method=color)": lambda: stylize(photo, painting, method="color"),
        "vintage": lambda: stylize(photo, "vintage"),
    }
    print(
        f"{args.width}×{args.height} ({megapixels:.1f} MP), {THREADS} threads, best of "
        f"{args.repeats}; fast stylizer: untrained TransformerNet (1.7 M parameters; speed only), "
        f"tile {tile} px, overlap {OVERLAP} px; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'method':32s} {'s':>8s} {'s/MP':>8s} {'CPU s/MP':>9s} {'idle est.':>9s}")
    for name, method in methods.items():
        wall, cpu = best_time(method, args.repeats)
        print(
            f"{name:32s} {wall:8.2f} {wall / megapixels:8.3f} {cpu / megapixels:9.3f} "
            f"{cpu / megapixels / THREADS:9.3f}"
        )


if __name__ == "__main__":
    main()
