"""Super-resolution ×2 / ×4: degraded low-resolution crops → the clean crops (Real-ESRGAN-like).

Data (``"upscale"``): clean crops of ``data.crop`` pixels are the targets; the inputs are those
crops pushed through :class:`daguerre.data.Degradation` (``data.degradation``: ``real``, two
rounds of blur, resampling, noise and JPEG in random order around the shrink, or ``bicubic``)
and shrunk ``data.factor`` times. The generator (``compact_sr`` by default) is built with
``scale = data.factor``.

Loss of the generator, each term weighted by ``model.weights``: ``l1`` against the target;
``fm``, pix2pixHD feature matching on an unconditional PatchGAN's activations (it judges the
high-resolution image alone: real crops against upscaled ones); ``adv``, that PatchGAN's
adversarial loss. With ``adv`` and ``fm`` both 0 no discriminator is built: the same recipe
trains a fidelity model (L1 only, the highest PSNR) and a GAN model (sharper, more natural).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from daguerre import losses
from daguerre.training.config import ConfigError
from daguerre.training.recipes.base import Batch, Optimize, Recipe, frozen, logits_of


class Upscale(Recipe):
    data_kind = "upscale"
    task = "upscale"
    generator = "g"
    defaults: ClassVar[dict[str, Any]] = {
        "data": {"factor": 4, "degradation": "real", "clean_p": 0.1},
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
            "weights": {"l1": 1.0, "fm": 1.0, "adv": 0.1},
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
        if data["degradation"] not in ("real", "bicubic"):
            raise ConfigError(
                f"data.degradation must be real or bicubic, not {data['degradation']}"
            )
        if not 0.0 <= data["clean_p"] <= 1.0:
            raise ConfigError(f"data.clean_p must be in [0, 1], got {data['clean_p']}")
        if any(value < 0 for value in self.weights.values()):
            raise ConfigError(f"model.weights must be >= 0, got {self.weights}")
        self.adversarial = losses.AdversarialLoss(self.model["gan_mode"])
        self.judged = self.weights.get("adv", 0.0) > 0 or self.weights.get("fm", 0.0) > 0

    def build_nets(self) -> dict[str, nn.Module]:
        c = self.channels
        nets = {"g": self.network("generator", in_channels=c, out_channels=c, scale=self.factor)}
        if self.judged:
            nets["d"] = self.network("discriminator", in_channels=c)
        return nets

    def optimizers(self) -> dict[str, tuple[str, ...]]:
        return {"g": ("g",), "d": ("d",)} if self.judged else {"g": ("g",)}

    def train_step(self, batch: Batch, optimize: Optimize) -> dict[str, torch.Tensor]:
        """Upscale once; step the discriminator on the detached result, then the generator."""
        fake = self.nets["g"](batch["input"])
        logged: dict[str, torch.Tensor] = {}
        if self.judged:
            d_loss = self._d_loss(batch["target"], fake)
            optimize("d", d_loss)
            logged["d"] = d_loss
        terms = self._g_terms(batch["target"], fake)
        optimize("g", torch.stack([t.float() for t in terms.values()]).sum())
        return {**logged, **terms}

    def _d_loss(self, target: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """The discriminator's halved objective: clean crops against detached upscaled ones."""
        d = self.nets["d"]
        return 0.5 * self.adversarial.discriminator(d(target), d(fake.detach()))

    def _g_terms(self, target: torch.Tensor, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """The generator's weighted terms by log name, the discriminator frozen."""
        w = self.weights
        terms = {"g_l1": w.get("l1", 0.0) * losses.l1(fake, target)}
        if not self.judged:
            return terms
        d_plain = self.raw["d"]
        with frozen(d_plain):
            fake_feats = d_plain.features(fake)
            if w.get("adv", 0.0):
                terms["g_adv"] = w["adv"] * self.adversarial.generator(logits_of(fake_feats))
            if w.get("fm", 0.0):
                with torch.no_grad():
                    real_feats = d_plain.features(target)
                terms["g_fm"] = w["fm"] * losses.feature_matching(real_feats, fake_feats)
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
