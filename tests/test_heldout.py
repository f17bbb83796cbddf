"""The held-out damage renderer: seeded, honest masks, exact line widths, unseen by training."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from daguerre.restore import heldout
from daguerre.restore.heldout import Canvas, draw_stroke, render

SRC = Path(__file__).resolve().parents[1] / "src" / "daguerre"


def photo(height: int = 128, width: int = 128, channels: int = 3) -> np.ndarray:
    """A smooth mid-tone picture, far from both white and black damage."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 0.5 + 0.05 * np.sin(xs / 17.0) * np.cos(ys / 23.0)
    return np.repeat(base[..., None], channels, axis=2).astype(np.float32)


def test_render_is_deterministic_for_a_seed():
    clean = photo()
    first, first_mask = render(clean, 7)
    again, again_mask = render(clean, np.random.default_rng(7))
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first_mask, again_mask)
    other, other_mask = render(clean, 8)
    assert not np.array_equal(first_mask, other_mask)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("seed", range(4))  # with and without each degradation
@pytest.mark.parametrize("channels", [1, 3])
def test_render_keeps_shape_range_and_the_callers_image(channels, seed):
    clean = photo(96, 80, channels)
    before = clean.copy()
    damaged, mask = render(clean, seed)
    assert damaged.shape == clean.shape and damaged.dtype == np.float32
    assert mask.shape == clean.shape[:2] and mask.dtype == np.float32
    assert damaged.min() >= 0 and damaged.max() <= 1
    assert mask.min() >= 0 and mask.max() <= 1 and mask.max() > 0.25
    np.testing.assert_array_equal(clean, before)


@pytest.mark.parametrize("seed", range(6))
def test_without_degradations_pixels_change_exactly_where_the_mask_is(seed):
    clean = photo(160, 160)
    damaged, mask = render(clean, seed, degradations=False)
    changed = np.abs(damaged - clean).max(axis=2)
    assert not (changed[mask == 0]).any()  # nothing changes outside the mask
    # and the mask covers what is drawn: where it is strong the picture changes clearly
    strong = mask > 0.5
    assert strong.any()
    assert np.mean(changed[strong] > 0.05) > 0.9  # overlaps of white on dark can cancel out


def test_degradations_change_the_whole_picture_on_some_seeds():
    clean = photo()
    outside = [
        np.abs(damaged - clean).max(axis=2)[mask == 0].max()
        for damaged, mask in (render(clean, seed) for seed in range(4))
    ]
    assert max(outside) > 0.01


@pytest.mark.parametrize("width", [1.0, 1.5, 2.0, 3.0, 4.0, 6.0])
@pytest.mark.parametrize("angle", [0.0, 0.5, np.pi / 2])
def test_lines_are_as_wide_as_asked(width, angle):
    canvas = Canvas(np.full((120, 120, 3), 0.5, np.float32))
    direction = np.array([np.cos(angle), np.sin(angle)])
    points = 60.3 + np.outer([-50, 0, 50], direction)  # two segments, one straight line
    draw_stroke(canvas, points, width, np.ones(3, np.float32), 1.0)
    # the drawn area over the line's length is its width (the round caps add π w² / 4)
    area = float(canvas.mask.sum())
    assert area == pytest.approx(100 * width + np.pi * width**2 / 4, rel=0.03)
    # across the middle of the line, the coverage sums to the width
    normal = np.array([-direction[1], direction[0]])
    samples = [60.3 + offset * normal for offset in np.arange(-10, 10.01, 0.05)]
    across = sum(canvas.mask[round(y), round(x)] for x, y in samples) * 0.05
    assert across == pytest.approx(width, abs=0.35)
    np.testing.assert_allclose(canvas.image[canvas.mask == 0], 0.5)


def test_variable_width_strokes_and_opacity():
    canvas = Canvas(np.full((40, 120, 1), 0.5, np.float32))
    points = np.array([[10.0, 20.0], [60.0, 20.0], [110.0, 20.0]])
    draw_stroke(canvas, points, np.array([1.0, 5.0]), np.zeros(1, np.float32), 0.5)
    assert canvas.mask[:, 30].sum() == pytest.approx(0.5 * 1.0, abs=0.05)
    assert canvas.mask[:, 90].sum() == pytest.approx(0.5 * 5.0, abs=0.05)
    assert canvas.mask.max() == pytest.approx(0.5)
    np.testing.assert_allclose(canvas.image[..., 0], 0.5 * (1 - canvas.mask), atol=1e-6)


def test_the_default_level_draws_clearly_visible_damage():
    clean = photo(512, 512)
    visible = [np.mean(render(clean, seed)[1] > 0.25) for seed in range(3)]
    assert all(0.01 < share < 0.25 for share in visible), visible
    mild = np.mean(render(clean, 0, level="mild")[1] > 0.25)
    severe = np.mean(render(clean, 0, level="severe")[1] > 0.25)
    assert mild < severe


def test_bad_level_or_image_is_an_error():
    with pytest.raises(ValueError, match="level"):
        render(photo(), 0, level="moderate")
    with pytest.raises(ValueError, match="H×W"):
        render(photo()[..., 0], 0)
    with pytest.raises(ValueError, match="H×W"):
        render((photo() * 255).astype(np.uint8), 0)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, with ``from a import b`` also read as ``a.b``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _training_files() -> list[Path]:
    files = [*(SRC / "training").rglob("*.py"), SRC / "data.py", *(SRC / "aging").rglob("*.py")]
    assert len(files) > 5
    return files


@pytest.mark.parametrize("path", _training_files(), ids=lambda path: str(path.relative_to(SRC)))
def test_training_never_imports_the_held_out_evaluation(path):
    held_out = {"daguerre.restore.heldout", "daguerre.restore.evaluate"}
    imported = _imports(path)
    assert not imported & held_out, f"{path} imports {imported & held_out}"


def test_the_renderer_is_its_own_code():
    imported = _imports(Path(heldout.__file__))
    assert not [name for name in imported if name.startswith("daguerre")], imported
    assert {"cv2", "numpy"} <= imported
