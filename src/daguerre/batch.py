"""Plan a batch over many files: every output named up front, collisions and earlier results
found before any work, finished files of an earlier run skipped through the journal.

:mod:`daguerre.runner` then does the work; :mod:`daguerre.journal` is the record both share.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daguerre.image import IMAGE_SUFFIXES, scan_folder
from daguerre.journal import Journal, Record, settings_hash

OUTPUT_EXTENSIONS = ("auto", "png", "jpg", "jpeg", "tif", "tiff", "webp")


class PlanError(Exception):
    """The batch is refused before any work (a collision, earlier results, no folder to write)."""


@dataclass
class BatchItem:
    """One input file, where its result goes, and its side outputs by kind (e.g. ``mask``)."""

    source: Path
    target: Path
    extras: dict[str, Path] = field(default_factory=dict)

    @property
    def outputs(self) -> list[Path]:
        return [self.target, *self.extras.values()]


@dataclass
class Plan:
    """What a batch will do: items to run, items an earlier run finished, inputs that failed
    before any work (missing paths), files of input folders that are not images, and files
    named as inputs that an earlier batch wrote here (left out)."""

    output_dir: Path
    settings: str
    journal: Journal
    items: list[BatchItem] = field(default_factory=list)
    finished: list[BatchItem] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    earlier_outputs: list[Path] = field(default_factory=list)

    def record(self, item: BatchItem, status: str, outputs: Sequence[Path] = ()) -> Record:
        """A journal record of ``item`` (its planned outputs unless ``outputs`` is given)."""
        names = [str(path.relative_to(self.output_dir)) for path in outputs or item.outputs]
        return Record.of(item.source, self.settings, names, status)


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
    extras: Mapping[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Plan:
    """Expand files and folders into items and check every output before any work.

    ``extras`` maps a side output's kind to the ending added to the result's stem (``mask`` →
    ``_mask.png``). ``settings`` are what shapes a result: a rerun with the same ones skips the
    files the journal records as finished and unchanged, and redoes the others. Raises
    :class:`PlanError` when two outputs (or an output and an input) are one file, when an output
    exists from another run or other settings (unless ``overwrite``), or when the output folder
    cannot be written. A file named twice is done once; a missing input is a failure of its own.
    """
    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise PlanError(f"{output_dir}: is a file; -o names the folder the results go into")
    journal = Journal(output_dir)
    result = Plan(output_dir, settings_hash(dict(settings or {}, ext=ext, suffix=suffix)), journal)
    written = journal.outputs | {journal.path.resolve()}  # never inputs, nor reported
    sources = _expand(inputs, output_dir, recursive, written, result)
    for source, root in sources.items():
        target = output_target(source, root, output_dir, ext, suffix)
        ends = (extras or {}).items()
        result.items.append(
            BatchItem(source, target, {kind: _beside(target, end) for kind, end in ends})
        )
    _refuse_collisions(result.items, list(sources))
    _resume(result, overwrite)
    _check_writable(output_dir)
    return result


def _beside(target: Path, ending: str) -> Path:
    return target.with_name(f"{target.stem}{ending}")


def _expand(
    inputs: Sequence[Path], output_dir: Path, recursive: bool, outputs: set[Path], plan: Plan
) -> dict[Path, Path | None]:
    """Input files (each with the folder it was found in, or None), in order, without repeats.

    Folders give their images, minus anything an earlier batch wrote (the journal's outputs)
    and anything under the output folder when it lies inside them; their other files are
    ``plan.skipped``. A file named on its own that the journal lists as an output is
    ``plan.earlier_outputs``; a missing path is ``plan.failed``.
    """
    out = output_dir.resolve()
    found: dict[Path, Path | None] = {}
    seen: set[Path] = set()
    for given in map(Path, inputs):
        if given.is_dir():
            inside = out != given.resolve() and out.is_relative_to(given.resolve())
            try:
                images, others = scan_folder(given, recursive)
            except OSError as error:
                plan.failed.append((given, f"cannot list the folder ({error.strerror or error})"))
                continue
            for path in (*images, *others):
                resolved = path.resolve()
                if resolved in outputs or (inside and resolved.is_relative_to(out)):
                    continue
                if path.suffix.lower() not in IMAGE_SUFFIXES:
                    plan.skipped.append(path)
                elif resolved not in seen:
                    seen.add(resolved)
                    found[path] = given
        elif given.is_file() and given.resolve() in outputs:
            plan.earlier_outputs.append(given)  # e.g. a shell glob over the output folder
        elif given.is_file():
            if given.resolve() not in seen:
                seen.add(given.resolve())
                found[given] = None
        elif given.exists():
            plan.failed.append((given, "not a regular file"))
        else:
            plan.failed.append((given, "no such file or folder"))
    return found


def _refuse_collisions(items: list[BatchItem], sources: list[Path]) -> None:
    """Two outputs that are one file, or an output that is an input, refuse the whole batch."""
    by_path = {source.resolve(): source for source in sources}
    by_inode = {_inode(source): source for source in sources}
    owners: dict[Path, Path] = {}
    for item in items:
        for output in item.outputs:
            key = output.resolve()
            replaced = by_path.get(key) or (by_inode.get(_inode(key)) if key.exists() else None)
            if replaced is not None:
                what = "itself" if replaced == item.source else f"the input {replaced}"
                raise PlanError(
                    f"{item.source}: its output {output} would replace {what}; "
                    "choose another -o or add a --suffix"
                )
            other = owners.setdefault(key, item.source)
            if other != item.source:
                raise PlanError(
                    f"{item.source}: would write to {output}, as {other} does; rename one of "
                    "them or add a --suffix"
                )


def _inode(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_dev, stat.st_ino


def _resume(plan: Plan, overwrite: bool) -> None:
    """Sort items into finished (skipped) and to do; outputs that are not this batch's own
    (another run, other settings, or no record) refuse the batch unless ``overwrite``."""
    items, plan.items = plan.items, []
    foreign: list[Path] = []
    for item in items:
        now = plan.record(item, "started")
        last = plan.journal.latest.get(now.outputs[0])
        ours = last is not None and (last.input, last.settings) == (now.input, now.settings)
        if ours and not overwrite and last.status == "done" and last.same_input(now):
            written = [plan.output_dir / name for name in last.outputs]
            if all(path.is_file() for path in written):
                plan.finished.append(item)
                continue
        if not (ours or overwrite):
            foreign.extend(path for path in item.outputs if path.exists())
        plan.items.append(item)
    if foreign:
        raise PlanError(
            f"{len(foreign)} output(s) already exist from another run or other settings, e.g. "
            f"{foreign[0]}; add --overwrite to replace them, or choose another -o or --suffix"
        )


def _check_writable(folder: Path) -> None:
    """Create ``folder`` and write a probe file in it, so a refusal comes before any work."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".daguerre-probe-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise PlanError(f"{folder}: cannot write here ({error.strerror or error})") from error
