"""Run one image job over many files: output naming, progress, per-file errors, a summary."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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

from daguerre.image import IMAGE_SUFFIXES, ImageError, find_images

OUTPUT_EXTENSIONS = ("auto", "png", "jpg", "tif")


@dataclass
class BatchItem:
    """One input file and where its result goes."""

    source: Path
    target: Path


@dataclass
class BatchReport:
    """What a batch did: inputs done, files written, and inputs that failed with the reason."""

    done: list[Path] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def output_target(source: Path, root: Path | None, output_dir: Path, ext: str, suffix: str) -> Path:
    """Where the result for ``source`` goes: ``output_dir/<relative dirs>/<stem><suffix>.<ext>``.

    ``root`` is the folder the user named when ``source`` was found inside it, so that a
    recursive batch keeps its sub-folders apart. ``ext == "auto"`` keeps the input's format
    (an unknown suffix falls back to PNG, the lossless choice).
    """
    if ext not in OUTPUT_EXTENSIONS:
        raise ValueError(f"unknown output extension {ext!r}; choose one of {OUTPUT_EXTENSIONS}")
    if ext == "auto":
        extension = source.suffix.lower() if source.suffix.lower() in IMAGE_SUFFIXES else ".png"
    else:
        extension = f".{ext}"
    relative = source.parent.relative_to(root) if root is not None else Path()
    return output_dir / relative / f"{source.stem}{suffix}{extension}"


def plan(
    inputs: Sequence[Path],
    output_dir: Path,
    *,
    ext: str = "auto",
    suffix: str = "",
    recursive: bool = False,
) -> list[BatchItem]:
    """Expand files and folders into items; two inputs that would share a target are an error.

    A file named twice (e.g. on its own and inside a folder given too) is done once.
    """
    items: list[BatchItem] = []
    for given in inputs:
        if given.is_dir():
            for source in find_images([given], recursive=recursive):
                items.append(
                    BatchItem(source, output_target(source, given, output_dir, ext, suffix))
                )
        else:
            found = find_images([given])
            items.extend(
                BatchItem(source, output_target(source, None, output_dir, ext, suffix))
                for source in found
            )
    unique: list[BatchItem] = []
    seen: dict[Path, Path] = {}
    for item in items:
        other = seen.get(item.target)
        if other is None:
            seen[item.target] = item.source
            unique.append(item)
        elif other.resolve() != item.source.resolve():
            raise ImageError(item.source, f"would write to {item.target}, as {other} does")
    return unique


def run(
    items: Iterable[BatchItem],
    job: Callable[[BatchItem], Sequence[Path]],
    *,
    description: str,
    console: Console | None = None,
) -> BatchReport:
    """Call ``job`` on each item under a progress bar; a failing file is reported, not fatal.

    ``job`` returns the paths it wrote. ``ImageError`` and ``ValueError`` are expected per-file
    failures (bad input), reported with the file's name; anything else is a bug and propagates.
    """
    console = console or Console(stderr=True, soft_wrap=True)
    items = list(items)
    report = BatchReport()
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[name]}", markup=False),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=len(items), name="")
        for item in items:
            progress.update(task, name=item.source.name)
            try:
                report.written.extend(job(item))
                report.done.append(item.source)
            except (ImageError, ValueError) as error:
                # an ImageError names its file; anything else gets the input's name
                reason = str(error) if isinstance(error, ImageError) else f"{item.source}: {error}"
                report.failed.append((item.source, reason))
                console.print(f"[red]failed[/red] {escape(reason)}")  # paths may hold [...]
            progress.advance(task)
    return report


def summary(report: BatchReport, verb: str) -> str:
    """One line for the end of a batch: how many files were done and how many failed."""
    line = f"{verb} {len(report.done)} file(s)"
    if report.failed:
        line += f", {len(report.failed)} failed"
    return line
