"""`daguerre style learn` on paintings it never saw, beside the arbitrary network it starts from.

    python benchmarks/bench_style_learn.py [--paintings udnie starry_night] [--minutes 5]
        [--steps N] [--train DIR] [--train-limit N] [--photos DIR] [--limit N]
        [--set texture=6000] [--save DIR] [--json PATH]

For each painting of ``--styles`` (default the eight held-out paintings of ``daguerre eval
style``; ``--paintings`` picks some by file stem) the bundled ``style-arbitrary`` network is
adapted to it on the photos of ``--train`` (default ``../shared/data/photos/train``: never the
evaluation photos) for ``--minutes`` of wall time on two threads, or ``--steps`` steps. Then
both networks, before and after learning, style every photo of ``--photos`` (default
``../shared/data/photos/val`` at 512 px) and are scored with ``eval style``'s metrics
(:func:`daguerre.style.evaluate.score`: style and texture in the held-out random features,
lower is closer to the painting read at 768 px; edge SSIM against the photo, higher keeps more
of it). Prints one row per painting and the mean; ``--save`` keeps the learnt models,
``--json`` writes the table.
"""

from __future__ import annotations

import os

# Two threads everywhere: these must be set before NumPy and torch load their thread pools.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "2"

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from daguerre.color import to_rgb  # noqa: E402
from daguerre.image import find_images, read  # noqa: E402
from daguerre.style.arbitrary import ArbitraryStylizer, StyleCode  # noqa: E402
from daguerre.style.evaluate import (  # noqa: E402
    DEFAULT_STYLES,
    METRICS,
    SIZE,
    STYLE_SIZE,
    painting_objective,
    read_painting,
    score,
)
from daguerre.style.learn import PHOTO_SIDE, learn_style, save_learned  # noqa: E402
from daguerre.style.pipeline import fit_long_side  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
NETWORKS = ("arbitrary", "learned")


def _scores(
    stylizer: ArbitraryStylizer, code: StyleCode, photos: list[np.ndarray], painting: np.ndarray
) -> dict[str, float]:
    objective = painting_objective(painting)
    rows = [score(objective, stylizer(photo, code), photo) for photo in photos]
    return {key: float(np.mean([row[key] for row in rows])) for key in METRICS}


def _weights(pairs: list[str]) -> dict[str, float]:
    return {name: float(value) for name, value in (pair.split("=", 1) for pair in pairs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--styles", type=Path, default=DEFAULT_STYLES)
    parser.add_argument("--paintings", nargs="+", default=None, help="file stems to keep")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--steps", type=int, default=None, help="a fixed number of steps")
    parser.add_argument("--train", type=Path, default=DATA / "train")
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--photos", type=Path, default=DATA / "val")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N photos")
    parser.add_argument("--set", nargs="+", default=[], metavar="TERM=WEIGHT")
    parser.add_argument("--save", type=Path, default=None, help="keep the learnt models here")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    base = ArbitraryStylizer()
    training = [
        fit_long_side(read(path).pixels, PHOTO_SIDE)
        for path in find_images(args.train)[: args.train_limit]
    ]
    photos = [to_rgb(fit_long_side(read(p).pixels, SIZE)) for p in find_images(args.photos)]
    photos = photos[: args.limit]
    paintings = [
        path
        for path in find_images(args.styles)
        if args.paintings is None or path.stem in args.paintings
    ]
    budget = f"{args.steps} steps" if args.steps else f"{args.minutes:g} min"
    print(f"learning on {len(training)} photos of {args.train} ({budget} a painting); scoring on")
    print(f"{len(photos)} photos of {args.photos}; columns: {', then '.join(NETWORKS)}")
    print(f"{'painting':20}" + "".join(f"{m[:6]:>9}" for m in METRICS) * 2 + "  min  steps")
    table: dict[str, dict[str, object]] = {}
    folder = args.save or Path(tempfile.mkdtemp(prefix="daguerre-learn-"))
    for path in paintings:
        painting = read(path).pixels
        started = time.perf_counter()
        learned = learn_style(
            painting, training, minutes=args.minutes, steps=args.steps, weights=_weights(args.set)
        )
        minutes = (time.perf_counter() - started) / 60
        described = f"{len(training)} photos of {args.train}"
        saved = save_learned(learned, folder / path.stem, painting=path, photos=described)
        mine = ArbitraryStylizer(saved)
        scored = read_painting(path, STYLE_SIZE)
        row = {
            "arbitrary": _scores(base, base.style_code(to_rgb(painting)), photos, scored),
            "learned": _scores(mine, mine.learned, photos, scored),  # type: ignore[arg-type]
            "minutes": minutes,
            "steps": learned.steps,
        }
        table[path.stem] = row
        cells = "".join(f"{row[n][k]:9.4f}" for n in NETWORKS for k in METRICS)  # type: ignore[index]
        print(f"{path.stem:20}{cells}{minutes:5.1f}{learned.steps:7d}", flush=True)
    means = {
        n: {k: float(np.mean([table[p][n][k] for p in table])) for k in METRICS}  # type: ignore[index]
        for n in NETWORKS
    }
    cells = "".join(f"{means[n][k]:9.4f}" for n in NETWORKS for k in METRICS)
    print(f"{'mean':20}{cells}")
    if args.json:
        args.json.write_text(json.dumps({"per_painting": table, "mean": means}, indent=2) + "\n")


if __name__ == "__main__":
    main()
