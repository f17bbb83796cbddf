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
hinge loss) that sees the restored or the clean face alone; the loss terms (``l1``, ``fm``,
``adv``, ``fft``, ``ssim``) are :class:`~daguerre.training.recipes.judged.JudgedRestoration`'s,
and with ``fm`` and ``adv`` at 0 no discriminator is built (a fidelity phase).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from daguerre.training.config import ConfigError
from daguerre.training.recipes.base import Batch, image_scores
from daguerre.training.recipes.judged import JudgedRestoration


class FaceRestoration(JudgedRestoration):
    data_kind = "faces"
    task = "restore-faces"
    terms = ("l1", "fm", "adv", "fft", "ssim")
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
        for key in ("gray_p", "aging_p", "clean_p"):
            if not 0.0 <= data[key] <= 1.0:
                raise ConfigError(f"data.{key} must be in [0, 1], got {data[key]}")
        if data["downscale"] < 1 or data["blur"] < 0 or data["noise"] < 0:
            raise ConfigError("data.downscale must be >= 1, data.blur and data.noise >= 0")
        jpeg = data["jpeg"]
        if len(jpeg) != 2 or not 1 <= jpeg[0] <= jpeg[1] <= 100:
            raise ConfigError(f"data.jpeg must be a quality range [low, high] in 1..100: {jpeg}")

    def scores(self, images: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """PSNR, SSIM and L1 of the output and, as ``input_*``, of the degraded input."""
        return {
            **image_scores(images["output"], images["target"]),
            **image_scores(images["input"], images["target"], prefix="input_"),
        }

    def evaluate(self, generator: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        source = batch["input"]
        return {"input": source, "output": generator(source).clamp(0, 1), "target": batch["target"]}
