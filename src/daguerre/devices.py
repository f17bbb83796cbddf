"""Which compute devices and CPU cores this machine has, and a check of a device name."""

from __future__ import annotations

import os


def cores() -> int:
    """CPU cores this process may use (its affinity, where the system says)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def available() -> list[str]:
    """The device names this machine can run on: cpu, then cuda:N for each GPU, then mps."""
    import torch

    found = ["cpu"]
    if torch.cuda.is_available():
        found += [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        found.append("mps")
    return found


def check(name: str, *, auto: bool = False) -> str:
    """``name`` when this machine has that device (``auto`` too when allowed), else a
    ``ValueError`` that lists the devices it has."""
    import torch

    have = available()
    if auto and name == "auto":
        return name
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is not None and device.type == "cpu":
        return name
    if device is not None and device.type in ("cuda", "mps"):
        index = 0 if device.index is None else device.index
        wanted = "mps" if device.type == "mps" else f"cuda:{index}"
        if wanted in have:
            return name
    choices = ", ".join((["auto"] if auto else []) + have)
    raise ValueError(f"device {name!r} is not available here; this machine has: {choices}")
