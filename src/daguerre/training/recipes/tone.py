"""The global tone stage alone, trained on thumbnails of aging pairs.

Fading, colour casts, vignetting and uneven exposure belong to the whole photo, and the tone
stage (:class:`~daguerre.nets.ToneNet`) undoes them with a colour matrix, tone curves and a
smooth gain field, pixel by pixel. Its output at full size, area-averaged, is (up to how the
curves bend the noise) its output on the averaged input — so this recipe ages crops at full
size, shrinks them (``data.shrink``, e.g. 512 → 128) and trains on the thumbnails: a step
costs a small fraction of a full-size one, and a CPU can show the stage many thousands of
photos.

The loss is :func:`daguerre.losses.log_mse`, −1/10 of the evaluation's mean PSNR: a plain MSE
over the batch would be ruled by heavily aged samples, and a lightly aged photo must come out
no worse. The generator may be a ``tone`` net or a ``toned_unet``; of the latter
only the tone stage trains (start it from an exported model with ``train.init``), and the
whole network is exported.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from daguerre.losses import log_mse
from daguerre.training.recipes.base import Batch, Optimize, Recipe


class Tone(Recipe):
    data_kind = "aging"
    task = "restore"
    generator = "g"
    defaults: ClassVar[dict[str, Any]] = {"model": {"generator": {"type": "tone"}}}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        kind = self.model["generator"]["type"]
        if kind not in ("tone", "toned_unet"):
            raise ValueError(f"recipe tone trains a tone or toned_unet generator, not {kind!r}")
        self.toned_unet = kind == "toned_unet"

    def build_nets(self) -> dict[str, nn.Module]:
        c = self.channels
        if not self.toned_unet:
            return {"g": self.network("generator", channels=c)}
        generator = self.network("generator", in_channels=c, out_channels=c)
        generator.local.requires_grad_(False)  # the local U-Net is kept as it is
        return {"g": generator}

    def optimizers(self) -> dict[str, tuple[str, ...]]:
        return {"g": ("g",)}

    def _tone(self, generator: nn.Module, source: torch.Tensor) -> torch.Tensor:
        return generator(source, tone_only=True) if self.toned_unet else generator(source)

    def train_step(self, batch: Batch, optimize: Optimize) -> dict[str, torch.Tensor]:
        loss = log_mse(self._tone(self.nets["g"], batch["input"]), batch["target"])
        optimize("g", loss)
        return {"log_mse": loss}

    def evaluate(self, generator: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        source = batch["input"]
        output = self._tone(generator, source).clamp(0, 1)
        return {"input": source, "output": output, "target": batch["target"]}
