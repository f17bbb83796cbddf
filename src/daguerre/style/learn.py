"""Adapt the arbitrary-style network to one painting in minutes: ``daguerre style learn``.

The bundled network (:mod:`daguerre.style.arbitrary`) styles after any painting from the
statistics of its code alone, so its brushwork is generic. Learning fine-tunes its decoder on
one painting and the user's photos, with the terms its own training used
(:func:`~daguerre.style.objective.transfer_terms`: each photo crop's code moved to the
statistics of a crop of the painting). The encoder stays as it is. The result, a
:class:`~daguerre.nets.arbitrary.LearnedAdaINNet` carrying the painting's code, is saved as a
model (fp16 safetensors and card) that ``--style PATH.safetensors`` runs like any style, in
tiles, at any size.

The run lasts ``minutes`` of wall time (the number of steps is planned again after every step
from the pace so far, so a machine that gets busier or quieter moves the end, not the
deadline) or exactly ``steps`` steps; the learning rate decays linearly over the last
:data:`DECAY_SHARE` of them.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from daguerre import hub, losses
from daguerre.color import to_rgb
from daguerre.data import random_crop, to_chw
from daguerre.nets.arbitrary import LearnedAdaINNet
from daguerre.style import arbitrary
from daguerre.style.objective import TRANSFER_TERMS, transfer_terms

TASK = arbitrary.TASK  # a learned style is run by the arbitrary-style machinery
MINUTES = 5.0  # default budget of wall time
MAX_PHOTOS = 500  # more photos than this are sampled: they would add reading time, not quality
PHOTO_SIDE = 512  # photos are seen at this long side, as the arbitrary network was trained
CROP = 128  # side of the training crops
BATCH = 4  # photos (and painting crops) per step
ZOOM = (0.5, 1.0)  # scales at which photos and the painting are cropped
LEARNING_RATE = 5e-4
DECAY_SHARE = 0.3  # the learning rate falls linearly to 0 over this last share of the steps
PLAN_AFTER = 5  # steps timed before the time budget is first turned into a number of steps
FEATURE_SEED = 0  # the random features of the style terms; `daguerre eval style` holds out 1
# Texture weighs more than in the network's own training (2000): one painting's strokes are
# what learning adds (measured on held-out paintings: docs/style-arbitrary.md).
WEIGHTS: dict[str, float] = {
    "content": 100.0,
    "stats": 100.0,
    "style": 200.0,
    "texture": 6000.0,
    "edges": 10.0,
}

Progress = Callable[[int, int], None]


@dataclass
class LearnedStyle:
    """A network adapted to one painting, and how it was learnt."""

    net: LearnedAdaINNet
    steps: int
    seconds: float
    weights: dict[str, float]
    base: hub.ModelCard
    history: list[dict[str, float]] = field(default_factory=list)  # mean terms per tenth


def _uint8(image: np.ndarray, side: int) -> np.ndarray:
    """``image`` (float in [0, 1]) as RGB uint8, shrunk to at most ``side`` on its long side."""
    image = to_rgb(np.asarray(image, dtype=np.float32))
    image = arbitrary.shrunk(image, side / max(image.shape[:2]))
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def _crops(
    images: Sequence[np.ndarray], count: int, rng: np.random.Generator, device: torch.device
) -> torch.Tensor:
    picks = rng.integers(len(images), size=count)
    crops = [to_chw(random_crop(images[i], CROP, rng, scale=ZOOM)) for i in picks]
    return torch.stack(crops).to(device)


def _learning_rate(step: int, steps: int) -> float:
    decay_from = steps * (1 - DECAY_SHARE)
    if step < decay_from:
        return LEARNING_RATE
    return LEARNING_RATE * max(0.0, (steps - step) / (steps - decay_from))


def learn_style(
    painting: np.ndarray,
    photos: Sequence[np.ndarray],
    *,
    minutes: float = MINUTES,
    steps: int | None = None,
    weights: Mapping[str, float] | None = None,
    seed: int = 0,
    base: str | os.PathLike[str] = arbitrary.MODEL,
    device: torch.device | str = "cpu",
    directory: str | os.PathLike[str] = hub.WEIGHTS_DIR,
    progress: Progress | None = None,
) -> LearnedStyle:
    """Adapt the arbitrary-style network ``base`` to ``painting`` on ``photos`` (H×W×C floats
    in [0, 1]), for ``minutes`` of wall time or exactly ``steps`` steps.

    ``weights`` replace some of :data:`WEIGHTS`. ``progress(done, total)`` counts steps (the
    total of a timed run is planned from its pace, from :data:`PLAN_AFTER` steps on). Raises
    ``ValueError`` without photos, for a non-positive budget or unknown terms, and
    ``hub.ModelError`` for a missing or corrupt base model.
    """
    if not photos:
        raise ValueError("no photos to learn on")
    if steps is not None and steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if steps is None and not minutes > 0:
        raise ValueError(f"minutes must be positive, got {minutes}")
    chosen = {**WEIGHTS, **(weights or {})}
    if set(chosen) != set(TRANSFER_TERMS):
        raise ValueError(f"unknown terms {sorted(set(chosen) - set(TRANSFER_TERMS))}")
    device = torch.device(device)
    stylizer = arbitrary.ArbitraryStylizer(base, device=device, directory=directory)
    net = LearnedAdaINNet(3, stylizer.net.spec["widths"]).to(device)
    net.load_state_dict(stylizer.net.state_dict(), strict=False)
    style = stylizer.style_code(to_rgb(np.asarray(painting, dtype=np.float32))).stats
    net.set_style(style)
    net.train().encoder.requires_grad_(False)
    optimizer = torch.optim.Adam(net.decoder.parameters(), lr=LEARNING_RATE, betas=(0.9, 0.999))
    features = losses.RandomFeatureNet(FEATURE_SEED, 3).to(device)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    pictures = [_uint8(photo, PHOTO_SIDE) for photo in photos]
    canvas = [_uint8(painting, arbitrary.STYLE_SIDE)]
    planned = steps or 10**9
    budget = minutes * 60
    started = time.perf_counter()
    record: list[dict[str, float]] = []
    while len(record) < planned:
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(len(record), planned)
        terms = transfer_terms(
            net, features, _crops(pictures, BATCH, rng, device), _crops(canvas, BATCH, rng, device)
        )
        loss = torch.stack([chosen[name] * value for name, value in terms.items()]).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        record.append({name: float(value.detach()) for name, value in terms.items()})
        if steps is None and len(record) >= PLAN_AFTER:  # the pace so far sets the steps left
            elapsed = time.perf_counter() - started
            done = len(record)
            planned = (
                done if elapsed >= budget else max(done + 1, math.floor(done * budget / elapsed))
            )
        if progress is not None:
            progress(len(record), planned)
    net.eval().requires_grad_(False)
    seconds = time.perf_counter() - started
    return LearnedStyle(net, len(record), seconds, chosen, stylizer.card, _tenths(record))


def _tenths(record: Sequence[Mapping[str, float]]) -> list[dict[str, float]]:
    """The mean of each term over each tenth of the steps (fewer parts for fewer steps)."""
    parts = np.array_split(np.arange(len(record)), min(10, len(record)))
    return [
        {name: float(np.mean([record[i][name] for i in part])) for name in record[0]}
        for part in parts
    ]


def save_learned(
    learned: LearnedStyle,
    path: str | os.PathLike[str],
    *,
    painting: str | os.PathLike[str],
    photos: str,
    command: str = "",
) -> Path:
    """Write ``learned`` as ``path`` (``NAME.safetensors``, fp16, and its card ``NAME.json``,
    atomically) and return the weights path. The card records the ``painting`` file (where
    ``daguerre eval style`` finds it), the ``photos`` learnt on (a description), the base model,
    steps, time, weights, the terms by tenth of the run and the ``command``."""
    weights_path, _ = hub.model_paths(Path(path))
    painting = os.fspath(painting)
    card = {
        "task": TASK,
        "description": f"{Path(painting).name}, learnt by `daguerre style learn` from "
        f"{learned.base.name} in {learned.steps} steps",
        "metrics": {f"final_{name}": value for name, value in learned.history[-1].items()},
        "training": {
            "config": {
                "data": {"style": painting, "photos": photos, "photo_side": PHOTO_SIDE},
                "model": {"base": learned.base.name, "base_sha256": learned.base.sha256},
                "weights": learned.weights,
                "train": {"steps": learned.steps, "crop": CROP, "batch": BATCH},
            },
            "steps": learned.steps,
            "wall_time_s": round(learned.seconds, 1),
            "terms_by_tenth": learned.history,
            "recipe": "daguerre.style.learn",
            "command": command,
        },
    }
    return hub.export(learned.net, weights_path, card, directory=weights_path.parent)
