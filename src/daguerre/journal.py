"""The journal of a batch: one JSON line per event, in the output folder, read back on a rerun.

A record names the input (absolute path, size, modification time), a hash of the settings that
shape the result, the outputs (relative to the output folder), a status (``started``, ``done``
or ``failed``), the seconds spent and the error. ``started`` is written and flushed to disk
before any output of the file is, ``done`` after all of them are: a file whose last record is
``started`` was interrupted, and its outputs (whole files, thanks to atomic writes, or absent)
belong to this batch and are redone.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

JOURNAL_NAME = "daguerre-journal.jsonl"


def settings_hash(settings: Mapping[str, Any]) -> str:
    """A short stable hash of the settings that shape a result (JSON-able values)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Record:
    """One event of one input."""

    input: str
    size: int
    mtime_ns: int
    settings: str
    outputs: list[str]
    status: str
    seconds: float = 0.0
    error: str | None = None

    @classmethod
    def of(cls, source: Path, settings: str, outputs: list[str], status: str) -> Record:
        """A record of ``source`` as it is on disk now (size -1 once it is gone)."""
        try:
            stat = source.stat()
            size, mtime_ns = stat.st_size, stat.st_mtime_ns
        except OSError:
            size, mtime_ns = -1, 0
        return cls(str(source.resolve()), size, mtime_ns, settings, outputs, status)

    def same_input(self, other: Record) -> bool:
        return (self.input, self.size, self.mtime_ns) == (other.input, other.size, other.mtime_ns)


class Journal:
    """The journal file of one output folder: its last record per output, and appends."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / JOURNAL_NAME
        self.latest: dict[str, Record] = {}  # first output (relative) -> its last record
        self.outputs: set[Path] = set()  # every output any run recorded, resolved
        self._handle: IO[str] | None = None
        if self.path.is_file():
            self._load(folder)

    def _load(self, folder: Path) -> None:
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = Record(**json.loads(line))
                except (ValueError, TypeError):
                    continue  # a line cut short by a kill: the file it names is redone
                if record.outputs:
                    self.latest[record.outputs[0]] = record
                    self.outputs.update((folder / name).resolve() for name in record.outputs)

    def append(self, *records: Record) -> None:
        """Add one line per record and push them to disk before returning."""
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (kept open)
        for record in records:
            self._handle.write(json.dumps(asdict(record)) + "\n")
            if record.outputs:
                self.latest[record.outputs[0]] = record
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
