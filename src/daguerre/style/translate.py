"""Unpaired translation: run a generator trained by the ``cyclegan`` recipe on a picture.

Train one between two folders of pictures (A → B; swap them for B → A), for example photos and
old prints::

    daguerre train configs/cyclegan.yaml --data train_a=photos/ --data train_b=old/ \\
        --set export.name=photo-to-old
    daguerre translate my_photos/ --model photo-to-old --output translated/
"""

from __future__ import annotations

import os

import numpy as np
import torch

from daguerre import hub
from daguerre.style.fast import Generator, Progress


def translate(
    image: np.ndarray,
    model: str | os.PathLike[str],
    *,
    tile: int | None = None,
    device: torch.device | str = "cpu",
    directory: str | os.PathLike[str] = hub.WEIGHTS_DIR,
    progress: Progress | None = None,
) -> np.ndarray:
    """``image`` (H×W×C in [0, 1]) through the generator ``model`` (a name or a path).

    For many pictures, load the model once with :class:`daguerre.style.fast.Generator`.
    """
    generator = Generator(model, device=device, directory=directory)
    return generator(image, tile=tile, progress=progress)
