"""CycleGAN (Zhu et al. 2017): translation between two unpaired folders A and B.

Two generators (``g_ab``: A → B, exported; ``g_ba``: B → A) and two PatchGANs
(``d_a`` judges domain A, ``d_b`` domain B), LSGAN objectives, cycle consistency
(weight ``cycle``) and the identity term (weight ``identity × cycle``). The
discriminators see fakes drawn from a history pool of ``pool_size`` images.
To export B → A, swap the folders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from daguerre import losses
from daguerre.training.recipes.base import Batch, Optimize, Recipe, frozen, image_scores


class ImagePool:
    """History of generated images (Shrivastava et al. 2017).

    Until full, each new image is stored and returned; afterwards, with probability
    one half an image is swapped with a random stored one (the old one is returned),
    otherwise it is returned as is. Draws come from the pool's own generator.
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []
        self.rng = torch.Generator().manual_seed(seed)

    def query(self, batch: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return batch
        out = []
        for image in batch.detach():
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif torch.rand((), generator=self.rng) < 0.5:
                slot = int(torch.randint(self.size, (), generator=self.rng))
                out.append(self.images[slot])
                self.images[slot] = image
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        return {"images": [image.cpu() for image in self.images], "rng": self.rng.get_state()}

    def load_state_dict(self, state: Mapping[str, Any], device: torch.device) -> None:
        self.images = [image.to(device) for image in state["images"]]
        self.rng.set_state(state["rng"])


class CycleGAN(Recipe):
    data_kind = "unpaired"
    task = "translate"
    generator = "g_ab"
    defaults: ClassVar[dict[str, Any]] = {
        "model": {
            "generator": {
                "type": "resnet",
                "base_channels": 64,
                "n_blocks": 9,
                "out_activation": "sigmoid",
            },
            "discriminator": {"type": "patch", "base_channels": 64, "n_layers": 3},
            "gan_mode": "lsgan",
            "weights": {"adv": 1.0, "cycle": 10.0, "identity": 0.5},
            "pool_size": 50,
        },
    }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.adversarial = losses.AdversarialLoss(self.model["gan_mode"])
        seed = config["seed"]
        self.pools = {
            "a": ImagePool(self.model["pool_size"], seed),
            "b": ImagePool(self.model["pool_size"], seed + 1),
        }

    def build_nets(self) -> dict[str, nn.Module]:
        c = self.channels
        gen = {"in_channels": c, "out_channels": c}
        return {
            "g_ab": self.network("generator", **gen),
            "g_ba": self.network("generator", **gen),
            "d_a": self.network("discriminator", in_channels=c),
            "d_b": self.network("discriminator", in_channels=c),
        }

    def optimizers(self) -> dict[str, tuple[str, ...]]:
        return {"g": ("g_ab", "g_ba"), "d": ("d_a", "d_b")}

    def train_step(self, batch: Batch, optimize: Optimize) -> dict[str, torch.Tensor]:
        real_a, real_b = batch["a"], batch["b"]
        g_ab, g_ba = self.nets["g_ab"], self.nets["g_ba"]
        fake_b, fake_a = g_ab(real_a), g_ba(real_b)
        w = self.weights

        with frozen(self.raw["d_a"], self.raw["d_b"]):
            terms = {
                "g_adv": w["adv"]
                * (
                    self.adversarial.generator(self.raw["d_b"](fake_b))
                    + self.adversarial.generator(self.raw["d_a"](fake_a))
                ),
                "g_cycle": w["cycle"]
                * (
                    losses.cycle_loss(g_ba(fake_b), real_a)
                    + losses.cycle_loss(g_ab(fake_a), real_b)
                ),
            }
            if w["identity"]:
                identity = losses.identity_loss(g_ab(real_b), real_b) + losses.identity_loss(
                    g_ba(real_a), real_a
                )
                terms["g_identity"] = w["identity"] * w["cycle"] * identity
        optimize("g", torch.stack([t.float() for t in terms.values()]).sum())

        d_a, d_b = self.nets["d_a"], self.nets["d_b"]
        pooled_a, pooled_b = self.pools["a"].query(fake_a), self.pools["b"].query(fake_b)
        d_losses = {
            "d_a": 0.5 * self.adversarial.discriminator(d_a(real_a), d_a(pooled_a)),
            "d_b": 0.5 * self.adversarial.discriminator(d_b(real_b), d_b(pooled_b)),
        }
        optimize("d", d_losses["d_a"] + d_losses["d_b"])
        return {**d_losses, **terms}

    def evaluate(self, generator: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        """A → B with the averaged generator, and back to A with the current ``g_ba``."""
        real_a = batch["a"]
        fake_b = generator(real_a).clamp(0, 1)
        return {"input": real_a, "output": fake_b, "cycle": self.raw["g_ba"](fake_b).clamp(0, 1)}

    def scores(self, images: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """How well A survives the round trip (there is no ground truth for A → B)."""
        return image_scores(images["cycle"], images["input"], prefix="cycle_")

    def state_dict(self) -> dict[str, Any]:
        return {name: pool.state_dict() for name, pool in self.pools.items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for name, pool in self.pools.items():
            pool.load_state_dict(state[name], self.device)
