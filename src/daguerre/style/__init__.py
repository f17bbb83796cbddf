"""Styling: move an image into the look of a painting or a photo collection.

``color`` holds the training-free colour and tone transfers that every other method builds on;
``objective`` the painting-against-photo objective shared by training and optimisation;
``fast`` runs trained generators in tiles, ``arbitrary`` the network that styles after any
painting in one pass (``learn`` adapts it to one painting in minutes), ``optimize`` restyles
after any painting without training, ``translate`` runs CycleGAN generators and ``pipeline``
puts them behind :func:`stylize`. The names below are
imported on first use, so that ``daguerre.style.color`` alone does not load torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_API = {
    "METHODS": "daguerre.style.pipeline",
    "VINTAGE": "daguerre.style.pipeline",
    "Stylizer": "daguerre.style.pipeline",
    "stylize": "daguerre.style.pipeline",
    "Generator": "daguerre.style.fast",
    "ArbitraryStylizer": "daguerre.style.arbitrary",
    "learn_style": "daguerre.style.learn",
    "save_learned": "daguerre.style.learn",
    "translate": "daguerre.style.translate",
}

__all__ = list(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'daguerre.style' has no attribute {name!r}")
    value = getattr(import_module(_API[name]), name)
    globals()[name] = value
    return value
