"""The training engine: one loop for every recipe.

:func:`train` resolves the config, picks the device, joins the process group under
torchrun, and runs a :class:`Trainer`, which owns mixed precision, DDP, EMA,
gradient clipping, the LR schedule, validation, checkpoints, logging and the final
export. The recipe only says what one step does.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import shlex
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import torch
from torch import nn

from daguerre import devices, hub
from daguerre.allocator import keep_freed_memory
from daguerre.data import DataBundle, StepSampler, batches, build_data, make_loader
from daguerre.nets import count_parameters, format_count
from daguerre.training import config as configuration
from daguerre.training.checkpoint import (
    STATE_FILE,
    CheckpointStore,
    load_nets,
    load_state,
    save_meta,
    save_nets,
    save_state,
)
from daguerre.training.config import Config, ConfigError
from daguerre.training.distributed import Distributed
from daguerre.training.ema import EMA
from daguerre.training.monitor import Monitor, format_values
from daguerre.training.recipes import get_recipe
from daguerre.training.schedule import lr_factor
from daguerre.training.validation import validate

EMA_NAME = "ema"


class TrainingError(RuntimeError):
    """Training cannot start or continue (no checkpoint to resume, a loss went NaN...)."""


class LossTracker:
    """Running sums of the step losses, kept on the device until read."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0

    def add(self, losses: Mapping[str, torch.Tensor]) -> None:
        for key, value in losses.items():
            value = value.detach().float()
            self.sums[key] = self.sums[key] + value if key in self.sums else value
        self.count += 1

    def means(self) -> dict[str, float]:
        """Means since the last call (one device sync), then reset."""
        if not self.count:
            return {}
        values = (torch.stack(list(self.sums.values())) / self.count).tolist()
        means = dict(zip(self.sums, values, strict=True))
        self.sums, self.count = {}, 0
        return means


class Trainer:
    """One run of a recipe in ``run_dir`` (fresh, or resumed from its last checkpoint)."""

    def __init__(
        self,
        config: Config,
        run_dir: Path,
        dist: Distributed | None = None,
        *,
        resume: bool = False,
        command: str = "",
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.dist = dist or Distributed(0, 1, torch.device("cpu"))
        self.device = self.dist.device
        self.command = command
        train = config["train"]
        self.total: int = train["steps"]
        self.recipe = get_recipe(config["recipe"])(config)
        self.data: DataBundle = build_data(self.recipe.data_kind, config["data"], config["seed"])
        self.val_batches = batches(self.data.val, config["data"]["batch_size"])

        torch.manual_seed(config["seed"])  # network initialisation, the same on every rank
        self.raw = {name: net.to(self.device) for name, net in self.recipe.build_nets().items()}
        if self.recipe.generator not in self.raw or EMA_NAME in self.raw:
            raise TrainingError(
                f"recipe {config['recipe']} must build its generator {self.recipe.generator!r}"
                f" and no net called {EMA_NAME!r}"
            )
        self.init_card: hub.ModelCard | None = None  # the model the generator started from
        if train["init"]:
            self.init_card = self._initialize(train["init"], load=not resume)
        self._freeze(train["freeze"])
        self.ema = EMA(self.raw[self.recipe.generator], train["ema"])
        self.optimizers, self.params, self.base_lr = self._build_optimizers()
        torch.manual_seed(config["seed"] + 1 + self.dist.rank)  # stochastic layers, per rank
        self.recipe.attach(
            {name: self.dist.wrap(net) for name, net in self.raw.items()}, self.raw, self.device
        )
        self.amp = bool(train["amp"]) and self.device.type == "cuda"
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True

        self.store = CheckpointStore(self.run_dir / "checkpoints", keep=train["keep"])
        self.step = 0
        self.elapsed = 0.0  # wall time of earlier sessions of this run
        if resume:
            self._restore()
        self.train_seconds = 0.0  # time in loading and steps, this session (no val / saving)
        self.train_steps = 0
        self.scores: dict[str, float] | None = None

    # ------------------------------------------------------------------ setup

    def _initialize(self, source: str, *, load: bool = True) -> hub.ModelCard:
        """Start the generator from an exported model (a hub name or a .safetensors path), or
        with ``load`` false (a resumed run) only read its card; returns the card."""
        try:
            if not load:
                return hub.read_card(hub.model_paths(source)[1])
            model, card = hub.load(source)
        except (hub.ModelError, OSError) as error:
            raise TrainingError(f"train.init: {error}") from error
        generator = self.raw[self.recipe.generator]
        if model.spec != getattr(generator, "spec", None):
            raise TrainingError(
                f"train.init: {source} is a {model.spec}, the config builds a "
                f"{getattr(generator, 'spec', type(generator).__name__)}"
            )
        generator.load_state_dict(model.state_dict())
        return card

    def _freeze(self, prefixes: list[str]) -> None:
        """Keep the generator's parameters under each of ``prefixes`` (e.g. ``tone``) fixed."""
        named = list(self.raw[self.recipe.generator].named_parameters())
        for prefix in prefixes:
            chosen = [p for n, p in named if n == prefix or n.startswith(prefix + ".")]
            if not chosen:
                names = sorted({n.split(".")[0] for n, _ in named})
                raise ConfigError(f"train.freeze: the generator has no {prefix!r}; it has {names}")
            for parameter in chosen:
                parameter.requires_grad_(False)

    def _build_optimizers(
        self,
    ) -> tuple[dict[str, torch.optim.Optimizer], dict[str, list[nn.Parameter]], dict[str, float]]:
        settings = self.config["optim"]
        shared = {k: v for k, v in settings.items() if not isinstance(v, dict)}
        groups = self.recipe.optimizers()
        unknown = sorted(k for k, v in settings.items() if isinstance(v, dict) and k not in groups)
        if unknown:
            raise ConfigError(f"optim.{unknown[0]}: the recipe's optimisers are {sorted(groups)}")
        optimizers, params, base_lr = {}, {}, {}
        for name, net_names in groups.items():
            options = {**shared, **settings.get(name, {})}
            params[name] = [
                p for n in net_names for p in self.raw[n].parameters() if p.requires_grad
            ]
            base_lr[name] = float(options["lr"])
            optimizers[name] = torch.optim.Adam(
                params[name],
                lr=base_lr[name],
                betas=tuple(float(b) for b in options["betas"]),
                weight_decay=float(options["weight_decay"]),
            )
        return optimizers, params, base_lr

    def _autocast(self) -> AbstractContextManager[Any]:
        if self.amp:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _full_precision(self) -> AbstractContextManager[Any]:
        if self.amp:
            return torch.autocast(self.device.type, enabled=False)
        return contextlib.nullcontext()

    # ------------------------------------------------------------------ one step

    def optimize(self, name: str, loss: torch.Tensor) -> None:
        """Back-propagate ``loss`` into the nets of optimiser ``name``, clip, step."""
        optimizer = self.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        with self._full_precision():
            loss.backward()
        clip = self.config["train"]["grad_clip"]
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(self.params[name], clip)
        optimizer.step()

    def train_step(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Schedule, recipe step under autocast, EMA; advances :attr:`step`."""
        factor = lr_factor(self.step, self.total, self.config["schedule"])
        for name, optimizer in self.optimizers.items():
            for group in optimizer.param_groups:
                group["lr"] = self.base_lr[name] * factor
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        with self._autocast():
            losses = self.recipe.train_step(batch, self.optimize)
        self.ema.update(self.raw[self.recipe.generator], self.step)
        self.step += 1
        return losses

    # ------------------------------------------------------------------ the loop

    def _due(self, every: int) -> bool:
        return self.step == self.total or (every > 0 and self.step % every == 0)

    def fit(self) -> Path:
        """Train to ``train.steps``, then export the averaged generator; returns the run dir."""
        train = self.config["train"]
        data_cfg = self.config["data"]
        sampler = StepSampler(
            len(self.data.train),
            data_cfg["batch_size"],
            steps=self.total,
            start_step=self.step,
            seed=self.config["seed"],
            rank=self.dist.rank,
            world_size=self.dist.world_size,
        )
        loader = make_loader(
            self.data.train,
            sampler,
            # more loader processes than cores only compete with the training step for them
            workers=min(data_cfg["workers"], devices.cores()),
            pin_memory=self.device.type == "cuda",
        )
        monitor = Monitor(
            self.run_dir,
            total=self.total,
            start=self.step,
            enabled=self.dist.is_main,
            progress=train["progress"],
            tensorboard=train["tensorboard"],
        )
        session_start = time.perf_counter()
        with monitor:
            monitor.line(self._header())
            monitor.line(self._net_sizes())
            tracker = LossTracker()
            window = (time.perf_counter(), self.step)
            tick = time.perf_counter()
            batches = iter(loader)  # starts the loader's workers with malloc as it comes, then
            keep_freed_memory()  # each step's activations reuse the last step's memory
            for batch in batches:
                tracker.add(self.train_step(batch))
                monitor.advance(self.step)
                if self._due(train["log_every"]):
                    window = self._log(monitor, tracker, window)
                if self.train_steps:  # the session's first step warms up: not timed
                    self.train_seconds += time.perf_counter() - tick
                self.train_steps += 1
                if self._out_of_time(session_start):
                    monitor.line(f"stopping at step {self.step}: train.max_minutes reached")
                    self.total = self.step  # the last step: validate, save, export
                if self._due(train["val_every"]):
                    self._validate(monitor)
                if self._due(train["ckpt_every"]):
                    self._save(time.perf_counter() - session_start)
                if self.step == self.total:
                    break
                tick = time.perf_counter()
            if self.scores is None:
                self._validate(monitor)
            self.elapsed += time.perf_counter() - session_start
            if self.dist.is_main:
                for path in self._export():
                    monitor.line(f"exported {path}")
                monitor.line(self._summary())
        self.dist.barrier()
        return self.run_dir

    def _out_of_time(self, session_start: float) -> bool:
        """Whether this session has used up ``train.max_minutes`` (rank 0's clock decides)."""
        limit = self.config["train"]["max_minutes"]
        if limit is None or self.step % 10:
            return False
        return bool(self.dist.broadcast(time.perf_counter() - session_start > 60.0 * limit))

    def _header(self) -> str:
        data = self.config["data"]
        world = self.dist.world_size
        processes = f" × {world} processes" if world > 1 else ""
        precision = " (bf16 autocast)" if self.amp else ""
        return (
            f"{self.config['recipe']} on {self.device}{processes}{precision}: "
            f"{len(self.data.train)} training images, {len(self.data.val)} validation samples, "
            f"batch {data['batch_size']}{processes}, crop {data['crop']}, "
            f"steps {self.step}→{self.total}; run folder {self.run_dir}"
        )

    def _net_sizes(self) -> str:
        """Each net's type and parameter count, and how many train where some are frozen."""
        parts = []
        for name, net in self.raw.items():
            kind = getattr(net, "spec", {}).get("type", type(net).__name__)
            total, trained = count_parameters(net), count_parameters(net, trainable=True)
            text = f"{name} ({kind}) {format_count(total)} parameters"
            if trained != total:
                text += f", {format_count(trained)} of them trained"
            parts.append(text)
        return "nets: " + "; ".join(parts)

    def _log(
        self, monitor: Monitor, tracker: LossTracker, window: tuple[float, int]
    ) -> tuple[float, int]:
        losses = tracker.means()
        bad = [key for key, value in losses.items() if not math.isfinite(value)]
        if bad:
            raise TrainingError(
                f"loss {', '.join(bad)} is not finite at step {self.step}; "
                "lower optim.lr, set train.grad_clip or check the data"
            )
        now = time.perf_counter()
        speed = (self.step - window[1]) / max(now - window[0], 1e-9)
        lrs = {f"lr_{name}": opt.param_groups[0]["lr"] for name, opt in self.optimizers.items()}
        monitor.line(
            f"step {self.step}/{self.total}  {format_values(losses)}  "
            f"{format_values(lrs)}  {speed:.2f} it/s"
        )
        monitor.scalars(self.step, "train", {**losses, **lrs, "it_per_s": speed})
        return now, self.step

    def _validate(self, monitor: Monitor) -> None:
        if not self.dist.is_main:
            return
        for net in self.raw.values():
            net.eval()
        try:
            scores, grid = validate(self.recipe, self.ema.module, self.val_batches, self.device)
        finally:
            for net in self.raw.values():
                net.train()
        self.scores = scores
        monitor.validation(self.step, scores, grid)

    def steps_per_second(self) -> float | None:
        """Training speed of this session (loading + steps; validation and saving excluded)."""
        if not self.train_seconds:
            return None
        return (self.train_steps - 1) / self.train_seconds

    def _summary(self) -> str:
        text = f"done: {self.step} steps, {self.elapsed:.0f} s in all"
        speed = self.steps_per_second()
        if speed is None:
            return text
        images = speed * self.config["data"]["batch_size"] * self.dist.world_size
        return f"{text}; this session {speed:.2f} it/s = {images:.1f} images/s"

    # ------------------------------------------------------------------ checkpoints

    def _rng_state(self) -> dict[str, torch.Tensor]:
        state = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def _save(self, session_seconds: float) -> None:
        """Write a checkpoint of the current step (every rank takes part)."""
        staging = self.store.staging(self.step)
        if self.dist.is_main:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
        self.dist.barrier()
        rank_state = {"rng": self._rng_state(), "recipe": self.recipe.state_dict()}
        save_state(staging / f"rank_{self.dist.rank}.pt", rank_state)
        self.dist.barrier()
        if not self.dist.is_main:
            return
        elapsed = self.elapsed + session_seconds
        save_nets(staging, {**self.raw, EMA_NAME: self.ema.module})
        save_state(
            staging / STATE_FILE,
            {
                "step": self.step,
                "elapsed": elapsed,
                "world_size": self.dist.world_size,
                "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            },
        )
        save_meta(
            staging,
            {
                "step": self.step,
                "elapsed_s": round(elapsed, 1),
                "saved": datetime.datetime.now().isoformat(timespec="seconds"),
                "world_size": self.dist.world_size,
            },
        )
        self.store.commit(staging, self.step)

    def _restore(self) -> None:
        """Load the newest checkpoint of the run that reads back; one that does not (a disk
        error, a file damaged after the save) is skipped with a warning for the one before."""
        done = self.store.completed()
        if not done:
            raise TrainingError(f"{self.run_dir}: no checkpoint to resume from")
        if self.dist.is_main:
            self.store.clean_staging()
        for _, folder in reversed(done):
            try:
                self._load_checkpoint(folder)
                return
            except Exception as error:  # safetensors, torch.load and unpickling raise many kinds
                warnings.warn(
                    f"{folder}: cannot be read ({error or type(error).__name__}); resuming "
                    "from the checkpoint before it",
                    stacklevel=2,
                )
        raise TrainingError(f"{self.run_dir}: none of its {len(done)} checkpoints can be read")

    def _load_checkpoint(self, folder: Path) -> None:
        """Nets, optimisers, step, time and this rank's random state from ``folder``."""
        load_nets(folder, {**self.raw, EMA_NAME: self.ema.module})
        state = load_state(folder / STATE_FILE)
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        self.step, self.elapsed = int(state["step"]), float(state["elapsed"])
        rank_file = folder / f"rank_{self.dist.rank}.pt"
        if state["world_size"] != self.dist.world_size or not rank_file.is_file():
            warnings.warn(
                f"{folder}: saved by {state['world_size']} processes, resumed by "
                f"{self.dist.world_size}; random streams restart (data order is kept)",
                stacklevel=2,
            )
            return
        rank_state = load_state(rank_file)
        torch.set_rng_state(rank_state["rng"]["torch"])
        if self.device.type == "cuda" and "cuda" in rank_state["rng"]:
            torch.cuda.set_rng_state(rank_state["rng"]["cuda"], self.device)
        self.recipe.load_state_dict(rank_state["recipe"])

    # ------------------------------------------------------------------ export

    def card(self) -> dict[str, Any]:
        """The model card of the averaged generator (hub format, without name and sha256).

        A fine-tuned generator (``train.init``) carries the licences of its starting model too,
        that model's name, checksum and training under ``training.init``, and its description
        when ``export.description`` is empty.
        """
        export = self.config["export"]
        licences = list(export["licences"])
        description = export["description"] or ""
        started: dict[str, Any] = {}
        if self.init_card is not None:
            licences += [
                x for x in self.init_card.training.get("licences", []) if x not in licences
            ]
            description = description or self.init_card.description
            started = {"init": self.init_card.as_origin()}
        return {
            "task": self.recipe.task,
            "metrics": dict(self.scores or {}),
            "description": description,
            "training": {
                "recipe": self.config["recipe"],
                "data": dict(self.data.folders),
                "licences": licences,
                "steps": self.step,
                "wall_time_s": round(self.elapsed, 1),
                "command": self.command,
                "git_commit": git_commit(),
                "processes": self.dist.world_size,
                "config": self.config,
                **started,
            },
        }

    def _export(self) -> list[Path]:
        """Export the EMA generator to ``RUN_DIR/export/`` and to ``export.name``/``export.dir``."""
        export = self.config["export"]
        name = export["name"] or self.config["name"] or self.config["recipe"]
        card = self.card()
        generator = self.ema.module
        paths = [hub.export(generator, self.run_dir / "export" / f"{name}.safetensors", card)]
        if export["name"] or export["dir"]:
            directory = export["dir"] or hub.WEIGHTS_DIR
            paths.append(hub.export(generator, name, card, directory=directory))
        return paths


def git_commit() -> str | None:
    """The commit of the code that trains (``-dirty`` when tracked files changed), if in git."""
    here = Path(__file__).parent

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=here, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if dirty else commit


# ---------------------------------------------------------------------- public entry point


def _new_run_dir(config: Config, run_dir: str | Path | None) -> Path:
    if run_dir is not None:
        folder = Path(run_dir).expanduser().absolute()
        if (folder / "config.yaml").exists():
            raise TrainingError(f"{folder} already holds a run; continue it with resume={folder}")
    else:
        name = config["name"] or config["recipe"]
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = Path(config["output"]) / f"{name}-{stamp}"
        suffix = 1
        while folder.exists():
            suffix += 1
            folder = Path(config["output"]) / f"{name}-{stamp}-{suffix}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def resolve_config(
    config: str | Path | Mapping[str, Any] | None,
    *,
    data: Mapping[str, str] | None = None,
    overrides: Iterable[str] = (),
) -> Config:
    """The complete, checked config of a run (see :mod:`daguerre.training.config`)."""
    overrides = list(overrides)
    user = configuration.load(config)
    name = configuration.apply_overrides(user, overrides).get("recipe")
    if not isinstance(name, str):
        raise ConfigError("the config names no recipe (e.g. recipe: pix2pix)")
    return configuration.resolve(user, get_recipe(name).defaults, overrides=overrides, data=data)


def train(
    config: str | Path | Mapping[str, Any] | None = None,
    *,
    data: Mapping[str, str] | None = None,
    resume: str | Path | None = None,
    overrides: Iterable[str] = (),
    run_dir: str | Path | None = None,
    device: str = "auto",
) -> Path:
    """Train a recipe; returns the run folder.

    ``config``: a YAML file or a dict (``recipe`` names the task). ``data`` maps data
    keys to folders (``{"train": DIR}``, or ``train_a``/``train_b`` for CycleGAN).
    ``overrides``: ``"dotted.key=value"`` strings (values parsed as YAML).
    ``resume``: a run folder to continue from its last checkpoint with its saved
    config (``config`` is then ignored; ``data`` and ``overrides`` still apply).
    ``run_dir``: where to write (default ``<output>/<name>-<date>-<time>``).
    ``device``: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.
    Under ``torchrun`` every process calls this and they train together (DDP).
    """
    dist = Distributed.start(device)
    try:
        if resume is not None:
            folder = Path(resume).expanduser().absolute()
            saved = folder / "config.yaml"
            if not saved.is_file():
                raise TrainingError(f"{folder}: not a run folder (no config.yaml)")
            resolved = resolve_config(saved, data=data, overrides=overrides)
        else:
            if config is None:
                raise ConfigError("give a config (YAML file or dict) or a run folder to resume")
            resolved = resolve_config(config, data=data, overrides=overrides)
            folder = Path(
                dist.broadcast(str(_new_run_dir(resolved, run_dir)) if dist.is_main else "")
            )
        if dist.is_main:
            configuration.save(resolved, folder / "config.yaml")
        dist.barrier()
        command = shlex.join(sys.argv)
        trainer = Trainer(resolved, folder, dist, resume=resume is not None, command=command)
        return trainer.fit()
    finally:
        dist.close()
