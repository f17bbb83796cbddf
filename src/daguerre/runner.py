"""Run a planned batch: one job per file, in this process or in worker processes, under a
progress bar, each file journaled; a failing file is reported, not fatal; Ctrl-C finishes the
files in hand, then stops."""

from __future__ import annotations

import csv
import glob
import io
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import cv2
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from daguerre import devices
from daguerre.batch import BatchItem, Plan
from daguerre.image import ImageError

Job = Callable[[BatchItem], Sequence[Path]]
JobFactory = Callable[[], Job]  # picklable (a module-level function or a partial of one)


@dataclass
class Outcome:
    """What became of one input: done, failed, finished earlier, or not started."""

    source: Path
    status: str
    outputs: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


@dataclass
class BatchReport:
    """The outcome of every input, and whether Ctrl-C stopped the batch."""

    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False

    def _with(self, status: str) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == status]

    @property
    def done(self) -> list[Path]:
        return [outcome.source for outcome in self._with("done")]

    @property
    def failed(self) -> list[tuple[Path, str]]:
        return [(outcome.source, outcome.error or "") for outcome in self._with("failed")]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted


def run(
    plan: Plan,
    factory: JobFactory,
    *,
    description: str,
    console: Console | None = None,
    workers: int = 1,
    job: Job | None = None,
) -> BatchReport:
    """Do ``plan.items`` with the job ``factory`` makes (once per process) and journal each.

    ``workers`` > 1 runs that many processes, each with its share of the cores for its own
    threads; with one, ``job`` (if given) is the job ``factory`` already made. ``ImageError``
    and ``ValueError`` are per-file failures, reported with the file's name; anything else is
    a bug and propagates. The first Ctrl-C lets the files in hand finish and marks the report
    interrupted; a second one stops at once (the next run redoes the files in hand).
    """
    console = console or Console(stderr=True, soft_wrap=True)
    report = opening(plan, console)
    queue = iter(plan.items)
    with (
        journaling(plan, report),
        _executor(factory, workers, job) as executor,
        stop_on_sigint(console) as stop,
        progress_bar(console) as progress,
    ):
        task = progress.add_task(description, total=len(plan.items), name="")
        pending: dict[Future[Outcome], BatchItem] = {}
        while True:
            while len(pending) < max(1, workers) and not stop.is_set():
                item = next(queue, None)
                if item is None:
                    break
                plan.journal.append(plan.record(item, "started"))  # before any output
                progress.update(task, name=item.source.name)
                pending[executor.submit(_attempt_here, item)] = item
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                outcome = future.result()
                settle(plan, report, pending.pop(future), outcome, console)
                progress.advance(task)
        report.interrupted = stop.is_set()
    return closing(plan, report)


def opening(plan: Plan, console: Console) -> BatchReport:
    """The report before any work: the inputs that failed in planning (printed) and the files
    finished earlier; stale temporary files beside the outputs to be written are removed."""
    report = BatchReport(
        [Outcome(path, "failed", error=f"{path}: {why}") for path, why in plan.failed]
    )
    report.outcomes += [Outcome(item.source, "finished earlier") for item in plan.finished]
    for path, why in plan.failed:
        console.print(f"[red]failed[/red] {escape(f'{path}: {why}')}")
    remove_stale_temporaries(plan.items)
    return report


@contextmanager
def journaling(plan: Plan, report: BatchReport) -> Iterator[None]:
    """Around a batch's work: the second Ctrl-C (``KeyboardInterrupt``) marks ``report``
    interrupted instead of escaping, and the journal is closed whatever happens."""
    try:
        yield
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        plan.journal.close()


def closing(plan: Plan, report: BatchReport) -> BatchReport:
    """``report`` with the items that never came back marked as not started."""
    started = {outcome.source for outcome in report.outcomes}
    report.outcomes += [
        Outcome(item.source, "not started") for item in plan.items if item.source not in started
    ]
    return report


_job: Job | None = None  # the job of this process, made by its factory


def _attempt_here(item: BatchItem) -> Outcome:
    """:func:`attempt` with this process's job."""
    assert _job is not None
    return attempt(_job, item)


def attempt(job: Job, item: BatchItem) -> Outcome:
    """Run ``job`` on ``item``; an expected failure (bad input) becomes the outcome's error."""
    start = time.perf_counter()
    try:
        written = list(job(item))
    except (ImageError, ValueError) as error:
        # an ImageError names its file; anything else gets the input's name
        reason = str(error) if isinstance(error, ImageError) else f"{item.source}: {error}"
        return Outcome(item.source, "failed", [], time.perf_counter() - start, reason)
    return Outcome(item.source, "done", written, time.perf_counter() - start)


def settle(
    plan: Plan, report: BatchReport, item: BatchItem, outcome: Outcome, console: Console
) -> None:
    """A finished attempt at ``item`` into the report and the journal (the outputs written, or
    those planned); a failure is printed."""
    report.outcomes.append(outcome)
    record = plan.record(item, outcome.status, outcome.outputs)
    record.seconds, record.error = round(outcome.seconds, 3), outcome.error
    plan.journal.append(record)
    if outcome.error is not None:
        console.print(f"[red]failed[/red] {escape(outcome.error)}")


def progress_bar(console: Console) -> Progress:
    """The batch's bar: files done of all, times, and the file in hand."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[name]}", markup=False),
    )
    return Progress(*columns, console=console, transient=True)


def _start_worker(factory: JobFactory, threads: int, show_warning: Callable[..., None]) -> None:
    """Worker set-up: Ctrl-C is the parent's to handle, warnings shown as the parent shows
    them, a share of the cores, the job."""
    global _job
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.showwarning = show_warning
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)  # read by torch and NumPy's BLAS when first imported
    cv2.setNumThreads(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    _job = factory()


class _InlineExecutor(Executor):
    """Runs each job at submission, in this process."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@contextmanager
def _executor(factory: JobFactory, workers: int, job: Job | None) -> Iterator[Executor]:
    """This process for one worker, else a pool of fresh processes sharing the cores."""
    global _job
    if workers <= 1:
        _job = job or factory()
        try:
            yield _InlineExecutor()
        finally:
            _job = None
        return
    threads = max(1, devices.cores() // workers)
    context = multiprocessing.get_context("spawn")  # no fork of a process holding threads
    pool = ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(factory, threads, warnings.showwarning),
    )
    with pool:
        yield pool


@contextmanager
def stop_on_sigint(console: Console) -> Iterator[threading.Event]:
    """An event the first Ctrl-C sets (the files in hand finish); the second stops at once."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        console.print("[yellow]stopping[/yellow] after the file(s) in hand (Ctrl-C again: now)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def remove_stale_temporaries(items: Sequence[BatchItem]) -> None:
    """Delete ``.NAME.*.tmp`` files that a killed write left beside the outputs to be written."""
    for item in items:
        for output in item.outputs:
            pattern = glob.escape(f".{output.name}.") + "*.tmp"
            for stale in output.parent.glob(pattern):
                stale.unlink(missing_ok=True)


def summary(report: BatchReport, verb: str) -> str:
    """One line for the end of a batch: files done, finished earlier, failed, not started."""
    counts = {status: 0 for status in ("done", "finished earlier", "failed", "not started")}
    for outcome in report.outcomes:
        counts[outcome.status] += 1
    line = f"{verb} {counts['done']} file(s)"
    for status in ("finished earlier", "failed", "not started"):
        if counts[status]:
            line += f", {counts[status]} {status}"
    if report.interrupted:
        line += " (interrupted)"
    return line


def write_csv(report: BatchReport, path: Path) -> None:
    """One row per input: input, status, outputs (``;``-separated), seconds, error."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["input", "status", "outputs", "seconds", "error"])
    for outcome in report.outcomes:
        outputs = ";".join(str(output) for output in outcome.outputs)
        writer.writerow(
            [outcome.source, outcome.status, outputs, f"{outcome.seconds:.3f}", outcome.error or ""]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(temporary, path)
