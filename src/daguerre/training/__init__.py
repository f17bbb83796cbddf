"""Training engine: ``train()`` runs a recipe from a YAML config (see docs/training.md)."""

from __future__ import annotations

from daguerre.training.config import ConfigError
from daguerre.training.recipes import RECIPES, Recipe
from daguerre.training.trainer import Trainer, TrainingError, resolve_config, train

__all__ = [
    "RECIPES",
    "ConfigError",
    "Recipe",
    "Trainer",
    "TrainingError",
    "resolve_config",
    "train",
]
