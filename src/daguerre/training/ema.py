"""Exponential moving average of a network's weights (the exported generator)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """A frozen copy of ``module`` whose weights trail the trained ones.

    After each step ``ema = d·ema + (1 - d)·weights`` with
    ``d = min(decay, (1 + step) / (10 + step))``: the short warm-up lets the average
    follow the fast early changes instead of remembering the random start. Buffers
    are copied. ``decay = 0`` keeps an exact copy.
    """

    def __init__(self, module: nn.Module, decay: float) -> None:
        self.module = copy.deepcopy(module).eval().requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, source: nn.Module, step: int) -> None:
        """Move the average towards ``source`` after optimiser step ``step`` (0-based)."""
        decay = min(self.decay, (1 + step) / (10 + step))
        averaged = list(self.module.parameters())
        current = [p.detach() for p in source.parameters()]
        torch._foreach_lerp_(averaged, current, 1.0 - decay)
        for mine, theirs in zip(self.module.buffers(), source.buffers(), strict=True):
            mine.copy_(theirs)
