"""Arbitrary style (AdaIN without VGG): one network that takes any painting, trained in two phases.

The generator is an :class:`~daguerre.nets.AdaINNet`. ``model.phase`` chooses what a run trains:

* ``autoencoder``: encoder and decoder learn to reconstruct photos and painting crops
  (``l1`` + ``ssim``, i.e. 1 − SSIM). This gives the feature space that styles are moved in.
* ``transfer``: start from the autoencoder (``train.init``); the encoder is frozen and the
  decoder learns to draw a photo's code whose per-channel statistics were replaced by a
  painting's (:func:`~daguerre.nets.arbitrary.adain`). Terms: ``content``: the output's code
  against the transferred code; ``stats``: mean and standard deviation of every encoder stage
  of the output against the painting's; ``style`` and ``texture``: random-feature Gram
  distances of the output and of its detail layer against the painting crop
  (:func:`daguerre.losses.style_loss`, the net of ``model.feature_seed``); ``edges``: 1 − SSIM
  of the output's edge map against the photo's (:func:`daguerre.style.objective.edge_loss`).
  The step calls the encoder and decoder apart, so the recipe trains in one process.

Paintings: every image of ``data.styles``, shrunk to ``data.style_size`` on the long side, seen
as random crops at zooms from ``data.style_scale``, flipped, and colour-jittered (channel
gains up to ±``data.jitter``, channels permuted for half of the crops), so that twelve paintings
give many palettes. With probability ``data.photo_styles`` a crop of another photo is the style.
The evaluation paintings (``daguerre.style.evaluate.DEFAULT_STYLES``) are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from daguerre import losses
from daguerre.data import DataError, ImageCache, random_crop, to_chw
from daguerre.image import find_images
from daguerre.style.evaluate import DEFAULT_STYLES as HELD_OUT_STYLES
from daguerre.style.evaluate import FEATURE_SEED
from daguerre.style.objective import TRANSFER_TERMS, detail_layer, edge_loss, transfer_terms
from daguerre.training.config import ConfigError
from daguerre.training.recipes.base import Batch, Optimize, Recipe, image_scores
from daguerre.training.recipes.style import zoom_range

PHASES = ("autoencoder", "transfer")
PAINTING_STREAM = 4  # seed stream of the painting crops (data.py uses 0-2, the style recipe 3)
TERMS = {
    "autoencoder": ("l1", "ssim"),
    "transfer": TRANSFER_TERMS,
}


def check_not_held_out(folder: Path) -> None:
    """Raise ``DataError`` if ``folder`` holds the evaluation paintings or a file named alike."""
    held = HELD_OUT_STYLES.resolve()
    if folder.resolve() == held:
        raise DataError(f"data.styles: {folder} holds the held-out evaluation paintings")
    if held.is_dir():
        names = {path.name for path in find_images(held)}
        clashes = sorted(path.name for path in find_images(folder) if path.name in names)
        if clashes:
            raise DataError(f"data.styles: {folder} holds held-out paintings {clashes}")


class ArbitraryStyle(Recipe):
    data_kind = "folder"
    task = "style-arbitrary"
    generator = "g"
    defaults: ClassVar[dict[str, Any]] = {
        "data": {
            "styles": None,
            "style_size": 512,
            "style_scale": [0.5, 1.0],
            "jitter": 0.2,
            "photo_styles": 0.2,
        },
        "model": {
            "generator": {"type": "adain", "widths": [32, 64, 128]},
            "phase": "autoencoder",
            "feature_seed": 0,
            "weights": {
                "l1": 1.0,
                "ssim": 1.0,
                "content": 1.0,
                "stats": 1.0,
                "style": 50.0,
                "texture": 5000.0,
                "edges": 1.0,
            },
        },
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        data = config["data"]
        if self.model["phase"] not in PHASES:
            raise ConfigError(f"model.phase must be one of {PHASES}, not {self.model['phase']!r}")
        if self.model["feature_seed"] == FEATURE_SEED:
            raise ConfigError(
                f"model.feature_seed {FEATURE_SEED} is held out for `daguerre eval style`"
            )
        self.zoom = zoom_range(data["style_scale"])
        if not 0 <= data["photo_styles"] <= 1 or not 0 <= data["jitter"] < 1:
            raise ConfigError("data.photo_styles must be in [0, 1] and data.jitter in [0, 1)")
        if not isinstance(data["styles"], str) or not data["styles"]:
            raise DataError("no paintings: set data.styles (e.g. --data styles=PAINTINGS_DIR)")
        folder = Path(data["styles"]).expanduser()
        check_not_held_out(folder)
        cache = ImageCache.load(folder, channels=self.channels, max_side=data["style_size"])
        self.paintings = cache.images
        self.rng = np.random.default_rng([config["seed"], PAINTING_STREAM, 0])  # 0: the rank
        self.features = losses.RandomFeatureNet(self.model["feature_seed"], self.channels)

    def build_nets(self) -> dict[str, nn.Module]:
        """The generator; in the transfer phase its encoder is frozen."""
        net = self.network("generator", in_channels=self.channels)
        if self.model["phase"] == "transfer":
            net.encoder.requires_grad_(False)
        return {"g": net}

    def optimizers(self) -> dict[str, tuple[str, ...]]:
        return {"g": ("g",)}

    def attach(
        self, nets: Mapping[str, nn.Module], raw: Mapping[str, nn.Module], device: torch.device
    ) -> None:
        super().attach(nets, raw, device)
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            # the steps call the encoder and decoder apart, outside DDP's synchronised forward
            raise ConfigError("the arbitrary recipe trains in one process, not under torchrun")
        self.features = self.features.to(device)

    def _jitter(self, crop: np.ndarray) -> np.ndarray:
        """Colour jitter of one H×W×C crop: channel gains, and a channel permutation half the
        time (gray crops only change brightness)."""
        amount = self.config["data"]["jitter"]
        gains = 1 + self.rng.uniform(-amount, amount, crop.shape[-1])
        if self.rng.random() < 0.5:
            crop = crop[..., self.rng.permutation(crop.shape[-1])]
        return np.clip(crop * gains.astype(np.float32), 0.0, 1.0)

    def style_crops(self, photos: torch.Tensor) -> torch.Tensor:
        """One style image per photo of the batch, the photos' size: painting crops, or
        (``data.photo_styles`` of the time) another photo of the batch."""
        count, _, height, width = photos.shape
        crops = []
        for index in range(count):
            if count > 1 and self.rng.random() < self.config["data"]["photo_styles"]:
                crops.append(photos[(index + 1) % count].cpu())
                continue
            painting = self.paintings[self.rng.integers(len(self.paintings))]
            crop = random_crop(painting, max(height, width), self.rng, scale=self.zoom)
            crops.append(to_chw(self._jitter(crop[:height, :width])))
        return torch.stack(crops).to(self.device)

    def _autoencoder_terms(self, photo: torch.Tensor) -> dict[str, torch.Tensor]:
        images = torch.cat([photo, self.style_crops(photo)])
        output = self.nets["g"](images)
        return {"l1": losses.l1(output, images), "ssim": losses.ssim_loss(output, images)}

    def _transfer_terms(self, photo: torch.Tensor) -> dict[str, torch.Tensor]:
        return transfer_terms(self.raw["g"], self.features, photo, self.style_crops(photo))

    def train_step(self, batch: Batch, optimize: Optimize) -> dict[str, torch.Tensor]:
        photo = batch["image"]
        if self.model["phase"] == "autoencoder":
            parts = self._autoencoder_terms(photo)
        else:
            with torch.autocast(self.device.type, enabled=False):
                parts = self._transfer_terms(photo.float())
        w = self.weights
        terms = {f"g_{name}": w[name] * value for name, value in parts.items() if w[name]}
        optimize("g", torch.stack(list(terms.values())).sum())
        return terms

    def validation_styles(self, photos: torch.Tensor) -> torch.Tensor:
        """Fixed style images for a validation batch: the centre of painting ``i`` for photo
        ``i`` (cycling), at the photos' size."""
        _, _, height, width = photos.shape
        crops = []
        for index in range(photos.shape[0]):
            painting = self.paintings[index % len(self.paintings)]
            crop = random_crop(
                painting, max(height, width), np.random.default_rng(index), flip=False
            )
            crops.append(to_chw(crop[:height, :width]))
        return torch.stack(crops).to(photos.device)

    def evaluate(self, generator: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        """Input, painting and output (the reconstruction while training the autoencoder)."""
        photo = batch["image"]
        if self.model["phase"] == "autoencoder":
            return {"input": photo, "output": generator(photo)}
        painting = self.validation_styles(photo)
        output = generator.stylize(
            photo, generator.statistics(photo), generator.statistics(painting)
        )
        return {"input": photo, "painting": painting, "output": output}

    def scores(self, images: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """Autoencoder: PSNR, SSIM, L1 of the reconstruction. Transfer: edge SSIM against the
        photo and the style and texture distances against the painting (lower is closer)."""
        output, photo = images["output"], images["input"]
        if self.model["phase"] == "autoencoder":
            return image_scores(output, photo)
        painting = images["painting"]
        return {
            "edge_ssim": float(1 - edge_loss(output, photo)),
            "style": float(losses.style_loss(self.features, output, painting)),
            "texture": float(
                losses.style_loss(self.features, detail_layer(output), detail_layer(painting))
            ),
        }

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
