"""The upscale stage of the restore pipeline: the last stage, after restoration (``scale`` > 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from daguerre.upscale.upscaler import load_upscaler, model_names, upscale

if TYPE_CHECKING:
    from daguerre.restore.context import Context


def upscale_stage(image: np.ndarray, ctx: Context) -> np.ndarray:
    """``image`` enlarged ``ctx.options.scale``× into a new float32 array (the working array's
    successor: the pipeline's monochrome and clipping steps then run on it)."""
    options = ctx.options
    # the fidelity model: restoration's result is enlarged as faithfully as it can be;
    # ``daguerre upscale --sharpness`` blends in the GAN model
    name = model_names(options.scale)[0]
    if name not in ctx.models:
        ctx.models[name] = load_upscaler(
            name, options.models.get(name), weights_dir=options.weights_dir, device=options.device
        )
    return upscale(
        image,
        ctx.models[name],
        options.scale,
        tile=options.tile,
        device=options.device,
        memory_budget_mb=options.memory_budget_mb,
        progress=ctx.report("upscale"),
    )
