"""Restore on a local Ray instance: the same pixels as one machine, and a killed worker is
retried (issue 20). Skipped where Ray is not installed (``pip install daguerre[cluster]``)."""

from __future__ import annotations

import functools
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from test_cli import assert_clean_exit, invoke, names, photos, tiny_models  # noqa: F401
from typer.testing import CliRunner

from daguerre import batch, cluster
from daguerre import image as imageio
from daguerre.runner import Job

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    tests = str(Path(__file__).parent)  # the actors unpickle jobs defined here
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": tests}},
    )
    yield
    ray.shutdown()


@pytest.mark.usefixtures("tiny_models")
def test_restore_on_ray_gives_the_pixels_of_one_machine(photos, tmp_path):  # noqa: F811
    runner = CliRunner(env={"COLUMNS": "1000"})
    weights = tmp_path / "weights"  # the actors read the tiny models from the folder itself
    common = ["--weights", weights, "--save-mask"]
    assert_clean_exit(invoke(runner, "restore", photos, "-o", tmp_path / "one", *common), 0)
    result = invoke(
        runner, "restore", photos, "-o", tmp_path / "ray", *common, "--cluster", "local"
    )
    assert_clean_exit(result, 0)
    assert "restored 5 file(s)" in result.output
    assert names(tmp_path / "ray") == names(tmp_path / "one")
    for name in names(tmp_path / "one"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
    rerun = invoke(runner, "restore", photos, "-o", tmp_path / "ray", *common, "--cluster", "x")
    assert_clean_exit(rerun, 0)  # nothing to do: Ray is not even asked
    assert "restored 0 file(s), 5 finished earlier" in rerun.output


def _dies_once(marker: str) -> Job:
    """A job whose process is killed (SIGKILL) at its first file, once in the whole batch."""

    def job(item: batch.BatchItem) -> list[Path]:
        if not os.path.exists(marker):
            Path(marker).write_text("killed once")
            os.kill(os.getpid(), signal.SIGKILL)
        negative = 1.0 - imageio.read(item.source).pixels
        return [imageio.write(item.target, negative)]

    return job


def test_a_killed_worker_is_retried_and_the_batch_completes(photos, tmp_path):  # noqa: F811
    marker = tmp_path / "marker"
    plan = batch.plan([photos], tmp_path / "out", ext="png", settings={"job": "negative"})
    report = cluster.run(
        plan,
        functools.partial(_dies_once, marker=str(marker)),
        address="local",
        description="negatives",
        console=Console(stderr=True),
    )
    assert marker.is_file()
    assert report.ok, report.failed
    assert len(report.done) == 5
    for item in plan.items:
        expected = 1.0 - imageio.read(item.source).pixels
        assert abs(imageio.read(item.target).pixels - expected).max() <= 0.5 / 255 + 1e-6
