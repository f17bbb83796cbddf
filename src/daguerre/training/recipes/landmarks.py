"""Five facial landmarks from aligned faces: training pairs for free.

The faces of ``data.train`` are aligned the FFHQ way, so their eyes, nose tip and mouth
corners sit near the canonical points :data:`daguerre.faces.align.TEMPLATE`. Each step warps
every face by a random similarity (eye distance ``model.eye_distance`` of the crop, drawn
log-uniformly; rotation up to ``model.rotation`` degrees; the face's centre shifted by up to
``model.shift`` of the crop; a little stretch, ``model.stretch``) into a ``net.size``² gray
crop, degrades it (gamma, contrast, blur up to ``model.blur`` pixels, noise up to
``model.noise``) and asks a :class:`~daguerre.nets.LandmarkNet` for the template points carried
along by the same warp. The labels are the template, not each face's own points: a face's
landmarks stray from it by a few pixels, and the net learns the mean placement (which is what
alignment to the template needs).

The loss is the L1 distance of the points in units of each sample's eye distance, so small and
large faces count alike. Validation warps the validation faces with a fixed seed and scores
``nme`` (mean point error, % of the eye distance) and ``fail10`` (% of faces whose mean error is
above 10 %); its grid shows the crop, the points (truth black, prediction white) and the error
as a gray level (white = 20 % of the eye distance or more).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from daguerre.faces.align import TEMPLATE
from daguerre.training.config import ConfigError
from daguerre.training.recipes.base import Batch, Optimize, Recipe

EYES = (0, 1)
# where the middle of the face (half-way between eye centre and mouth centre) goes in a crop
FACE_CENTER = (TEMPLATE[[0, 1]].mean(0) + TEMPLATE[[3, 4]].mean(0)) / 2
TEMPLATE_EYE_DISTANCE = float(TEMPLATE[1, 0] - TEMPLATE[0, 0])
ERROR_SHOWN = 0.2  # the error column is white at this fraction of the eye distance


def random_warps(
    count: int,
    *,
    eye_distance: tuple[float, float],
    rotation: float,
    shift: float,
    stretch: float,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random similarity warps of an aligned face and where they take the template.

    Returns ``theta`` (N×2×3, for ``F.affine_grid``: crop coordinates in [-1, 1] → source
    coordinates) and ``points`` (N×5×2, the template in units of the crop).
    """

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(*shape, generator=generator)

    low, high = math.log(eye_distance[0]), math.log(eye_distance[1])
    scale = torch.exp(uniform(low, high, count)) / TEMPLATE_EYE_DISTANCE  # crop per source
    angle = torch.deg2rad(uniform(-rotation, rotation, count))
    aspect = torch.exp(uniform(-stretch, stretch, count))
    center = 0.5 + uniform(-shift, shift, count, 2)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # forward (source unit coords → crop unit coords): A = scale · R · diag(aspect, 1/aspect)
    forward = (
        torch.stack(
            [
                torch.stack([cos * aspect, -sin / aspect], -1),
                torch.stack([sin * aspect, cos / aspect], -1),
            ],
            -2,
        )
        * scale[:, None, None]
    )
    source_center = torch.tensor(FACE_CENTER, dtype=torch.float32)
    template = torch.tensor(TEMPLATE, dtype=torch.float32)
    points = (template - source_center) @ forward.transpose(1, 2) + center[:, None, :]
    backward = torch.linalg.inv(forward)  # crop unit → source unit: B (p - center) + c_src
    # in [-1, 1] coordinates (x_n = 2u - 1): source_n = B crop_n + B (1 - 2 center) + 2 c_src - 1
    offset = (backward @ (1 - 2 * center)[..., None])[..., 0] + 2 * source_center - 1
    theta = torch.cat([backward, offset[..., None]], -1)
    return theta, points


class Landmarks(Recipe):
    data_kind = "folder"
    task = "face-landmarks"
    generator = "g"
    defaults: ClassVar[dict[str, Any]] = {
        "model": {
            "net": {"type": "landmarks", "size": 64, "base_channels": 16, "depth": 4},
            "eye_distance": [0.18, 0.42],
            "rotation": 35.0,
            "shift": 0.12,
            "stretch": 0.08,
            "blur": 2.0,
            "noise": 0.08,
            "val_seed": 1234,
        },
    }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        model = self.model
        self.eye_distance = (float(model["eye_distance"][0]), float(model["eye_distance"][1]))
        if not 0 < self.eye_distance[0] <= self.eye_distance[1] < 1:
            raise ConfigError(
                f"model.eye_distance must be 0 < low ≤ high < 1, got {model['eye_distance']}"
            )
        self.warp_options = {
            "eye_distance": self.eye_distance,
            "rotation": float(model["rotation"]),
            "shift": float(model["shift"]),
            "stretch": float(model["stretch"]),
        }
        self.size = int(model["net"]["size"])

    def build_nets(self) -> dict[str, nn.Module]:
        return {"g": self.network("net", in_channels=self.channels)}

    def optimizers(self) -> dict[str, tuple[str, ...]]:
        return {"g": ("g",)}

    def pairs(
        self, faces: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Warped, degraded crops (N×C×size²) and their five points (N×5×2, crop units)."""
        count = faces.shape[0]
        theta, points = random_warps(count, generator=generator, **self.warp_options)
        theta, points = theta.to(faces.device), points.to(faces.device)
        grid = F.affine_grid(
            theta, [count, faces.shape[1], self.size, self.size], align_corners=False
        )
        # shrink the source first where the warp shrinks a lot, so it does not alias
        source = F.interpolate(faces, size=(2 * self.size, 2 * self.size), mode="area")
        crops = F.grid_sample(
            source, grid, mode="bilinear", padding_mode="reflection", align_corners=False
        )
        return self.degrade(crops, generator), points

    def degrade(
        self, crops: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Random gamma, contrast, brightness, Gaussian blur and noise, per sample."""
        count = crops.shape[0]

        def uniform(low: float, high: float) -> torch.Tensor:
            values = low + (high - low) * torch.rand(count, generator=generator)
            return values.to(crops.device)[:, None, None, None]

        crops = crops.clamp(1e-4, 1) ** torch.exp(uniform(-0.5, 0.5))
        crops = (crops - 0.5) * uniform(0.4, 1.2) + 0.5 + uniform(-0.15, 0.15)
        sigmas = uniform(0.0, float(self.model["blur"]))[:, 0, 0, 0]
        crops = torch.stack([_blur(crop, float(s)) for crop, s in zip(crops, sigmas, strict=True)])
        noise = torch.randn(crops.shape, generator=generator).to(crops.device)
        return (crops + noise * uniform(0.0, float(self.model["noise"]))).clamp(0, 1)

    def train_step(self, batch: Batch, optimize: Optimize) -> dict[str, torch.Tensor]:
        crops, points = self.pairs(batch["image"])
        predicted = self.nets["g"](crops).float()
        loss = point_errors(predicted, points).mean()
        optimize("g", loss)
        return {"point_l1": loss}

    def evaluate(self, generator: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        fixed = torch.Generator().manual_seed(int(self.model["val_seed"]))
        crops, points = self.pairs(batch["image"], fixed)
        predicted = generator(crops).float()
        error = point_errors(predicted, points, norm="l2").mean(1)
        shown = (error / ERROR_SHOWN).clamp(0, 1)[:, None, None, None]
        return {
            "input": crops,
            "points": draw_points(draw_points(crops, points, 0.0), predicted, 1.0),
            "error": shown.expand_as(crops),
        }

    def scores(self, images: dict[str, torch.Tensor]) -> dict[str, float]:
        """Mean point error (% of the eye distance) and the share of faces above 10 %."""
        error = images["error"][:, 0, 0, 0].float() * ERROR_SHOWN
        return {
            "nme": float(100 * error.mean()),
            "fail10": float(100 * (error > 0.1).float().mean()),
        }


def point_errors(predicted: torch.Tensor, truth: torch.Tensor, norm: str = "l1") -> torch.Tensor:
    """Per-point distances (N×5) in units of each sample's true eye distance."""
    eyes = (truth[:, EYES[1]] - truth[:, EYES[0]]).norm(dim=-1).clamp_min(1e-6)[:, None]
    difference = predicted - truth
    distance = difference.abs().sum(-1) if norm == "l1" else difference.norm(dim=-1)
    return distance / eyes


def _blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """C×H×W ``image`` blurred by a Gaussian of ``sigma`` pixels (none below 0.3)."""
    if sigma < 0.3:
        return image
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=image.dtype, device=image.device)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = image.shape[0]
    padded = F.pad(image[None], (radius, radius, radius, radius), mode="reflect")
    rows = F.conv2d(padded, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(rows, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)[0]


def draw_points(images: torch.Tensor, points: torch.Tensor, value: float) -> torch.Tensor:
    """Copies of ``images`` with a 3×3 square of ``value`` at each point (crop units)."""
    out = images.clone()
    height, width = images.shape[-2:]
    for index, sample in enumerate(points):
        for x, y in sample.tolist():
            col, row = int(x * width), int(y * height)
            out[index, :, max(0, row - 1) : row + 2, max(0, col - 1) : col + 2] = value
    return out
