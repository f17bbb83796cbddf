"""Shared types of the faces package: the detected :class:`Face` and :class:`FaceError`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class FaceError(ValueError):
    """Faces cannot be found, aligned or pasted (bad image, landmarks, crops or transforms)."""


@dataclass(frozen=True)
class Face:
    """One face in a photo.

    ``box`` is (x, y, w, h) in photo pixels; ``score`` how sure the detector is (MTCNN's face
    probability); ``landmarks`` the five points (5×2 photo pixels: left eye, right eye, nose
    tip, left and right mouth corner as seen in the picture) when they were located.
    """

    box: tuple[int, int, int, int]
    score: float
    landmarks: np.ndarray | None = field(default=None, compare=False)

    @property
    def size(self) -> int:
        """The box's side (the larger of width and height)."""
        return max(self.box[2], self.box[3])
