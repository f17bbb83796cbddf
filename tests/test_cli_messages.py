"""What the command says when something is off: one clean line, and what to do (issue 20)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_cli import assert_clean_exit, invoke
from test_restore import smooth_photo
from typer.testing import CliRunner

from daguerre import image as imageio


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"COLUMNS": "1000"})


@pytest.mark.parametrize("device", ["cuda:99", "cpx"])
@pytest.mark.parametrize("command", ["restore", "stylize", "upscale", "train"])
def test_an_unavailable_device_is_one_line_naming_the_devices_here(
    runner, tmp_path, device, command
):
    result = invoke(runner, command, tmp_path, "-o", tmp_path / "out", "--device", device)
    if command == "train":
        result = invoke(runner, "train", "--device", device)
    assert_clean_exit(result, 2)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert repr(device) in lines[0] and "this machine has: " in lines[0] and "cpu" in lines[0]


def test_a_warning_is_one_clean_line(runner, tmp_path):
    alpha = np.full((16, 16), 0.5, np.float32)
    imageio.write(tmp_path / "in" / "clear.png", smooth_photo(16, 16), alpha=alpha)
    result = invoke(runner, "age", tmp_path / "in", "-o", tmp_path / "out", "--ext", "jpg")
    assert_clean_exit(result, 0)
    warning = [line for line in result.output.splitlines() if "composited over white" in line]
    assert len(warning) == 1 and warning[0].startswith("warning "), result.output
    assert "UserWarning" not in result.output and ".py:" not in result.output


def test_a_warning_from_a_worker_process_is_one_clean_line_too(tmp_path):
    alpha = np.full((16, 16), 0.5, np.float32)
    for name in ("a.png", "b.png"):
        imageio.write(tmp_path / "in" / name, smooth_photo(16, 16), alpha=alpha)
    command = [sys.executable, "-m", "daguerre", "age", str(tmp_path / "in")]
    options = ["-o", str(tmp_path / "out"), "--ext", "jpg", "--workers", "2"]
    result = subprocess.run([*command, *options], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("composited over white") == 2, result.stderr
    assert "UserWarning" not in result.stderr and ".py:" not in result.stderr


def test_a_file_name_starting_with_a_dash_gets_a_hint(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    imageio.write(Path("-23_dash.jpg"), smooth_photo(16, 16))
    result = invoke(runner, "age", "-23_dash.jpg", "-o", "out")
    assert_clean_exit(result, 2)
    assert "./-23_dash.jpg" in result.output and "after --" in result.output
    assert_clean_exit(invoke(runner, "age", "-o", "out", "--", "-23_dash.jpg"), 0)
    assert (tmp_path / "out" / "-23_dash.jpg").is_file()
