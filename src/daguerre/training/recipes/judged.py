"""The shared core of the face-restoration and upscale recipes: a generator from a degraded input
to its clean target, judged (when the loss asks for it) by an unconditional discriminator.

Generator loss, each term weighted by ``model.weights``: ``l1`` against the target; ``fm``,
pix2pixHD feature matching on the discriminator's activations; ``adv``, its adversarial loss; and,
when a subclass allows them (:attr:`JudgedRestoration.terms`) and their weights are not 0, ``fft``
(a spectral L1, against blur), ``ssim`` (1 − SSIM) and ``percep`` (L1 between the features of a
fixed random network, :func:`daguerre.losses.random_feature_l1`). With ``adv`` and ``fm`` both 0 no
discriminator is built: the same recipe trains a fidelity model (L1 only, the highest PSNR, the
fastest steps) and, started from it (``train.init``), a GAN model.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from daguerre import losses
from daguerre.training.config import ConfigError
from daguerre.training.recipes.base import Batch, Optimize, Recipe, frozen, logits_of


class JudgedRestoration(Recipe):
    """A paired generator ``g`` with an optional discriminator ``d`` (see the module notes)."""

    generator = "g"
    terms: ClassVar[tuple[str, ...]] = ("l1", "fm", "adv")

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        if unknown := sorted(set(self.weights) - set(self.terms)):
            raise ConfigError(f"model.weights: unknown terms {unknown}; known {list(self.terms)}")
        if any(value < 0 for value in self.weights.values()):
            raise ConfigError(f"model.weights must be >= 0, got {self.weights}")
        self.adversarial = losses.AdversarialLoss(self.model["gan_mode"])
        self.judged = self.weights.get("adv", 0.0) > 0 or self.weights.get("fm", 0.0) > 0
        self.random_features = losses.RandomFeatureNet() if self.weights.get("percep") else None

    def generator_args(self) -> dict[str, Any]:
        """Constructor arguments the config does not give the generator (its channels...)."""
        return {"in_channels": self.channels, "out_channels": self.channels}

    def build_nets(self) -> dict[str, nn.Module]:
        nets = {"g": self.network("generator", **self.generator_args())}
        if self.judged:
            nets["d"] = self.network("discriminator", in_channels=self.channels)
        return nets

    def optimizers(self) -> dict[str, tuple[str, ...]]:
        return {"g": ("g",), "d": ("d",)} if self.judged else {"g": ("g",)}

    def train_step(self, batch: Batch, optimize: Optimize) -> dict[str, torch.Tensor]:
        """Generate once; step the discriminator on the detached output, then the generator."""
        fake = self.nets["g"](batch["input"])
        logged: dict[str, torch.Tensor] = {}
        if self.judged:
            d_loss = self._d_loss(batch["target"], fake)
            optimize("d", d_loss)
            logged["d"] = d_loss
        terms = self._g_terms(batch, fake)
        optimize("g", torch.stack([t.float() for t in terms.values()]).sum())
        return {**logged, **terms}

    def _d_loss(self, target: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """The discriminator's halved objective: clean targets against detached outputs."""
        d = self.nets["d"]
        return 0.5 * self.adversarial.discriminator(d(target), d(fake.detach()))

    def _g_terms(self, batch: Batch, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """The generator's weighted terms by log name (``g_l1``, then ``g_fm`` and ``g_adv``
        when judged, then ``g_fft`` / ``g_ssim`` / ``g_percep`` when weighted), the
        discriminator frozen."""
        target = batch["target"]
        w = self.weights
        terms = {"g_l1": w.get("l1", 0.0) * losses.l1(fake, target)}
        if self.judged:
            d_plain = self.raw["d"]
            with frozen(d_plain):
                fake_feats = d_plain.features(fake)
                with torch.no_grad():
                    real_feats = d_plain.features(target)
                terms["g_fm"] = w.get("fm", 0.0) * losses.feature_matching(real_feats, fake_feats)
                terms["g_adv"] = w.get("adv", 0.0) * self.adversarial.generator(
                    logits_of(fake_feats)
                )
        if w.get("fft"):
            terms["g_fft"] = w["fft"] * losses.fft_loss(fake, target)
        if w.get("ssim"):
            terms["g_ssim"] = w["ssim"] * losses.ssim_loss(fake, target)
        if self.random_features is not None:
            net = self.random_features.to(fake.device)
            terms["g_percep"] = w["percep"] * losses.random_feature_l1(net, fake, target)
        return terms
