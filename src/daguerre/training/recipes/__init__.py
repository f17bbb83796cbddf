"""Training recipes, one file per task, registered by name in :data:`RECIPES`.

To add a task: write ``recipes/<task>.py`` with a :class:`Recipe` subclass and add
it to :data:`RECIPES` below (and a YAML file in ``configs/``).
"""

from __future__ import annotations

from daguerre.training.recipes.arbitrary import ArbitraryStyle
from daguerre.training.recipes.base import Optimize, Recipe, frozen, image_scores, logits_of
from daguerre.training.recipes.cyclegan import CycleGAN
from daguerre.training.recipes.damage import DamageDetection
from daguerre.training.recipes.faces import FaceRestoration
from daguerre.training.recipes.inpaint import Inpaint
from daguerre.training.recipes.landmarks import Landmarks
from daguerre.training.recipes.pix2pix import Pix2Pix
from daguerre.training.recipes.style import Style
from daguerre.training.recipes.tone import Tone
from daguerre.training.recipes.upscale import Upscale

RECIPES: dict[str, type[Recipe]] = {
    "pix2pix": Pix2Pix,
    "cyclegan": CycleGAN,
    "damage": DamageDetection,
    "inpaint": Inpaint,
    "style": Style,
    "tone": Tone,
    "landmarks": Landmarks,
    "upscale": Upscale,
    "faces": FaceRestoration,
    "arbitrary": ArbitraryStyle,
}


def get_recipe(name: str) -> type[Recipe]:
    """The recipe class called ``name``."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; expected one of {sorted(RECIPES)}")
    return RECIPES[name]


__all__ = [
    "RECIPES",
    "ArbitraryStyle",
    "CycleGAN",
    "DamageDetection",
    "FaceRestoration",
    "Inpaint",
    "Landmarks",
    "Optimize",
    "Pix2Pix",
    "Recipe",
    "Style",
    "Tone",
    "Upscale",
    "frozen",
    "get_recipe",
    "image_scores",
    "logits_of",
]
