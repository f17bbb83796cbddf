"""Validation: run the averaged generator on the fixed pairs, score them, draw a grid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from daguerre.training.recipes.base import Batch, Recipe

GRID_ROWS = 8


def image_grid(columns: Mapping[str, torch.Tensor], pad: int = 2) -> np.ndarray:
    """One row per sample, one column per entry of ``columns`` (N×C×H×W tensors in [0, 1]).

    Single-channel columns are shown in gray next to colour ones. Returns H×W×3
    float32 (or H×W×1 when every column is single-channel), white gaps of ``pad``.
    """
    tiles = [t.detach().float().clamp(0, 1).cpu() for t in columns.values()]
    channels = 3 if any(t.shape[1] == 3 for t in tiles) else 1
    tiles = [t.expand(-1, channels, -1, -1) for t in tiles]
    rows, _, height, width = tiles[0].shape
    grid = torch.ones(channels, rows * (height + pad) + pad, len(tiles) * (width + pad) + pad)
    for col, tile in enumerate(tiles):
        for row in range(rows):
            top, left = pad + row * (height + pad), pad + col * (width + pad)
            grid[:, top : top + height, left : left + width] = tile[row]
    return grid.permute(1, 2, 0).numpy()


@torch.no_grad()
def validate(
    recipe: Recipe, generator: nn.Module, batches: Sequence[Batch], device: torch.device
) -> tuple[dict[str, float], np.ndarray]:
    """Mean scores over all validation samples and a grid of the first :data:`GRID_ROWS`."""
    totals: dict[str, float] = {}
    count = 0
    shown: dict[str, list[torch.Tensor]] = {}
    for batch in batches:
        batch = {key: value.to(device) for key, value in batch.items()}
        images = recipe.evaluate(generator, batch)
        size = next(iter(images.values())).shape[0]
        for key, value in recipe.scores(images).items():
            totals[key] = totals.get(key, 0.0) + value * size
        if count < GRID_ROWS:
            for key, value in images.items():
                shown.setdefault(key, []).append(value.cpu())
        count += size
    scores = {key: total / count for key, total in totals.items()}
    columns = {key: torch.cat(parts)[:GRID_ROWS] for key, parts in shown.items()}
    return scores, image_grid(columns)
