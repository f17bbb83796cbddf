"""Tests for the structured damage ops in daguerre.aging.damage."""

import cv2
import numpy as np
import pytest

from daguerre.aging import damage
from daguerre.aging.damage import DAMAGES

NAMES = sorted(DAMAGES)


def photo(h: int = 96, w: int = 128, c: int = 3, seed: int = 0) -> np.ndarray:
    """A smooth mid-tone test image with some texture, float32 in [0.15, 0.85]."""
    rng = np.random.default_rng(seed)
    low = rng.random((6, 8, c)).astype(np.float32)
    smooth = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, c)
    return (0.15 + 0.6 * smooth + 0.1 * rng.random((h, w, c))).astype(np.float32)


def changed(image: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.any(out != image, axis=-1)


def test_registry_names_the_six_ops():
    assert set(DAMAGES) == {"scratches", "dust", "cracks", "folds", "stains", "tears"}
    assert DAMAGES["tears"] is damage.tears


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("severity", [0.3, 1.0])
def test_mask_marks_exactly_the_changed_pixels(name, severity):
    image = photo()
    for seed in range(3):
        out, mask = DAMAGES[name](image, np.random.default_rng(seed), severity)
        assert out.shape == image.shape and out.dtype == np.float32
        assert mask.shape == image.shape[:2] and mask.dtype == np.float32
        assert out.min() >= 0.0 and out.max() <= 1.0
        assert mask.min() >= 0.0 and mask.max() <= 1.0
        np.testing.assert_array_equal(changed(image, out), mask > 0)
        np.testing.assert_array_equal(out[mask == 0], image[mask == 0])
        if severity == 1.0:
            assert mask.any(), f"{name} drew nothing at full severity (seed {seed})"


@pytest.mark.parametrize("name", NAMES)
def test_input_is_not_modified(name):
    image = photo()
    before = image.copy()
    DAMAGES[name](image, np.random.default_rng(0), 1.0)
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_damage_and_seeds_differ(name):
    image = photo()
    a, mask_a = DAMAGES[name](image, np.random.default_rng(7), 0.8)
    b, mask_b = DAMAGES[name](image, np.random.default_rng(7), 0.8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(mask_a, mask_b)
    _, mask_c = DAMAGES[name](image, np.random.default_rng(8), 0.8)
    assert not np.array_equal(mask_a, mask_c)


@pytest.mark.parametrize("name", NAMES)
def test_severity_zero_leaves_the_image_alone(name):
    image = photo()
    out, mask = DAMAGES[name](image, np.random.default_rng(0), 0.0, count=5)
    np.testing.assert_array_equal(out, image)
    assert not mask.any()


@pytest.mark.parametrize("name", NAMES)
def test_higher_severity_damages_more_on_average(name):
    image = photo()

    def area(severity: float) -> float:
        masks = [DAMAGES[name](image, np.random.default_rng(s), severity)[1] for s in range(8)]
        return float(np.mean([np.count_nonzero(m) for m in masks]))

    assert area(1.0) > 1.5 * area(0.25)


@pytest.mark.parametrize("name", ["scratches", "dust", "cracks"])
def test_white_damage_brightens_and_dark_damage_darkens(name):
    image = photo()
    fn = DAMAGES[name]
    out, mask = fn(image, np.random.default_rng(1), 1.0, dark_fraction=0.0)
    assert mask.any() and np.all(out >= image) and np.any(out > image)
    out, mask = fn(image, np.random.default_rng(1), 1.0, dark_fraction=1.0)
    assert mask.any() and np.all(out <= image) and np.any(out < image)


def test_scratches_draws_the_requested_count(monkeypatch):
    strokes = []
    real = damage._stroke
    monkeypatch.setattr(damage, "_stroke", lambda *args: strokes.append(1) or real(*args))
    damage.scratches(photo(), np.random.default_rng(0), 0.05, count=3)
    assert len(strokes) == 3


def test_scratch_opacity_caps_the_mask():
    _, mask = damage.scratches(photo(), np.random.default_rng(0), 1.0, opacity=0.4)
    assert 0.2 < mask.max() <= 0.4 + 1 / 255


def test_explicit_zero_counts_draw_nothing():
    image = photo()
    out, mask = damage.dust(image, np.random.default_rng(0), 1.0, count=0, hairs=0)
    np.testing.assert_array_equal(out, image)
    assert not mask.any()


def test_white_stain_tint_is_a_no_op():
    image = photo()
    out, mask = damage.stains(image, np.random.default_rng(0), 1.0, count=3, tint=(1.0, 1.0, 1.0))
    np.testing.assert_array_equal(out, image)
    assert not mask.any()


def test_stains_darken_with_a_brown_cast():
    image = np.full((96, 128, 3), 0.8, np.float32)
    out, mask = damage.stains(image, np.random.default_rng(2), 1.0, count=2)
    stained = out[mask > 0.2]
    assert len(stained) and np.all(stained <= 0.8)
    red, blue = stained[:, 0], stained[:, 2]
    assert np.all(red >= blue)  # brown: blue drops the most


@pytest.mark.parametrize("seed", range(6))
def test_tears_remove_pieces_attached_to_the_border(seed):
    image = photo()
    _, mask = damage.tears(image, np.random.default_rng(seed), 1.0)
    n, labels = cv2.connectedComponents((mask > 0).astype(np.uint8), connectivity=8)
    assert n > 1
    border = np.zeros_like(mask, bool)
    border[[0, -1], :] = border[:, [0, -1]] = True
    touching = set(np.unique(labels[border]).tolist())
    assert set(range(1, n)) <= touching


def test_tears_fill_with_the_requested_colour():
    image = photo()
    out, mask = damage.tears(image, np.random.default_rng(3), 1.0, rim=0, color=(0.1, 0.2, 0.9))
    filled = out[mask == 1.0]
    assert len(filled) > 50
    np.testing.assert_allclose(filled, np.broadcast_to([0.1, 0.2, 0.9], filled.shape), atol=0.04)


@pytest.mark.parametrize("name", NAMES)
def test_gray_in_gray_out(name):
    image = photo(c=1)
    out, mask = DAMAGES[name](image, np.random.default_rng(0), 1.0)
    assert out.shape == image.shape and out.dtype == np.float32
    np.testing.assert_array_equal(changed(image, out), mask > 0)
    assert mask.any()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(1, 1, 3), (3, 3, 1), (8, 2000, 3), (2000, 8, 1)])
def test_tiny_and_elongated_images(name, shape):
    image = np.random.default_rng(0).random(shape).astype(np.float32)
    for seed in range(3):
        out, mask = DAMAGES[name](image, np.random.default_rng(seed), 1.0)
        assert out.shape == image.shape and mask.shape == shape[:2]
        np.testing.assert_array_equal(changed(image, out), mask > 0)
        assert out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_is_rejected(name):
    fn = DAMAGES[name]
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="severity"):
        fn(photo(), rng, 1.5)
    with pytest.raises(ValueError, match="float32"):
        fn(np.zeros((8, 8, 2), np.float32), rng)
    with pytest.raises(ValueError, match="float32"):
        fn(np.zeros((8, 8, 3), np.uint8), rng)
    with pytest.raises(ValueError, match="count"):
        fn(photo(), rng, 0.5, count=-1)
