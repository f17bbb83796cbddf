"""The recipe interface: what one training task declares; the trainer does the rest.

A recipe names its networks (:meth:`Recipe.build_nets`), which optimiser trains
which of them (:meth:`Recipe.optimizers`), one training step
(:meth:`Recipe.train_step`) and what validation shows (:meth:`Recipe.evaluate`).
The trainer owns devices, mixed precision, DDP, EMA, schedules, checkpoints,
logging and export.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Protocol

import numpy as np
import torch
from torch import nn

from daguerre import metrics
from daguerre.nets import build_network

Batch = dict[str, torch.Tensor]


class Optimize(Protocol):
    """Back-propagate ``loss`` and step the optimiser called ``name`` (clipping included)."""

    def __call__(self, name: str, loss: torch.Tensor) -> None: ...


class Recipe(ABC):
    """Base class of training recipes.

    Class attributes:

    * ``data_kind``: dataset built for it (see :func:`daguerre.data.build_data`):
      ``"aging"`` batches hold ``input``/``target``/``mask``, ``"unpaired"`` ``a``/``b``,
      ``"folder"`` ``image``.
    * ``task``: the model card's task.
    * ``generator``: the network that is averaged (EMA), validated and exported.
    * ``defaults``: config defaults of the recipe (its ``model`` section, at least).

    During training ``self.nets`` holds the networks as trained (DDP-wrapped when
    distributed: call them, they synchronise gradients) and ``self.raw`` the plain
    modules (for ``features()`` and other methods, and for frozen passes).
    """

    data_kind: ClassVar[str] = "aging"
    task: ClassVar[str] = "restore"
    generator: ClassVar[str] = "g"
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.model = config["model"]
        self.channels: int = config["data"]["channels"]
        # the loss weights of recipes that have them (model.weights), as floats
        self.weights = {key: float(value) for key, value in self.model.get("weights", {}).items()}
        self.nets: dict[str, nn.Module] = {}
        self.raw: dict[str, nn.Module] = {}
        self.device = torch.device("cpu")

    def network(self, key: str, **fixed: Any) -> nn.Module:
        """Build the network spec ``model[key]`` with ``fixed`` arguments (channels) imposed."""
        return build_network({**self.model[key], **fixed})

    @abstractmethod
    def build_nets(self) -> dict[str, nn.Module]:
        """Fresh networks by name; must include :attr:`generator`."""

    @abstractmethod
    def optimizers(self) -> dict[str, tuple[str, ...]]:
        """Optimiser name → names of the networks it trains (``optim.<name>`` configures it)."""

    def attach(
        self, nets: Mapping[str, nn.Module], raw: Mapping[str, nn.Module], device: torch.device
    ) -> None:
        """Receive the networks (on ``device``) before the first step."""
        self.nets, self.raw, self.device = dict(nets), dict(raw), device

    @abstractmethod
    def train_step(self, batch: Batch, optimize: Optimize) -> dict[str, torch.Tensor]:
        """One training step on ``batch``; returns the scalar losses to log."""

    @abstractmethod
    def evaluate(self, generator: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        """Images of a validation batch, by column name in display order.

        Called without gradients with the EMA generator. ``"output"`` and
        ``"target"``, when present, are scored by :meth:`scores`.
        """

    def scores(self, images: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """Mean validation scores of a batch: PSNR, SSIM and L1 of output against target."""
        if "output" not in images or "target" not in images:
            return {}
        return image_scores(images["output"], images["target"])

    def state_dict(self) -> dict[str, Any]:
        """Extra per-process training state to checkpoint (tensors and plain values)."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        if state:
            raise ValueError(f"{type(self).__name__} keeps no state, got keys {sorted(state)}")


def _numpy_images(batch: torch.Tensor) -> list[np.ndarray]:
    return [image.permute(1, 2, 0).float().clamp(0, 1).cpu().numpy() for image in batch]


def image_scores(output: torch.Tensor, target: torch.Tensor, prefix: str = "") -> dict[str, float]:
    """Batch means of PSNR and SSIM (daguerre.metrics) and L1 between two N×C×H×W batches."""
    pairs = list(zip(_numpy_images(output), _numpy_images(target), strict=True))
    return {
        f"{prefix}psnr": float(np.mean([metrics.psnr(a, b) for a, b in pairs])),
        f"{prefix}ssim": float(np.mean([metrics.ssim(a, b) for a, b in pairs])),
        f"{prefix}l1": float((output.float().clamp(0, 1) - target.float()).abs().mean()),
    }


@contextlib.contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """Switch off gradients of ``modules``' parameters inside the block (e.g. D in a G step)."""
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def logits_of(features: list) -> torch.Tensor | list[torch.Tensor]:
    """The logits inside ``features()`` of a patch (last entry) or multi-scale discriminator."""
    if isinstance(features[0], torch.Tensor):
        return features[-1]
    return [scale[-1] for scale in features]
