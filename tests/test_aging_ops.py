"""Each aging op changes a picture the way its docstring claims, for any size and channel count."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from daguerre.aging import ops

SHAPES = [(1, 1, 1), (1, 1, 3), (3, 3, 3), (2, 5, 1), (8, 2000, 3), (2000, 8, 1), (33, 47, 3)]


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _smooth(h: int = 64, w: int = 64, channels: int = 3) -> np.ndarray:
    """A smooth colour picture in [0.2, 0.8] with almost no high frequencies."""
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    planes = [0.5 + 0.3 * np.sin(2.0 * x + k) * np.cos(1.5 * y - k) for k in range(channels)]
    return np.stack(planes, axis=-1).astype(np.float32)


def _texture(h: int = 64, w: int = 64, channels: int = 3, seed: int = 1) -> np.ndarray:
    """Isotropic fine detail: white noise around mid-gray."""
    return (0.5 + 0.2 * _rng(seed).standard_normal((h, w, channels))).clip(0, 1).astype(np.float32)


def _gray(value: float, h: int = 64, w: int = 64, channels: int = 3) -> np.ndarray:
    return np.full((h, w, channels), value, np.float32)


def _laplacian_var(image: np.ndarray) -> float:
    return float(cv2.Laplacian(image, cv2.CV_32F).var())


def _residual_var(image: np.ndarray) -> float:
    """Variance left after removing the smooth content (a 5×5 Gaussian high-pass)."""
    return float(
        (image - cv2.GaussianBlur(image, (5, 5), 1.5)).reshape(image.shape)[4:-4, 4:-4].var()
    )


def _gradient_energy(image: np.ndarray) -> tuple[float, float]:
    """Mean squared differences along x and along y."""
    return float(np.mean(np.diff(image, axis=1) ** 2)), float(np.mean(np.diff(image, axis=0) ** 2))


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2Lab)


# --------------------------------------------------------------------------- contract


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_op_keeps_shape_dtype_and_range_and_leaves_input_alone(name: str, shape: tuple) -> None:
    image = _rng(7).random(shape, dtype=np.float32)
    before = image.copy()
    out = ops.OPS[name](image, _rng(3))
    assert out.shape == shape
    assert out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_op_is_deterministic_for_a_seed_and_varies_across_seeds(name: str) -> None:
    image = _smooth(32, 32)
    first, again = ops.OPS[name](image, _rng(5)), ops.OPS[name](image, _rng(5))
    np.testing.assert_array_equal(first, again)
    others = [ops.OPS[name](image, _rng(seed)) for seed in range(6, 9)]
    assert any(not np.array_equal(first, other) for other in others)


def test_ops_reject_pictures_they_cannot_handle() -> None:
    with pytest.raises(ValueError, match="H×W×1 or H×W×3"):
        ops.fade(np.zeros((4, 4), np.float32), _rng())
    with pytest.raises(ValueError, match="H×W×1 or H×W×3"):
        ops.fade(np.zeros((4, 4, 4), np.float32), _rng())
    with pytest.raises(TypeError, match="float"):
        ops.fade(np.zeros((4, 4, 3), np.uint8), _rng())
    with pytest.raises(ValueError, match="empty"):
        ops.fade(np.zeros((0, 4, 3), np.float32), _rng())
    with pytest.raises(ValueError, match="interpolation"):
        ops.resample(_smooth(), _rng(), down="bogus")


def test_float64_input_comes_back_as_float32() -> None:
    out = ops.gaussian_blur(_smooth().astype(np.float64), _rng())
    assert out.dtype == np.float32


def test_parameters_left_as_none_are_drawn_from_the_module_ranges(monkeypatch) -> None:
    image = _smooth()
    monkeypatch.setattr(ops, "FADE_AMOUNT", (0.0, 0.0))
    monkeypatch.setattr(ops, "FADE_BLACK", (0.0, 0.0))
    np.testing.assert_allclose(ops.fade(image, _rng()), image, atol=1e-6)
    monkeypatch.setattr(ops, "JPEG_QUALITY", (10, 10))
    np.testing.assert_array_equal(ops.jpeg(image, _rng(1)), ops.jpeg(image, _rng(2), quality=10))


# --------------------------------------------------------------------------- tone and colour


def test_fade_lowers_contrast_and_lifts_blacks() -> None:
    image = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64, 1)
    out = ops.fade(image, _rng(), amount=0.3, black=0.1)
    assert out.std() < 0.75 * image.std()
    assert out.min() >= 0.1
    assert out.max() < 1.0


def test_yellowing_raises_b_star_and_keeps_gray_input_gray() -> None:
    image = _smooth()
    before, after = (
        _lab(image)[..., 2].mean(),
        _lab(ops.yellowing(image, _rng(), amount=0.6))[..., 2].mean(),
    )
    assert after > before + 10
    gray = _gray(0.7, channels=1)
    out = ops.yellowing(gray, _rng(), amount=0.6)
    assert out.shape == gray.shape
    assert out.mean() < 0.7  # only the cast's loss of brightness remains


def test_sepia_tones_neutral_pictures_warm_and_keeps_their_brightness() -> None:
    ramp = np.repeat(np.linspace(0.1, 0.8, 64, dtype=np.float32)[None, :, None], 3, axis=2)
    out = ops.sepia(np.repeat(ramp, 8, axis=0), _rng(), amount=1.0)
    r, g, b = out[..., 0], out[..., 1], out[..., 2]
    assert np.all(r >= g) and np.all(g >= b) and (r - b).mean() > 0.1
    lab = _lab(out)
    assert lab[..., 1].mean() > 2 and lab[..., 2].mean() > 10  # warm: a* and b* both positive
    gray = np.repeat(ramp[..., :1], 8, axis=0)
    np.testing.assert_allclose(ops.sepia(gray, _rng(), amount=1.0), gray, atol=2e-3)


def test_dye_fade_shifts_towards_the_faded_dyes_complement() -> None:
    image = _smooth()
    out = ops.dye_fade(image, _rng(), cyan=0.5, magenta=0.0, yellow=0.0)
    assert out[..., 0].mean() > image[..., 0].mean() + 0.05  # cyan gone: more red
    np.testing.assert_allclose(out[..., 1:], image[..., 1:], atol=1e-6)
    out = ops.dye_fade(image, _rng(), cyan=0.0, magenta=0.4, yellow=0.0)
    assert out[..., 1].mean() > image[..., 1].mean() + 0.05  # magenta gone: green cast


def test_dye_fade_leaves_black_and_white_pictures_alone() -> None:
    neutral = np.repeat(_smooth(channels=1), 3, axis=2)
    np.testing.assert_array_equal(ops.dye_fade(neutral, _rng()), neutral)
    np.testing.assert_array_equal(ops.dye_fade(neutral[..., :1], _rng()), neutral[..., :1])


def test_uneven_exposure_is_a_smooth_gain_field() -> None:
    image = _gray(0.4)
    out = ops.uneven_exposure(image, _rng(), stops=0.5)
    assert out.std() > 0.02
    assert _laplacian_var(out) < 0.01 * out.var()  # white noise would give ~20
    np.testing.assert_allclose(out[..., 0], out[..., 2], atol=1e-6)  # same gain on every channel


def test_vignette_darkens_corners_relative_to_the_center() -> None:
    out = ops.vignette(_gray(0.8), _rng(), strength=0.5, power=2.0, shift_x=0.0, shift_y=0.0)
    center = out[28:36, 28:36].mean()
    corners = np.mean(
        [out[:4, :4].mean(), out[:4, -4:].mean(), out[-4:, :4].mean(), out[-4:, -4:].mean()]
    )
    assert center > 0.78
    assert corners < 0.6 * center  # gain 0.5 at the very corner


# --------------------------------------------------------------------------- softness


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("gaussian_blur", {"sigma": 1.5, "ratio": 1.0}),
        ("gaussian_blur", {"sigma": 1.5, "ratio": 0.5, "angle": 30.0}),
        ("defocus_blur", {"radius": 2.5}),
        ("motion_blur", {"length": 7.0, "angle": 45.0}),
        ("resample", {"scale": 0.4}),
    ],
)
def test_softness_ops_remove_high_frequencies(name: str, params: dict) -> None:
    image = _texture()
    out = ops.OPS[name](image, _rng(), **params)
    assert _laplacian_var(out) < 0.35 * _laplacian_var(image)
    assert abs(out.mean() - image.mean()) < 0.02  # blur moves detail, not brightness


@pytest.mark.parametrize("name", ["gaussian_blur", "motion_blur"])
def test_directional_blur_acts_along_its_angle(name: str) -> None:
    image = _texture(channels=1)
    params = {"sigma": 2.0, "ratio": 0.2} if name == "gaussian_blur" else {"length": 9.0}
    along_x = ops.OPS[name](image, _rng(), angle=0.0, **params)
    along_y = ops.OPS[name](image, _rng(), angle=90.0, **params)
    ex, ey = _gradient_energy(along_x)
    assert ex < 0.4 * ey  # smeared horizontally: horizontal differences vanish first
    ex, ey = _gradient_energy(along_y)
    assert ey < 0.4 * ex


def test_isotropic_blur_and_kernels_adapt_to_tiny_pictures() -> None:
    dot = np.zeros((3, 3, 1), np.float32)
    dot[1, 1] = 1.0
    for out in (
        ops.gaussian_blur(dot, _rng(), sigma=5.0, ratio=1.0),
        ops.gaussian_blur(dot, _rng(), sigma=5.0, ratio=0.3, angle=10.0),
        ops.defocus_blur(dot, _rng(), radius=6.0),
        ops.motion_blur(dot, _rng(), length=15.0, angle=20.0),
    ):
        assert out[1, 1, 0] < 1.0 and out.max() <= 1.0 and out.sum() > 0


def test_resample_choices_are_all_usable() -> None:
    image = _texture()
    outs = [
        ops.resample(image, _rng(), scale=0.5, down=down, up=up)
        for down in ops.RESAMPLE_DOWN
        for up in ops.RESAMPLE_UP
    ]
    assert all(_laplacian_var(out) < _laplacian_var(image) for out in outs)
    assert len({out.tobytes() for out in outs}) == len(outs)


# --------------------------------------------------------------------------- noise and grain


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("gaussian_noise", {"sigma": 0.05}),
        ("poisson_noise", {"peak": 100.0}),
        ("speckle_noise", {"sigma": 0.1}),
        ("salt_pepper", {"amount": 0.02}),
        ("film_grain", {"strength": 0.08, "size": 0.6}),
        ("paper_texture", {"strength": 0.08}),
    ],
)
def test_noise_ops_raise_residual_variance_of_a_smooth_picture(name: str, params: dict) -> None:
    image = _smooth()
    out = ops.OPS[name](image, _rng(), **params)
    assert _residual_var(out) > 20 * _residual_var(image) + 1e-5


def test_gaussian_noise_has_the_requested_standard_deviation() -> None:
    out = ops.gaussian_noise(_gray(0.5, 128, 128), _rng(), sigma=0.05, mono=False)
    assert abs(out.mean() - 0.5) < 0.002
    assert abs(out.std() - 0.05) < 0.002
    channels = out.reshape(-1, 3).T
    assert abs(np.corrcoef(channels)[0, 1]) < 0.05  # independent per channel


def test_mono_noise_keeps_black_and_white_pictures_neutral() -> None:
    neutral = np.repeat(_smooth(channels=1), 3, axis=2)
    for name in sorted(ops.MONO_OPS):
        out = ops.OPS[name](neutral, _rng())
        assert ops.is_neutral(out, tol=1e-6), name
    color = ops.gaussian_noise(_smooth(), _rng(), sigma=0.05, mono=False)
    assert not np.allclose(color[..., 0] - _smooth()[..., 0], color[..., 1] - _smooth()[..., 1])


def test_poisson_noise_grows_with_the_signal() -> None:
    dark = ops.poisson_noise(_gray(0.05, 128, 128), _rng(), peak=200.0)
    bright = ops.poisson_noise(_gray(0.8, 128, 128), _rng(), peak=200.0)
    assert bright.std() > 3 * dark.std()
    assert abs(bright.std() - np.sqrt(0.8 / 200.0)) < 0.1 * np.sqrt(0.8 / 200.0)


def test_speckle_noise_is_multiplicative() -> None:
    black = ops.speckle_noise(_gray(0.0), _rng(), sigma=0.2)
    np.testing.assert_array_equal(black, 0.0)
    assert ops.speckle_noise(_gray(0.6), _rng(), sigma=0.2).std() > 0.1


def test_salt_pepper_sets_whole_pixels_to_black_or_white() -> None:
    image = _smooth(128, 128)
    out = ops.salt_pepper(image, _rng(), amount=0.05, salt=0.5)
    changed = np.any(out != image, axis=2)
    assert 0.04 < changed.mean() < 0.06
    hits = out[changed]
    assert np.all((hits == 0.0).all(axis=1) | (hits == 1.0).all(axis=1))
    assert 0.3 < (hits[:, 0] == 1.0).mean() < 0.7


def test_film_grain_is_strongest_in_the_midtones() -> None:
    def grain_std(level: float) -> float:
        image = _gray(level, 128, 128, channels=1)
        return float((ops.film_grain(image, _rng(), strength=0.05, size=1.0) - image).std())

    assert grain_std(0.5) > 2.5 * grain_std(0.03)
    assert grain_std(0.5) > 2.5 * grain_std(0.97)
    assert abs(grain_std(0.5) - 0.05) < 0.01


def test_film_grain_size_makes_larger_clumps() -> None:
    image = _gray(0.5, 128, 128, channels=1)
    fine = ops.film_grain(image, _rng(), strength=0.05, size=0.5) - image
    coarse = ops.film_grain(image, _rng(), strength=0.05, size=2.0) - image
    assert _laplacian_var(coarse) / coarse.var() < 0.25 * _laplacian_var(fine) / fine.var()


def test_color_film_grain_mixes_independent_layers() -> None:
    image = _gray(0.5, 128, 128)
    image[..., 0] = 0.45  # not neutral
    shared = ops.film_grain(image, _rng(), strength=0.05, chroma=0.0) - image
    mixed = ops.film_grain(image, _rng(), strength=0.05, chroma=0.5) - image
    np.testing.assert_allclose(shared[..., 0], shared[..., 1], atol=1e-6)
    assert np.corrcoef(mixed[..., 0].ravel(), mixed[..., 1].ravel())[0, 1] < 0.95


def test_paper_texture_shows_most_in_light_areas() -> None:
    light = ops.paper_texture(_gray(0.9), _rng(), strength=0.05)
    dark = ops.paper_texture(_gray(0.1), _rng(), strength=0.05)
    assert (light - 0.9).std() > 4 * (dark - 0.1).std()


# --------------------------------------------------------------------------- compression and print


def _blockiness(image: np.ndarray) -> float:
    """Mean jump across 8-pixel block borders over the mean jump inside blocks (columns)."""
    jumps = np.abs(np.diff(image.mean(axis=2), axis=1)).mean(axis=0)
    border = jumps[7::8]
    inside = np.delete(jumps, np.s_[7::8])
    return float(border.mean() / inside.mean())


def test_jpeg_creates_8x8_blocks() -> None:
    image = (_smooth(128, 128) + 0.02 * _texture(128, 128)).clip(0, 1).astype(np.float32)
    assert _blockiness(image) < 1.2
    assert _blockiness(ops.jpeg(image, _rng(), quality=10)) > 1.5
    assert np.abs(ops.jpeg(image, _rng(), quality=95) - image).mean() < 0.01


def test_jpeg_keeps_gray_pictures_single_channel() -> None:
    out = ops.jpeg(_smooth(channels=1), _rng(), quality=30)
    assert out.shape == (64, 64, 1)
    assert np.abs(out - _smooth(channels=1)).max() > 0


@pytest.mark.parametrize("channels", [1, 3])
def test_halftone_prints_a_periodic_dot_screen(channels: int) -> None:
    image = _gray(0.5, 64, 64, channels)
    out = ops.halftone(image, _rng(), cell=8.0, angle=0.0, amount=1.0)
    spectrum = np.abs(np.fft.fft2(out[..., 0] - out[..., 0].mean()))
    peak = max(spectrum[0, 8], spectrum[8, 0])  # 64 px / 8 px cells = 8 cycles
    spectrum[0, 0] = 0.0
    assert peak >= 0.99 * spectrum.max()
    assert peak > 20 * np.median(spectrum)
    assert abs(out.mean() - 0.5) < 0.05  # about half the area inked at mid-gray


def test_halftone_dots_grow_with_darkness() -> None:
    light = ops.halftone(_gray(0.85), _rng(), cell=6.0, amount=1.0, mono=True)
    dark = ops.halftone(_gray(0.25), _rng(), cell=6.0, amount=1.0, mono=True)
    assert (light < 0.5).mean() < 0.3 < 0.7 < (dark < 0.5).mean()


def test_is_neutral_and_luminance() -> None:
    neutral = np.repeat(_smooth(channels=1), 3, axis=2)
    assert ops.is_neutral(neutral) and ops.is_neutral(_smooth(channels=1))
    assert not ops.is_neutral(_smooth())
    np.testing.assert_allclose(ops.luminance(neutral), neutral[..., 0], atol=1e-6)
    assert ops.luminance(_smooth()).shape == (64, 64)


def test_small_copy_enlarges_its_noise_and_blocks_with_the_picture() -> None:
    flat = np.full((128, 128, 1), 0.5, np.float32)
    out = ops.small_copy(flat, _rng(), scale=0.25, noise=0.05, quality=95)
    grain = out[..., 0] - out.mean()
    assert grain.std() > 0.01  # the copy's noise is there...
    lag = float(np.mean(grain[:, 1:] * grain[:, :-1]) / grain.var())
    assert lag > 0.6  # ...and spread over the enlarged copy's pixels, not pixel to pixel
    plain = ops.gaussian_noise(flat, _rng(), sigma=0.05)[..., 0] - 0.5
    assert abs(float(np.mean(plain[:, 1:] * plain[:, :-1]) / plain.var())) < 0.1
    # without noise, at high quality, a smooth picture comes back nearly as it was
    smooth = _smooth()
    kept = ops.small_copy(smooth, _rng(), scale=0.5, noise=0.0, quality=100)
    assert np.abs(kept - smooth).mean() < 0.01
