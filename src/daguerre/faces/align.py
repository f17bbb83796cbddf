"""Align a face to a canonical crop from five landmarks, keeping the transform both ways.

The canonical crop follows the FFHQ alignment (eyes level, eye distance a quarter of the side,
eyes a little above the middle): :data:`TEMPLATE` holds the five points — left eye, right eye
(as seen in the picture), nose tip, left and right mouth corner — in units of the crop's side.
They are the FFHQ 512² template of facexlib (GFPGAN's face helper) made left-right symmetric
(moved by at most 0.4 px at 512²); marked on the mean of the 239 faces of faces/train they sit
on the pupils, the nose tip and the mouth corners.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from daguerre.faces.types import FaceError

# left eye, right eye, nose tip, left mouth corner, right mouth corner; (x, y) / crop side
TEMPLATE = (
    np.array(
        [
            [193.04, 240.07],
            [318.96, 240.07],
            [256.00, 314.02],
            [200.09, 371.28],
            [311.91, 371.28],
        ]
    )
    / 512.0
)
CROP_SIZE = 256


@dataclass(frozen=True)
class FaceTransform:
    """A similarity transform from photo pixels to the pixels of a ``size``² aligned crop.

    ``matrix`` is 2×3 (``crop = matrix @ [x, y, 1]``); :attr:`inverse` maps crop pixels back.
    Pixel coordinates are OpenCV's: (0, 0) is the centre of the top-left pixel.
    """

    matrix: np.ndarray
    size: int = CROP_SIZE

    @property
    def inverse(self) -> np.ndarray:
        """The 2×3 matrix from crop pixels to photo pixels."""
        return cv2.invertAffineTransform(self.matrix)

    @property
    def scale(self) -> float:
        """Crop pixels per photo pixel."""
        return float(np.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Photo points (N×2) in crop pixels."""
        return _apply(self.matrix, points)

    def to_photo(self, points: np.ndarray) -> np.ndarray:
        """Crop points (N×2) in photo pixels."""
        return _apply(self.inverse, points)


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return points @ matrix[:, :2].T + matrix[:, 2]


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The least-squares similarity (rotation, uniform scale, shift; no mirroring) taking the
    N×2 ``source`` points onto ``target`` (Umeyama 1991), as a 2×3 matrix."""
    source = np.asarray(source, dtype=np.float64).reshape(-1, 2)
    target = np.asarray(target, dtype=np.float64).reshape(-1, 2)
    if source.shape != target.shape or len(source) < 2:
        raise ValueError(
            f"need two matching sets of ≥ 2 points, got {source.shape}, {target.shape}"
        )
    mean_s, mean_t = source.mean(0), target.mean(0)
    s, t = source - mean_s, target - mean_t
    variance = (s**2).sum() / len(s)
    if variance <= 1e-12:
        raise ValueError("the source points coincide")
    covariance = t.T @ s / len(s)
    u, d, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(d) @ sign)) / variance
    shift = mean_t - scale * rotation @ mean_s
    return np.hstack([scale * rotation, shift[:, None]])


def face_transform(landmarks: np.ndarray, size: int = CROP_SIZE) -> FaceTransform:
    """The transform putting five photo landmarks (5×2 pixels) onto the template of a
    ``size``² crop."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.shape != (5, 2) or not np.isfinite(landmarks).all():
        raise FaceError(f"expected 5×2 finite landmarks, got shape {landmarks.shape}")
    # template points are in units of the side: pixel centres run from 0 to size - 1
    target = TEMPLATE * size - 0.5
    return FaceTransform(similarity(landmarks, target), size)


def warp(
    image: np.ndarray, matrix: np.ndarray, size: tuple[int, int], *, scale: float = 1.0
) -> np.ndarray:
    """``image`` (H×W or H×W×C float32) through the 2×3 ``matrix`` into ``size`` = (w, h),
    bilinear, mirrored at the borders; a shrinking ``scale`` < 1 (output pixels per input
    pixel) first blurs the image so the warp does not alias."""
    source = np.ascontiguousarray(image, dtype=np.float32)
    if scale < 0.8:
        sigma = 0.45 * np.sqrt(1.0 / scale**2 - 1.0)
        source = cv2.GaussianBlur(source, (0, 0), sigma)
    out = cv2.warpAffine(
        source, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )
    if image.ndim == 3 and out.ndim == 2:
        out = out[..., None]
    return out


def align(
    image: np.ndarray, landmarks: np.ndarray, size: int = CROP_SIZE
) -> tuple[np.ndarray, FaceTransform]:
    """The ``size``² canonical crop of the face whose five landmarks (5×2 photo pixels, in the
    order of :data:`TEMPLATE`) are given, and the transform from the photo to it.

    ``image`` is float32 H×W or H×W×C in [0, 1] (as :func:`daguerre.image.read` gives);
    the crop keeps its channels. Outside the photo the crop mirrors it.
    """
    transform = face_transform(landmarks, size)
    crop = warp(image, transform.matrix, (size, size), scale=transform.scale)
    return crop, transform
