"""Distributed training: two CPU processes (Gloo) launched by torchrun train as one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import torch
from safetensors.torch import load_file
from test_data import write_shapes

from daguerre.training import train

# Each rank trains through the public entry point, then dumps the weights it ended with.
RANK_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    import torch
    from safetensors.torch import save_file

    from daguerre.training import trainer as engine

    torch.set_num_threads(1)
    config, run_dir, dump = json.loads(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    fit = engine.Trainer.fit

    def fit_and_dump(self):
        folder = fit(self)
        tensors = {
            f"{name}.{key}": value.detach().clone()
            for name, net in self.raw.items()
            for key, value in net.state_dict().items()
        }
        save_file(tensors, str(dump / f"rank{self.dist.rank}.safetensors"))
        return folder

    engine.Trainer.fit = fit_and_dump
    engine.train(config, run_dir=run_dir, device="cpu")
    """
)


def config(photos: Path, batch_size: int) -> dict:
    return {
        "recipe": "pix2pix",
        "data": {
            "train": str(photos),
            "crop": 32,
            "val_crop": 32,
            "batch_size": batch_size,
            "workers": 0,
            "val_count": 2,
            "preset": "light",
        },
        "model": {
            "generator": {"base_channels": 8, "depth": 2},
            "discriminator": {"base_channels": 8, "n_layers": 2},
        },
        "train": {"steps": 4, "ckpt_every": 2, "progress": False, "tensorboard": False},
    }


def test_two_gloo_processes_train_in_lockstep(tmp_path: Path) -> None:
    photos = write_shapes(tmp_path / "photos", 12, size=(48, 48))
    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(script),
        json.dumps(config(photos, batch_size=2)),
        str(tmp_path / "ddp"),
        str(tmp_path),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]

    rank0 = load_file(tmp_path / "rank0.safetensors")
    rank1 = load_file(tmp_path / "rank1.safetensors")
    assert rank0.keys() == rank1.keys()
    assert all(torch.equal(rank0[key], rank1[key]) for key in rank0)

    # Only rank 0 wrote the run; its checkpoint holds the weights both ranks ended with.
    run = tmp_path / "ddp"
    saved = load_file(run / "checkpoints" / "step_00000004" / "g.safetensors")
    assert all(torch.equal(saved[key], rank0[f"g.{key}"]) for key in saved)
    assert (run / "export" / "pix2pix.safetensors").is_file()
    assert "2 processes" in (run / "train.log").read_text()

    # Two ranks of batch 2 average their gradients: the same as one process with batch 4.
    single = train(config(photos, batch_size=4), run_dir=tmp_path / "single", device="cpu")
    alone = load_file(single / "checkpoints" / "step_00000004" / "g.safetensors")
    assert all(torch.allclose(alone[key], saved[key], atol=1e-5) for key in alone)
