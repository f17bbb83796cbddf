"""The aging engine: turn clean pictures into old-looking ones, with an exact damage mask.

``ops`` holds the unstructured ops (tone, blur, noise, grain, JPEG...), ``damage`` the
structured damage (scratches, dust, cracks...), ``pipeline`` the seeded presets combining them.
Only NumPy, OpenCV and the standard library are used here.
"""

from daguerre.aging.damage import DAMAGES
from daguerre.aging.ops import OPS
from daguerre.aging.pipeline import (
    PRESETS,
    AgingPipeline,
    AgingResult,
    DamageStep,
    Preset,
    Stage,
    Step,
    age,
    vintage,
)

__all__ = [
    "DAMAGES",
    "OPS",
    "PRESETS",
    "AgingPipeline",
    "AgingResult",
    "DamageStep",
    "Preset",
    "Stage",
    "Step",
    "age",
    "vintage",
]
