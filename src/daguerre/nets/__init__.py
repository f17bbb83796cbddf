"""Network architectures (pure ``torch.nn`` modules, no I/O).

Every module records its constructor arguments in ``module.spec`` (a dict with a
``"type"`` key, written by :func:`~daguerre.nets.spec.records_spec` from the call itself);
:func:`build_network` turns such a spec back into a fresh module with the same
architecture, which is how saved weights are matched to code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from daguerre.nets.arbitrary import AdaINNet, LearnedAdaINNet
from daguerre.nets.discriminators import (
    MultiScaleDiscriminator,
    PatchDiscriminator,
    UNetDiscriminator,
)
from daguerre.nets.landmarks import LandmarkNet
from daguerre.nets.resnet import ResnetGenerator
from daguerre.nets.tone import TonedUNet, ToneNet
from daguerre.nets.transformer import TransformerNet
from daguerre.nets.unet import UNet
from daguerre.nets.upscale import CompactUpscaler

NETWORKS: dict[str, type[nn.Module]] = {
    "unet": UNet,
    "resnet": ResnetGenerator,
    "patch": PatchDiscriminator,
    "multiscale": MultiScaleDiscriminator,
    "unet_judge": UNetDiscriminator,
    "transformer": TransformerNet,
    "tone": ToneNet,
    "toned_unet": TonedUNet,
    "landmarks": LandmarkNet,
    "compact_sr": CompactUpscaler,
    "adain": AdaINNet,
    "adain-learned": LearnedAdaINNet,
}


def count_parameters(module: nn.Module, *, trainable: bool = False) -> int:
    """How many numbers ``module``'s parameters hold (only those with gradients if ``trainable``);
    buffers such as BatchNorm's running statistics are not counted."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable)


def format_count(count: int) -> str:
    """A parameter count to three figures: ``812``, ``12.3 k``, ``1.68 M``."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= 0.9995 * scale:
            return f"{count / scale:.3g} {unit}"
    return str(count)


def build_network(spec: Mapping[str, Any]) -> nn.Module:
    """Build the network described by ``spec`` (``{"type": name, **constructor_kwargs}``)."""
    if "type" not in spec:
        raise ValueError(f"network spec has no 'type': {dict(spec)!r}")
    kind = spec["type"]
    if kind not in NETWORKS:
        raise ValueError(f"unknown network type {kind!r}; expected one of {sorted(NETWORKS)}")
    kwargs = {key: value for key, value in spec.items() if key != "type"}
    return NETWORKS[kind](**kwargs)


__all__ = [
    "NETWORKS",
    "AdaINNet",
    "CompactUpscaler",
    "LandmarkNet",
    "LearnedAdaINNet",
    "MultiScaleDiscriminator",
    "PatchDiscriminator",
    "ResnetGenerator",
    "ToneNet",
    "TonedUNet",
    "TransformerNet",
    "UNet",
    "UNetDiscriminator",
    "build_network",
    "count_parameters",
    "format_count",
]
