"""Damage detection: a U-Net segments scratches, dust, cracks, folds, stains and tears.

Trained on the aging engine's masks: the input is an aged photo, the target the pixels its
damage ops drew with at least ``model.threshold`` opacity. With ``model.min_contrast`` (and
``data.undamaged``) a pixel is a target only where the damage also changed it by more than that
much against the same aging without damage: a white flake on a white wall, or a scratch across
bright sky, is opaque but invisible, and a detector asked to find it learns to fire on any
bright area. The loss is class-weighted binary
cross-entropy plus soft Dice, which keeps thin, rare scratches from being ignored, plus, with
``model.hard_negatives`` (a fraction) and ``weights.hard``, the mean cross-entropy of that
fraction of each batch's undamaged pixels the detector gets most wrong (online hard example
mining): window grids, wires and bright rims are a sliver of a photo's pixels, so a plain mean
hardly sees the false alarms they cause. ``model.hard_from: clean`` mines them only in crops
with no damage at all: there every alarm is false, while in a damaged crop the undamaged
pixels nearest the damage look like it. It runs at full resolution (no downsampling before the
network), so one-pixel scratches survive. With ``model.sizes`` (say ``[1.0, 0.5]``, as
``daguerre restore`` runs it) the network also sees each crop shrunk to those sizes, and the loss
is taken on the highest of the logits brought back to full size: each size is trained for what it
finds best, and alarms are mined at every size.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from daguerre import metrics
from daguerre.aging.damage import VISIBLE_OPACITY
from daguerre.training.config import ConfigError
from daguerre.training.recipes.base import Batch, Optimize, Recipe

HARD_SOURCES = ("all", "clean")  # model.hard_from: the crops hard negatives are mined in


def soft_dice_loss(
    probability: torch.Tensor, target: torch.Tensor, eps: float = 1.0
) -> torch.Tensor:
    """1 − Dice overlap of a probability map and a binary target, per image, averaged."""
    dims = (1, 2, 3)
    overlap = (probability * target).sum(dims)
    total = probability.sum(dims) + target.sum(dims)
    return (1.0 - (2.0 * overlap + eps) / (total + eps)).mean()


def hard_negative_loss(losses: torch.Tensor, target: torch.Tensor, fraction: float) -> torch.Tensor:
    """Mean of the largest ``fraction`` of the per-pixel ``losses`` where ``target`` is 0."""
    negatives = losses[target == 0]
    count = int(fraction * negatives.numel())
    if count == 0:
        return losses.new_zeros(())
    return negatives.topk(count, sorted=False).values.mean()


class DamageDetection(Recipe):
    data_kind = "aging"
    task = "damage-detection"
    generator = "g"
    defaults: ClassVar[dict[str, Any]] = {
        "model": {
            "generator": {
                "type": "unet",
                "base_channels": 16,
                "depth": 4,
                "norm": "none",
                "out_activation": "none",
            },
            "threshold": VISIBLE_OPACITY,
            "min_contrast": 0.0,  # needs data.undamaged when above 0
            "pos_weight": 4.0,
            "hard_negatives": 0.0,  # with weights.hard: the share of undamaged pixels mined
            "hard_from": "all",  # or clean: only crops without damage (see HARD_SOURCES)
            "weights": {"bce": 1.0, "dice": 1.0, "hard": 0.0},
            "sizes": [1.0],  # the crop's sizes the detector sees; the highest logit counts
        },
    }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.threshold = float(self.model["threshold"])
        self.min_contrast = float(self.model["min_contrast"])
        if self.min_contrast > 0 and not config["data"].get("undamaged"):
            raise ConfigError("model.min_contrast needs data.undamaged: true")
        self.pos_weight = torch.tensor(float(self.model["pos_weight"]))
        self.hard_fraction = float(self.model["hard_negatives"])
        if not 0 <= self.hard_fraction <= 1:
            raise ConfigError(f"model.hard_negatives must be in [0, 1], got {self.hard_fraction}")
        if self.weights["hard"] and not self.hard_fraction:
            raise ConfigError("model.weights.hard needs model.hard_negatives above 0")
        self.hard_from = self.model["hard_from"]
        if self.hard_from not in HARD_SOURCES:
            raise ConfigError(
                f"model.hard_from must be one of {HARD_SOURCES}, not {self.hard_from!r}"
            )
        self.sizes = [float(size) for size in self.model["sizes"]]
        if not self.sizes or self.sizes[0] != 1.0 or not all(0 < s <= 1 for s in self.sizes):
            raise ConfigError(
                f"model.sizes must start with 1.0 and lie in (0, 1], got {self.model['sizes']}"
            )

    def build_nets(self) -> dict[str, nn.Module]:
        return {"g": self.network("generator", in_channels=self.channels, out_channels=1)}

    def optimizers(self) -> dict[str, tuple[str, ...]]:
        return {"g": ("g",)}

    def target(self, batch: Batch) -> torch.Tensor:
        """Where damage shows: drawn opaquely enough and, with ``min_contrast``, visibly."""
        shown = batch["mask"] > self.threshold
        if self.min_contrast > 0:
            change = (batch["input"] - batch["undamaged"]).abs().amax(dim=1, keepdim=True)
            shown &= change > self.min_contrast
        return shown.float()

    def logits(self, generator: nn.Module, image: torch.Tensor) -> torch.Tensor:
        """The highest of ``generator``'s logits over the ``sizes`` of ``image``, at full size."""
        logits = generator(image).float()
        for size in self.sizes[1:]:
            small = F.interpolate(image, scale_factor=size, mode="area")
            found = F.interpolate(generator(small).float(), size=image.shape[-2:], mode="bilinear")
            logits = torch.maximum(logits, found)
        return logits

    def train_step(self, batch: Batch, optimize: Optimize) -> dict[str, torch.Tensor]:
        logits = self.logits(self.nets["g"], batch["input"])
        target = self.target(batch)
        per_pixel = F.binary_cross_entropy_with_logits(
            logits, target, pos_weight=self.pos_weight.to(logits.device), reduction="none"
        )
        dice = soft_dice_loss(torch.sigmoid(logits), target)
        terms = {
            "bce": self.weights["bce"] * per_pixel.mean(),
            "dice": self.weights["dice"] * dice,
        }
        if self.weights["hard"]:
            mined = slice(None)
            if self.hard_from == "clean":
                mined = target.flatten(1).amax(dim=1) == 0  # crops without any damage
            hard = hard_negative_loss(per_pixel[mined], target[mined], self.hard_fraction)
            terms["hard"] = self.weights["hard"] * hard
        optimize("g", torch.stack(list(terms.values())).sum())
        return terms

    def evaluate(self, generator: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        probability = torch.sigmoid(self.logits(generator, batch["input"]))
        shown = self.channels
        return {
            "input": batch["input"],
            "probability": probability.expand(-1, shown, -1, -1),
            "truth": self.target(batch).expand(-1, shown, -1, -1),
        }

    def scores(self, images: dict[str, torch.Tensor]) -> dict[str, float]:
        """Mask scores of the whole batch (daguerre.metrics), its images stacked as one mask."""
        probability, truth = (
            images[key][:, 0].flatten(0, 1).cpu().numpy() for key in ("probability", "truth")
        )
        return metrics.mask_scores(probability, truth)
