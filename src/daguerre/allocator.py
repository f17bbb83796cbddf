"""Let the C library's ``malloc`` keep freed memory for reuse (glibc only).

A network's forward pass over one tile allocates and frees tens to hundreds of megabytes per
layer. By default glibc hands any block over its mmap threshold (at most 32 MB, adapted at run
time) straight back to the kernel when it is freed, and trims the top of its heap, so the next
layer's output is faulted in page by page all over again: on a 2-core machine close to half of
a restore's CPU time went to the kernel doing that. Raising both thresholds to 1 GiB keeps the
blocks for reuse. Arrays larger than that (a 100-megapixel float image) are still mapped and
returned on free. What a step kept but will not reuse (the next step allocates other sizes)
is handed back with :func:`release_freed_memory` between steps, or a 100-megapixel restore
would hold a gigabyte more than it needs at its peak.

``benchmarks/bench_restore.py`` measures a 24-megapixel restore with and without this setting.
Set ``DAGUERRE_KEEP_FREED_MEMORY=0`` to leave ``malloc`` as it is; where the environment sets
these thresholds itself (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or
``GLIBC_TUNABLES``) they are left alone too.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform

SWITCH_ENV = "DAGUERRE_KEEP_FREED_MEMORY"
THRESHOLD = 1 << 30  # bytes: blocks up to this size are kept for reuse when freed
M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


def _user_tuned() -> bool:
    """Whether the environment switches this off or already tunes glibc's malloc."""
    return os.environ.get(SWITCH_ENV) == "0" or any(name in os.environ for name in USER_SETTINGS)


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds, once per process; True if that was done.

    Does nothing (and returns False) on other C libraries or where the environment says so.
    """
    if platform.libc_ver()[0] != "glibc" or _user_tuned():
        return False
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, THRESHOLD))


def release_freed_memory() -> None:
    """Hand the freed memory that :func:`keep_freed_memory` kept back to the kernel (glibc's
    ``malloc_trim``); between the steps of a job, when the next one needs other sizes."""
    if keep_freed_memory():
        ctypes.CDLL(None).malloc_trim(0)
