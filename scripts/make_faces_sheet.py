"""Make ``docs/faces.png``: faces of real old photos before, after the whole-image pipeline, and
after the pipeline with the faces stage.

Selection rule (reproducible): the photos of ``benchmarks/faces_old_boxes.json`` (hand-labelled
faces of ``../shared/data/old``) whose largest labelled face is at least ``--min-face`` pixels,
ranked by that face's size, ``--count`` of them taken at evenly spaced ranks (small faces to
large). Each photo is restored whole with the bundled models (or ``--weights``), once without
and once with the faces stage; the sheet shows a square crop around its largest face (the face
box widened ``--context``×), ``before | whole image | with faces``, each ``--size`` px.

    python scripts/make_faces_sheet.py [--data ../shared/data/old] [--weights DIR]
        [--output docs/faces.png] [--count 12] [--min-face 48] [--size 200]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from make_restore_sheet import two_columns  # the sibling script: the same white canvas
from rich.progress import track

from daguerre import image
from daguerre.color import to_rgb
from daguerre.restore import RestorePipeline

LABELS = Path(__file__).parent.parent / "benchmarks" / "faces_old_boxes.json"
LABEL = 24  # pixels of label strip under each row
GAP = 8

Box = tuple[int, int, int, int]


def chosen(labels: dict[str, list[Box]], count: int, min_face: int) -> list[tuple[str, Box]]:
    """``count`` (file, largest face) pairs at evenly spaced ranks of the largest face's size."""
    ranked = []
    for name, boxes in labels.items():
        if boxes:
            face = max(boxes, key=lambda b: b[2])
            if face[2] >= min_face:
                ranked.append((face[2], name, tuple(face)))
    ranked.sort()
    picks = np.linspace(0, len(ranked) - 1, min(count, len(ranked))).round().astype(int)
    return [(ranked[i][1], ranked[i][2]) for i in picks]


def around(photo: np.ndarray, box: Box, context: float, size: int) -> np.ndarray:
    """The square of ``context``× the face box's side around its centre, ``size``² (edges
    replicated where the square leaves the photo)."""
    x, y, w, h = box
    side = round(max(w, h) * context)
    left, top = round(x + w / 2 - side / 2), round(y + h / 2 - side / 2)
    margin = side
    padded = cv2.copyMakeBorder(photo, margin, margin, margin, margin, cv2.BORDER_REPLICATE)
    crop = padded[top + margin : top + margin + side, left + margin : left + margin + side]
    flags = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return np.clip(cv2.resize(crop, (size, size), interpolation=flags), 0, 1)


def row(panels: list[np.ndarray], label: str) -> np.ndarray:
    """Panels side by side with gutters, a label strip under them."""
    height = panels[0].shape[0]
    gutter = np.ones((height, GAP // 2, 3), np.float32)
    parts = [part for panel in panels for part in (panel, gutter)][:-1]
    joined = np.concatenate(parts, axis=1)
    strip = np.full((LABEL, joined.shape[1], 3), 255, np.uint8)
    cv2.putText(strip, label, (2, LABEL - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1)
    return np.concatenate([joined, strip.astype(np.float32) / 255], axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/old"))
    parser.add_argument("--weights", type=Path, default=None, help="restore-* models folder")
    parser.add_argument("--output", type=Path, default=Path("docs/faces.png"))
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--min-face", type=int, default=48)
    parser.add_argument("--context", type=float, default=1.8)
    parser.add_argument("--size", type=int, default=200)
    args = parser.parse_args()

    labels = json.loads(LABELS.read_text())
    whole = RestorePipeline(faces=False, weights_dir=args.weights)
    with_faces = RestorePipeline(faces=True, weights_dir=args.weights)
    rows = []
    picks = chosen(labels, args.count, args.min_face)
    for name, box in track(picks, description="restoring"):
        photo = to_rgb(image.read(args.data / name).pixels)
        panels = [
            around(to_rgb(picture), box, args.context, args.size)
            for picture in (photo, whole(photo).image, with_faces(photo).image)
        ]
        rows.append(row(panels, f"{name[:60]}  face {box[2]} px"))
    sheet = two_columns(rows, GAP)
    image.write(args.output, sheet)
    print(f"wrote {args.output} ({sheet.shape[1]}×{sheet.shape[0]}): before | whole | faces")


if __name__ == "__main__":
    main()
