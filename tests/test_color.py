"""Tests for daguerre.color: the one home of the Rec.601 weights, gray/RGB, Lab and previews."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from daguerre import color
from daguerre.style.objective import luminance

ROOT = Path(__file__).resolve().parents[1]


def test_luma_of_known_colors() -> None:
    rgb = np.array(
        [[[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [0, 0, 0], [0.5, 0.5, 0.5]]], np.float32
    )
    expected = [0.299, 0.587, 0.114, 1.0, 0.0, 0.5]
    np.testing.assert_allclose(color.luma(rgb)[0], expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(color.to_gray(rgb)[..., 0], color.luma(rgb))
    assert color.luma(rgb).shape == (1, 6) and color.to_gray(rgb).shape == (1, 6, 1)
    assert sum(color.REC601_LUMA) == pytest.approx(1.0)


def test_luma_agrees_with_opencv_and_the_torch_version() -> None:
    rgb = np.random.default_rng(0).random((16, 24, 3), dtype=np.float32)
    plane = color.luma(rgb)
    np.testing.assert_allclose(plane, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), atol=1e-6)
    batch = torch.from_numpy(rgb.transpose(2, 0, 1).copy())[None]
    np.testing.assert_allclose(luminance(batch)[0, 0].numpy(), plane, atol=1e-6)


def test_gray_and_rgb_round_trip() -> None:
    gray = np.random.default_rng(1).random((5, 7, 1), dtype=np.float32)
    rgb = color.to_rgb(gray)
    assert rgb.shape == (5, 7, 3) and rgb.dtype == np.float32
    np.testing.assert_array_equal(rgb, np.repeat(gray, 3, axis=2))
    np.testing.assert_allclose(color.to_gray(rgb), gray, atol=1e-6)
    flat = np.full((2, 2, 1), 0.4, dtype=np.float32)
    np.testing.assert_array_equal(color.to_gray(color.to_rgb(flat)), flat)
    assert color.to_gray(gray) is gray  # gray input is returned as is
    assert color.to_rgb(rgb) is rgb
    assert color.to_rgb(gray[..., 0]).shape == (5, 7, 3)  # H×W counts as H×W×1
    with pytest.raises(ValueError, match="H×W×1 or H×W×3"):
        color.to_gray(np.zeros((2, 2, 2), np.float32))


def test_lab_conversions_and_round_trip() -> None:
    rgb = np.array([[[1, 1, 1], [0, 0, 0], [1, 0, 0]]], dtype=np.float32)
    lab = color.rgb_to_lab(rgb)
    assert lab.dtype == np.float32
    np.testing.assert_allclose(lab[0, 0], [100, 0, 0], atol=0.05)
    np.testing.assert_allclose(lab[0, 1], [0, 0, 0], atol=0.05)
    np.testing.assert_allclose(lab[0, 2], [53.24, 80.09, 67.20], atol=0.3)
    np.testing.assert_allclose(color.lab_to_rgb(lab), rgb, atol=1e-3)
    photo = np.random.default_rng(2).random((8, 9, 3), dtype=np.float32)
    # OpenCV's float Lab is good to about one 8-bit level
    np.testing.assert_allclose(color.lab_to_rgb(color.rgb_to_lab(photo)), photo, atol=5e-3)
    assert color.rgb_to_lab(np.full((1, 1, 1), 0.5, dtype=np.float32)).shape == (1, 1, 3)
    out_of_gamut = color.lab_to_rgb(np.array([[[50, 120, -120]]], dtype=np.float32))
    assert out_of_gamut.min() >= 0 and out_of_gamut.max() <= 1
    with pytest.raises(ValueError, match="H×W×3 Lab"):
        color.lab_to_rgb(np.zeros((2, 2, 1), np.float32))


@pytest.mark.parametrize("channels", [1, 3])
def test_preview_shrinks_the_long_side_keeps_the_channels_and_never_enlarges(channels: int) -> None:
    photo = np.random.default_rng(0).random((300, 120, channels), dtype=np.float32)
    small = color.preview(photo, 100)
    assert small.shape == (100, 40, channels)
    np.testing.assert_allclose(small.mean(), photo.mean(), atol=1e-3)  # an average, not a pick
    assert color.preview(photo, 400) is photo
    assert color.preview(photo[:1, :700], 64).shape == (1, 64, channels)  # never below 1 px


def test_the_rec601_weights_are_written_once() -> None:
    """Every other module imports ``color.REC601_LUMA`` instead of writing the weights out."""
    holders = sorted(
        str(path.relative_to(ROOT))
        for folder in ("src", "benchmarks", "scripts")
        for path in (ROOT / folder).rglob("*.py")
        if "0.587" in path.read_text(encoding="utf-8")
    )
    assert holders == ["src/daguerre/color.py"]


def test_color_imports_neither_pillow_nor_torch() -> None:
    """``aging/`` may import only NumPy and OpenCV, and it imports this module."""
    code = "import sys, daguerre.color; print(sorted({'PIL', 'torch'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
