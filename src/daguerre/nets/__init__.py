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

from daguerre.nets.discriminators import MultiScaleDiscriminator, PatchDiscriminator
from daguerre.nets.resnet import ResnetGenerator
from daguerre.nets.tone import TonedUNet, ToneNet
from daguerre.nets.transformer import TransformerNet
from daguerre.nets.unet import UNet

NETWORKS: dict[str, type[nn.Module]] = {
    "unet": UNet,
    "resnet": ResnetGenerator,
    "patch": PatchDiscriminator,
    "multiscale": MultiScaleDiscriminator,
    "transformer": TransformerNet,
    "tone": ToneNet,
    "toned_unet": TonedUNet,
}


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
    "MultiScaleDiscriminator",
    "PatchDiscriminator",
    "ResnetGenerator",
    "ToneNet",
    "TonedUNet",
    "TransformerNet",
    "UNet",
    "build_network",
]
