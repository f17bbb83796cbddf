"""pix2pix (Isola et al. 2017) on pairs made by aging: aged photo → clean photo.

A U-Net generator and a conditional PatchGAN that judges ``concat(input, image)``.
The generator loss is ``adv·GAN + l1·L1`` (L1 weight 100 as in the paper), plus,
when their weights are non-zero, pix2pixHD feature matching (``fm``) on the
discriminator's activations, a spectral L1 (``fft``) against blur and, for a
``toned_unet`` generator, an L1 on 4×4 means of its global tone stage (``tone``) and the mean
log MSE (``psnr``: every image's PSNR counts alike, so lightly aged photos are not sacrificed
to heavily aged ones).
The discriminator objective is halved, as in the paper.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from daguerre import losses
from daguerre.training.recipes.base import Batch, Optimize, Recipe, frozen, logits_of


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
            "weights": {"adv": 1.0, "l1": 100.0, "fm": 0.0, "fft": 0.0, "tone": 0.0, "psnr": 0.0},
        },
    }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.adversarial = losses.AdversarialLoss(self.model["gan_mode"])

    def build_nets(self) -> dict[str, nn.Module]:
        c = self.channels
        return {
            "g": self.network("generator", in_channels=c, out_channels=c),
            "d": self.network("discriminator", in_channels=2 * c),
        }

    def optimizers(self) -> dict[str, tuple[str, ...]]:
        return {"g": ("g",), "d": ("d",)}

    def train_step(self, batch: Batch, optimize: Optimize) -> dict[str, torch.Tensor]:
        source, target = batch["input"], batch["target"]
        w = self.weights
        if w["tone"]:  # a toned_unet generator: also supervise its global tone stage
            fake, toned = self.nets["g"](source, with_tone=True)
        else:
            fake, toned = self.nets["g"](source), None
        real_pair = torch.cat([source, target], dim=1)

        d = self.nets["d"]
        fake_logits = d(torch.cat([source, fake.detach()], dim=1))
        d_loss = 0.5 * self.adversarial.discriminator(d(real_pair), fake_logits)
        optimize("d", d_loss)

        d_plain = self.raw["d"]
        with frozen(d_plain):
            fake_feats = d_plain.features(torch.cat([source, fake], dim=1))
            terms = {
                "g_adv": w["adv"] * self.adversarial.generator(logits_of(fake_feats)),
                "g_l1": w["l1"] * losses.l1(fake, target),
            }
            if w["fm"]:
                with torch.no_grad():
                    real_feats = d_plain.features(real_pair)
                terms["g_fm"] = w["fm"] * losses.feature_matching(real_feats, fake_feats)
            if w["fft"]:
                terms["g_fft"] = w["fft"] * losses.fft_loss(fake, target)
            if w["psnr"]:
                terms["g_psnr"] = w["psnr"] * losses.log_mse(fake, target)
            if toned is not None:  # tone is judged on 4×4 means: noise is the U-Net's job
                terms["g_tone"] = w["tone"] * losses.l1(
                    F.avg_pool2d(toned, 4), F.avg_pool2d(target.float(), 4)
                )
        optimize("g", torch.stack([t.float() for t in terms.values()]).sum())
        return {"d": d_loss, **terms}

    def evaluate(self, generator: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        source = batch["input"]
        return {"input": source, "output": generator(source).clamp(0, 1), "target": batch["target"]}
