"""Face detection on real old photos against hand-labelled boxes.

``benchmarks/faces_old_boxes.json`` maps file names of ``../shared/data/old`` to the boxes
(x, y, w, h, original pixels) of every face a person could see in them, drawn by hand over the
detector's candidates (and faces it missed) for a fixed sample of the folder: every 5th photo
in name order, plus a few chosen for many, small or turned faces. Photos with no face have an
empty list.

Printed: recall of the labelled faces of at least 48 px (IoU ≥ 0.4 with a detection, one
detection per face), recall of the 32–48 px ones, false faces per photo (detections that match
no labelled face), and seconds per photo. The issue's targets: recall ≥ 0.9 at ≥ 48 px, at most
0.1 false faces per photo. The detector's thresholds were tuned on these same labels (the set
is not held out): read the figures as what Haar cascades can be made to do here, not as a
generalisation estimate.

    python benchmarks/faces_detect.py [--data ../shared/data/old] [--sweep] [--draw DIR] [--list]

``--sweep`` prints recall and false faces for a range of score thresholds (one detection pass);
``--draw DIR`` writes each photo with the labels (blue), detections (green) and false faces
(red); ``--list`` prints the misses and false faces per photo.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from daguerre import image as imageio
from daguerre.faces.detect import DetectOptions, FaceDetector, iou
from daguerre.faces.types import Face

HERE = Path(__file__).parent
LABELS = HERE / "faces_old_boxes.json"
DATA = HERE.parent.parent / "shared" / "data" / "old"
MIN_SIDE = 48
SMALL_SIDE = 32
MATCH_IOU = 0.4


def match(truth: list[list[int]], found: list[Face]) -> tuple[list[int], list[int]]:
    """Greedy one-to-one matching by IoU: (indices of matched truths, indices of false faces)."""
    pairs = sorted(
        (
            (iou(tuple(t), tuple(f.box)), ti, fi)
            for ti, t in enumerate(truth)
            for fi, f in enumerate(found)
        ),
        reverse=True,
    )
    matched_t: set[int] = set()
    matched_f: set[int] = set()
    for overlap, ti, fi in pairs:
        if overlap < MATCH_IOU:
            break
        if ti in matched_t or fi in matched_f:
            continue
        matched_t.add(ti)
        matched_f.add(fi)
    return sorted(matched_t), [fi for fi in range(len(found)) if fi not in matched_f]


def evaluate(
    labels: dict[str, list[list[int]]], detections: dict[str, list[Face]]
) -> dict[str, float]:
    """Recall at ≥ 48 px and 32–48 px, false faces per photo."""
    big = big_hit = small = small_hit = false = 0
    for name, truth in labels.items():
        hit, wrong = match(truth, detections[name])
        false += len(wrong)
        for index, box in enumerate(truth):
            side = max(box[2], box[3])
            if side >= MIN_SIDE:
                big += 1
                big_hit += index in hit
            elif side >= SMALL_SIDE:
                small += 1
                small_hit += index in hit
    return {
        "faces_48": big,
        "recall_48": big_hit / max(big, 1),
        "faces_32_48": small,
        "recall_32_48": small_hit / max(small, 1),
        "false_per_photo": false / max(len(labels), 1),
        "false": false,
    }


def draw(path: Path, photo: np.ndarray, truth: list[list[int]], found: list[Face]) -> None:
    pixels = (np.clip(photo, 0, 1) * 255).astype(np.uint8)
    pixels = cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR if pixels.shape[2] == 1 else cv2.COLOR_RGB2BGR)
    _, wrong = match(truth, found)
    for x, y, w, h in truth:
        cv2.rectangle(pixels, (x, y), (x + w, y + h), (255, 128, 0), 2)
    for index, face in enumerate(found):
        x, y, w, h = face.box
        colour = (0, 0, 255) if index in wrong else (0, 200, 0)
        cv2.rectangle(pixels, (x, y), (x + w, y + h), colour, 1)
    cv2.imwrite(str(path), pixels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--draw", type=Path)
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()

    labels = json.loads(args.labels.read_text())
    options = DetectOptions()
    detector = FaceDetector(options)
    scored: dict[str, list[Face]] = {}
    photos: dict[str, np.ndarray] = {}
    start = time.perf_counter()
    for name in labels:
        photos[name] = imageio.read(args.data / name).pixels
        scored[name] = detector.scored(photos[name])
    seconds = (time.perf_counter() - start) / max(len(labels), 1)

    detections = {name: detector.select(faces) for name, faces in scored.items()}
    result = evaluate(labels, detections)
    print(
        f"{len(labels)} photos, {result['faces_48']} faces ≥ {MIN_SIDE} px, "
        f"{result['faces_32_48']} of {SMALL_SIDE}–{MIN_SIDE} px; threshold {options.threshold}"
    )
    print(
        f"recall ≥ {MIN_SIDE} px {result['recall_48']:.3f}  recall {SMALL_SIDE}–{MIN_SIDE} px "
        f"{result['recall_32_48']:.3f}  false faces {result['false']} "
        f"({result['false_per_photo']:.3f} per photo)  {seconds:.2f} s per photo"
    )
    if args.sweep:
        print("threshold  recall≥48  recall32-48  false/photo")
        for threshold in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99):
            picker = FaceDetector(replace(options, threshold=float(threshold)))
            swept = evaluate(labels, {n: picker.select(f) for n, f in scored.items()})
            print(
                f"{threshold:9.2f}  {swept['recall_48']:9.3f}  {swept['recall_32_48']:11.3f}"
                f"  {swept['false_per_photo']:11.3f}"
            )
    if args.list:
        for name, truth in labels.items():
            hit, wrong = match(truth, detections[name])
            missed = [t for i, t in enumerate(truth) if i not in hit and max(t[2:]) >= SMALL_SIDE]
            false = [(detections[name][i].box, round(detections[name][i].score, 1)) for i in wrong]
            if missed or false:
                print(f"{name}: missed {missed} false {false}")
    if args.draw:
        args.draw.mkdir(parents=True, exist_ok=True)
        for name, truth in labels.items():
            draw(args.draw / (Path(name).stem + ".png"), photos[name], truth, detections[name])


if __name__ == "__main__":
    main()
