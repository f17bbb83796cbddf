"""Learning-rate schedule: a pure function of the step, so resuming needs no scheduler state."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def lr_factor(step: int, total: int, schedule: Mapping[str, Any]) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based) of ``total`` steps.

    A linear warm-up over ``warmup`` steps, then by ``kind``:

    * ``"constant"``: 1.
    * ``"linear"``: 1 until ``decay_start`` (fraction of the run), then a straight
      line towards ``final_ratio``, reached just after the last step (pix2pix, CycleGAN).
    * ``"cosine"``: half a cosine from 1 after warm-up towards ``final_ratio``.
    """
    warmup = schedule["warmup"]
    if step < warmup:
        return (step + 1) / warmup
    kind = schedule["kind"]
    if kind == "constant":
        return 1.0
    start = max(warmup, int(schedule["decay_start"] * total)) if kind == "linear" else warmup
    progress = min(1.0, max(0.0, (step - start) / max(1, total - start)))
    shape = 1.0 - progress if kind == "linear" else 0.5 * (1.0 + math.cos(math.pi * progress))
    final = schedule["final_ratio"]
    return final + (1.0 - final) * shape
