"""Faces stay recognisable: a style laid on more lightly where a face is found.

A person looks first at the faces of a portrait, and a painting's brushwork laid on at full
strength over a small face makes it a stranger's. :func:`face_weights` draws a feathered
ellipse over each face the detector finds (:func:`daguerre.faces.detect.detect_faces`), and
:func:`strength_map` turns it into a per-pixel strength for :func:`daguerre.style.color.blend`.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from daguerre.faces.detect import detect_faces
from daguerre.faces.paste import face_mask
from daguerre.faces.types import Face

# The ellipse around a detector box, in units of the box: a little wider than the box for the
# cheeks and ears, taller for the hair line and the chin.
MARGIN = (1.5, 1.7)
FEATHER = 0.5  # the soft border's width, as a fraction of the ellipse's radii
MASK_SIDE = 128  # the mask is drawn at this size and then stretched over the face


def face_weights(shape: tuple[int, int], faces: Sequence[Face]) -> np.ndarray:
    """H×W×1 float32: 1 at the centre of each face, falling smoothly to 0 around it."""
    height, width = shape
    weights = np.zeros((height, width), np.float32)
    template = face_mask(MASK_SIDE, center=(0.5, 0.5), axes=(0.5, 0.5), feather=FEATHER)
    for face in faces:
        x, y, w, h = face.box
        span_x, span_y = max(1, round(w * MARGIN[0])), max(1, round(h * MARGIN[1]))
        left, top = round(x + w / 2 - span_x / 2), round(y + h / 2 - span_y / 2)
        mask = cv2.resize(template, (span_x, span_y), interpolation=cv2.INTER_LINEAR)
        x0, y0 = max(left, 0), max(top, 0)
        x1, y1 = min(left + span_x, width), min(top + span_y, height)
        if x0 >= x1 or y0 >= y1:
            continue
        piece = mask[y0 - top : y1 - top, x0 - left : x1 - left]
        np.maximum(weights[y0:y1, x0:x1], piece, out=weights[y0:y1, x0:x1])
    return weights[..., None]


def strength_map(image: np.ndarray, strength: float, face_strength: float) -> float | np.ndarray:
    """The style's strength at every pixel of ``image``: ``strength`` away from faces and
    ``strength × face_strength`` on them (H×W×1), or the plain ``strength`` when no face is
    found."""
    faces = detect_faces(image)
    if not faces:
        return strength
    weights = face_weights(image.shape[:2], faces)
    return strength * (1.0 - (1.0 - face_strength) * weights)
