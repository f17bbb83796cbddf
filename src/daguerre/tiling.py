"""Run a network over an image of any size in overlapping, feathered tiles.

The image and the output stay on the host as float32 NumPy arrays; only one tile at a time is
sent to the device. Tiles are summed one row of tiles at a time in a band of ``tile`` rows,
and rows no later tile touches go to the output, which may be the image itself
(``in_place``). Peak memory is therefore the image (and the output, unless in place) plus a
band on the host and O(tile²) on the device, which is how a 24–100 megapixel scan is restored
on a laptop.

Layout. Each axis gets the fewest tiles of at most ``tile`` pixels that overlap by at least
``overlap``; the tiles are then shrunk to the smallest size that still covers the axis with that
count and spread evenly, the last one ending exactly on the image border (nothing is padded
outside the image, and little work is spent on needless overlap). See :func:`tile_layout`.

Blending. Along every *interior* tile edge the tile's contribution is weighted by a window that
is zero for the outermost ``overlap // 4`` pixels (where the network saw padding instead of real
context), then rises as a raised cosine over the middle half of the overlap, and is one beyond.
Edges lying on the image border are not feathered. Where two neighbours overlap by exactly
``overlap`` pixels their windows sum to one; wider overlaps are normalised by the accumulated
weight. Consequently the tiled output equals the untiled one whenever the network's
receptive-field radius is at most ``overlap // 4``; networks with global context (instance
normalisation, deep U-Nets) differ slightly per tile and the feathering hides the joins.

Scale. With ``scale`` s > 1 the network maps an h×w tile to an (s·h)×(s·w) one (a
super-resolution network): the layout is made in input pixels and every window, weight and
band is the same layout magnified s times, so blending happens in the output space and the
tiled output equals the untiled one under the same receptive-field condition (in input pixels).

Output. The result goes into a new float32 array, into the image itself (``in_place``, scale 1)
or into a caller's preallocated ``out``: float, or uint8 / uint16, which rows are rounded into as
they are finished (a 192-megapixel ×4 result held as uint8 is a quarter of its float32 size).

Thin images. A network that pads its input to a minimum size (``min_size`` of the network or
of any of its parts, e.g. 64 rows for a deep U-Net) spends most of its work on padding when an
image is a strip a few pixels high. Such a strip is cut along its length into overlapping
segments, each given ``overlap // 4`` mirrored pixels of context on its short sides, and the
segments are stacked into one near-square picture that is run like any other; the segments are
then put back with the tiles' feathered blending (:func:`_run_folded`). Rows next to the strip's
short sides see mirrored pixels instead of the network's own padding; the rest obeys the
receptive-field condition above.

Tile size. Either ``tile`` is given, or ``memory_budget_mb`` is turned into a tile size by
:func:`estimate_bytes_per_pixel` (one probe forward pass on a small tile) and
:func:`choose_tile`, or :data:`DEFAULT_TILE` is used. The budget covers the device-side
activations of one tile, not the host arrays, which are O(image) regardless.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from daguerre.allocator import keep_freed_memory

DEFAULT_TILE = 512
PROBE_SIZE = 64

Progress = Callable[[int, int], None]


def tile_layout(length: int, tile: int, overlap: int, multiple: int = 1) -> tuple[int, list[int]]:
    """Tile size and start offsets covering ``[0, length)`` with neighbours sharing >= ``overlap``.

    Uses the fewest tiles of at most ``tile`` pixels, then shrinks them to the smallest size
    (a multiple of ``multiple``) that still covers the axis with that count, and spreads them
    evenly; the first starts at 0 and the last ends exactly at ``length`` (never padded outside
    the image). A length no larger than ``tile`` gives one tile of the whole length.
    """
    if length <= tile:
        return length, [0]
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must be in [0, tile); got overlap={overlap}, tile={tile}")
    count = math.ceil((length - overlap) / (tile - overlap))
    size = min(tile, _round_up(math.ceil((length + (count - 1) * overlap) / count), multiple))
    return size, [round(i * (length - size) / (count - 1)) for i in range(count)]


def _edge_ramp(distance: np.ndarray, overlap: int) -> np.ndarray:
    """Weight of a pixel ``distance`` pixels inside an interior tile edge (see module doc)."""
    margin = overlap // 4
    width = overlap - 2 * margin
    t = np.clip((distance - margin + 0.5) / width, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * t)


def _axis_window(start: int, size: int, length: int, overlap: int) -> np.ndarray:
    """1-D feathering window for a tile spanning ``[start, start + size)`` of ``[0, length)``."""
    window = np.ones(size, dtype=np.float64)
    if overlap == 0:  # plain pasting: no context to discard, nothing to blend
        return window.astype(np.float32)
    index = np.arange(size)
    if start > 0:
        window = np.minimum(window, _edge_ramp(index, overlap))
    if start + size < length:
        window = np.minimum(window, _edge_ramp(size - 1 - index, overlap))
    return window.astype(np.float32)


def _round_down(value: int, multiple: int) -> int:
    return value // multiple * multiple


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _forward(
    net: nn.Module, tile: np.ndarray, device: torch.device | str, multiple: int, scale: int = 1
) -> np.ndarray:
    """Run ``net`` on one H×W×C host tile; returns the sH×sW×C_out host result."""
    height, width = tile.shape[:2]
    pad_h, pad_w = -height % multiple, -width % multiple
    if pad_h or pad_w:
        tile = np.pad(tile, ((0, pad_h), (0, pad_w), (0, 0)), mode="reflect")
    x = torch.from_numpy(np.ascontiguousarray(tile, dtype=np.float32))
    x = x.permute(2, 0, 1).unsqueeze(0).to(device)
    y = net(x)
    expected = (x.shape[2] * scale, x.shape[3] * scale)
    if y.ndim != 4 or y.shape[0] != 1 or tuple(y.shape[2:]) != expected:
        size = "H, W" if scale == 1 else f"{scale}H, {scale}W"
        raise ValueError(
            f"network must map (1, C, H, W) to (1, C_out, {size}); got {tuple(x.shape)} -> "
            f"{tuple(y.shape)}"
        )
    return y[0, :, : height * scale, : width * scale].permute(1, 2, 0).float().cpu().numpy()


def estimate_bytes_per_pixel(
    net: nn.Module,
    channels: int,
    *,
    device: torch.device | str = "cpu",
    multiple: int = 1,
    probe: int = PROBE_SIZE,
) -> float:
    """Device bytes one input pixel costs, from one probe forward pass on a ``probe``² tile.

    Sums the sizes of the input, the output and every leaf module's output as if none were freed
    during the pass. That over-counts for plain feed-forward nets (intermediates are released
    under inference mode) and ignores functional temporaries; in practice it is a conservative
    estimate that scales linearly with tile area.
    """
    size = max(probe, multiple)
    size += -size % multiple
    total = 0

    def count(_module: nn.Module, _inputs: object, output: object) -> None:
        nonlocal total
        if isinstance(output, torch.Tensor):
            total += output.numel() * output.element_size()

    leaves = [m for m in net.modules() if next(m.children(), None) is None]
    handles = [m.register_forward_hook(count) for m in leaves]
    try:
        with torch.inference_mode():
            x = torch.zeros(1, channels, size, size, device=device)
            y = net(x)
            total += x.numel() * x.element_size() + y.numel() * y.element_size()
    finally:
        for handle in handles:
            handle.remove()
    return total / (size * size)


def choose_tile(
    bytes_per_pixel: float, memory_budget_mb: float, *, multiple: int = 1, minimum: int = 1
) -> int:
    """Largest square tile (a multiple of ``multiple``) whose device memory fits the budget.

    Raises ``ValueError`` if even a ``minimum``-sized tile does not fit.
    """
    if bytes_per_pixel <= 0 or memory_budget_mb <= 0:
        raise ValueError("bytes_per_pixel and memory_budget_mb must be positive")
    side = _round_down(math.isqrt(int(memory_budget_mb * 2**20 / bytes_per_pixel)), multiple)
    if side < max(minimum, multiple):
        raise ValueError(
            f"a memory budget of {memory_budget_mb} MB fits only a {side} px tile "
            f"({bytes_per_pixel:.0f} bytes/pixel); at least {max(minimum, multiple)} px are needed"
        )
    return side


def run_tiled(
    net: nn.Module,
    image: np.ndarray,
    *,
    tile: int | None = None,
    overlap: int = 32,
    device: torch.device | str = "cpu",
    memory_budget_mb: float | None = None,
    multiple: int = 1,
    progress: Progress | None = None,
    in_place: bool = False,
    scale: int = 1,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Apply ``net`` to an H×W×C float image tile by tile and blend the results.

    ``net`` must already live on ``device`` (and normally be in eval mode); it maps
    (1, C, h, w) to (1, C_out, ``scale``·h, ``scale``·w). ``multiple`` > 1 pads each tile on the
    bottom/right by reflection to that multiple and crops the result back; the tile size is
    rounded down to it. ``progress(done, total)`` is called after every tile. Returns the
    sH×sW×C_out result: a new float32 array; with ``in_place`` (scale 1, C_out = C, a float32
    ``image``) ``image`` itself, overwritten row by row once no tile needs those rows any more;
    or ``out``, a preallocated sH×sW×C_out array (float, or uint8/uint16: rows are clipped to
    [0, 1] and rounded into it as they are finished).
    """
    if image.ndim != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image must be a non-empty H×W×C array; got shape {image.shape}")
    if multiple < 1 or overlap < 0 or scale < 1:
        raise ValueError(
            f"need multiple >= 1, overlap >= 0 and scale >= 1; got {multiple}, {overlap}, {scale}"
        )
    if in_place and (image.dtype != np.float32 or not image.flags.writeable):
        raise ValueError("in_place needs a writeable float32 image")
    if in_place and (scale != 1 or out is not None):
        raise ValueError("in_place writes into the image: it needs scale 1 and no out array")
    height, width, channels = image.shape
    if out is not None:
        _check_out(out, (height * scale, width * scale))
    keep_freed_memory()  # every tile's layers reuse the last tile's memory (see daguerre.allocator)
    if tile is None:
        if memory_budget_mb is None:
            tile = DEFAULT_TILE
        else:
            bpp = estimate_bytes_per_pixel(net, channels, device=device, multiple=multiple)
            tile = choose_tile(
                bpp, memory_budget_mb, multiple=multiple, minimum=max(2 * overlap, multiple)
            )
    tile = _round_down(tile, multiple)
    if tile < 1:
        raise ValueError(f"tile must be at least multiple={multiple}")
    long_axis = _fold_axis(net, height, width, tile, overlap, multiple)
    if long_axis is not None:
        options = {"tile": tile, "overlap": overlap, "device": device, "multiple": multiple}
        result = _run_folded(net, image, long_axis, scale, progress=progress, **options)
        if in_place:
            image[...] = result
            return image
        if out is not None:
            _store(out, 0, result)
            return out
        return result

    # the layout is made in input pixels; windows, weights and the band live in output pixels
    tile_h, starts_y = tile_layout(height, tile, overlap, multiple)
    tile_w, starts_x = tile_layout(width, tile, overlap, multiple)
    s = scale
    rows = [(y, _axis_window(s * y, s * tile_h, s * height, s * overlap)) for y in starts_y]
    cols = [(x, _axis_window(s * x, s * tile_w, s * width, s * overlap)) for x in starts_x]
    # every tile's window is a row window times a column window and the tiles form a grid, so
    # the blending weight is the product of the 1-D sums: no H×W weight array is needed
    weight_y = _axis_weight([(s * y, w) for y, w in rows], s * tile_h, s * height)[:, None, None]
    weight_x = _axis_weight([(s * x, w) for x, w in cols], s * tile_w, s * width)[None, :, None]
    total = len(rows) * len(cols)

    # one row of tiles at a time is summed in ``band`` (output rows of y .. y + tile_h); the rows
    # above the next row of tiles are then final, and no later tile reads them: they go out
    output = image if in_place else out
    band: np.ndarray | None = None
    done = 0
    with torch.inference_mode():
        for index, (y, window_y) in enumerate(rows):
            for x, window_x in cols:
                piece = image[y : y + tile_h, x : x + tile_w]
                result = _forward(net, piece, device, multiple, scale)
                if band is None:
                    band = np.zeros((s * tile_h, s * width, result.shape[2]), dtype=np.float32)
                    if output is None:
                        output = np.empty((s * height, s * width, band.shape[2]), np.float32)
                    elif output.shape[2] != band.shape[2]:
                        what = "in_place" if in_place else "out"
                        raise ValueError(
                            f"{what} needs as many channels as the network's output channels; "
                            f"it has {output.shape[2]}, the network gives {band.shape[2]}"
                        )
                weights = np.outer(window_y, window_x)[:, :, None]
                band[:, s * x : s * (x + tile_w)] += result * weights
                done += 1
                if progress is not None:
                    progress(done, total)
            assert band is not None and output is not None  # a row has at least one tile
            final = s * ((rows[index + 1][0] if index + 1 < len(rows) else height) - y)
            finished = band[:final]
            finished /= weight_y[s * y : s * y + final]
            finished /= weight_x
            _store(output, s * y, finished)
            band[: s * tile_h - final] = band[final:]  # the overlap carries into the next band
            band[s * tile_h - final :] = 0.0
    assert output is not None
    return output


def _fold_axis(
    net: nn.Module, height: int, width: int, tile: int, overlap: int, multiple: int
) -> int | None:
    """The long axis of an image worth folding (see :func:`_run_folded`), or None: one side
    longer than a tile, the other padded by the network to more than a folded segment."""
    long_axis, short = (1, height) if width >= height else (0, width)
    # the largest minimum size of any part: a wrapper (e.g. a detail stage) pads as its net does
    min_size = max(int(getattr(module, "min_size", 1)) for module in net.modules())
    padded = _round_up(max(short, min_size), max(multiple, 1))
    longer = max(height, width) > tile
    return long_axis if longer and padded > short + 2 * (overlap // 4) else None


def _run_folded(
    net: nn.Module,
    image: np.ndarray,
    long_axis: int,
    scale: int,
    *,
    tile: int,
    overlap: int,
    progress: Progress | None,
    **options: object,
) -> np.ndarray:
    """Run a thin ``image`` as a stack of its segments along ``long_axis`` (see the module doc)."""
    short_axis = 1 - long_axis
    short, length = image.shape[short_axis], image.shape[long_axis]
    context = overlap // 4
    block = short + 2 * context
    # segments about as long as the stack of them is high: a near-square picture
    wanted = max(2 * overlap + 1, math.isqrt(length * block))
    size, starts = tile_layout(length, min(wanted, tile), overlap)
    pad = [(0, 0)] * 3
    pad[short_axis] = (context, context)
    mode = "reflect" if context < short else "edge"
    segments = [
        np.pad(image.take(range(start, start + size), axis=long_axis), pad, mode=mode)
        for start in starts
    ]
    stacked = run_tiled(
        net,
        np.concatenate(segments, axis=short_axis),
        tile=tile,
        overlap=overlap,
        scale=scale,
        progress=progress,
        **options,  # type: ignore[arg-type]
    )
    s = scale
    shape = list(stacked.shape)
    shape[short_axis], shape[long_axis] = s * short, s * length
    result = np.zeros(shape, np.float32)
    along = [1, 1, 1]  # a 1-D window laid along the long axis
    along[long_axis] = -1
    windows = []
    for index, start in enumerate(starts):
        first = s * (index * block + context)  # the segment's own rows, context dropped
        piece = stacked.take(range(first, first + s * short), axis=short_axis)
        window = _axis_window(s * start, s * size, s * length, s * overlap)
        windows.append((s * start, window))
        span = [slice(None)] * 3
        span[long_axis] = slice(s * start, s * (start + size))
        result[tuple(span)] += piece * window.reshape(along)
    result /= _axis_weight(windows, s * size, s * length).reshape(along)
    return result


def _check_out(out: np.ndarray, size: tuple[int, int]) -> None:
    """Raise ``ValueError`` unless ``out`` can take an output of ``size`` (rows, columns)."""
    if out.ndim != 3 or out.shape[:2] != size:
        raise ValueError(f"out must be {size[0]}×{size[1]}×C_out; got shape {out.shape}")
    if not (np.issubdtype(out.dtype, np.floating) or out.dtype in (np.uint8, np.uint16)):
        raise ValueError(f"out must hold floats, uint8 or uint16; got {out.dtype}")
    if not out.flags.writeable:
        raise ValueError("out must be writeable")


def _store(output: np.ndarray, top: int, rows: np.ndarray) -> None:
    """Write finished float ``rows`` into ``output`` from row ``top``: as they are into a float
    array, clipped to [0, 1] and rounded to the full range of an integer one."""
    target = output[top : top + len(rows)]
    if np.issubdtype(output.dtype, np.floating):
        target[...] = rows
        return
    peak = np.float32(np.iinfo(output.dtype).max)
    np.clip(rows, 0.0, 1.0, out=rows)
    rows *= peak
    np.rint(rows, out=target, casting="unsafe")


def _axis_weight(windows: list[tuple[int, np.ndarray]], size: int, length: int) -> np.ndarray:
    """The sum of the 1-D windows (each ``size`` long, placed at its start) along one axis."""
    weight = np.zeros(length, dtype=np.float32)
    for start, window in windows:
        weight[start : start + size] += window
    return weight
