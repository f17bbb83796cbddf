"""The faces stage of the restore pipeline, and :func:`restore_faces` for any image.

Every face is found (:func:`find_faces`: MTCNN, then five landmarks from the
``faces-landmarks`` network), aligned to a 256² crop (:func:`~daguerre.faces.align.align`),
restored by the ``restore-faces`` network (trained by ``configs/faces.yaml``), pasted back with
a feathered ellipse and colour matching (:func:`~daguerre.faces.paste.paste`) and blended with
the whole-image result by ``strength`` (:func:`restore_found`). Pixels outside every face's
mask are left as they were. All of it works on the window of the photo that the faces' crops
cover, so a large scan is never copied whole.

The pipeline runs the stage after damage removal and global restoration (``faces=True``); a
missing model is a :class:`daguerre.hub.ModelError`, never random weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch
from torch import nn

from daguerre import hub
from daguerre.color import as_pixels, to_rgb
from daguerre.faces.align import CROP_SIZE, FaceTransform, align, face_transform
from daguerre.faces.detect import DetectOptions, detect_faces
from daguerre.faces.landmarks import MODEL_NAME as LANDMARKS_MODEL
from daguerre.faces.landmarks import locate_many
from daguerre.faces.paste import paste
from daguerre.faces.types import Face, FaceError
from daguerre.tiling import run_tiled

if TYPE_CHECKING:
    from daguerre.restore.context import Context

MODEL_NAME = "restore-faces"
FACE_SIZE = CROP_SIZE  # the side of the aligned crops the face model restores

Window = tuple[int, int, int, int]  # left, top, right, bottom
# the largest side a face is pasted back at (:func:`_restored`): a face larger than the crop
# gets the network's change on its own detail up to this size
MAX_FACE_SIZE = 1024


def model_available(weights_dir: str | Path | None = None) -> bool:
    """Whether a ``restore-faces`` model is in ``weights_dir`` or bundled (``--faces auto``)."""
    return hub.has_model(MODEL_NAME, weights_dir)


def find_faces(
    image: np.ndarray, landmarks: nn.Module, options: DetectOptions | None = None
) -> list[Face]:
    """The faces of ``image`` (float32 H×W×C in [0, 1]), top to bottom, each with its five
    landmarks from the network ``landmarks`` (on the CPU)."""
    faces = detect_faces(image, options)
    if not faces:
        return []
    points = locate_many(image, [face.box for face in faces], landmarks)
    return [replace(face, landmarks=p) for face, p in zip(faces, points, strict=True)]


def _footprint(landmarks: np.ndarray, shape: tuple[int, ...]) -> Window | None:
    """The photo rectangle an aligned crop of these landmarks covers (clipped, 2 px margin)."""
    transform = face_transform(landmarks, FACE_SIZE)
    edge = FACE_SIZE - 0.5
    corners = np.array([[-0.5, -0.5], [edge, -0.5], [-0.5, edge], [edge, edge]])
    photo = transform.to_photo(corners)
    left, top = np.floor(photo.min(0)).astype(int) - 2
    right, bottom = np.ceil(photo.max(0)).astype(int) + 3
    left, top = max(0, int(left)), max(0, int(top))
    right, bottom = min(shape[1], int(right)), min(shape[0], int(bottom))
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom


@torch.no_grad()
def restore_crop(
    net: nn.Module, crop: np.ndarray, device: str | torch.device = "cpu"
) -> np.ndarray:
    """One aligned face (S×S×3 float32) through the face network, in one tile, clipped."""
    restored = run_tiled(net, crop, tile=max(crop.shape[:2]), overlap=0, device=device)
    return np.clip(restored, 0.0, 1.0, out=restored)


def restore_found(
    image: np.ndarray,
    faces: Sequence[Face],
    net: nn.Module,
    *,
    strength: float = 1.0,
    device: str | torch.device = "cpu",
    progress: Callable[[int, int], None] | None = None,
    source: np.ndarray | None = None,
) -> np.ndarray:
    """``image`` (float32 H×W×3, changed in place and returned) with each of ``faces`` (with
    landmarks) aligned, restored by ``net``, pasted back and blended by ``strength`` (0: the
    image as it was; 1: the pasted faces). Only the window the crops cover is read and written;
    pixels outside every face's mask stay as they were.

    ``source`` (same geometry as ``image``) is what the faces are cut from: the photo before
    global restoration, so the face network sees each face as it was rather than the
    whole-image network's guess; pasting still matches ``image``'s colours."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must lie in [0, 1], got {strength}")
    if missing := [face.box for face in faces if face.landmarks is None]:
        raise FaceError(f"faces without landmarks cannot be aligned: boxes {missing}")
    windows = [
        (face, window)
        for face in faces
        if (window := _footprint(face.landmarks, image.shape)) is not None
    ]
    if strength == 0.0 or not windows:
        return image
    left = min(w[0] for _, w in windows)
    top = min(w[1] for _, w in windows)
    right = max(w[2] for _, w in windows)
    bottom = max(w[3] for _, w in windows)
    region = image[top:bottom, left:right]
    before = region if source is None else np.asarray(source[top:bottom, left:right], np.float32)
    crops: list[np.ndarray] = []
    transforms: list[FaceTransform] = []
    for done, (face, _) in enumerate(windows, start=1):
        assert face.landmarks is not None
        crop, transform = _restored(net, before, face.landmarks - (left, top), device)
        crops.append(crop)
        transforms.append(transform)
        if progress is not None:
            progress(done, len(windows))
    pasted = paste(region, crops, transforms)
    if strength < 1.0:
        pasted -= region
        pasted *= np.float32(strength)
        pasted += region
    region[...] = pasted
    return image


def _restored(
    net: nn.Module, photo: np.ndarray, landmarks: np.ndarray, device: str | torch.device
) -> tuple[np.ndarray, FaceTransform]:
    """The restored face of ``photo`` at these landmarks, and the transform to paste it with.

    The network sees the :data:`FACE_SIZE`² crop. A face larger than that in the photo is not
    replaced by the enlarged crop, which would lose its own detail: it comes back at its own
    size (at most :data:`MAX_FACE_SIZE`), the network's change enlarged onto its own crop."""
    crop, transform = align(photo, landmarks, FACE_SIZE)
    crop = to_rgb(crop)
    restored = restore_crop(net, crop, device)
    native = min(MAX_FACE_SIZE, round(FACE_SIZE / transform.scale))
    if native <= FACE_SIZE:
        return restored, transform
    big, big_transform = align(photo, landmarks, native)
    change = cv2.resize(restored - crop, (native, native), interpolation=cv2.INTER_CUBIC)
    return np.clip(to_rgb(big) + change, 0.0, 1.0), big_transform


def _landmark_net(ctx: Context) -> nn.Module:
    """The landmark network of the pipeline, on the CPU (it runs on small gray crops)."""
    if LANDMARKS_MODEL not in ctx.models:
        options = ctx.options
        ctx.models[LANDMARKS_MODEL] = hub.load_network(
            LANDMARKS_MODEL, options.models.get(LANDMARKS_MODEL), weights_dir=options.weights_dir
        )
    return ctx.models[LANDMARKS_MODEL]


def faces_stage(image: np.ndarray, ctx: Context) -> np.ndarray:
    """Find the faces of the working image, restore them with ``restore-faces`` and blend them
    in by ``ctx.options.face_strength``; the faces found are kept in ``ctx.faces``, and the
    pipeline's copy of the photo before global restoration is let go."""
    net = ctx.model(MODEL_NAME)  # first: a missing model is an error even without faces
    ctx.faces = find_faces(image, _landmark_net(ctx))
    source, ctx.unenhanced = ctx.unenhanced, None  # not held through the stages after this one
    return restore_found(
        image,
        ctx.faces,
        net,
        strength=ctx.options.face_strength,
        device=ctx.options.device,
        progress=ctx.report("faces"),
        source=source,
    )


def restore_faces(
    image: np.ndarray,
    *,
    strength: float = 1.0,
    model: hub.ModelSource | None = None,
    landmarks: hub.ModelSource | None = None,
    weights_dir: str | Path | None = None,
    device: str = "cpu",
    detect: DetectOptions | None = None,
) -> np.ndarray:
    """Restore only the faces of ``image`` (float H×W, H×W×1 or H×W×3 in [0, 1]); a new array
    of the same shape. ``model`` and ``landmarks`` replace the ``restore-faces`` and
    ``faces-landmarks`` networks (an ``nn.Module`` or a weights path), else those of
    ``weights_dir``, else the bundled ones; a missing one is a :class:`daguerre.hub.ModelError`.
    """
    pixels = as_pixels(image)
    net = hub.load_network(MODEL_NAME, model, weights_dir=weights_dir, device=device)
    finder = hub.load_network(LANDMARKS_MODEL, landmarks, weights_dir=weights_dir)
    work = np.array(to_rgb(pixels), np.float32, order="C")
    found = find_faces(work, finder, detect)
    out = restore_found(work, found, net, strength=strength, device=device)
    if pixels.shape[2] == 1:
        out = out[..., :1].copy()  # paste keeps a gray photo's three channels equal
    return out.reshape(np.shape(image))
