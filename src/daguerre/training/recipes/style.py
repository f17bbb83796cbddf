"""Fast per-painting style (Johnson et al. 2016, without VGG): any photo → one painting's look.

A feed-forward :class:`~daguerre.nets.TransformerNet` learns to restyle photos in one pass.
Its loss, each term weighted by ``model.weights``:

* ``adv``: a multi-scale PatchGAN tells patches of the painting from patches of the outputs
  (with ``adv`` 0 there is no discriminator at all: a plain Johnson network, half the work).
  Painting patches are random crops at zooms drawn from ``data.style_scale`` (as ``data.scale``:
  0.5 means a crop covers twice the output size, shrunk), so both brush strokes and larger
  structures are learnt; its scales see them again at 1/2, 1/4...
* ``style``, ``texture``, ``content``, ``structure``, ``tv``: the objective of
  :mod:`daguerre.style.objective` (random-feature statistics of the image and of its detail
  layer against the whole painting, deep random features and luminance structure against the
  input photo, total variation), computed in float32 even under autocast.

Data: ``data.train`` (``"folder"``: photos, cropped as usual) and ``data.style``, the painting,
given as ``--data style=PAINTING.jpg``. It is shrunk to ``data.style_size`` pixels on its long
side (never enlarged): that is the scale at which its strokes are learnt, against training
photos cached at ``data.max_side``. Validation shows input, output and the painting, and scores
the objective's distances (lower is closer).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from daguerre import losses
from daguerre.color import to_gray, to_rgb
from daguerre.data import DataError
from daguerre.image import ImageError, read, to_tensor
from daguerre.style.objective import DEFAULT_WEIGHTS, STYLE_KINDS, StyleObjective
from daguerre.training.config import ConfigError
from daguerre.training.recipes.base import Batch, Optimize, Recipe, frozen

PAINTING_STREAM = 3  # seed stream of the painting crops (data.py uses 0-2)
SCORED = ("style", "texture", "content", "structure", "edges")


def read_painting(path: str | Path, channels: int, max_side: int) -> np.ndarray:
    """The painting as H×W×``channels`` float32, shrunk to ``max_side`` (never enlarged)."""
    try:
        pixels = read(path).pixels
    except ImageError as error:
        raise DataError(f"data.style: {error}") from error
    pixels = to_gray(pixels) if channels == 1 else to_rgb(pixels)
    height, width = pixels.shape[:2]
    if max(height, width) > max_side:
        factor = max_side / max(height, width)
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
        pixels = pixels.reshape(size[1], size[0], channels)
    return np.ascontiguousarray(pixels, dtype=np.float32)


def zoom_range(zoom: Any) -> tuple[float, float]:
    """``data.style_scale`` checked: the (low, high) zooms of painting crops, 0 < low <= high."""
    if not (
        isinstance(zoom, (list, tuple))
        and len(zoom) == 2
        and all(isinstance(z, (int, float)) and not isinstance(z, bool) for z in zoom)
        and 0 < zoom[0] <= zoom[1]
    ):
        raise ConfigError(f"data.style_scale must be [low, high], 0 < low <= high: {zoom!r}")
    return float(zoom[0]), float(zoom[1])


def _rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


class Style(Recipe):
    data_kind = "folder"
    task = "style"
    generator = "g"
    defaults: ClassVar[dict[str, Any]] = {
        "data": {"style": None, "style_size": 768, "style_scale": [0.5, 1.0]},
        "model": {
            "generator": {"type": "transformer", "base_channels": 32, "n_blocks": 5},
            "discriminator": {
                "type": "multiscale",
                "num_scales": 2,
                "base_channels": 64,
                "n_layers": 3,
            },
            "gan_mode": "lsgan",
            "style_kind": "gram",  # or sliced_wasserstein (sharper textures, slower on CPU)
            "feature_seed": 0,  # seed of the random feature network
            "weights": {"adv": 1.0, **DEFAULT_WEIGHTS},
        },
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        data = config["data"]
        if not isinstance(data["style"], str) or not data["style"]:
            raise DataError("no painting: set data.style (e.g. --data style=painting.jpg)")
        if data["style_size"] < 16:
            raise ConfigError("data.style_size must be at least 16")
        if self.model["style_kind"] not in STYLE_KINDS:
            raise ConfigError(f"model.style_kind must be one of {STYLE_KINDS}")
        self.adversarial = losses.AdversarialLoss(self.model["gan_mode"])
        self.judged = self.weights["adv"] > 0
        self.zoom = zoom_range(data["style_scale"])
        painting = read_painting(data["style"], self.channels, data["style_size"])
        self.painting = to_tensor(painting)
        seed = np.random.SeedSequence([config["seed"], PAINTING_STREAM, _rank()])
        self.rng = torch.Generator().manual_seed(int(seed.generate_state(1)[0]))
        self.objective: StyleObjective | None = None

    def build_nets(self) -> dict[str, nn.Module]:
        c = self.channels
        nets = {"g": self.network("generator", in_channels=c, out_channels=c)}
        if self.judged:
            nets["d"] = self.network("discriminator", in_channels=c)
        return nets

    def optimizers(self) -> dict[str, tuple[str, ...]]:
        return {"g": ("g",), "d": ("d",)} if self.judged else {"g": ("g",)}

    def attach(
        self, nets: Mapping[str, nn.Module], raw: Mapping[str, nn.Module], device: torch.device
    ) -> None:
        super().attach(nets, raw, device)
        self.painting = self.painting.to(device)
        self.objective = StyleObjective(
            self.painting, kind=self.model["style_kind"], seed=self.model["feature_seed"]
        )

    def painting_crops(self, count: int, size: int) -> torch.Tensor:
        """``count`` random ``size``² crops of the painting at zooms from ``data.style_scale``."""
        _, _, height, width = self.painting.shape
        low, high = self.zoom
        crops = []
        for _ in range(count):
            zoom = low + (high - low) * float(torch.rand((), generator=self.rng))
            side = max(1, min(round(size / zoom), height, width))
            top = int(torch.randint(height - side + 1, (), generator=self.rng))
            left = int(torch.randint(width - side + 1, (), generator=self.rng))
            crop = self.painting[..., top : top + side, left : left + side]
            crop = F.interpolate(
                crop, size=(size, size), mode="bilinear", align_corners=False, antialias=side > size
            )
            if float(torch.rand((), generator=self.rng)) < 0.5:
                crop = crop.flip(-1)
            crops.append(crop)
        return torch.cat(crops).clamp(0.0, 1.0)

    def _objective(self) -> StyleObjective:
        if self.objective is None:
            raise RuntimeError("the style recipe was not attached to its networks")
        return self.objective

    def train_step(self, batch: Batch, optimize: Optimize) -> dict[str, torch.Tensor]:
        photo = batch["image"]
        output = self.nets["g"](photo)
        w = self.weights
        logged: dict[str, torch.Tensor] = {}
        terms: dict[str, torch.Tensor] = {}
        if self.judged:
            painting = self.painting_crops(photo.shape[0], photo.shape[-1])
            d = self.nets["d"]
            logged["d"] = self.adversarial.discriminator(d(painting), d(output.detach()))
            optimize("d", logged["d"])
            with frozen(self.raw["d"]):
                terms["g_adv"] = w["adv"] * self.adversarial.generator(self.raw["d"](output))
        with torch.autocast(self.device.type, enabled=False):
            parts = self._objective().terms(output, photo, self.rng)
        terms.update({f"g_{name}": w[name] * value for name, value in parts.items() if w[name]})
        optimize("g", torch.stack([t.float() for t in terms.values()]).sum())
        return {**logged, **terms}

    def evaluate(self, generator: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        """Input, output and the painting's centre at the same size, for the grids."""
        photo = batch["image"]
        _, _, height, width = self.painting.shape
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        center = self.painting[..., top : top + side, left : left + side]
        shown = F.interpolate(
            center, size=photo.shape[-2:], mode="bilinear", align_corners=False, antialias=True
        )
        return {
            "input": photo,
            "output": generator(photo).clamp(0.0, 1.0),
            "painting": shown.clamp(0.0, 1.0).expand(photo.shape[0], -1, -1, -1),
        }

    def scores(self, images: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """The objective's distances of the outputs (fixed sliced directions; lower is closer)."""
        terms = self._objective().terms(images["output"], images["input"])
        return {name: float(terms[name]) for name in SCORED}

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.rng.set_state(state["rng"])
