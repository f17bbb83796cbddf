"""Inpainting: fill the holes that damage detection marks, in keeping with their surroundings.

Pairs come from the aging engine run twice with the same seed, once with structured damage and
once without (``data.undamaged``): the network sees the damaged photo with the damaged pixels
blanked plus the hole mask, and must give back the undamaged (but still aged) photo, so that the
fill matches the grain and fading around it; global restoration cleans both afterwards. Holes
are the damage mask (scratches, dust, cracks, folds, tears, stains) grown by a pixel, exactly as
the restoration pipeline makes them.

Losses: L1 inside the holes (weighted up) and outside, a PatchGAN on the composited result with
feature matching, and an FFT term so that fills keep texture instead of going flat.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from daguerre import losses
from daguerre.training.recipes.base import Batch, Optimize, Recipe, frozen, logits_of


def grow(mask: torch.Tensor, threshold: float, pixels: int) -> torch.Tensor:
    """Binary holes: ``mask > threshold``, dilated by ``pixels`` (max-pooling)."""
    holes = (mask > threshold).float()
    if pixels:
        holes = F.max_pool2d(holes, 2 * pixels + 1, stride=1, padding=pixels)
    return holes


def masked_input(image: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
    """The network's input: the image with holes blanked, and the hole mask as a last channel."""
    return torch.cat([image * (1.0 - holes), holes], dim=1)


class Inpaint(Recipe):
    data_kind = "aging"
    task = "inpaint"
    generator = "g"
    defaults: ClassVar[dict[str, Any]] = {
        "model": {
            "generator": {
                "type": "unet",
                "base_channels": 24,
                "depth": 5,
                "norm": "none",
                "out_activation": "sigmoid",
            },
            "discriminator": {
                "type": "patch",
                "base_channels": 32,
                "n_layers": 3,
                "norm": "none",
                "spectral_norm": True,
            },
            "gan_mode": "hinge",
            "threshold": 0.05,
            "grow": 1,
            "weights": {"hole": 6.0, "valid": 1.0, "adv": 0.1, "fm": 1.0, "fft": 1.0},
        },
    }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.adversarial = losses.AdversarialLoss(self.model["gan_mode"])

    def build_nets(self) -> dict[str, nn.Module]:
        c = self.channels
        return {
            "g": self.network("generator", in_channels=c + 1, out_channels=c),
            "d": self.network("discriminator", in_channels=c + 1),
        }

    def optimizers(self) -> dict[str, tuple[str, ...]]:
        return {"g": ("g",), "d": ("d",)}

    def holes(self, batch: Batch) -> torch.Tensor:
        return grow(batch["mask"], float(self.model["threshold"]), int(self.model["grow"]))

    def train_step(self, batch: Batch, optimize: Optimize) -> dict[str, torch.Tensor]:
        holes = self.holes(batch)
        target = batch["undamaged"]
        raw = self.nets["g"](masked_input(batch["input"], holes))
        composite = target * (1.0 - holes) + raw * holes

        d = self.nets["d"]
        real = torch.cat([target, holes], dim=1)
        fake = torch.cat([composite, holes], dim=1)
        d_loss = self.adversarial.discriminator(d(real), d(fake.detach()))
        optimize("d", d_loss)

        w = self.weights
        d_plain = self.raw["d"]
        hole_area = holes.mean().clamp_min(1e-3)
        with frozen(d_plain):
            fake_feats = d_plain.features(fake)
            with torch.no_grad():
                real_feats = d_plain.features(real)
            terms = {
                "hole": w["hole"] * (holes * (raw - target).abs()).mean() / hole_area,
                "valid": w["valid"] * ((1.0 - holes) * (raw - target).abs()).mean(),
                "adv": w["adv"] * self.adversarial.generator(logits_of(fake_feats)),
                "fm": w["fm"] * losses.feature_matching(real_feats, fake_feats),
                "fft": w["fft"] * losses.fft_loss(composite, target),
            }
        optimize("g", torch.stack([t.float() for t in terms.values()]).sum())
        return {"d": d_loss, **terms}

    def evaluate(self, generator: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        holes = self.holes(batch)
        source = masked_input(batch["input"], holes)
        raw = generator(source).clamp(0, 1)
        target = batch["undamaged"]
        return {
            "input": batch["input"],
            "holes": source[:, :-1],
            "output": target * (1.0 - holes) + raw * holes,
            "target": target,
        }
