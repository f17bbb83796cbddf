"""Training speed of the pix2pix recipe on CPU: engine vs a bare loop, and the data pipeline.

Prints images per second of

* the data pipeline alone (decode-once cache, crop, aging, collation; with the
  configured loader workers, and in one process),
* a bare hand-written GAN step (same nets, losses and Adam settings) and the engine's
  step (the same work through the recipe, plus schedule, autocast hooks, gradient
  bookkeeping and EMA), run alternately on the same batches so that a changing load
  from other processes hits both alike; the overhead compares their median times,
* the engine's whole loop (``Trainer.fit``: loader, steps, logging, TensorBoard).

    python benchmarks/bench_train.py [--data ../shared/data/photos/train] [--size 128]
        [--set model.generator.base_channels=32 ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from daguerre import losses
from daguerre.allocator import keep_freed_memory
from daguerre.data import StepSampler, make_loader
from daguerre.training.distributed import Distributed
from daguerre.training.trainer import Trainer, resolve_config

REPO = Path(__file__).resolve().parents[1]
Batch = dict[str, torch.Tensor]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / ".." / "shared/data/photos/train")
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "pix2pix.yaml")
    parser.add_argument("--set", action="append", default=[], help="config override key=value")
    parser.add_argument("--size", type=int, default=128, help="crop size (pixels)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=8, help="timed steps of each kind")
    parser.add_argument("--workers", type=int, default=2, help="data loader workers")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--max-side", type=int, default=512, help="cache images at this size")
    return parser.parse_args()


def bench_config(args: argparse.Namespace, steps: int) -> dict:
    settings = {
        "data.crop": args.size,
        "data.val_crop": args.size,
        "data.batch_size": args.batch,
        "data.workers": args.workers,
        "data.max_side": args.max_side,
        "data.val_count": 2,
        "train.steps": steps,
        "train.log_every": 5,
        "train.val_every": 0,
        "train.ckpt_every": 0,
        "train.progress": False,
    }
    overrides = [f"{key}={value}" for key, value in settings.items()] + args.set
    return resolve_config(args.config, data={"train": str(args.data)}, overrides=overrides)


def data_speed(trainer: Trainer, batches: int, workers: int) -> float:
    """Images per second of the loader alone (worker start-up not counted)."""
    batch_size = trainer.config["data"]["batch_size"]
    sampler = StepSampler(len(trainer.data.train), batch_size, steps=batches + 1)
    loader = iter(make_loader(trainer.data.train, sampler, workers=workers))
    next(loader)
    start = time.perf_counter()
    count = sum(batch["input"].shape[0] for batch in loader)
    return count / (time.perf_counter() - start)


def bare_step_function(trainer: Trainer) -> Callable[[Batch], None]:
    """A hand-written pix2pix step on fresh copies of the recipe's networks."""
    config = trainer.config
    torch.manual_seed(config["seed"])
    nets = trainer.recipe.build_nets()
    g, d = nets["g"], nets["d"]
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    adversarial = losses.AdversarialLoss(config["model"]["gan_mode"])
    l1_weight = config["model"]["weights"]["l1"]

    def step(batch: Batch) -> None:
        x, y = batch["input"], batch["target"]
        fake = g(x)
        real_logits = d(torch.cat([x, y], 1))
        fake_logits = d(torch.cat([x, fake.detach()], 1))
        d_loss = 0.5 * adversarial.discriminator(real_logits, fake_logits)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        d.requires_grad_(False)
        g_loss = adversarial.generator(d(torch.cat([x, fake], 1))) + l1_weight * losses.l1(fake, y)
        d.requires_grad_(True)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()

    return step


def timed(function: Callable[[Batch], object], batch: Batch) -> float:
    start = time.perf_counter()
    function(batch)
    return time.perf_counter() - start


def step_speeds(trainer: Trainer, steps: int, workers: int) -> tuple[list[float], list[float]]:
    """Seconds per step of the bare loop and of the engine, alternating on the same batches."""
    bare = bare_step_function(trainer)
    sampler = StepSampler(
        len(trainer.data.train), trainer.config["data"]["batch_size"], steps=steps + 1
    )
    bare_times, engine_times = [], []
    for index, batch in enumerate(make_loader(trainer.data.train, sampler, workers=workers)):
        pair = [(bare, bare_times), (trainer.train_step, engine_times)]
        for function, times in pair if index % 2 else reversed(pair):
            seconds = timed(function, batch)
            if index:  # the first step of each warms up
                times.append(seconds)
    return bare_times, engine_times


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    # the training process keeps freed memory, as in Trainer.fit, so the bare step and the
    # engine's run alike (here loader workers inherit it too, which changes their memory, not
    # the speeds; DAGUERRE_KEEP_FREED_MEMORY=0 measures glibc's malloc as it comes)
    keep_freed_memory()
    print(
        f"pix2pix {args.size}px, batch {args.batch}, {args.threads} threads, "
        f"{args.workers} loader workers, data {args.data.resolve()}"
    )
    device = Distributed(0, 1, torch.device("cpu"))
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        trainer = Trainer(bench_config(args, steps=10 * args.steps), Path(folder), device)
        print(
            f"setup (decode {len(trainer.data.train)} images): {time.perf_counter() - start:.1f} s"
        )
        bare_times, engine_times = step_speeds(trainer, args.steps, args.workers)
    with tempfile.TemporaryDirectory() as folder:
        looped = Trainer(bench_config(args, steps=args.steps + 1), Path(folder), device)
        looped.fit()
    pipeline = data_speed(trainer, 4 * args.steps, args.workers)
    single = data_speed(trainer, args.steps, 0)
    bare = args.batch / statistics.median(bare_times)
    engine = args.batch / statistics.median(engine_times)
    loop = args.batch * looped.steps_per_second()
    print(f"data pipeline      {pipeline:8.2f} images/s ({args.workers} workers)")
    print(f"data, one process  {single:8.2f} images/s")
    print(f"bare step          {bare:8.2f} images/s  (s/step: {_fmt(bare_times)})")
    print(f"engine step        {engine:8.2f} images/s  (s/step: {_fmt(engine_times)})")
    print(f"engine overhead    {100 * (bare / engine - 1):8.1f} %  (median step times)")
    print(f"engine, full loop  {loop:8.2f} images/s  (Trainer.fit with loader and logging)")
    print(f"data / model       {pipeline / engine:8.1f} x")


def _fmt(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
