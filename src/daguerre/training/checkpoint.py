"""Atomic checkpoints of a run: ``RUN_DIR/checkpoints/step_00001000/``.

A checkpoint folder holds

* ``<net>.safetensors``: the weights of every network (and ``ema``),
* ``state.pt``: step, elapsed time and optimiser states (tensors and plain values
  only, read back with ``torch.load(weights_only=True)``),
* ``rank_<r>.pt``: per-process state (RNG, recipe extras such as an image pool),
* ``meta.json``: step and time, for people and tools.

It is written into a hidden ``.tmp-*`` folder and renamed into place, so a folder
named ``step_*`` is always complete; a run killed at any moment loses at most the
steps since the last checkpoint. The newest ``keep`` checkpoints are kept.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model
from torch import nn

STEP_PATTERN = re.compile(r"^step_(\d{8,})$")
STATE_FILE = "state.pt"


def step_name(step: int) -> str:
    return f"step_{step:08d}"


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


class CheckpointStore:
    """The checkpoints folder of one run."""

    def __init__(self, root: Path, keep: int = 3) -> None:
        self.root = Path(root)
        self.keep = keep

    def staging(self, step: int) -> Path:
        """The hidden folder a checkpoint of ``step`` is written into before :meth:`commit`."""
        return self.root / f".tmp-{step_name(step)}"

    def completed(self) -> list[tuple[int, Path]]:
        """(step, folder) of every complete checkpoint, oldest first."""
        if not self.root.is_dir():
            return []
        found = []
        for entry in self.root.iterdir():
            match = STEP_PATTERN.match(entry.name)
            if match and (entry / STATE_FILE).is_file():
                found.append((int(match.group(1)), entry))
        return sorted(found)

    def latest(self) -> Path | None:
        done = self.completed()
        return done[-1][1] if done else None

    def clean_staging(self) -> None:
        """Remove folders left by a save that was interrupted."""
        if self.root.is_dir():
            for entry in self.root.glob(".tmp-*"):
                shutil.rmtree(entry, ignore_errors=True)

    def commit(self, staging: Path, step: int) -> Path:
        """Rename a fully written staging folder into place, then drop old checkpoints."""
        final = self.root / step_name(step)
        if final.exists():  # a resumed run re-saving a step: swap the old copy out first
            old = self.root / f".tmp-old-{step_name(step)}"
            os.replace(final, old)
            shutil.rmtree(old)
        os.replace(staging, final)
        _fsync_dir(self.root)
        for _, folder in self.completed()[: -self.keep]:
            shutil.rmtree(folder)
        return final


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def save_nets(folder: Path, nets: Mapping[str, nn.Module]) -> None:
    for name, net in nets.items():
        path = folder / f"{name}.safetensors"
        save_model(net, str(path))
        _fsync(path)


def load_nets(folder: Path, nets: Mapping[str, nn.Module]) -> None:
    """Load every net's weights (strict: a missing or extra tensor is an error)."""
    for name, net in nets.items():
        path = folder / f"{name}.safetensors"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing from the checkpoint")
        load_model(net, str(path), strict=True, device=str(next(net.parameters()).device))


def save_state(path: Path, state: Mapping[str, Any]) -> None:
    """``torch.save`` of tensors and plain values, flushed to disk."""
    torch.save(dict(state), path)
    _fsync(path)


def load_state(path: Path) -> dict[str, Any]:
    """Read a state file without unpickling arbitrary objects."""
    return torch.load(path, map_location="cpu", weights_only=True)


def save_meta(folder: Path, meta: Mapping[str, Any]) -> None:
    path = folder / "meta.json"
    path.write_text(json.dumps(dict(meta), indent=2), encoding="utf-8")
    _fsync(path)
