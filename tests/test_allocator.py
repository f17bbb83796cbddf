import os
import platform
import subprocess
import sys

import pytest

from daguerre import allocator

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc")

# in a fresh process: fill two 16 MB arrays and free them, twenty times; print the page faults
FAULTS = """
import resource
import numpy as np
from daguerre.allocator import keep_freed_memory
keep_freed_memory()
start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    first = np.ones(4 * 2**20, dtype=np.float32)
    second = np.ones(4 * 2**20, dtype=np.float32)
    del first, second
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start)
"""


def _page_faults(keep: str) -> int:
    env = {**os.environ, allocator.SWITCH_ENV: keep}
    run = subprocess.run([sys.executable, "-c", FAULTS], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return int(run.stdout)


@glibc
def test_freed_blocks_are_reused_instead_of_faulted_in_again():
    as_it_comes, kept = _page_faults("0"), _page_faults("1")
    pages = 2 * 16 * 2**20 // 4096  # one round's arrays
    assert kept < 2 * pages  # the first round's pages serve all twenty
    assert as_it_comes > 5 * kept  # blocks handed back to the kernel are faulted in again


@pytest.mark.parametrize(
    ("name", "value"),
    [(allocator.SWITCH_ENV, "0"), ("MALLOC_MMAP_THRESHOLD_", "131072"), ("GLIBC_TUNABLES", "")],
)
def test_the_environment_can_leave_malloc_alone(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    allocator.keep_freed_memory.cache_clear()
    try:
        assert allocator.keep_freed_memory() is False
    finally:
        allocator.keep_freed_memory.cache_clear()


# in a fresh process: free a 128 MB array, then hand what was kept back; print the RSS drop
RELEASE = """
import numpy as np
from daguerre.allocator import keep_freed_memory, release_freed_memory

def resident():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) * 1024

keep_freed_memory()
block = np.ones(32 * 2**20, dtype=np.float32)
del block
kept = resident()
release_freed_memory()
print(kept - resident())
"""


@glibc
def test_kept_memory_goes_back_to_the_kernel_when_released():
    run = subprocess.run([sys.executable, "-c", RELEASE], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) > 100 * 2**20
