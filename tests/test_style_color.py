"""Colour and tone transfer: statistics reach the style; each function keeps its promises."""

import numpy as np
import pytest

from daguerre.color import lab_to_rgb, rgb_to_lab
from daguerre.style.color import (
    blend,
    histogram_match,
    preserve_colors,
    reinhard_transfer,
    sliced_ot_transfer,
)

TRANSFERS = [reinhard_transfer, histogram_match, sliced_ot_transfer]


def lab_field(
    rng: np.random.Generator, shape: tuple[int, int], mean: tuple, spread: tuple
) -> np.ndarray:
    """An RGB image whose Lab values are smooth-ish Gaussian fields well inside the sRGB gamut."""
    noise = rng.standard_normal((*shape, 3)).astype(np.float32)
    lab = np.asarray(mean, np.float32) + np.asarray(spread, np.float32) * noise
    return lab_to_rgb(lab)


@pytest.fixture
def image() -> np.ndarray:
    return lab_field(np.random.default_rng(1), (48, 64), (45, 8, -6), (6, 4, 3))


@pytest.fixture
def style() -> np.ndarray:
    """A different palette, and a different size from ``image``."""
    return lab_field(np.random.default_rng(2), (30, 40), (60, -5, 15), (9, 3, 5))


def lab_points(rgb: np.ndarray) -> np.ndarray:
    return rgb_to_lab(rgb).reshape(-1, 3).astype(np.float64)


def sliced_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Sliced 2-Wasserstein distance between the Lab colour clouds of two images."""
    rng = np.random.default_rng(123)
    directions = rng.standard_normal((3, 64))
    directions /= np.linalg.norm(directions, axis=0)
    levels = np.linspace(0, 1, 200)
    qa = np.quantile(lab_points(a) @ directions, levels, axis=0)
    qb = np.quantile(lab_points(b) @ directions, levels, axis=0)
    return float(np.sqrt(np.mean((qa - qb) ** 2)))


def ks_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Largest gap between the empirical CDFs of two samples."""
    grid = np.sort(np.concatenate([x, y]))
    cdf_x = np.searchsorted(np.sort(x), grid, side="right") / len(x)
    cdf_y = np.searchsorted(np.sort(y), grid, side="right") / len(y)
    return float(np.max(np.abs(cdf_x - cdf_y)))


def test_reinhard_matches_lab_mean_and_std(image, style):
    out = reinhard_transfer(image, style)
    assert out.shape == image.shape and out.dtype == np.float32
    got, want = lab_points(out), lab_points(style)
    np.testing.assert_allclose(got.mean(axis=0), want.mean(axis=0), atol=0.3)
    np.testing.assert_allclose(got.std(axis=0), want.std(axis=0), rtol=0.03)


def test_histogram_match_makes_channel_cdfs_match(image, style):
    out = histogram_match(image, style)
    got, want, before = lab_points(out), lab_points(style), lab_points(image)
    for channel in range(3):
        assert ks_distance(before[:, channel], want[:, channel]) > 0.5
        assert ks_distance(got[:, channel], want[:, channel]) < 0.03


@pytest.mark.parametrize("regrain", [True, False])
@pytest.mark.parametrize("sample", [1 << 16, 700])
def test_sliced_ot_moves_the_color_cloud_onto_the_style(image, style, regrain, sample):
    out = sliced_ot_transfer(image, style, sample=sample, regrain=regrain)
    assert out.shape == image.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert sliced_distance(out, style) < 0.06 * sliced_distance(image, style)


def test_sliced_ot_transfers_correlations_that_per_channel_matching_cannot():
    """Style: lightness and redness rise together; image: they are opposed."""
    rng = np.random.default_rng(5)
    t = rng.uniform(-1, 1, (40, 40, 1)).astype(np.float32)
    jitter = rng.normal(0, 1, (40, 40, 3)).astype(np.float32)
    style = lab_to_rgb(np.concatenate([50 + 15 * t, 15 * t, 0 * t], axis=2) + jitter)
    image = lab_to_rgb(np.concatenate([50 + 15 * t, -15 * t, 0 * t], axis=2) + jitter)

    def correlation(rgb: np.ndarray) -> float:
        lab = lab_points(rgb)
        return float(np.corrcoef(lab[:, 0], lab[:, 1])[0, 1])

    assert correlation(style) > 0.9 and correlation(image) < -0.9
    assert correlation(histogram_match(image, style)) < -0.9
    assert correlation(sliced_ot_transfer(image, style, regrain=False)) > 0.8


def test_sliced_ot_is_deterministic_for_a_seed(image, style):
    first = sliced_ot_transfer(image, style, seed=3)
    np.testing.assert_array_equal(first, sliced_ot_transfer(image, style, seed=3))
    assert not np.array_equal(first, sliced_ot_transfer(image, style, seed=4))


def test_sliced_ot_rejects_zero_iterations(image, style):
    with pytest.raises(ValueError, match="iterations"):
        sliced_ot_transfer(image, style, iterations=0)


@pytest.mark.parametrize("transfer", TRANSFERS)
def test_gray_image_stays_gray_and_takes_the_style_lightness(transfer, image, style):
    gray = image.mean(axis=2, keepdims=True)
    out = transfer(gray, style)
    assert out.shape == gray.shape and out.dtype == np.float32
    got, want = rgb_to_lab(out)[..., 0].ravel(), lab_points(style)[:, 0]
    assert abs(got.mean() - want.mean()) < 1.0
    assert abs(got.std() - want.std()) < 0.1 * want.std()


@pytest.mark.parametrize("transfer", TRANSFERS)
def test_gray_style_makes_an_rgb_image_neutral(transfer, image, style):
    out = transfer(image, style.mean(axis=2, keepdims=True))
    assert out.shape == image.shape
    assert np.abs(lab_points(image)[:, 1:]).mean() > 5.0
    assert np.abs(lab_points(out)[:, 1:]).mean() < 1.0


@pytest.mark.parametrize("transfer", TRANSFERS)
def test_flat_image_becomes_one_color_of_the_style(transfer, style):
    flat = np.full((16, 16, 3), 0.4, np.float32)
    out = transfer(flat, style)
    assert np.isfinite(out).all()
    assert np.ptp(out.reshape(-1, 3), axis=0).max() < 1e-4
    assert np.abs(lab_points(out)[0] - lab_points(style).mean(axis=0)).max() < 6.0


@pytest.mark.parametrize("transfer", TRANSFERS)
def test_transfers_reject_arrays_that_are_not_images(transfer, image):
    with pytest.raises(ValueError, match="style must be an H×W×C array"):
        transfer(image, image[..., 0])
    with pytest.raises(ValueError, match="image must be an H×W×C array"):
        transfer(image[..., :2], image)


def test_preserve_colors_takes_chroma_from_original_and_lightness_from_stylized(image):
    stylized = lab_field(np.random.default_rng(7), image.shape[:2], (55, -10, 12), (5, 3, 3))
    out = preserve_colors(stylized, image)
    got, original, styled = lab_points(out), lab_points(image), lab_points(stylized)
    np.testing.assert_allclose(got[:, 1:], original[:, 1:], atol=0.5)
    np.testing.assert_allclose(got[:, 0], styled[:, 0], atol=0.5)


def test_preserve_colors_with_gray_inputs(image):
    stylized = lab_field(np.random.default_rng(7), image.shape[:2], (55, -10, 12), (5, 3, 3))
    gray = image.mean(axis=2, keepdims=True)
    as_gray = preserve_colors(stylized, gray)
    assert as_gray.shape == gray.shape
    np.testing.assert_allclose(rgb_to_lab(as_gray)[..., 0], rgb_to_lab(stylized)[..., 0], atol=0.5)
    colored = preserve_colors(stylized.mean(axis=2, keepdims=True), image)
    assert colored.shape == image.shape
    np.testing.assert_allclose(lab_points(colored)[:, 1:], lab_points(image)[:, 1:], atol=0.5)


def test_preserve_colors_rejects_different_sizes(image, style):
    with pytest.raises(ValueError, match="same height and width"):
        preserve_colors(style, image)


def test_blend_end_points_are_exact_and_middle_is_half_way_in_lab(image):
    stylized = lab_field(np.random.default_rng(8), image.shape[:2], (50, 12, 10), (6, 3, 3))
    assert np.array_equal(blend(image, stylized, 0.0), image)
    assert np.array_equal(blend(image, stylized, 1.0), stylized)
    half = lab_points(blend(image, stylized, 0.5))
    np.testing.assert_allclose(half, (lab_points(image) + lab_points(stylized)) / 2, atol=0.5)


def test_blend_gray_stays_gray(image):
    gray = image.mean(axis=2, keepdims=True)
    out = blend(gray, 1.0 - gray, 0.25)
    assert out.shape == gray.shape
    # OpenCV's float Lab round trip is accurate to about 0.005.
    assert (out > np.minimum(gray, 1 - gray) - 0.005).all()
    assert (out < np.maximum(gray, 1 - gray) + 0.005).all()
    lightness = rgb_to_lab(out)[..., 0]
    expected = 0.75 * rgb_to_lab(gray)[..., 0] + 0.25 * rgb_to_lab(1 - gray)[..., 0]
    np.testing.assert_allclose(lightness, expected, atol=0.5)


@pytest.mark.parametrize("strength", [-0.1, 1.5])
def test_blend_rejects_strength_outside_unit_interval(image, strength):
    with pytest.raises(ValueError, match="strength"):
        blend(image, image, strength)


def test_blend_takes_a_strength_map_pixel_by_pixel(image):
    stylized = 1.0 - image
    weights = np.zeros((*image.shape[:2], 1), np.float32)
    weights[:, image.shape[1] // 2 :] = 1.0
    mixed = blend(image, stylized, weights)
    half = image.shape[1] // 2
    np.testing.assert_array_equal(mixed[:, :half], image[:, :half])
    np.testing.assert_array_equal(mixed[:, half:], stylized[:, half:])
    weights[:, :half] = 0.5
    halfway = blend(image, stylized, weights)[:, :half]
    np.testing.assert_allclose(halfway, blend(image, stylized, 0.5)[:, :half], atol=1e-5)
    with pytest.raises(ValueError, match="H×W×1"):
        blend(image, stylized, weights[:-1])
    with pytest.raises(ValueError, match="strength"):
        blend(image, stylized, weights + 0.5)


def test_blend_rejects_shape_mismatch(image):
    with pytest.raises(ValueError, match="shapes differ"):
        blend(image, image.mean(axis=2, keepdims=True), 0.5)


def test_histogram_match_sends_each_flat_color_to_the_mean_of_its_share_of_the_style(style):
    """Ties: each of two flat halves takes the mean of its half of every style channel."""
    lab = np.zeros((20, 20, 3), np.float32)
    lab[:, :10] = (40, 5, -5)
    lab[:, 10:] = (60, 15, 10)  # brighter, redder and yellower than the left half
    out = lab_points(histogram_match(lab_to_rgb(lab), style)).reshape(20, 20, 3)
    want = np.sort(lab_points(style), axis=0)
    half = len(want) // 2
    np.testing.assert_allclose(out[:, :10].mean(axis=(0, 1)), want[:half].mean(axis=0), atol=1.0)
    np.testing.assert_allclose(out[:, 10:].mean(axis=(0, 1)), want[half:].mean(axis=0), atol=1.0)
    assert np.ptp(out[:, :10], axis=(0, 1)).max() < 0.5  # each half stays flat


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 9, 3), (3, 1, 1)])
@pytest.mark.parametrize("transfer", TRANSFERS)
def test_transfers_handle_tiny_images(transfer, shape, style):
    tiny = np.random.default_rng(4).random(shape).astype(np.float32)
    out = transfer(tiny, style)
    assert out.shape == shape and np.isfinite(out).all()
