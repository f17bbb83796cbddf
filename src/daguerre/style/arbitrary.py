"""Any painting, in seconds: the bundled arbitrary-style network (:class:`ArbitraryStylizer`).

A painting is summarised once as a :class:`StyleCode` (the per-channel statistics of its code
in the network's feature space); codes of several paintings mix by weighted averaging. Styling
a photo moves the statistics of the photo's code to the style's and decodes it. The network is
local, so the photo runs in tiles with bounded memory; the photo's own statistics, the only
global quantity, are read from a copy of at most :data:`STATS_PIXELS` pixels. The photo is
padded (bottom and right, by reflection, by at least the receptive field) so that every tile
starts on the network's stride grid: tiles then give the pixels of the whole picture run at
once, to rounding.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from daguerre import hub
from daguerre.color import to_rgb
from daguerre.image import to_tensor
from daguerre.nets.arbitrary import AdaINNet, FeatureStats, LearnedAdaINNet
from daguerre.style.fast import Progress
from daguerre.style.optimize import resize
from daguerre.tiling import run_tiled, tile_layout

MODEL = "style-arbitrary"
TASK = "style-arbitrary"
STYLE_SIDE = 512  # painting's long side when its code is read: the scale it was trained at
STATS_PIXELS = 1024 * 1024  # photos larger than this are shrunk to it to read their statistics
# Tile overlap: a quarter of it is discarded at inner tile edges, which must cover the net's
# receptive-field radius (22 px for the default widths) for tiles to equal the whole image.
OVERLAP = 96
DEFAULT_TILE = 1024  # a 512-pixel photo (padded for alignment) runs in one piece


@dataclass(frozen=True)
class StyleCode:
    """What the network keeps of a painting: its code's per-channel statistics (1×C each)."""

    stats: FeatureStats


def shrunk(image: np.ndarray, factor: float) -> np.ndarray:
    """``image`` resized by ``factor`` (aspect kept) when that shrinks it, else as it is."""
    if factor >= 1.0:
        return image
    height, width = image.shape[:2]
    return resize(image, (max(1, round(height * factor)), max(1, round(width * factor))))


def aligned_length(length: int, tile: int, overlap: int, multiple: int) -> int:
    """The least length >= ``length`` whose :func:`~daguerre.tiling.tile_layout` (tiles of at
    most ``tile``, a multiple of ``multiple``) starts every tile on a multiple of ``multiple``."""
    padded = -(-length // multiple) * multiple
    while any(start % multiple for start in tile_layout(padded, tile, overlap, multiple)[1]):
        padded += multiple
    return padded


class _Transfer(nn.Module):
    """The network as a plain image-to-image module for the tiling engine."""

    def __init__(
        self, net: AdaINNet, content: FeatureStats, style: FeatureStats, alpha: float
    ) -> None:
        super().__init__()
        self.net, self.content, self.style, self.alpha = net, content, style, alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.stylize(x, self.content, self.style, self.alpha)


class ArbitraryStylizer:
    """The arbitrary-style model ``model`` (a bundled name or a ``.safetensors`` path), loaded once.

    A model learnt for one painting (``daguerre style learn``) carries that painting's code,
    :attr:`learned`; for the others it is None. Raises ``hub.ModelError`` for a missing or
    corrupt model and ``ValueError`` for a model of another task.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] = MODEL,
        *,
        device: torch.device | str = "cpu",
        directory: str | os.PathLike[str] = hub.WEIGHTS_DIR,
    ) -> None:
        net, self.card = hub.load(model, device=device, directory=directory)
        if self.card.task != TASK or not isinstance(net, AdaINNet):
            raise ValueError(f"{model}: a {self.card.task!r} model, not an arbitrary-style one")
        self.net: AdaINNet = net
        self.device = torch.device(device)
        self.learned = StyleCode(net.style) if isinstance(net, LearnedAdaINNet) else None

    @torch.inference_mode()
    def _stats(self, image: np.ndarray) -> FeatureStats:
        return self.net.statistics(to_tensor(to_rgb(image)).to(self.device))

    def style_code(self, painting: np.ndarray, *, side: int = STYLE_SIDE) -> StyleCode:
        """The code of ``painting`` (H×W×C float in [0, 1]), read at ``side`` pixels on its long
        side (never enlarged): the scale of its brush strokes relative to the photo's."""
        return StyleCode(self._stats(shrunk(painting, side / max(painting.shape[:2]))))

    @staticmethod
    def mix(codes: Sequence[StyleCode], weights: Sequence[float]) -> StyleCode:
        """The weighted mean of ``codes`` (weights >= 0, normalised to sum 1): a style between
        paintings. Raises ``ValueError`` for mismatched lengths or weights that sum to 0."""
        if len(codes) != len(weights) or not codes:
            raise ValueError(f"{len(codes)} codes but {len(weights)} weights")
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"weights must be >= 0 with a positive sum, got {list(weights)}")
        share = torch.tensor(weights, dtype=torch.float32).view(-1, 1, 1) / float(sum(weights))
        means = torch.stack([code.stats.mean.float().cpu() for code in codes])
        stds = torch.stack([code.stats.std.float().cpu() for code in codes])
        return StyleCode(FeatureStats((share * means).sum(0), (share * stds).sum(0)))

    def __call__(
        self,
        photo: np.ndarray,
        code: StyleCode,
        *,
        alpha: float = 1.0,
        tile: int | None = None,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """``photo`` (H×W×1 or ×3 float in [0, 1]) styled after ``code``: H×W×3 in [0, 1].

        ``alpha`` in [0, 1] moves the photo's statistics only part of the way (0 keeps its own,
        through the autoencoder). ``tile`` bounds the piece run at once (default
        :data:`DEFAULT_TILE`); ``progress(done, total)`` counts tiles.
        """
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        photo = to_rgb(np.asarray(photo, dtype=np.float32))
        height, width = photo.shape[:2]
        content = self._stats(shrunk(photo, math.sqrt(STATS_PIXELS / (height * width))))
        style = FeatureStats(code.stats.mean.to(self.device), code.stats.std.to(self.device))
        transfer = _Transfer(self.net, content, style, alpha)
        multiple = self.net.multiple
        size = max(tile or DEFAULT_TILE, 2 * multiple) // multiple * multiple
        overlap = min(OVERLAP, size // 2)
        context = OVERLAP // 4  # the same mirrored context below and right of the photo, always
        pad = [aligned_length(n + context, size, overlap, multiple) - n for n in (height, width)]
        padded = np.pad(photo, ((0, pad[0]), (0, pad[1]), (0, 0)), mode="reflect")
        with torch.inference_mode():
            output = run_tiled(
                transfer,
                padded,
                tile=size,
                overlap=overlap,
                device=self.device,
                multiple=multiple,
                progress=progress,
            )
        return np.clip(output[:height, :width], 0.0, 1.0)
