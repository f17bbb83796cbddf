"""The arbitrary-style model on paintings it never saw, beside colour transfer, on two CPU threads.

    python benchmarks/bench_style_arbitrary.py [--model style-arbitrary] [--photos DIR]
        [--styles DIR] [--limit N] [--alpha 1.0] [--methods colour arbitrary]
        [--write-card]

Every photo of ``--photos`` (default ``../shared/data/photos/val``, resized to 512 px on the long
side) is styled after every painting of ``--styles`` (default the eight held-out paintings of
``daguerre eval style``) by the model and by colour transfer
(:func:`daguerre.style.color.sliced_ot_transfer`), and scored with ``eval style``'s metrics
(:func:`daguerre.style.evaluate.score`: style and texture Gram distances in the held-out random
features, lower is closer to the painting; edge SSIM against the photo, higher keeps more of
it). The painting is scored at ``eval style``'s 768 px; the model reads its code at 512 px.
Prints per painting and mean; seconds per megapixel are the model's wall time per photo (the
painting's code, read once per painting, excluded) and, on a machine shared with other work, its
CPU time divided by the two threads: an estimate for an idle machine. ``--write-card`` records
the means in the model card's ``metrics`` (``held_out_*``; s/MP is the CPU estimate) and the
table in its ``training`` (the weights, and so the card's sha256, are unchanged).
"""

from __future__ import annotations

import os

# Two threads everywhere: these must be set before NumPy and torch load their thread pools.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "2"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from daguerre import hub  # noqa: E402
from daguerre.color import to_rgb  # noqa: E402
from daguerre.image import find_images, read  # noqa: E402
from daguerre.style.arbitrary import MODEL, ArbitraryStylizer  # noqa: E402
from daguerre.style.color import sliced_ot_transfer  # noqa: E402
from daguerre.style.evaluate import (  # noqa: E402
    DEFAULT_STYLES,
    METRICS,
    SIZE,
    STYLE_SIZE,
    painting_objective,
    read_painting,
    score,
)
from daguerre.style.pipeline import fit_long_side  # noqa: E402

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos" / "val"
METHODS = ("colour", "arbitrary")  # colour: sliced_ot_transfer
SPEEDS = ("wall", "cpu/2")  # s/MP: wall time; CPU time over two threads (an idle machine's)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--styles", type=Path, default=DEFAULT_STYLES)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N photos")
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--write-card", action="store_true", help="needs the arbitrary method")
    args = parser.parse_args()
    methods = [m for m in METHODS if m in args.methods]
    if args.write_card and "arbitrary" not in methods:
        parser.error("--write-card needs --methods arbitrary")

    stylizer = ArbitraryStylizer(args.model)
    files = find_images(args.photos)[: args.limit]
    photos = [to_rgb(fit_long_side(read(path).pixels, SIZE)) for path in files]
    stylizer(photos[0][:64, :64], stylizer.style_code(photos[0]))  # warm-up, not timed
    table: dict[str, dict[str, dict[str, float]]] = {}
    header = f"{'painting':20}" + "".join(f"{m[:6]:>9}" for m in METRICS) * len(methods)
    print(f"{len(photos)} photos of {args.photos}; columns: {', then '.join(methods)}")
    timed = "arbitrary" in methods
    print(header + "".join(f"{key:>7}" for key in SPEEDS if timed))
    for path in find_images(args.styles):
        painting = read_painting(path, STYLE_SIZE)
        objective = painting_objective(painting)
        code = stylizer.style_code(painting)
        rows: dict[str, list[dict[str, float]]] = {method: [] for method in methods}
        seconds = cpu = megapixels = 0.0
        for photo in photos:
            if "arbitrary" in methods:
                start, start_cpu = time.perf_counter(), time.process_time()
                output = stylizer(photo, code, alpha=args.alpha)
                seconds += time.perf_counter() - start
                cpu += time.process_time() - start_cpu
                megapixels += photo.shape[0] * photo.shape[1] / 1e6
                rows["arbitrary"].append(score(objective, output, photo))
            if "colour" in methods:
                colour = sliced_ot_transfer(photo, painting)
                rows["colour"].append(score(objective, colour, photo))
        means = {m: {k: float(np.mean([r[k] for r in rows[m]])) for k in METRICS} for m in rows}
        speed = {"wall": seconds / megapixels, "cpu/2": cpu / 2 / megapixels} if megapixels else {}
        table[path.stem] = {**means, "s/MP": speed}
        cells = "".join(f"{means[m][k]:9.4f}" for m in methods for k in METRICS)
        print(f"{path.stem:20}{cells}" + "".join(f"{v:7.2f}" for v in speed.values()), flush=True)
    mean = {
        m: {k: float(np.mean([table[p][m][k] for p in table])) for k in METRICS} for m in methods
    }
    if "arbitrary" in methods:
        mean["s/MP"] = {k: float(np.mean([table[p]["s/MP"][k] for p in table])) for k in SPEEDS}
    cells = "".join(f"{mean[m][k]:9.4f}" for m in methods for k in METRICS)
    print(f"{'mean':20}{cells}" + "".join(f"{v:7.2f}" for v in mean.get("s/MP", {}).values()))
    if args.write_card:
        _, card_path = hub.model_paths(args.model)
        card = hub.read_card(card_path)
        for method in methods:  # flat numbers, as `daguerre models` lists them
            prefix = "held_out_" if method == "arbitrary" else f"held_out_{method}_"
            card.metrics.update({prefix + k: v for k, v in mean[method].items()})
        card.metrics["held_out_s_per_mp"] = mean["s/MP"]["cpu/2"]
        card.training["held_out_evaluation"] = {
            "photos": f"{len(photos)} of {args.photos} at {SIZE} px",
            "paintings": str(args.styles),
            "alpha": args.alpha,
            "per_painting": table,
            "command": "python benchmarks/bench_style_arbitrary.py " + " ".join(sys.argv[1:]),
        }
        card_path.write_text(json.dumps(card.to_dict(), indent=2) + "\n")
        print(f"wrote {card_path}")


if __name__ == "__main__":
    main()
