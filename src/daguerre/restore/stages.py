"""The network stages of restoration; each runs a bundled model through the tiling engine."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from daguerre.faces.stage import faces_stage
from daguerre.nets.blocks import MirrorAveraged
from daguerre.nets.tone import TonedUNet, ToneNet, thumbnail
from daguerre.restore.classical import inpaint_telea
from daguerre.restore.context import (
    DAMAGE_MODEL,
    ENHANCE_MODEL,
    INPAINT_MODEL,
    Context,
    RestoreOptions,
    StageSpec,
)
from daguerre.restore.finish import finish
from daguerre.tiling import run_tiled
from daguerre.upscale.stage import upscale_stage

MASK_GROW = 1  # pixels added around detected damage so that its soft rim is filled too
INPAINT_CONTEXT = 128  # pixels of picture around a wide hole that the inpainting network sees
COARSE_SCALE = 0.5  # the detector also sees the photo at this size
COARSE_MIN_SIDE = 32  # pixels: a smaller photo is only seen at full size


def _run(
    ctx: Context,
    model: str | torch.nn.Module,
    stage: str,
    inputs: np.ndarray,
    *,
    in_place: bool = False,
) -> np.ndarray:
    """``model`` (a bundled model's name, or a network) run over ``inputs`` in tiles (written
    into ``inputs`` with ``in_place``)."""
    return run_tiled(
        ctx.model(model) if isinstance(model, str) else model,
        inputs,
        tile=ctx.options.tile,
        device=ctx.options.device,
        memory_budget_mb=ctx.options.memory_budget_mb,
        progress=ctx.report(stage),
        in_place=in_place,
    )


def detect_damage(image: np.ndarray, ctx: Context) -> np.ndarray:
    """Set ``ctx.mask`` to a full-resolution damage probability (or the user's mask)."""
    if ctx.options.mask is not None:
        ctx.options.check_mask(image.shape)
        mask = np.asarray(ctx.options.mask, dtype=np.float32)
        if mask.ndim == 3:
            mask = mask.max(axis=-1)
        ctx.mask = np.clip(mask, 0.0, 1.0)
    else:
        # averaged with its mirror image: a false alarm on a scene line seldom fires both ways
        detector = MirrorAveraged(ctx.model(DAMAGE_MODEL))
        mask = _probability(ctx, detector, image, "detect")
        height, width = mask.shape
        if min(height, width) * COARSE_SCALE >= COARSE_MIN_SIDE:
            small = cv2.resize(
                image, None, fx=COARSE_SCALE, fy=COARSE_SCALE, interpolation=cv2.INTER_AREA
            )
            coarse = _probability(ctx, detector, small, "detect (half size)")
            # damage found at either size: wide damage (spots, folds, flakes) is surer at half size
            np.maximum(mask, cv2.resize(coarse, (width, height)), out=mask)
        ctx.mask = mask
    return image


def _probability(
    ctx: Context, detector: torch.nn.Module, image: np.ndarray, stage: str
) -> np.ndarray:
    """The detector's damage probability (H×W float32) of ``image``."""
    logits = _run(ctx, detector, stage, image)[..., 0]
    # the logistic function, in place: a large scan has no room for temporary copies
    np.negative(logits, out=logits)
    np.exp(logits, out=logits)
    logits += 1.0
    return np.reciprocal(logits, out=logits)


def holes(ctx: Context) -> np.ndarray:
    """The binary (uint8 0/1) fill mask, grown by ``MASK_GROW``: a detected probability over
    ``mask_threshold`` without its wide regions larger than ``max_hole`` of the picture, or a
    user's mask over one half."""
    assert ctx.mask is not None
    detected = ctx.options.mask is None
    threshold = ctx.options.mask_threshold if detected else 0.5
    binary = (ctx.mask > threshold).astype(np.uint8)
    if detected and ctx.options.max_hole < 1.0:
        binary = without_large_blobs(binary, ctx.options.max_hole, ctx.options.classical_fill_width)
    if MASK_GROW:
        size = 2 * MASK_GROW + 1
        binary = cv2.dilate(binary, np.ones((size, size), np.uint8))
    return binary


def without_large_blobs(binary: np.ndarray, max_fraction: float, width: float) -> np.ndarray:
    """``binary`` (uint8 0/1) without its 8-connected regions that are both larger than
    ``max_fraction`` of the picture and more than ``width`` pixels across somewhere.

    On real scans such blobs are bright, flat areas (a white dress, a sky) far more often than
    tears; a crack network or a scratch across the photo is as large but thin, and stays.
    """
    _, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    large = stats[:, cv2.CC_STAT_AREA] > max_fraction * binary.size
    large[0] = False  # the background
    if not large.any():
        return binary
    blobs = large[labels].astype(np.uint8)
    return binary & (1 - wide_regions(blobs, width))


def wide_regions(binary: np.ndarray, width: float) -> np.ndarray:
    """The 8-connected regions of ``binary`` (uint8 0/1) more than ``width`` pixels across
    somewhere (their largest inscribed disc is wider)."""
    count, labels = cv2.connectedComponents(binary, connectivity=8)
    inside = cv2.distanceTransform(binary, cv2.DIST_L2, 3)
    radius = np.zeros(count, np.float32)
    where = binary.ravel() > 0  # damage is a small part of a picture: look only there
    np.maximum.at(radius, labels.ravel()[where], inside.ravel()[where])
    wide = radius > width / 2
    wide[0] = False  # the background
    return wide[labels].astype(np.uint8)


def inpaint(image: np.ndarray, ctx: Context) -> np.ndarray:
    """Fill the damaged pixels: thin damage (scratches, dust, cracks) with OpenCV's Telea, wide
    holes (tears, missing corners) with the inpainting network; other pixels stay as they were."""
    fill = holes(ctx)
    if not fill.any():
        return image
    wide = wide_regions(fill, ctx.options.classical_fill_width)
    image = inpaint_telea(image, fill & (1 - wide), in_place=True)
    if not wide.any():
        return image
    for window, own in hole_windows(wide, INPAINT_CONTEXT):
        piece, hole = image[window], wide[window].astype(bool)
        inputs = np.empty((*hole.shape, image.shape[2] + 1), np.float32)  # RGB with holes, mask
        inputs[..., :-1] = piece
        inputs[hole, :-1] = 0.0
        inputs[..., -1] = hole
        painted = _run(ctx, INPAINT_MODEL, "inpaint", inputs)
        piece[own] = np.clip(painted[own], 0.0, 1.0)
    return image


Window = tuple[slice, slice]


def hole_windows(holes: np.ndarray, context: int) -> list[tuple[Window, np.ndarray]]:
    """Where to run the inpainting network: boxes around ``holes`` (uint8 0/1) with ``context``
    pixels of picture on every side, each with the (boolean) holes it paints.

    Holes closer than ``2 * context`` share a box. Should the boxes add up to more than the
    picture, it is one box: the whole picture, every hole.
    """
    height, width = holes.shape
    size = 2 * context + 1
    near = cv2.dilate(holes, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(near, connectivity=8)
    boxes = stats[1:, :4]  # x, y, width, height of each group's holes and their context
    if (boxes[:, 2] * boxes[:, 3]).sum() >= height * width:
        return [((slice(0, height), slice(0, width)), holes.astype(bool))]
    windows = []
    for group, (x, y, w, h) in enumerate(boxes, start=1):
        window = (slice(y, y + h), slice(x, x + w))
        windows.append((window, (labels[window] == group) & (holes[window] > 0)))
    return windows


def enhance(image: np.ndarray, ctx: Context) -> np.ndarray:
    """Global restoration: noise, grain, blur, JPEG, halftone, fading and colour casts.

    A model with a global tone stage (:class:`~daguerre.nets.TonedUNet`) sees a thumbnail of
    the whole image once; its tone is applied in strips, then the local U-Net runs in tiles.
    """
    model = ctx.model(ENHANCE_MODEL)
    if isinstance(model, TonedUNet):
        image = global_tone(model.tone, image, ctx.options.device, out=image)
        model = model.local_stage()
    restored = _run(ctx, model, "enhance", image, in_place=True)
    return np.clip(restored, 0.0, 1.0, out=restored)


@torch.no_grad()
def global_tone(
    net: ToneNet, image: np.ndarray, device: str, rows: int = 256, out: np.ndarray | None = None
) -> np.ndarray:
    """``net`` applied to an H×W×C image, parameters from its thumbnail, ``rows`` at a time,
    into ``out`` (which may be ``image`` itself: each strip is read before it is written)."""
    height, width = image.shape[:2]
    whole = torch.from_numpy(image).permute(2, 0, 1)[None]
    params = net.predict(thumbnail(whole, net.thumb_size).to(device))
    out = np.empty_like(image, dtype=np.float32) if out is None else out
    for top in range(0, height, rows):
        piece = whole[:, :, top : top + rows].to(device)
        toned = net.apply(piece, params, origin=(top, 0), full=(height, width))
        out[top : top + rows] = toned[0].permute(1, 2, 0).cpu().numpy()
    return out


def _wants_mask(options: RestoreOptions) -> bool:
    return options.mask is not None or options.detect_damage


# every stage of the pipeline, in the order it runs; a new stage (faces, upscaling) joins here
STAGES = (
    StageSpec("detect", detect_damage, _wants_mask),
    StageSpec("inpaint", inpaint, lambda options: _wants_mask(options) and options.inpaint),
    StageSpec("enhance", enhance, lambda options: options.enhance),
    StageSpec("faces", faces_stage, lambda options: options.faces and options.face_strength > 0),
    StageSpec("finish", lambda image, ctx: finish(image), lambda options: options.finish),
    StageSpec("upscale", upscale_stage, lambda options: options.scale > 1),
)
