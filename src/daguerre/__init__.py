"""daguerre: bring damaged old photographs back to life and restyle images with GANs.

The public API is imported lazily, so that ``import daguerre`` (and the CLI's ``--help``)
stays fast and does not load torch until a network is needed.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("daguerre")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

_API = {
    "age": ("daguerre.aging", "age"),
    "restore": ("daguerre.restore", "restore"),
    "RestorePipeline": ("daguerre.restore", "RestorePipeline"),
    "restore_faces": ("daguerre.faces", "restore_faces"),
    "stylize": ("daguerre.style", "stylize"),
    "load_model": ("daguerre.hub", "load"),
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'daguerre' has no attribute {name!r}")
    module, attribute = _API[name]
    value = getattr(import_module(module), attribute)
    globals()[name] = value
    return value
