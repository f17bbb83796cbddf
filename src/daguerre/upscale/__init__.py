"""Super-resolution: the trained upscalers (fidelity and GAN, ×2 and ×4) through the tiling
engine, the restore pipeline's upscale stage, and Deep Image Prior (:mod:`.dip`), which needs no
training."""

from daguerre.upscale.upscaler import (
    SCALES,
    Blend,
    Halved,
    Upscaler,
    load_upscaler,
    model_names,
    upscale,
)

__all__ = ["SCALES", "Blend", "Halved", "Upscaler", "load_upscaler", "model_names", "upscale"]
