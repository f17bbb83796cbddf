"""pix2pix (Isola et al. 2017) on pairs made by aging: aged photo → clean photo.

A U-Net generator and a conditional PatchGAN that judges ``concat(input, image)``.
The generator loss is ``adv·GAN + l1·L1`` (L1 weight 100 as in the paper), plus,
when their weights are non-zero, pix2pixHD feature matching (``fm``) on the
discriminator's activations, a spectral L1 (``fft``) against blur and, for a
``toned_unet`` generator, an L1 on 4×4 means of its global tone stage (``tone``) and the mean
log MSE (``psnr``: every image's PSNR counts alike, so lightly aged photos are not sacrificed
to heavily aged ones) and 1 − SSIM (``ssim``: local structure and contrast, which L1 rewards
only weakly).
The discriminator objective is halved, as in the paper.

With ``weights.real`` and a folder of real old photos (``data.real``), real scans become an
unpaired domain, after Bringing Old Photos Back to Life's lesson that synthetic aging is never
quite the real thing: a second, unconditional PatchGAN (``d_real``) learns to tell the
generator's restorations of real old crops from clean photos, and the generator learns to
make them indistinguishable. It judges luminance only, so black-and-white scans are not pushed
towards colour.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from daguerre import losses
from daguerre.style.objective import luminance
from daguerre.training.config import ConfigError
from daguerre.training.recipes.base import Batch, Optimize, Recipe, frozen, logits_of


class Generated(NamedTuple):
    """One generator pass over a batch, as both halves of the step read it."""

    fake: torch.Tensor  # the aged crops restored
    toned: torch.Tensor | None  # their tone stage's output (a toned_unet with weights.tone)
    restored: torch.Tensor | None  # the real old crops restored, in luminance (weights.real)


class Pix2Pix(Recipe):
    data_kind = "aging"
    task = "restore"
    generator = "g"
    defaults: ClassVar[dict[str, Any]] = {
        "model": {
            "generator": {
                "type": "unet",
                "base_channels": 64,
                "depth": 6,
                "out_activation": "sigmoid",
            },
            "discriminator": {"type": "patch", "base_channels": 64, "n_layers": 3},
            "gan_mode": "nonsaturating",
            "weights": {
                "adv": 1.0,
                "l1": 100.0,
                "fm": 0.0,
                "fft": 0.0,
                "tone": 0.0,
                "psnr": 0.0,
                "ssim": 0.0,
                "real": 0.0,
            },
        },
    }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.adversarial = losses.AdversarialLoss(self.model["gan_mode"])
        self.real_domain = self.weights["real"] > 0
        if self.real_domain and not config["data"].get("real"):
            raise ConfigError("model.weights.real needs data.real, a folder of real old photos")

    def build_nets(self) -> dict[str, nn.Module]:
        c = self.channels
        nets = {
            "g": self.network("generator", in_channels=c, out_channels=c),
            "d": self.network("discriminator", in_channels=2 * c),
        }
        if self.real_domain:
            nets["d_real"] = self.network("discriminator", in_channels=1)
        return nets

    def optimizers(self) -> dict[str, tuple[str, ...]]:
        return {"g": ("g",), "d": ("d", "d_real") if self.real_domain else ("d",)}

    def train_step(self, batch: Batch, optimize: Optimize) -> dict[str, torch.Tensor]:
        """Generate once, step the discriminators on the detached fakes, then the generator."""
        out = self._generate(batch)
        d_loss = self._d_loss(batch, out)
        optimize("d", d_loss)
        terms = self._g_terms(batch, out)
        optimize("g", torch.stack([t.float() for t in terms.values()]).sum())
        return {"d": d_loss, **terms}

    def _generate(self, batch: Batch) -> Generated:
        """One generator pass over the aged crops and, with a real domain, the real old ones."""
        n = len(batch["input"])
        inputs = torch.cat([batch["input"], batch["real"]]) if self.real_domain else batch["input"]
        if self.weights["tone"]:  # a toned_unet generator: also supervise its global tone stage
            out, toned = self.nets["g"](inputs, with_tone=True)
            toned = toned[:n]
        else:
            out, toned = self.nets["g"](inputs), None
        restored = luminance(out[n:]) if self.real_domain else None
        return Generated(fake=out[:n], toned=toned, restored=restored)

    def _d_loss(self, batch: Batch, out: Generated) -> torch.Tensor:
        """The discriminators' halved objective, against detached fakes (no gradient to G).

        ``d`` tells ``concat(input, target)`` from ``concat(input, fake)``; with a real domain
        ``d_real`` adds clean photos against restored real scans, in luminance.
        """
        source, target = batch["input"], batch["target"]
        d = self.nets["d"]
        fake_logits = d(torch.cat([source, out.fake.detach()], dim=1))
        real_logits = d(torch.cat([source, target], dim=1))
        loss = 0.5 * self.adversarial.discriminator(real_logits, fake_logits)
        if out.restored is not None:
            d_real = self.nets["d_real"]
            loss = loss + 0.5 * self.adversarial.discriminator(
                d_real(luminance(target)), d_real(out.restored.detach())
            )
        return loss

    def _g_terms(self, batch: Batch, out: Generated) -> dict[str, torch.Tensor]:
        """The generator's weighted loss terms by log name (``g_adv``, ``g_l1``, then those
        with non-zero weights), with the discriminators frozen: their sum trains G only."""
        source, target, fake = batch["input"], batch["target"], out.fake
        w = self.weights
        d_plain = self.raw["d"]
        with frozen(*(self.raw[name] for name in self.optimizers()["d"])):
            fake_feats = d_plain.features(torch.cat([source, fake], dim=1))
            terms = {
                "g_adv": w["adv"] * self.adversarial.generator(logits_of(fake_feats)),
                "g_l1": w["l1"] * losses.l1(fake, target),
            }
            if w["fm"]:
                with torch.no_grad():
                    real_feats = d_plain.features(torch.cat([source, target], dim=1))
                terms["g_fm"] = w["fm"] * losses.feature_matching(real_feats, fake_feats)
            if w["fft"]:
                terms["g_fft"] = w["fft"] * losses.fft_loss(fake, target)
            if w["psnr"]:
                terms["g_psnr"] = w["psnr"] * losses.log_mse(fake, target)
            if w["ssim"]:
                terms["g_ssim"] = w["ssim"] * losses.ssim_loss(fake, target)
            if out.restored is not None:
                terms["g_real"] = w["real"] * self.adversarial.generator(
                    self.raw["d_real"](out.restored)
                )
            if out.toned is not None:  # tone is judged on 4×4 means: noise is the U-Net's job
                terms["g_tone"] = w["tone"] * losses.l1(
                    F.avg_pool2d(out.toned, 4), F.avg_pool2d(target.float(), 4)
                )
        return terms

    def evaluate(self, generator: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        source = batch["input"]
        return {"input": source, "output": generator(source).clamp(0, 1), "target": batch["target"]}
