"""Batches an archivist can trust: outputs planned up front, never lost or overwritten, reruns
that resume, Ctrl-C and kill -9 that leave nothing half-done (issue 20)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_cli import assert_clean_exit, invoke, names, tiny_models  # noqa: F401 (a fixture)
from test_restore import smooth_photo
from typer.testing import CliRunner

from daguerre import aging, batch, cli, devices
from daguerre import image as imageio
from daguerre.journal import JOURNAL_NAME


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"COLUMNS": "1000"})


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """``in/`` with three small photos."""
    for name in ("a.png", "b.png", "c.jpg"):
        imageio.write(tmp_path / "in" / name, smooth_photo(24, 32))
    return tmp_path / "in"


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / JOURNAL_NAME).read_text().splitlines()]


# ------------------------------------------------------------------- outputs planned up front


def test_a_side_output_that_is_another_input_is_refused_before_any_work(runner, tmp_path):
    imageio.write(tmp_path / "in" / "x.jpg", smooth_photo(16, 16))
    imageio.write(tmp_path / "in" / "x_mask.png", smooth_photo(16, 16))
    out = tmp_path / "out"
    result = invoke(runner, "age", tmp_path / "in", "-o", out, "--save-mask")
    assert_clean_exit(result, 2)
    assert "x_mask.png" in result.output and "x.jpg" in result.output
    assert not out.exists()


@pytest.mark.usefixtures("tiny_models")
def test_a_compare_sheet_that_is_another_input_is_refused(runner, tmp_path):
    imageio.write(tmp_path / "in" / "x.png", smooth_photo(16, 16))
    imageio.write(tmp_path / "in" / "x_compare.jpg", smooth_photo(16, 16))
    result = invoke(runner, "restore", tmp_path / "in", "-o", tmp_path / "out", "--compare")
    assert_clean_exit(result, 2)
    assert "x_compare.jpg" in result.output
    assert not (tmp_path / "out").exists()


def test_a_rerun_with_other_settings_never_replaces_results_silently(runner, folder, tmp_path):
    out = tmp_path / "out"
    assert_clean_exit(invoke(runner, "age", folder, "-o", out, "--preset", "light"), 0)
    first = (out / "a.png").read_bytes()
    result = invoke(runner, "age", folder, "-o", out, "--preset", "heavy")
    assert_clean_exit(result, 2)
    assert "already exist" in result.output and "--overwrite" in result.output
    assert (out / "a.png").read_bytes() == first
    # another suffix keeps both; --overwrite replaces
    assert_clean_exit(
        invoke(runner, "age", folder, "-o", out, "--preset", "heavy", "--suffix", "_h"), 0
    )
    assert {"a.png", "a_h.png"} <= names(out)
    result = invoke(runner, "age", folder, "-o", out, "--preset", "heavy", "--overwrite")
    assert_clean_exit(result, 0)
    assert "aged 3 file(s)" in result.output
    assert (out / "a.png").read_bytes() != first


def test_a_rerun_skips_finished_files_and_redoes_changed_or_missing_ones(runner, folder, tmp_path):
    out = tmp_path / "out"
    assert_clean_exit(invoke(runner, "age", folder, "-o", out), 0)
    result = invoke(runner, "age", folder, "-o", out)
    assert_clean_exit(result, 0)
    assert "aged 0 file(s), 3 finished earlier" in result.output
    imageio.write(folder / "b.png", smooth_photo(24, 32) * 0.5)  # the input changed
    (out / "c.jpg").unlink()  # a result was deleted
    result = invoke(runner, "age", folder, "-o", out)
    assert_clean_exit(result, 0)
    assert "aged 2 file(s), 1 finished earlier" in result.output
    done = [Path(r["input"]).name for r in records(out) if r["status"] == "done"]
    assert sorted(done) == ["a.png", "b.png", "b.png", "c.jpg", "c.jpg"]


def test_results_of_another_daguerre_version_are_not_mixed_in(
    runner, folder, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    assert_clean_exit(invoke(runner, "age", folder, "-o", out), 0)
    monkeypatch.setattr(cli, "__version__", "99.0")
    result = invoke(runner, "age", folder, "-o", out)
    assert_clean_exit(result, 2)
    assert "already exist from another run or other settings" in result.output


@pytest.mark.usefixtures("tiny_models")
def test_a_batch_begun_on_one_device_resumes_on_another(runner, folder, tmp_path, monkeypatch):
    monkeypatch.setattr(devices, "check", lambda name, auto=False: name)  # as if a GPU were here
    out = tmp_path / "out"
    assert_clean_exit(invoke(runner, "restore", folder / "a.png", "-o", out), 0)
    result = invoke(runner, "restore", folder / "a.png", "-o", out, "--device", "cuda")
    assert_clean_exit(result, 0)  # the device is not one of the settings that shape a result
    assert "restored 0 file(s), 1 finished earlier" in result.output


def test_outputs_and_the_output_folder_are_never_inputs(runner, folder):
    for _ in range(2):  # the output folder inside the input folder, recursive
        result = invoke(runner, "age", folder, "-o", folder / "out", "-r", "--save-mask")
        assert_clean_exit(result, 0)
    assert not (folder / "out" / "out").exists()
    assert {"a.png", "a_mask.png"} <= names(folder / "out")
    for _ in range(2):  # results beside the inputs, with a suffix
        result = invoke(runner, "age", folder, "-o", folder, "--suffix", "_r", "--save-mask")
        assert_clean_exit(result, 0)
    assert "finished earlier" in result.output and "skipped" not in result.output
    top = {name for name in names(folder) if "/" not in name}
    inputs = {"a.png", "b.png", "c.jpg"}
    results = {"a_r.png", "b_r.png", "c_r.jpg", "a_r_mask.png", "b_r_mask.png", "c_r_mask.png"}
    assert top == inputs | results


def test_results_named_one_by_one_are_not_taken_as_inputs_either(runner, folder):
    first = invoke(runner, "age", *sorted(folder.glob("*")), "-o", folder, "--suffix", "_r")
    assert_clean_exit(first, 0)
    again = invoke(runner, "age", *sorted(folder.glob("*")), "-o", folder, "--suffix", "_r")
    assert_clean_exit(again, 0)  # as a shell glob over the folder gives them
    assert "left out 4 file(s) that an earlier batch wrote" in again.output  # and the journal
    assert "aged 0 file(s), 3 finished earlier" in again.output
    assert not [name for name in names(folder) if "_r_r" in name]


def test_an_output_that_cannot_be_written_is_refused_before_any_work(
    runner, folder, tmp_path, monkeypatch
):
    calls = []
    monkeypatch.setattr(aging.AgingPipeline, "__call__", lambda *args: calls.append(args))
    (tmp_path / "file").write_text("not a folder")
    for output in (tmp_path / "file", tmp_path / "file" / "sub"):
        result = invoke(runner, "age", folder, "-o", output)
        assert_clean_exit(result, 2)
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert str(tmp_path / "file") in result.output
    assert not calls


# ------------------------------------------------------------------- inputs that go wrong


def test_a_missing_input_is_reported_and_the_batch_goes_on(runner, folder, tmp_path):
    out = tmp_path / "out"
    result = invoke(runner, "age", tmp_path / "gone.png", folder / "a.png", "-o", out)
    assert_clean_exit(result, 1)
    assert f"{tmp_path / 'gone.png'}: no such file or folder" in result.output
    assert "aged 1 file(s), 1 failed" in result.output
    assert names(out) == {"a.png"}


def test_a_folder_that_cannot_be_listed_is_reported_and_the_batch_goes_on(
    runner, folder, tmp_path, monkeypatch
):
    real = batch.scan_folder

    def scan(path: Path, recursive: bool = False):
        if path.name == "locked":
            raise PermissionError(13, "Permission denied")
        return real(path, recursive)

    monkeypatch.setattr(batch, "scan_folder", scan)
    (tmp_path / "locked").mkdir()
    result = invoke(runner, "age", tmp_path / "locked", folder, "-o", tmp_path / "out")
    assert_clean_exit(result, 1)
    assert f"{tmp_path / 'locked'}: cannot list the folder (Permission denied)" in result.output
    assert "aged 3 file(s), 1 failed" in result.output


def test_an_input_deleted_during_the_batch_fails_alone(runner, folder, tmp_path, monkeypatch):
    real = aging.AgingPipeline.__call__

    def deleting(self, *args, **kwargs):
        (folder / "c.jpg").unlink(missing_ok=True)  # gone before its turn
        return real(self, *args, **kwargs)

    monkeypatch.setattr(aging.AgingPipeline, "__call__", deleting)
    result = invoke(runner, "age", folder, "-o", tmp_path / "out")
    assert_clean_exit(result, 1)
    assert "aged 2 file(s), 1 failed" in result.output


def test_files_that_are_not_images_are_reported(runner, folder, tmp_path):
    for name in ("anim.gif", "logo.svg", "README"):
        (folder / name).write_text("x")
    result = invoke(runner, "age", folder, "-o", tmp_path / "out")
    assert_clean_exit(result, 0)
    assert "skipped 3 file(s)" in result.output
    assert all(name in result.output for name in ("anim.gif", "logo.svg", "README"))


def test_an_empty_folder_is_an_error(runner, tmp_path):
    (tmp_path / "empty").mkdir()
    result = invoke(runner, "age", tmp_path / "empty", "-o", tmp_path / "out")
    assert_clean_exit(result, 2)
    assert "no image files" in result.output


# ------------------------------------------------------------------- interruptions


def test_ctrl_c_finishes_the_file_in_hand_then_stops_with_130(
    runner, folder, tmp_path, monkeypatch
):
    real = aging.AgingPipeline.__call__

    def interrupted(self, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # as a Ctrl-C in the middle of the first file
        return real(self, *args, **kwargs)

    monkeypatch.setattr(aging.AgingPipeline, "__call__", interrupted)
    out = tmp_path / "out"
    result = invoke(runner, "age", folder, "-o", out, "--save-mask")
    assert_clean_exit(result, 130)
    assert "stopping" in result.output
    assert "aged 1 file(s), 2 not started (interrupted)" in result.output
    assert names(out) == {"a.png", "a_mask.png"}  # the image with its mask


def test_ctrl_c_with_two_workers_lets_both_files_in_hand_finish(tmp_path):
    folder = tmp_path / "in"
    for index in range(24):
        imageio.write(folder / f"p{index:02d}.png", smooth_photo(300, 400))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "daguerre", "age", str(folder), "-o", str(out)]
    process = subprocess.Popen(
        [*command, "--workers", "2", "--save-mask"], stderr=subprocess.PIPE, text=True
    )
    journal = out / JOURNAL_NAME
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if journal.is_file() and journal.read_text().count('"done"') >= 2:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 130, errors
    assert "(interrupted)" in errors and "Traceback" not in errors
    statuses = [r["status"] for r in records(out)]
    assert statuses.count("started") == statuses.count("done") < 24  # none left half-done
    for record in records(out):
        if record["status"] == "done":
            assert all((out / name).is_file() for name in record["outputs"])


def test_stale_temporary_files_of_a_killed_write_are_removed(runner, folder, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".a.png.0badf00d.tmp"
    stale.write_bytes(b"half an image")
    assert_clean_exit(invoke(runner, "age", folder, "-o", out), 0)
    assert not stale.exists()


def test_kill_9_mid_batch_then_rerun_loses_nothing_and_does_nothing_twice(tmp_path):
    """A real ``kill -9`` of the command while it works, then the same command again."""
    count = 40  # enough that the batch is caught mid-way on a fast machine too
    folder = tmp_path / "in"
    for index in range(count):
        imageio.write(folder / f"p{index:02d}.png", smooth_photo(160, 200))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "daguerre", "age", str(folder), "-o", str(out), "--save-mask"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = out / JOURNAL_NAME
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if journal.is_file() and journal.read_text().count('"done"') >= 3:
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = journal.read_text().count('"done"')
    assert 3 <= done_before < count, "the batch was not caught mid-way"

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{done_before} finished earlier" in rerun.stderr
    done = [r["input"] for r in records(out) if r["status"] == "done"]
    assert len(done) == len(set(done)) == count  # each file finished exactly once
    assert not [path for path in out.iterdir() if path.name.endswith(".tmp")]
    reference = tmp_path / "reference"
    subprocess.run([*command[:-2], str(reference), "--save-mask"], check=True, timeout=300)
    assert names(out) == names(reference)
    for name in names(reference):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name


# ------------------------------------------------------------------- report and workers


def test_report_writes_one_row_per_input(runner, folder, tmp_path):
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    report = tmp_path / "report.csv"
    result = invoke(
        runner, "age", folder, tmp_path / "gone.jpg", "-o", tmp_path / "out", "--report", report
    )
    assert_clean_exit(result, 1)
    rows = {Path(row["input"]).name: row for row in csv.DictReader(report.open())}
    assert set(rows) == {"a.png", "b.png", "c.jpg", "broken.png", "gone.jpg"}
    assert rows["a.png"]["status"] == "done" and rows["a.png"]["outputs"].endswith("a.png")
    assert rows["broken.png"]["status"] == "failed" and rows["broken.png"]["error"]
    assert rows["gone.jpg"]["status"] == "failed"


def test_two_workers_give_the_same_files_as_one(runner, folder, tmp_path):
    for workers in (1, 2):
        result = invoke(runner, "age", folder, "-o", tmp_path / f"w{workers}", "--workers", workers)
        assert_clean_exit(result, 0)
        assert "aged 3 file(s)" in result.output
    for name in ("a.png", "b.png", "c.jpg"):
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes()
    assert np.isfinite(imageio.read(tmp_path / "w2" / "a.png").pixels).all()
