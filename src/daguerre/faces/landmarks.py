"""Five landmarks of a detected face from the bundled ``faces-landmarks`` network.

The net (:class:`~daguerre.nets.LandmarkNet`, trained by
``daguerre train configs/faces-landmarks.yaml``) saw gray crops whose face centre lies near the
crop's centre and whose eye distance is 18–42 % of the crop's side. :func:`locate` therefore
works in passes: a square crop around the detector's box, then a crop re-centred and
de-rotated on the first estimate (eye distance :data:`VIEW_EYE_DISTANCE` of the side), each
pass averaged with the mirrored crop's answer (left and right swapped back).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from daguerre import hub
from daguerre.color import luma
from daguerre.faces.align import TEMPLATE, similarity, warp
from daguerre.faces.types import FaceError

MODEL_NAME = "faces-landmarks"
BOX_MARGIN = 1.6  # the first crop's side, in box sides (a detector box spans brows to chin)
VIEW_EYE_DISTANCE = 0.3  # eye distance in the re-centred crop, in units of its side
MIRROR = [1, 0, 2, 4, 3]  # the point order seen in a mirrored crop
FACE_CENTER = (TEMPLATE[[0, 1]].mean(0) + TEMPLATE[[3, 4]].mean(0)) / 2


@functools.cache
def load_model() -> nn.Module:
    """The bundled landmark network (a clear :class:`daguerre.hub.ModelError` if missing)."""
    model, _ = hub.load(MODEL_NAME)
    return model


def _view_template() -> np.ndarray:
    """Where the five points sit in a re-centred crop (units of its side)."""
    scale = VIEW_EYE_DISTANCE / float(TEMPLATE[1, 0] - TEMPLATE[0, 0])
    return (TEMPLATE - FACE_CENTER) * scale + 0.5


@torch.no_grad()
def _predict(model: nn.Module, crops: np.ndarray) -> np.ndarray:
    """Points (N×5×2, crop units) for N×S×S gray crops, averaged with their mirrors."""
    batch = torch.from_numpy(np.ascontiguousarray(crops, dtype=np.float32))[:, None]
    both = torch.cat([batch, batch.flip(-1)])
    points = model(both).float().numpy()
    count = len(crops)
    mirrored = points[count:][:, MIRROR]
    mirrored[..., 0] = 1.0 - mirrored[..., 0]
    return (points[:count] + mirrored) / 2


def _crops(gray: np.ndarray, matrices: Sequence[np.ndarray], size: int) -> np.ndarray:
    return np.stack([warp(gray, m, (size, size), scale=_scale(m)) for m in matrices])


def _scale(matrix: np.ndarray) -> float:
    return float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))


def _to_photo(points: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Crop-unit points back through the inverse of the photo → crop ``matrix``."""
    pixels = points * size - 0.5
    inverse = np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
    return pixels @ inverse[:, :2].T + inverse[:, 2]


def locate_many(
    image: np.ndarray,
    boxes: Sequence[Sequence[float]],
    model: nn.Module | None = None,
    passes: int = 2,
) -> list[np.ndarray]:
    """Five landmarks (5×2 photo pixels, the order of :data:`TEMPLATE`) per (x, y, w, h) box."""
    if not boxes:
        return []
    model = model if model is not None else load_model()
    size = int(getattr(model, "size", 64))
    array = np.asarray(image, dtype=np.float32)
    if array.ndim not in (2, 3):
        raise FaceError(f"expected an H×W or H×W×C image, got shape {array.shape}")
    gray = luma(array) if array.ndim == 3 else array
    matrices = []
    for x, y, w, h in boxes:
        if w <= 0 or h <= 0:
            raise FaceError(f"empty face box {(x, y, w, h)}")
        side = BOX_MARGIN * max(w, h)
        scale = size / side
        cx, cy = x + w / 2 - 0.5, y + h / 2 - 0.5
        matrices.append(
            np.array(
                [[scale, 0, size / 2 - 0.5 - scale * cx], [0, scale, size / 2 - 0.5 - scale * cy]]
            )
        )
    points = [
        _to_photo(p, m, size)
        for p, m in zip(_predict(model, _crops(gray, matrices, size)), matrices, strict=True)
    ]
    view = _view_template() * size - 0.5
    for _ in range(passes - 1):
        matrices = [similarity(p, view) for p in points]
        predicted = _predict(model, _crops(gray, matrices, size))
        points = [_to_photo(p, m, size) for p, m in zip(predicted, matrices, strict=True)]
    return points


def locate(
    image: np.ndarray, box: Sequence[float], model: nn.Module | None = None, passes: int = 2
) -> np.ndarray:
    """Five landmarks (5×2 photo pixels) of the face in ``box`` = (x, y, w, h)."""
    return locate_many(image, [box], model, passes)[0]
