"""Face restoration: degraded aligned faces → the clean faces (the ``restore-faces`` model).

Data (``"faces"``, :class:`daguerre.data.FacesDataset`): FFHQ-aligned faces seen through a small
random similarity (the errors of alignment: ``data.rotation`` degrees, zoom ``data.scale``,
``data.shift`` of the side, flips), colour-jittered (``data.color``) and made gray on both sides
with probability ``data.gray_p``; the input is that view through
:class:`daguerre.data.FaceDegradation` (blur σ up to ``data.blur``, shrink up to
``data.downscale``×, noise up to ``data.noise``, JPEG ``data.jpeg``, in pixels of a
``data.reference``² face, and with probability ``data.aging_p`` an aging preset of
``data.preset`` first).

The generator is a residual U-Net (a fresh one is the identity), sized for CPU inference on
256² crops. It is judged by an unconditional multi-scale PatchGAN (pix2pixHD's, spectral norm,
hinge loss) that sees the restored or the clean face alone. Generator loss, each term weighted
by ``model.weights``: ``l1`` against the clean face; ``fm``, feature matching on the
discriminator's activations (every scale); ``adv``; and, when their weights are non-zero,
``fft`` (a spectral L1, against blur) and ``ssim`` (1 − SSIM).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from daguerre import losses
from daguerre.training.config import ConfigError
from daguerre.training.recipes.base import (
    Batch,
    Optimize,
    Recipe,
    frozen,
    image_scores,
    logits_of,
)

TERMS = ("l1", "fm", "adv", "fft", "ssim")


class FaceRestoration(Recipe):
    data_kind = "faces"
    task = "restore-faces"
    generator = "g"
    defaults: ClassVar[dict[str, Any]] = {
        "data": {
            "crop": 256,
            "patch": 0,  # train on random windows of this side of the degraded view (0: whole)
            "val_crop": 256,
            "scale": [0.9, 1.1],  # zoom of the random view
            "rotation": 8.0,  # degrees, either way
            "shift": 0.03,  # of the side, either way
            "color": 0.2,  # brightness / contrast / saturation change, half of the samples
            "gray_p": 0.3,
            "reference": 512,  # the degradation's sizes are in pixels of a face this large
            "blur": 8.0,
            "downscale": 8.0,
            "noise": 0.08,
            "jpeg": [30, 95],
            "preset": ["light", "moderate"],
            "aging_p": 0.25,
            "clean_p": 0.05,
        },
        "model": {
            "generator": {
                "type": "unet",
                "base_channels": 32,
                "depth": 6,
                "max_channels": 192,
                "norm": "none",
                "residual": True,
                "out_activation": "none",
            },
            "discriminator": {
                "type": "multiscale",
                "num_scales": 2,
                "base_channels": 32,
                "n_layers": 3,
                "norm": "none",
                "spectral_norm": True,
            },
            "gan_mode": "hinge",
            "weights": {"l1": 1.0, "fm": 1.0, "adv": 0.05, "fft": 0.0, "ssim": 0.0},
        },
    }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        data = config["data"]
        if unknown := sorted(set(self.weights) - set(TERMS)):
            raise ConfigError(f"model.weights: unknown terms {unknown}; known {list(TERMS)}")
        if any(value < 0 for value in self.weights.values()):
            raise ConfigError(f"model.weights must be >= 0, got {self.weights}")
        for key in ("gray_p", "aging_p", "clean_p"):
            if not 0.0 <= data[key] <= 1.0:
                raise ConfigError(f"data.{key} must be in [0, 1], got {data[key]}")
        if data["downscale"] < 1 or data["blur"] < 0 or data["noise"] < 0:
            raise ConfigError("data.downscale must be >= 1, data.blur and data.noise >= 0")
        jpeg = data["jpeg"]
        if len(jpeg) != 2 or not 1 <= jpeg[0] <= jpeg[1] <= 100:
            raise ConfigError(f"data.jpeg must be a quality range [low, high] in 1..100: {jpeg}")
        self.adversarial = losses.AdversarialLoss(self.model["gan_mode"])

    def build_nets(self) -> dict[str, nn.Module]:
        c = self.channels
        return {
            "g": self.network("generator", in_channels=c, out_channels=c),
            "d": self.network("discriminator", in_channels=c),
        }

    def optimizers(self) -> dict[str, tuple[str, ...]]:
        return {"g": ("g",), "d": ("d",)}

    def train_step(self, batch: Batch, optimize: Optimize) -> dict[str, torch.Tensor]:
        """Restore once; step the discriminator on the detached faces, then the generator."""
        fake = self.nets["g"](batch["input"])
        d_loss = self._d_loss(batch["target"], fake)
        optimize("d", d_loss)
        terms = self._g_terms(batch["target"], fake)
        optimize("g", torch.stack([t.float() for t in terms.values()]).sum())
        return {"d": d_loss, **terms}

    def _d_loss(self, target: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """The discriminator's halved objective: clean faces against detached restored ones."""
        d = self.nets["d"]
        return 0.5 * self.adversarial.discriminator(d(target), d(fake.detach()))

    def _g_terms(self, target: torch.Tensor, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """The generator's weighted terms by log name (``g_l1``, ``g_fm``, ``g_adv``, then those
        with non-zero weights), the discriminator frozen: their sum trains G only."""
        w = self.weights
        d_plain = self.raw["d"]
        with frozen(d_plain):
            fake_feats = d_plain.features(fake)
            with torch.no_grad():
                real_feats = d_plain.features(target)
            terms = {
                "g_l1": w.get("l1", 0.0) * losses.l1(fake, target),
                "g_fm": w.get("fm", 0.0) * losses.feature_matching(real_feats, fake_feats),
                "g_adv": w.get("adv", 0.0) * self.adversarial.generator(logits_of(fake_feats)),
            }
            if w.get("fft"):
                terms["g_fft"] = w["fft"] * losses.fft_loss(fake, target)
            if w.get("ssim"):
                terms["g_ssim"] = w["ssim"] * losses.ssim_loss(fake, target)
        return terms

    def scores(self, images: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """PSNR, SSIM and L1 of the output and, as ``input_*``, of the degraded input."""
        return {
            **image_scores(images["output"], images["target"]),
            **image_scores(images["input"], images["target"], prefix="input_"),
        }

    def evaluate(self, generator: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        source = batch["input"]
        return {"input": source, "output": generator(source).clamp(0, 1), "target": batch["target"]}
