"""Run a planned batch on a Ray cluster with Ray Data (``pip install daguerre[cluster]``).

The plan, the jobs, the journal and the report are those of one machine (:mod:`daguerre.batch`,
:mod:`daguerre.runner`); Ray Data does the scheduling: the files are a dataset split into
blocks, and ``map_batches`` hands them to a pool of actors, each of which makes the job (loads
the models) once. The actors write the results to the output folder themselves, so on several
machines it must be a path they all share. Ray restarts an actor that dies and retries its
files. Every file is journaled ``started`` before the dataset runs, and ``done`` or ``failed``
as its result comes back, so a rerun resumes as it does on one machine.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from daguerre.batch import BatchItem, Plan
from daguerre.runner import (
    BatchReport,
    Job,
    JobFactory,
    Outcome,
    attempt,
    closing,
    journaling,
    opening,
    progress_bar,
    settle,
    stop_on_sigint,
)


class _Worker:
    """A Ray Data actor: makes the job once, then runs it on the files of each batch."""

    def __init__(self, factory: JobFactory) -> None:
        self.job: Job = factory()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outcomes = [attempt(self.job, _item(str(row))) for row in batch["item"]]
        return {
            "index": batch["index"],
            "status": np.array([outcome.status for outcome in outcomes]),
            "outputs": np.array(["\n".join(map(str, outcome.outputs)) for outcome in outcomes]),
            "seconds": np.array([outcome.seconds for outcome in outcomes]),
            "error": np.array([outcome.error or "" for outcome in outcomes]),
        }


def run(
    plan: Plan,
    factory: JobFactory,
    *,
    address: str,
    description: str,
    console: Console,
    gpus: bool = False,
) -> BatchReport:
    """Do ``plan.items`` on the Ray cluster at ``address`` (``auto``: the one this machine
    belongs to; ``local``: a Ray started here; or ``ray://HOST:PORT``), one actor per CPU, or
    per GPU with ``gpus``. An already connected Ray is used as it is."""
    import ray
    import ray.data  # sets up its own logging on import; turned down below

    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, log_to_driver=False)
    # the batch's own bar and lines say what happens: no progress logging from Ray Data
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    ray.data.DataContext.get_current().enable_progress_bars = False
    report = opening(plan, console)
    plan.journal.append(*(plan.record(item, "started") for item in plan.items))
    resources = ray.cluster_resources()
    slots = max(1, int(resources.get("GPU" if gpus else "CPU", 1)))
    rows = [{"index": index, "item": _row(item)} for index, item in enumerate(plan.items)]
    results = ray.data.from_items(rows).map_batches(
        _Worker,
        fn_constructor_kwargs={"factory": factory},
        batch_size=1,
        # Ray Data restarts an actor that dies and retries its files
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=slots),
        num_cpus=0 if gpus else 1,
        num_gpus=1 if gpus else 0,
    )
    with (
        journaling(plan, report),
        stop_on_sigint(console) as stop,
        progress_bar(console) as progress,
    ):
        task = progress.add_task(description, total=len(plan.items), name="")
        for row in results.iter_rows():
            item = plan.items[int(row["index"])]
            settle(plan, report, item, _outcome(item, row), console)
            progress.update(task, advance=1, name=item.source.name)
            if stop.is_set():
                break
        report.interrupted = stop.is_set()
    return closing(plan, report)


def _row(item: BatchItem) -> str:
    """``item`` as a dataset cell, its paths absolute (the actors work in other folders)."""
    paths = {"source": item.source, "target": item.target, **item.extras}
    return json.dumps({name: str(path.absolute()) for name, path in paths.items()})


def _item(row: str) -> BatchItem:
    paths = {name: Path(path) for name, path in json.loads(row).items()}
    return BatchItem(paths.pop("source"), paths.pop("target"), paths)


def _outcome(item: BatchItem, row: dict[str, Any]) -> Outcome:
    """An actor's row as the outcome of ``item`` (outputs back under the plan's own paths)."""
    written = [Path(path) for path in str(row["outputs"]).split("\n") if path]
    by_absolute = {path.absolute(): path for path in item.outputs}
    outputs = [by_absolute.get(path, path) for path in written]
    error = str(row["error"]) or None
    return Outcome(item.source, str(row["status"]), outputs, float(row["seconds"]), error)
