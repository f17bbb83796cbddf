"""Device choice and the distributed context of a run (one process, or DDP under torchrun)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


def pick_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """``"auto"`` → CUDA, else Apple MPS, else CPU; ``"cuda"`` → this process's GPU."""
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' requested but no CUDA GPU is available")
        if device.index is None:
            device = torch.device("cuda", local_rank)
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError("device 'mps' requested but Apple MPS is not available")
    return device


@dataclass
class Distributed:
    """Rank, world size and device of this process; a no-op shell for single-process runs."""

    rank: int
    world_size: int
    device: torch.device
    owns_group: bool = False  # whether :meth:`close` should end the process group

    @classmethod
    def start(cls, device: str = "auto") -> Distributed:
        """Join the process group when launched by torchrun (``WORLD_SIZE`` > 1).

        GPUs talk over NCCL, CPUs over Gloo; each process drives the GPU of its
        ``LOCAL_RANK``.
        """
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        chosen = pick_device(device, local_rank)
        if world_size == 1:
            return cls(0, 1, chosen)
        if chosen.type == "cuda":
            torch.cuda.set_device(chosen)
        owns_group = not dist.is_initialized()  # a caller's own group is left to the caller
        if owns_group:
            dist.init_process_group("nccl" if chosen.type == "cuda" else "gloo")
        return cls(dist.get_rank(), dist.get_world_size(), chosen, owns_group)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def broadcast(self, value: Any) -> Any:
        """``value`` as rank 0 has it (a picklable object)."""
        if not self.enabled:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def wrap(self, net: nn.Module) -> nn.Module:
        """``net`` under DistributedDataParallel when distributed and trainable."""
        if not self.enabled or not any(p.requires_grad for p in net.parameters()):
            return net
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(net, device_ids=ids)

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
