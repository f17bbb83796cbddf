"""Super-resolution with the trained upscalers, through the tiling engine.

Each scale has two models: a fidelity one (L1 only: the closest to the truth) and a GAN one
(sharper, more natural texture). ``sharpness`` in [0, 1] blends their outputs pixel by pixel
(0: fidelity only, 1: GAN only); at 0 or 1 only one model is loaded and run. Where no ×2 model
exists, ×2 is the ×4 model's output shrunk by two (:class:`Halved`, as Real-ESRGAN's
``--outscale`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from daguerre import hub
from daguerre.tiling import run_tiled

SCALES = (2, 4)
# overlap of neighbouring tiles in input pixels; the blending ignores the outer quarter of it
# (4 px: 16 output px at ×4) and cross-fades the middle half
OVERLAP = 16

Progress = Callable[[int, int], None]


def model_names(scale: int) -> tuple[str, str]:
    """The bundled (fidelity, GAN) model names of ``scale``: ``upscale-x4-fidelity``, ..."""
    check_scale(scale)
    return f"upscale-x{scale}-fidelity", f"upscale-x{scale}"


def check_scale(scale: int) -> None:
    """Raise ``ValueError`` unless ``scale`` is one the models exist for."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")


def check_sharpness(sharpness: float) -> None:
    if not 0.0 <= sharpness <= 1.0:
        raise ValueError(f"sharpness must lie in [0, 1], got {sharpness}")


def _x4_of(name: str) -> str:
    """The ×4 model standing in for the ×2 model ``name`` (a ×4 name is itself)."""
    return name.replace("upscale-x2", "upscale-x4", 1)


def installed(name: str, weights_dir: str | Path | None = None) -> bool:
    """Whether :func:`load_upscaler` finds ``name`` without a source (×2: or its ×4 model)."""
    return any(hub.has_model(n, weights_dir) for n in {name, _x4_of(name)})


class Halved(nn.Module):
    """A ×4 network whose output is shrunk by two (means of 2×2 pixels): a ×2 upscaler."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.net(x), 2)


def load_upscaler(
    name: str,
    source: hub.ModelSource | None = None,
    *,
    weights_dir: str | Path | None = None,
    device: str = "cpu",
) -> nn.Module:
    """The upscaler ``name`` (:func:`model_names`) as :func:`daguerre.hub.load_network` finds
    it, except that a ×2 model found nowhere is its ×4 counterpart :class:`Halved`."""
    x4 = _x4_of(name)
    if source is None and x4 != name and not hub.has_model(name, weights_dir):
        return Halved(hub.load_network(x4, weights_dir=weights_dir, device=device)).eval()
    return hub.load_network(name, source, weights_dir=weights_dir, device=device)


class Blend(nn.Module):
    """The weighted sum of several networks' outputs (one pass of each per tile)."""

    def __init__(self, nets: Sequence[nn.Module], weights: Sequence[float]) -> None:
        super().__init__()
        if len(nets) != len(weights) or not nets:
            raise ValueError("need one weight per network, and at least one network")
        self.nets = nn.ModuleList(nets)
        self.weights = [float(w) for w in weights]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.weights[0] * self.nets[0](x)
        for weight, net in zip(self.weights[1:], self.nets[1:], strict=True):
            out = out + weight * net(x)
        return out


def upscale(
    image: np.ndarray,
    net: nn.Module,
    scale: int,
    *,
    tile: int | None = None,
    device: str = "cpu",
    memory_budget_mb: float | None = 1024,
    progress: Progress | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``image`` (float H×W×C) enlarged ``scale``× by ``net`` in feathered tiles.

    The result goes into ``out`` when given (a preallocated sH×sW×C array: float, uint8 or
    uint16), else into a new float32 array, and is clipped to [0, 1].
    """
    result = run_tiled(
        net,
        image,
        tile=tile,
        overlap=OVERLAP,
        device=device,
        memory_budget_mb=memory_budget_mb if tile is None else None,
        progress=progress,
        scale=scale,
        out=out,
    )
    if np.issubdtype(result.dtype, np.floating):
        np.clip(result, 0.0, 1.0, out=result)
    return result


class Upscaler:
    """Enlarges images 2× or 4× with the bundled models (or given ones), ``sharpness`` blending
    the fidelity model (0) and the GAN model (1).

    ``models`` maps model names (:func:`model_names`) to networks, weight paths or names; a model
    it lacks comes from ``weights_dir`` when that folder has it, else from the bundled weights.
    Models are loaded on first use.
    """

    def __init__(
        self,
        scale: int = 4,
        *,
        sharpness: float = 0.0,
        models: Mapping[str, hub.ModelSource] | None = None,
        weights_dir: str | Path | None = None,
        device: str = "cpu",
        tile: int | None = None,
        memory_budget_mb: float | None = 1024,
    ) -> None:
        check_scale(scale)
        check_sharpness(sharpness)
        if tile is not None and tile < 2 * OVERLAP + 1:
            raise ValueError(f"tile must be more than {2 * OVERLAP} pixels, got {tile}")
        self.scale = scale
        self.sharpness = sharpness
        self.models = dict(models or {})
        self.weights_dir = weights_dir
        self.device = device
        self.tile = tile
        self.memory_budget_mb = memory_budget_mb
        self._net: nn.Module | None = None

    def network(self) -> nn.Module:
        """The network that runs: one model, or the blend of both."""
        if self._net is None:
            names = model_names(self.scale)
            weights = (1.0 - self.sharpness, self.sharpness)
            used = [(name, w) for name, w in zip(names, weights, strict=True) if w > 0]
            nets = [
                load_upscaler(
                    name, self.models.get(name), weights_dir=self.weights_dir, device=self.device
                )
                for name, _ in used
            ]
            self._net = nets[0] if len(nets) == 1 else Blend(nets, [w for _, w in used]).eval()
        return self._net

    def __call__(
        self,
        image: np.ndarray,
        *,
        progress: Progress | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """``image`` (float H×W×C in [0, 1]) enlarged, into ``out`` when given."""
        return upscale(
            image,
            self.network(),
            self.scale,
            tile=self.tile,
            device=self.device,
            memory_budget_mb=self.memory_budget_mb,
            progress=progress,
            out=out,
        )
