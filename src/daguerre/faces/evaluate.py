"""``daguerre eval faces``: the face stage against the whole-image pipeline, on aligned faces.

Each face of the folder (FFHQ-aligned, square; resized to ``size``², 512 by default) is the
truth. Its input is the truth degraded by a preset (:data:`PRESETS`; ``standard`` is issue 16's:
Gaussian blur σ 2–4 drawn per face, a ×4 area shrink, Gaussian noise σ 10/255 and JPEG at
quality 50 at the small size, then a bicubic enlargement back), with a seed per face. Three
images are scored against the truth on the face region — the box of the paste mask
(:func:`daguerre.faces.face_mask` above one half: brows to chin, cheek to cheek):

* ``input``: the degraded face;
* ``whole image``: the restore pipeline without the faces stage;
* ``face stage``: that result with the faces stage's work done on it
  (:func:`daguerre.faces.restore_found` on the faces found in it, their crops cut from the
  photo before global restoration — what the pipeline's stage does, finish and upscale being
  off). With ``landmarks="template"``
  the face is not detected: its landmarks are the template's, which the alignment of the data
  puts there, so restoration is measured apart from detection.

The seconds the faces stage spends per face (detection, landmarks, alignment, the network and
pasting) are timed too, and the faces found are counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from torch import nn

from daguerre import metrics
from daguerre.aging import ops
from daguerre.color import to_rgb
from daguerre.faces.align import TEMPLATE
from daguerre.faces.paste import face_mask
from daguerre.faces.stage import find_faces, restore_found
from daguerre.faces.types import Face
from daguerre.image import read
from daguerre.restore.pipeline import RestorePipeline


@dataclass(frozen=True)
class Preset:
    """A degradation of the evaluation: blur σ range, shrink factor, noise σ, JPEG quality
    (sizes in pixels of a 512² face)."""

    blur: tuple[float, float]
    shrink: int
    noise: float
    jpeg: int


PRESETS: dict[str, Preset] = {
    "standard": Preset(blur=(2.0, 4.0), shrink=4, noise=10 / 255, jpeg=50),
    "mild": Preset(blur=(1.0, 2.0), shrink=2, noise=5 / 255, jpeg=70),
    "severe": Preset(blur=(4.0, 6.0), shrink=8, noise=15 / 255, jpeg=30),
}
SIZE = 512
REFERENCE = 512  # the presets' sizes are in pixels of a face this large
LANDMARKS = ("detected", "template")
METHODS = ("input", "whole image", "face stage")

Progress = Callable[[int, int], None]


def degrade(truth: np.ndarray, preset: str | Preset = "standard", seed: int = 0) -> np.ndarray:
    """``truth`` (float32 S×S×C) degraded by ``preset`` (see the module notes), same shape."""
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(f"unknown faces preset {preset!r}; known: {sorted(PRESETS)}")
        preset = PRESETS[preset]
    rng = np.random.default_rng(seed)
    height, width = truth.shape[:2]
    units = width / REFERENCE
    sigma = units * float(rng.uniform(*preset.blur))
    image = ops.gaussian_blur(truth, rng, sigma=sigma, ratio=1.0, angle=0.0)
    small = (max(4, round(width / preset.shrink)), max(4, round(height / preset.shrink)))
    image = cv2.resize(image, small, interpolation=cv2.INTER_AREA).reshape(
        small[1], small[0], truth.shape[2]
    )
    image = ops.gaussian_noise(np.clip(image, 0.0, 1.0), rng, sigma=preset.noise, mono=None)
    image = ops.jpeg(np.clip(image, 0.0, 1.0), rng, quality=preset.jpeg)
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(np.clip(image, 0.0, 1.0).reshape(truth.shape), np.float32)


def face_region(size: int) -> tuple[slice, slice]:
    """Rows and columns of an aligned ``size``² face that are scored (the paste mask's box)."""
    rows, cols = np.nonzero(face_mask(size) > 0.5)
    return slice(int(rows.min()), int(rows.max()) + 1), slice(int(cols.min()), int(cols.max()) + 1)


def template_face(size: int) -> Face:
    """The face of an aligned ``size``² image: its landmarks are the template's."""
    points = TEMPLATE * size - 0.5
    left, top = points.min(0)
    right, bottom = points.max(0)
    box = (round(left), round(top), round(right - left), round(bottom - top))
    return Face(box, score=float("inf"), landmarks=points)


def load_face(path: Path, size: int) -> np.ndarray:
    """The aligned face of ``path`` as float32 RGB ``size``²."""
    pixels = to_rgb(read(path).pixels)
    if pixels.shape[0] != pixels.shape[1]:
        raise ValueError(
            f"{path}: an aligned face is square, got {pixels.shape[1]}×{pixels.shape[0]}"
        )
    if pixels.shape[0] != size:
        shrink = pixels.shape[0] > size
        interpolation = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
        pixels = cv2.resize(pixels, (size, size), interpolation=interpolation)
    return np.ascontiguousarray(np.clip(pixels, 0.0, 1.0), np.float32)


@dataclass
class FaceEvaluation:
    """Scores per method and face, the faces found per photo and the face stage's seconds."""

    names: list[str] = field(default_factory=list)
    scores: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    found: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, method: str, output: np.ndarray, truth: np.ndarray, size: int) -> None:
        rows, cols = face_region(size)
        a, b = output[rows, cols], truth[rows, cols]
        self.scores.setdefault(method, []).append(
            {"psnr": metrics.psnr(a, b), "ssim": metrics.ssim(a, b)}
        )

    def summary(self) -> dict[str, dict[str, float]]:
        """Mean PSNR and SSIM by method."""
        return {
            method: {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}
            for method, rows in self.scores.items()
        }

    def seconds_per_face(self) -> float | None:
        """The face stage's mean seconds per face found (None when none was)."""
        count = sum(self.found)
        return self.seconds / count if count else None


def evaluate(
    faces: Sequence[Path],
    pipeline: RestorePipeline,
    net: nn.Module,
    landmark_net: nn.Module,
    *,
    preset: str | Preset = "standard",
    landmarks: str = "detected",
    strength: float = 1.0,
    size: int = SIZE,
    seed: int = 0,
    device: str = "cpu",
    progress: Progress | None = None,
) -> FaceEvaluation:
    """Score the degraded input, ``pipeline`` (without its faces stage) and the faces stage of
    ``net`` on ``faces`` (aligned face images); see the module notes."""
    if landmarks not in LANDMARKS:
        raise ValueError(f"landmarks must be one of {LANDMARKS}, got {landmarks!r}")
    if pipeline.options.faces:
        raise ValueError("the whole-image pipeline must run without its faces stage")
    result = FaceEvaluation()
    unenhanced = RestorePipeline(pipeline.options, enhance=False)  # what the stage's crops see
    for index, path in enumerate(faces):
        truth = load_face(path, size)
        given = degrade(truth, preset, seed + index)
        whole = pipeline(given).image
        source = unenhanced(given).image
        start = time.perf_counter()
        found = (
            [template_face(size)] if landmarks == "template" else find_faces(whole, landmark_net)
        )
        restored = restore_found(
            whole.copy(), found, net, strength=strength, device=device, source=source
        )
        result.seconds += time.perf_counter() - start
        result.names.append(path.name)
        result.found.append(len(found))
        for method, output in zip(METHODS, (given, whole, restored), strict=True):
            result.add(method, output, truth, size)
        if progress is not None:
            progress(index + 1, len(faces))
    return result


def summary_rows(result: FaceEvaluation) -> Mapping[str, dict[str, float]]:
    """The summary with each method's gain over the input and the whole-image pipeline."""
    summary = result.summary()
    rows = {}
    for method, scores in summary.items():
        rows[method] = {
            **scores,
            "psnr_gain": scores["psnr"] - summary["input"]["psnr"],
            "ssim_gain": scores["ssim"] - summary["input"]["ssim"],
        }
    return rows
