"""What a run shows and records: log lines, progress bar, TensorBoard, metrics.jsonl.

Only the main process writes; on other ranks a :class:`Monitor` is built with
``enabled=False`` and every method returns at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from daguerre import image


class SpeedColumn(ProgressColumn):
    """Steps per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.2f} it/s" if speed else "-.-- it/s", style="cyan")


def format_values(values: Mapping[str, float]) -> str:
    return "  ".join(f"{key} {value:.4g}" for key, value in values.items())


class Monitor:
    """Console lines + ``train.log``, a Rich progress bar, TensorBoard and ``metrics.jsonl``."""

    def __init__(
        self,
        run_dir: Path,
        *,
        total: int,
        start: int = 0,
        enabled: bool = True,
        progress: bool = True,
        tensorboard: bool = True,
    ) -> None:
        self.run_dir = run_dir
        self.total, self.start = total, start
        self.enabled = enabled
        self.console = Console(stderr=True)
        self.show_progress = enabled and progress and self.console.is_terminal
        self.use_tensorboard = enabled and tensorboard
        self._log: TextIO | None = None
        self._progress: Progress | None = None
        self._task: Any = None
        self._writer: Any = None

    def __enter__(self) -> Monitor:
        if not self.enabled:
            return self
        self._log = open(self.run_dir / "train.log", "a", encoding="utf-8")
        if self.use_tensorboard:
            from torch.utils.tensorboard import SummaryWriter  # slow import, only when used

            self._writer = SummaryWriter(str(self.run_dir / "tensorboard"))
        if self.show_progress:
            self._progress = Progress(
                TextColumn("[bold]train"),
                BarColumn(),
                MofNCompleteColumn(),
                SpeedColumn(),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._progress.start()
            self._task = self._progress.add_task("train", total=self.total, completed=self.start)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
        if self._writer is not None:
            self._writer.close()
        if self._log is not None:
            self._log.close()

    def line(self, text: str) -> None:
        """A log line on the console (above the bar) and in ``train.log``."""
        if not self.enabled:
            return
        self.console.print(text, highlight=False, markup=False, soft_wrap=True)
        if self._log is not None:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            self._log.write(f"{stamp} {text}\n")
            self._log.flush()

    def advance(self, step: int) -> None:
        """Show ``step`` steps done."""
        if self._progress is not None:
            self._progress.update(self._task, completed=step)

    def scalars(self, step: int, group: str, values: Mapping[str, float]) -> None:
        if self._writer is not None:
            for key, value in values.items():
                self._writer.add_scalar(f"{group}/{key}", value, step)

    def validation(self, step: int, scores: Mapping[str, float], grid: np.ndarray) -> Path | None:
        """Record validation: a line, ``metrics.jsonl``, TensorBoard, ``val/step_*.png``."""
        if not self.enabled:
            return None
        self.line(f"val {step}/{self.total}  {format_values(scores)}")
        with open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"step": step, **scores}) + "\n")
        self.scalars(step, "val", scores)
        if self._writer is not None:
            self._writer.add_image("val/grid", grid, step, dataformats="HWC")
        return image.write(self.run_dir / "val" / f"step_{step:08d}.png", grid)
