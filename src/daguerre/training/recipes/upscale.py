"""Super-resolution ×2 / ×4: degraded low-resolution crops → the clean crops (Real-ESRGAN-like).

Data (``"upscale"``): clean crops of ``data.crop`` pixels are the targets; the inputs are those
crops pushed through :class:`daguerre.data.Degradation` (``data.degradation``: ``real``, two
rounds of blur, resampling, noise and JPEG in random order around the shrink, scaled by
``data.strength``, or ``bicubic``) and shrunk ``data.factor`` times. The generator
(``compact_sr`` by default) is built with ``scale = data.factor``.

Loss of the generator: :class:`~daguerre.training.recipes.judged.JudgedRestoration`'s ``l1``,
``fm``, ``adv`` and ``percep``, and its own ``grid`` and ``artifacts`` (against invented patterns),
the unconditional discriminator (a PatchGAN, or the per-pixel ``unet_judge``) judging the high-
resolution image alone (real crops against upscaled ones). With ``adv`` and ``fm`` both 0 no
discriminator is built: the same recipe trains a fidelity model (L1 only, the highest PSNR) and a
GAN model (sharper).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from daguerre import hub, losses
from daguerre.training.config import ConfigError
from daguerre.training.recipes.base import Batch
from daguerre.training.recipes.judged import JudgedRestoration

GRID_BLOCK = 8  # phase samples a side of the blocks the ``grid`` term compares phases in


class Upscale(JudgedRestoration):
    data_kind = "upscale"
    task = "upscale"
    terms = ("l1", "fm", "adv", "percep", "grid", "artifacts")
    defaults: ClassVar[dict[str, Any]] = {
        "data": {"factor": 4, "degradation": "real", "clean_p": 0.1, "strength": 1.0},
        "model": {
            "generator": {"type": "compact_sr", "channels": 48, "n_convs": 12},
            "discriminator": {
                "type": "patch",
                "base_channels": 64,
                "n_layers": 3,
                "norm": "none",
                "spectral_norm": True,
            },
            "gan_mode": "hinge",
            "weights": {
                "l1": 1.0,
                "fm": 1.0,
                "adv": 0.1,
                "percep": 0.0,
                "grid": 0.0,
                "artifacts": 0.0,
            },
        },
    }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        data = config["data"]
        self.factor = data["factor"]
        if self.factor not in (2, 3, 4, 8):
            raise ConfigError(f"data.factor must be 2, 3, 4 or 8, got {self.factor!r}")
        for key in ("crop", "val_crop"):
            if data[key] % self.factor:
                raise ConfigError(f"data.{key} ({data[key]}) must be a multiple of data.factor")
        if self.weights.get("grid") and data["crop"] % (self.factor * GRID_BLOCK):
            raise ConfigError(
                f"model.weights.grid needs data.crop a multiple of {self.factor * GRID_BLOCK}"
            )
        if data["degradation"] not in ("real", "bicubic"):
            raise ConfigError(
                f"data.degradation must be real or bicubic, not {data['degradation']}"
            )
        if not 0.0 <= data["clean_p"] <= 1.0:
            raise ConfigError(f"data.clean_p must be in [0, 1], got {data['clean_p']}")
        if not 0.0 < data["strength"] <= 1.0:
            raise ConfigError(f"data.strength must be in (0, 1], got {data['strength']}")

    def generator_args(self) -> dict[str, Any]:
        return {**super().generator_args(), "scale": self.factor}

    def attach(
        self, nets: Mapping[str, nn.Module], raw: Mapping[str, nn.Module], device: torch.device
    ) -> None:
        super().attach(nets, raw, device)
        self.reference: nn.Module | None = None
        if self.weights.get("artifacts"):
            if not self.config["train"]["init"]:
                raise ConfigError("model.weights.artifacts needs train.init (the reference model)")
            self.reference, _ = hub.load(self.config["train"]["init"], device=device)
            self.reference.requires_grad_(False)

    def _g_terms(self, batch: Batch, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """The shared terms; ``g_grid`` when weighted, the pattern of the pixel shuffle's period
        that adversarial gradients print (:func:`daguerre.losses.periodic_loss`); and
        ``g_artifacts``, L1 to the reference model's output (``train.init``, the model the run
        started from) weighted by :func:`daguerre.losses.artifact_map`: where the residual is
        locally noisy, invented texture is pulled back to the reference's enlargement."""
        terms = super()._g_terms(batch, fake)
        target = batch["target"]
        if self.weights.get("grid"):
            grid = losses.periodic_loss(fake, target, self.factor, GRID_BLOCK)
            terms["g_grid"] = self.weights["grid"] * grid
        if self.reference is not None:
            with torch.no_grad():
                plain = self.reference(batch["input"])
            where = losses.artifact_map(fake, target)
            pulled = losses.l1(where * fake, where * plain)
            terms["g_artifacts"] = self.weights["artifacts"] * pulled
        return terms

    def evaluate(self, generator: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        source = batch["input"]
        size = batch["target"].shape[-2:]
        bicubic = F.interpolate(source, size=size, mode="bicubic", align_corners=False)
        return {
            "input": bicubic.clamp(0, 1),
            "output": generator(source).clamp(0, 1),
            "target": batch["target"],
        }
