"""Tests for the structured damage ops in daguerre.aging.damage."""

import cv2
import numpy as np
import pytest

from daguerre.aging import damage
from daguerre.aging.damage import DAMAGES

NAMES = sorted(DAMAGES)
BOLD = ["bold_scratches", "flakes", "hairs", "craquelure"]  # the bold kinds


def photo(h: int = 96, w: int = 128, c: int = 3, seed: int = 0) -> np.ndarray:
    """A smooth mid-tone test image with some texture, float32 in [0.15, 0.85]."""
    rng = np.random.default_rng(seed)
    low = rng.random((6, 8, c)).astype(np.float32)
    smooth = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, c)
    return (0.15 + 0.6 * smooth + 0.1 * rng.random((h, w, c))).astype(np.float32)


def changed(image: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.any(out != image, axis=-1)


def test_registry_names_the_ten_ops():
    assert set(DAMAGES) == {"scratches", "dust", "cracks", "folds", "stains", "tears"} | set(BOLD)
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


def test_tears_fill_with_the_requested_color():
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


# --------------------------------------------------------------------------- bold damage


def flat(value: float, size: int = 512, c: int = 3) -> np.ndarray:
    return np.full((size, size, c), value, np.float32)


def band_width(region: np.ndarray) -> float:
    """Width in px of the widest band of ``region`` (twice its largest inner distance)."""
    inside = np.pad(region.astype(np.uint8), 1)
    return 2.0 * float(cv2.distanceTransform(inside, cv2.DIST_L2, 5).max())


@pytest.mark.parametrize("name", BOLD)
@pytest.mark.parametrize("c", [1, 3])
@pytest.mark.parametrize("size", [(64, 80), (300, 420)])
def test_bold_kinds_at_two_resolutions_gray_and_rgb(name, c, size):
    image = photo(*size, c=c)
    for seed in range(3):
        out, mask = DAMAGES[name](image, np.random.default_rng(seed), 1.0)
        assert out.shape == image.shape and out.dtype == np.float32
        assert mask.min() >= 0.0 and mask.max() <= 1.0 and mask.any()
        np.testing.assert_array_equal(changed(image, out), mask > 0)
        again, mask_again = DAMAGES[name](image, np.random.default_rng(seed), 1.0)
        np.testing.assert_array_equal(out, again)
        np.testing.assert_array_equal(mask, mask_again)


@pytest.mark.parametrize(("size", "width"), [(512, 6.0), (256, 12.0)])
def test_a_wide_opaque_bold_scratch_is_a_solid_band(size, width):
    plain = {"count": 1, "width": width, "opacity": 1.0, "bundle_fraction": 0.0, "dark_fraction": 0}
    for seed in range(4):
        rng = np.random.default_rng(seed)
        image = flat(0.3, size)
        out, mask = damage.bold_scratches(image, rng, 1.0, halo_fraction=0.0, **plain)
        solid = mask == 1.0
        assert band_width(solid) >= 5.0  # 6 px at 512² (and 12 px of 512² at 256²)
        assert band_width(mask > 0) <= 11.0  # no wider than 6 px plus antialiasing
        assert np.all(out[solid] >= min(damage.BOLD_WHITE[0]) - 1e-6)  # paper white


def test_bold_scratches_draw_white_on_dark_and_black_on_light():
    for seed in range(3):
        out, mask = damage.bold_scratches(
            flat(0.05), np.random.default_rng(seed), 1.0, opacity=1.0, dark_fraction=0.0
        )
        assert out[mask == 1.0].min() >= 0.85
        out, mask = damage.bold_scratches(
            flat(0.95), np.random.default_rng(seed), 1.0, opacity=1.0, dark_fraction=1.0
        )
        assert out[mask == 1.0].max() <= 0.15


def test_bold_scratch_widths_and_opacities_span_their_ranges():
    image = photo(256, 256)
    widths, peaks = [], []
    for seed in range(24):
        _, mask = damage.bold_scratches(
            image, np.random.default_rng(seed), 1.0, count=1, halo_fraction=0.0, bundle_fraction=0
        )
        widths.append(band_width(mask >= mask.max() - 1 / 255))
        peaks.append(mask.max())
    assert min(widths) <= 2.5 and max(widths) >= 4.5  # 1 to 6 px at 256²
    assert max(widths) <= 8.0
    assert min(peaks) >= 0.6 - 1 / 255 and max(peaks) == 1.0
    assert sum(p == 1.0 for p in peaks) < len(peaks)  # some blended


def test_blended_bold_scratches_keep_their_opacity():
    _, mask = damage.bold_scratches(photo(), np.random.default_rng(0), 1.0, opacity=0.6)
    assert 0.5 < mask.max() <= 0.6 + 1 / 255


def test_bold_scratch_bundles_run_in_parallel():
    _, alone = damage.bold_scratches(
        flat(0.5), np.random.default_rng(3), 1.0, count=1, width=3.0, bundle_fraction=0.0
    )
    _, bundle = damage.bold_scratches(
        flat(0.5), np.random.default_rng(3), 1.0, count=1, width=3.0, bundle_fraction=1.0
    )
    n_alone = cv2.connectedComponents((alone > 0.25).astype(np.uint8))[0] - 1
    n_bundle = cv2.connectedComponents((bundle > 0.25).astype(np.uint8))[0] - 1
    assert n_alone == 1 and n_bundle >= 2


def test_halos_are_faint():
    one = {"count": 1, "bundle_fraction": 0.0}
    _, plain = damage.bold_scratches(
        flat(0.5), np.random.default_rng(5), 1.0, halo_fraction=0, **one
    )
    _, haloed = damage.bold_scratches(
        flat(0.5), np.random.default_rng(5), 1.0, halo_fraction=1, **one
    )
    assert np.count_nonzero(haloed) > 1.5 * np.count_nonzero(plain)
    halo = (haloed > 0) & (plain == 0)
    assert haloed[halo].max() <= 0.25 + 1 / 255  # below what the detector is asked to find


@pytest.mark.parametrize(("dark", "low", "high"), [(0.0, 0.8, 1.0), (1.0, 0.0, 0.25)])
def test_flakes_show_paper_or_card(dark, low, high):
    image = photo(256, 256)
    out, mask = damage.flakes(image, np.random.default_rng(1), 1.0, opacity=1.0, dark_fraction=dark)
    shown = out[mask == 1.0]
    assert len(shown) > 30 and low <= shown.min() and shown.max() <= high


def test_flake_sizes_follow_the_size_parameter():
    image = flat(0.4, 512)
    spans = {}
    for size in (6.0, 40.0):
        _, mask = damage.flakes(image, np.random.default_rng(2), 1.0, size=size, crack_fraction=0)
        _, _, stats, _ = cv2.connectedComponentsWithStats((mask > 0.5).astype(np.uint8))
        spans[size] = np.median(np.maximum(stats[1:, 2], stats[1:, 3]))
        assert spans[size] <= 1.8 * 1.1 * size + 3  # longest side: aspect × ragged radius
    assert spans[6.0] >= 3 and spans[40.0] >= 4 * spans[6.0]


@pytest.mark.parametrize(("width", "widest"), [(1.4, 3.5), (4.0, 6.0)])
def test_hairs_are_thin_and_keep_their_opacity(width, widest):
    image = flat(0.5, 512)
    for seed in range(3):
        _, mask = damage.hairs(image, np.random.default_rng(seed), 1.0, width=width, opacity=0.7)
        assert mask.any() and mask.max() <= 0.7 + 1 / 255
        assert band_width(mask > 0.5) <= widest


def test_default_hairs_are_half_to_fully_opaque():
    peaks = [
        damage.hairs(flat(0.5, 512), np.random.default_rng(s), 1.0, width=3.0)[1].max()
        for s in range(10)
    ]
    assert min(peaks) >= 0.5 - 1 / 255 and max(peaks) <= 1.0 and max(peaks) > 0.8


def test_hairs_are_long_and_curved():
    _, mask = damage.hairs(flat(0.5, 512), np.random.default_rng(4), 1.0, count=1, length=0.5)
    ys, xs = np.nonzero(mask > 0.25)
    assert np.count_nonzero(mask > 0.25) > 150  # a long curve...
    assert np.ptp(xs) + np.ptp(ys) < 1.4 * np.count_nonzero(mask > 0.25)  # ...that bends


def test_branching_craquelure_is_opaque_and_changes_width():
    for seed in range(3):
        _, mask = damage.craquelure(
            flat(0.3, 512),
            np.random.default_rng(seed),
            1.0,
            count=1,
            width=10.0,
            opacity=1.0,
            network_fraction=0.0,
            dark_fraction=0.0,
        )
        solid = mask == 1.0
        assert band_width(solid) >= 6.0  # wide where it opens...
        inner = cv2.distanceTransform(np.pad(solid.astype(np.uint8), 1), cv2.DIST_L2, 5)
        ridge = inner[(inner > 0) & (inner >= cv2.dilate(inner, np.ones((3, 3))))]
        assert np.percentile(ridge, 90) >= 1.3 * np.percentile(ridge, 10)  # ...narrow elsewhere


def test_craquelure_networks_cover_a_region_with_thin_lines():
    for seed in range(4):
        _, mask = damage.craquelure(
            flat(0.5, 512),
            np.random.default_rng(seed),
            1.0,
            count=1,
            width=10.0,
            cell=16.0,
            network_fraction=1.0,
        )
        ys, xs = np.nonzero(mask > 0.25)
        assert max(np.ptp(ys), np.ptp(xs)) >= 100
        box = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] > 0.25
        rows, cols = box.shape[0] // 32, box.shape[1] // 32
        blocks = box[: rows * 32, : cols * 32].reshape(rows, 32, cols, 32).any(axis=(1, 3))
        assert blocks.mean() >= 0.75  # lines everywhere in the region
        assert band_width(mask > 0.5) <= 8.0  # 2-px lines (a cell / 8), not 10 px


def test_tears_take_corner_and_color_choices():
    image = photo()
    for seed in range(4):
        out, mask = damage.tears(
            image,
            np.random.default_rng(seed),
            1.0,
            count=1,
            rim=0,
            corner_fraction=1.0,
            dark_fraction=1.0,
        )
        corners = mask[[0, 0, -1, -1], [0, -1, 0, -1]]
        assert np.count_nonzero(corners == 1.0) >= 1  # a corner is gone
        assert out[mask == 1.0].max() <= 0.3  # dark card
