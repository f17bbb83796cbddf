"""Find faces in a photo with OpenCV's Haar cascades (shipped in the opencv wheel, read offline).

Why Haar: the cascades come with the ``opencv-python-headless`` wheel the project already
depends on (``cv2.data.haarcascades``), load offline without a download, run in milliseconds
on a CPU and need no weights of ours. They are weak on their own, so :class:`FaceDetector`
combines several and checks what they find:

1. The photo's luminance is shrunk so its long side is at most ``work_size`` (never so far that
   a ``min_face`` face falls under the cascades' 24-px window) and its contrast evened with
   CLAHE (faded prints).
2. Frontal cascades (``default``, ``alt2``) run on it; the profile cascade, which only knows
   faces turned to one side, runs on it and on its mirror. Each keeps every group of at least
   two overlapping windows, with the group's size as its vote count.
3. Hits that overlap (IoU ≥ ``group_iou``) are one face: their vote-weighted mean box, scored
   by the votes of each cascade (frontal votes count once, profile votes
   ``profile_weight`` times), capped per cascade at ``vote_cap`` so that one cascade's pile-up on a
   texture cannot outvote the others.
4. Verification: the eye cascade looks for an eye in the upper part of the box (upscaled to a
   fixed size); a found eye adds ``eye_bonus`` to the score. Faces scoring at least
   ``threshold`` are kept, larger boxes first, and a box mostly inside a kept one is dropped.

Every threshold (``threshold``, ``eye_bonus``, ``profile_weight``, ``vote_cap``) was chosen on
the hand-labelled photos of ``benchmarks/faces_old_boxes.json`` that
``benchmarks/faces_detect.py`` scores: the benchmark is not held out. See that script for the
recall and false faces they reach.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from daguerre.color import luma
from daguerre.faces.landmarks import locate_many
from daguerre.faces.types import Face, FaceError

Box = tuple[float, float, float, float]

CASCADE_FILES: dict[str, str] = {
    "default": "haarcascade_frontalface_default.xml",
    "alt": "haarcascade_frontalface_alt.xml",
    "alt2": "haarcascade_frontalface_alt2.xml",
    "profile": "haarcascade_profileface.xml",
    "eye": "haarcascade_eye.xml",
}
PROFILE = "profile"
EYE = "eye"


class Cascade(Protocol):
    """What the detector needs of a ``cv2.CascadeClassifier`` (tests pass stubs)."""

    def detectMultiScale2(
        self,
        image: np.ndarray,
        scaleFactor: float = ...,
        minNeighbors: int = ...,
        flags: int = ...,
        minSize: tuple[int, int] = ...,
        maxSize: tuple[int, int] = ...,
    ) -> tuple[Sequence[Sequence[int]], Sequence[int]]: ...


@dataclass(frozen=True)
class DetectOptions:
    """Settings of :class:`FaceDetector` (see the module's description of each step)."""

    min_face: int = 32  # smallest face side sought, in photo pixels
    work_size: int = 1024  # long side of the working image (shrunk, never enlarged)
    frontal: tuple[str, ...] = ("default", "alt2")
    profile: bool = True
    scale_factor: float = 1.1
    group_iou: float = 0.3
    # chosen on benchmarks/faces_old_boxes.json (not held out): the highest recall at ≥ 48 px
    # with at most 0.1 false faces per photo over a grid of profile_weight 0.5/1/1.5, eye_bonus
    # 0/3/6/10, vote_cap 8/12/20/40 and threshold 4..39 (python benchmarks/faces_detect.py)
    vote_cap: int = 12
    profile_weight: float = 1.5
    eye_bonus: float = 6.0
    threshold: float = 18.0
    eye_size: int = 96  # the box is resized to this side before looking for eyes
    contained: float = 0.6  # drop a box that has this much of its area inside a kept one

    def __post_init__(self) -> None:
        if self.min_face < 8:
            raise ValueError(f"min_face must be at least 8 px, got {self.min_face}")
        if self.work_size < 64:
            raise ValueError(f"work_size must be at least 64 px, got {self.work_size}")
        if not self.scale_factor > 1.0:
            raise ValueError(f"scale_factor must be above 1, got {self.scale_factor}")
        unknown = [name for name in self.frontal if name not in CASCADE_FILES]
        if unknown:
            raise ValueError(f"frontal: unknown cascades {unknown}; known {sorted(CASCADE_FILES)}")


@dataclass(frozen=True)
class Hit:
    """One grouped cascade detection in photo pixels: ``votes`` overlapping windows agreed."""

    box: Box
    cascade: str
    votes: int


@functools.cache
def load_cascade(name: str) -> cv2.CascadeClassifier:
    """The OpenCV cascade called ``name`` (a key of :data:`CASCADE_FILES`), read once."""
    if name not in CASCADE_FILES:
        raise FaceError(f"unknown cascade {name!r}; known {sorted(CASCADE_FILES)}")
    path = Path(cv2.data.haarcascades) / CASCADE_FILES[name]
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise FaceError(
            f"{path}: cannot load the Haar cascade; reinstall opencv-python-headless, "
            "whose wheel ships it"
        )
    return cascade


def working_gray(image: np.ndarray, options: DetectOptions) -> tuple[np.ndarray, float]:
    """The uint8 luminance the cascades see, CLAHE-evened, and its scale (work px per photo px)."""
    array = np.asarray(image)
    if array.ndim not in (2, 3) or array.shape[0] < 2 or array.shape[1] < 2:
        raise FaceError(f"expected an H×W or H×W×C image, got shape {array.shape}")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    gray = luma(array.astype(np.float32, copy=False)) if array.ndim == 3 else array
    height, width = gray.shape
    scale = min(1.0, options.work_size / max(height, width))
    scale = max(scale, min(1.0, 24.0 / options.min_face))  # a min_face face keeps 24 px
    pixels = np.clip(gray * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    return clahe.apply(pixels), scale


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    inter = _intersection(a, b)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _intersection(a: Box, b: Box) -> float:
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0.0, width) * max(0.0, height)


def mirror_box(box: Box, width: float) -> Box:
    """``box`` of a mirrored image of ``width`` pixels, in the unmirrored image."""
    x, y, w, h = box
    return (width - x - w, y, w, h)


class FaceDetector:
    """Haar cascades combined, grouped and verified (see the module docstring).

    ``cascades`` maps names to cascade objects (default: OpenCV's, loaded on first use); tests
    pass stubs.
    """

    def __init__(
        self,
        options: DetectOptions | None = None,
        cascades: Mapping[str, Cascade] | None = None,
    ) -> None:
        self.options = options or DetectOptions()
        self._cascades = dict(cascades) if cascades is not None else None

    def cascade(self, name: str) -> Cascade:
        if self._cascades is None:
            return load_cascade(name)
        if name not in self._cascades:
            raise FaceError(f"no cascade {name!r} given to the detector")
        return self._cascades[name]

    # ---------------------------------------------------------------- raw hits

    def hits(self, gray: np.ndarray, scale: float) -> list[Hit]:
        """Every cascade's grouped detections on the working image, in photo pixels."""
        options = self.options
        min_side = max(20, round(options.min_face * scale * 0.8))
        found: list[Hit] = []

        def run(name: str, pixels: np.ndarray, mirrored: bool) -> None:
            rects, votes = self.cascade(name).detectMultiScale2(
                pixels,
                scaleFactor=options.scale_factor,
                minNeighbors=1,
                minSize=(min_side, min_side),
            )
            for rect, count in zip(rects, votes, strict=True):
                box: Box = tuple(float(v) for v in rect)  # type: ignore[assignment]
                if mirrored:
                    box = mirror_box(box, pixels.shape[1])
                box = (box[0] / scale, box[1] / scale, box[2] / scale, box[3] / scale)
                found.append(Hit(box, name, int(count)))

        for name in options.frontal:
            run(name, gray, False)
        if options.profile:
            run(PROFILE, gray, False)
            run(PROFILE, np.ascontiguousarray(gray[:, ::-1]), True)
        return found

    # ---------------------------------------------------------------- grouping

    def group(self, hits: Sequence[Hit]) -> list[tuple[Box, dict[str, int]]]:
        """Overlapping hits merged: each face's vote-weighted mean box and votes per cascade
        (a mirrored profile counts as ``profile``)."""
        options = self.options
        order = sorted(range(len(hits)), key=lambda i: -hits[i].votes)
        clusters: list[list[Hit]] = []
        for index in order:
            hit = hits[index]
            for cluster in clusters:
                if iou(hit.box, _mean_box(cluster)) >= options.group_iou:
                    cluster.append(hit)
                    break
            else:
                clusters.append([hit])
        grouped = []
        for cluster in clusters:
            votes: dict[str, int] = {}
            for hit in cluster:
                votes[hit.cascade] = votes.get(hit.cascade, 0) + hit.votes
            grouped.append((_mean_box(cluster), votes))
        return grouped

    def vote_score(self, votes: Mapping[str, int]) -> float:
        """Capped votes, profile votes weighted by ``profile_weight``."""
        options = self.options
        return sum(
            min(count, options.vote_cap) * (options.profile_weight if name == PROFILE else 1.0)
            for name, count in votes.items()
        )

    # ---------------------------------------------------------------- verification

    def eyes(self, gray: np.ndarray, box: Box, scale: float) -> int:
        """How many eyes the eye cascade finds in the upper 60 % of ``box`` (photo pixels)."""
        size = self.options.eye_size
        x, y, w, h = (v * scale for v in box)
        left, top = max(0, round(x)), max(0, round(y))
        right = min(gray.shape[1], round(x + w))
        bottom = min(gray.shape[0], round(y + 0.6 * h))
        if right - left < 8 or bottom - top < 5:
            return 0
        region = gray[top:bottom, left:right]
        height = max(1, round(size * (bottom - top) / (right - left)))
        interpolation = cv2.INTER_AREA if right - left > size else cv2.INTER_CUBIC
        region = cv2.resize(region, (size, height), interpolation=interpolation)
        eye_min = max(8, size // 8)
        rects, _ = self.cascade(EYE).detectMultiScale2(
            region,
            scaleFactor=1.1,
            minNeighbors=3,
            minSize=(eye_min, eye_min),
            maxSize=(size // 2, size // 2),
        )
        return len(rects)

    # ---------------------------------------------------------------- all together

    def scored(self, image: np.ndarray) -> list[tuple[Face, dict[str, int], int]]:
        """Every grouped face before the threshold: (face, votes per cascade, eyes found)."""
        gray, scale = working_gray(image, self.options)
        out = []
        for box, votes in self.group(self.hits(gray, scale)):
            eyes = self.eyes(gray, box, scale)
            score = self.vote_score(votes) + (self.options.eye_bonus if eyes else 0.0)
            face = Face(_int_box(box), score, profile=set(votes) == {PROFILE})
            out.append((face, votes, eyes))
        return out

    def select(self, faces: Sequence[Face]) -> list[Face]:
        """Faces scoring at least ``threshold`` and at least ``min_face`` px, best first; a
        box overlapping a kept one (IoU ≥ ``group_iou``, or ``contained`` of the smaller box's
        area inside the other) is dropped. Returned top to bottom."""
        options = self.options
        kept: list[Face] = []
        candidates = [
            f for f in faces if f.score >= options.threshold and f.size >= options.min_face
        ]
        for face in sorted(candidates, key=lambda f: (-f.score, -f.box[2] * f.box[3])):
            area = face.box[2] * face.box[3]
            if any(
                _intersection(face.box, other.box)
                > options.contained * min(area, other.box[2] * other.box[3])
                or iou(face.box, other.box) >= options.group_iou
                for other in kept
            ):
                continue
            kept.append(face)
        return sorted(kept, key=lambda f: (f.box[1], f.box[0]))

    def __call__(self, image: np.ndarray) -> list[Face]:
        return self.select([face for face, _, _ in self.scored(image)])


def _mean_box(cluster: Sequence[Hit]) -> Box:
    weights = np.array([hit.votes for hit in cluster], dtype=np.float64)
    boxes = np.array([hit.box for hit in cluster], dtype=np.float64)
    x, y, w, h = (boxes * weights[:, None]).sum(0) / weights.sum()
    return (float(x), float(y), float(w), float(h))


def _int_box(box: Box) -> tuple[int, int, int, int]:
    return (round(box[0]), round(box[1]), round(box[2]), round(box[3]))


@functools.cache
def _default_detector() -> FaceDetector:
    return FaceDetector()


def detect_faces(
    image: np.ndarray,
    options: DetectOptions | None = None,
    *,
    landmarks: bool = False,
) -> list[Face]:
    """Faces in ``image`` (float32 H×W or H×W×C in [0, 1], or uint8), top to bottom.

    With ``landmarks``, each face also carries its five landmarks from the bundled
    ``faces-landmarks`` network (see :func:`daguerre.faces.landmarks.locate_many`).
    """
    detector = FaceDetector(options) if options is not None else _default_detector()
    faces = detector(image)
    if landmarks and faces:
        points = locate_many(image, [face.box for face in faces])
        faces = [replace(face, landmarks=p) for face, p in zip(faces, points, strict=True)]
    return faces
