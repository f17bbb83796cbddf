"""Restoration: the pipeline with tiny hand-set models, the classical baseline, finishing, eval.

The models are passed to the pipeline in memory (``RestoreOptions.models``); the CLI tests
export the same nets to a folder with ``daguerre.hub``:

* ``restore-damage`` is a "bright pixel" detector: its logit is ``40 * R - 20``, so damage is
  exactly where the red channel exceeds 0.5 (the test photos stay darker than that);
* ``restore-inpaint`` paints every pixel in the constant colour :data:`FILL`;
* ``restore-enhance`` is a residual U-Net: the identity as built, or random weights.

All three values are exact in float16, so the results can be compared exactly.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from daguerre import hub, metrics
from daguerre import image as imageio
from daguerre.aging import PRESETS
from daguerre.aging.damage import VISIBLE_OPACITY
from daguerre.nets import TonedUNet, UNet
from daguerre.restore import (
    RestoreOptions,
    RestorePipeline,
    RestoreResult,
    classical,
    heldout,
    restore,
)
from daguerre.restore import pipeline as pipeline_module
from daguerre.restore.classical import (
    classical_restore,
    denoise_nlmeans,
    detect_defects,
    inpaint_telea,
)
from daguerre.restore.evaluate import (
    EVERY_PRESET,
    Evaluation,
    aged_samples,
    evaluate,
    evaluate_every,
    resolve_preset,
    write_sheet,
)
from daguerre.restore.finish import (
    LEVELS_MAX_GAIN,
    WHITE_BALANCE_MAX_GAIN,
    auto_levels,
    finish,
    sharpen,
    white_balance,
)
from daguerre.restore.stages import hole_windows

FILL = (0.75, 0.25, 0.5)


# ----------------------------------------------------------------------------- tiny models


def _tiny(in_channels: int, out_channels: int, **kwargs: object) -> UNet:
    return UNet(in_channels, out_channels, base_channels=4, norm="none", **kwargs)


def bright_detector() -> UNet:
    """Logit ``40 * R - 20``: the stem copies the red channel, the head scales and shifts it."""
    net = _tiny(3, 1, depth=0)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.zero_()
        net.stem[0].weight[0, 0, 1, 1] = 1.0
        net.head.weight[0, 0] = 40.0
        net.head.bias[0] = -20.0
    return net


def constant_painter() -> UNet:
    """Outputs :data:`FILL` everywhere, whatever the input."""
    net = _tiny(4, 3, depth=0)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.zero_()
        net.head.bias.copy_(torch.tensor(FILL))
    return net


def enhancer(seed: int | None = None, depth: int = 0) -> UNet:
    """A residual U-Net: the identity when ``seed`` is None, else seeded random weights."""
    net = _tiny(3, 3, depth=depth, residual=True)
    if seed is not None:
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for parameter in net.parameters():
                parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))
    return net


def export(directory: Path, **models: torch.nn.Module) -> Path:
    """Export ``damage=…, inpaint=…, enhance=…`` as ``restore-<key>`` models into ``directory``."""
    for key, net in models.items():
        hub.export(net, f"restore-{key}", {"task": key}, directory=directory)
    return directory


@pytest.fixture(scope="module")
def weights() -> dict[str, torch.nn.Module]:
    """Detector, painter and the identity enhancer."""
    return models(damage=bright_detector(), inpaint=constant_painter(), enhance=enhancer())


@pytest.fixture(scope="module")
def random_weights() -> dict[str, torch.nn.Module]:
    """Detector, painter and a random depth-2 enhancer (changes every pixel, mixes colours)."""
    return models(
        damage=bright_detector(), inpaint=constant_painter(), enhance=enhancer(seed=1, depth=2)
    )


def models(**nets: torch.nn.Module) -> dict[str, torch.nn.Module]:
    """``damage=…, inpaint=…, enhance=…`` as the pipeline's ``models`` option."""
    return {f"restore-{key}": net for key, net in nets.items()}


# ----------------------------------------------------------------------------- test photos


def smooth_photo(height: int, width: int, channels: int = 3, top: float = 0.45) -> np.ndarray:
    """A smooth colour (or gray) scene with values in [0.1, ``top``]."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 0.5 + 0.5 * np.sin(x / 7.0) * np.cos(y / 9.0)
    planes = [base, 1.0 - base, 0.5 + 0.5 * np.sin((x + y) / 11.0)][:channels]
    photo = 0.1 + (top - 0.1) * np.stack(planes, axis=-1)
    return photo.astype(np.float32)


def noisy(photo: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(photo + rng.normal(0.0, sigma, photo.shape), 0, 1).astype(np.float32)


# ----------------------------------------------------------------------------- the pipeline


@pytest.mark.parametrize("shape", [(40, 48, 3), (40, 48, 1), (16, 16, 3), (13, 11, 1)], ids=str)
def test_output_has_the_input_shape_dtype_and_range(random_weights, shape):
    photo = smooth_photo(*shape)
    photo[5, :] = 1.0  # a scratch for the detector
    result = RestorePipeline(models=random_weights)(photo)
    assert result.image.shape == shape
    assert result.image.dtype == np.float32
    assert result.image.min() >= 0.0 and result.image.max() <= 1.0
    assert result.mask is not None and result.mask.shape == shape[:2]
    assert not np.allclose(result.image, photo, atol=0.01)  # the random enhancer did run


def test_black_and_white_scan_stays_neutral(random_weights):
    pipeline = RestorePipeline(models=random_weights)
    gray = smooth_photo(32, 40, 1)
    restored = pipeline(np.repeat(gray, 3, axis=2)).image
    np.testing.assert_array_equal(restored[..., 0], restored[..., 1])
    np.testing.assert_array_equal(restored[..., 0], restored[..., 2])
    # ...whereas a colour photo keeps its colour through the same network
    colored = pipeline(smooth_photo(32, 40, 3)).image
    assert np.abs(colored[..., 0] - colored[..., 2]).max() > 0.05


def test_a_sepia_print_comes_back_neutral(random_weights):
    gray = smooth_photo(32, 40, 1)
    sepia = np.clip(gray * np.array([1.07, 0.95, 0.78], np.float32), 0.0, 1.0)
    restored = RestorePipeline(models=random_weights)(sepia).image
    np.testing.assert_array_equal(restored[..., 0], restored[..., 2])


def test_the_caller_decides_whether_a_photo_comes_back_neutral(random_weights):
    gray = smooth_photo(32, 40, 1)
    sepia = np.clip(gray * np.array([1.07, 0.95, 0.78], np.float32), 0.0, 1.0)
    kept = RestorePipeline(models=random_weights, monochrome=False)(sepia).image
    assert np.abs(kept[..., 0] - kept[..., 2]).max() > 0.05
    neutral = RestorePipeline(models=random_weights, monochrome=True)
    colored = neutral(smooth_photo(32, 40, 3)).image
    np.testing.assert_array_equal(colored[..., 0], colored[..., 2])
    one_channel = RestorePipeline(models=random_weights, monochrome=False)(gray).image
    assert one_channel.shape == gray.shape


def test_user_mask_of_the_wrong_size_is_rejected(weights):
    pipeline = RestorePipeline(models=weights, mask=np.zeros((10, 12), np.float32))
    with pytest.raises(ValueError, match="12×10"):
        pipeline(smooth_photo(20, 24))


@pytest.mark.parametrize("channels", [1, 3])
def test_with_every_stage_off_the_pipeline_is_the_identity(tmp_path, channels):
    photo = smooth_photo(24, 32, channels)
    # tmp_path holds no model: nothing may be loaded when nothing runs
    pipeline = RestorePipeline(weights_dir=tmp_path, detect_damage=False, enhance=False)
    assert pipeline.stages() == []
    result = pipeline(photo)
    np.testing.assert_allclose(result.image, photo, atol=1e-6)
    assert result.mask is None


def test_only_the_models_of_enabled_stages_are_loaded(tmp_path, monkeypatch):
    loaded: list[str] = []
    monkeypatch.setattr(hub, "load", lambda name, **kwargs: loaded.append(name))
    photo = smooth_photo(24, 32)
    models = {"restore-enhance": enhancer()}
    enhanced = RestorePipeline(models=models, detect_damage=False)(photo)
    np.testing.assert_array_equal(enhanced.image, photo)  # the identity enhancer
    assert loaded == []


def test_models_are_networks_paths_or_found_in_weights_dir_else_bundled(tmp_path, monkeypatch):
    export(tmp_path / "mine", enhance=enhancer())
    painter = export(tmp_path / "painter", inpaint=constant_painter())
    real_load = hub.load
    loaded: dict[str, Path] = {}

    def recording_load(name, **kwargs):
        loaded[Path(name).name] = Path(kwargs["directory"])
        return real_load(name, **kwargs)

    monkeypatch.setattr(hub, "load", recording_load)
    monkeypatch.setattr(hub, "WEIGHTS_DIR", tmp_path / "painter")  # stands for the bundled set
    photo = smooth_photo(24, 32)
    photo[4, :] = 1.0
    detector = bright_detector()
    pipeline = RestorePipeline(
        models={"restore-damage": detector},
        weights_dir=tmp_path / "mine",  # holds only the enhancer
        max_hole=1.0,
        classical_fill_width=0,
    )
    result = pipeline(photo)
    assert loaded == {"restore-enhance": tmp_path / "mine", "restore-inpaint": painter}
    assert pipeline._models["restore-damage"] is detector  # the caller's network, not a copy
    np.testing.assert_array_equal(result.image[4, 5], FILL)
    path = export(tmp_path / "other", enhance=enhancer(seed=2)) / "restore-enhance.safetensors"
    by_path = RestorePipeline(models={"restore-enhance": path}, detect_damage=False)(photo)
    assert not np.allclose(by_path.image, photo, atol=0.01)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mask_threshold", 1.5),
        ("mask_threshold", -0.1),
        ("max_hole", -1),
        ("tile", 8),
        ("memory_budget_mb", 0),
        ("classical_fill_width", -1),
        ("monochrome", "yes"),
        ("mask", np.zeros(5, np.float32)),
        ("models", {"restore-colour": enhancer()}),
        ("models", {"restore-enhance": 3}),
    ],
)
def test_out_of_range_options_are_refused_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        RestoreOptions(**{field: value})
    with pytest.raises(ValueError, match=field):  # overrides are checked too
        RestorePipeline(**{field: value})


def test_a_mask_of_the_wrong_shape_is_refused_before_any_stage_runs(monkeypatch):
    monkeypatch.setattr(hub, "load", lambda *args, **kwargs: pytest.fail("a model was loaded"))
    pipeline = RestorePipeline(mask=np.zeros((10, 12), np.float32), enhance=True)
    with pytest.raises(ValueError, match="mask is 12×10, image is 24×20"):
        pipeline(smooth_photo(20, 24))


def test_stages_run_in_the_order_of_the_one_registry(monkeypatch):
    from daguerre.restore import stages
    from daguerre.restore.context import StageSpec

    names = ["detect", "inpaint", "enhance", "faces", "finish", "upscale"]
    assert [stage.name for stage in stages.STAGES] == names
    extra = StageSpec("invert", lambda image, ctx: np.subtract(1.0, image), lambda o: True)
    monkeypatch.setattr(stages, "STAGES", (*stages.STAGES, extra))
    monkeypatch.setattr(pipeline_module, "STAGES", stages.STAGES)
    pipeline = RestorePipeline(detect_damage=False, enhance=False)
    assert [name for name, _ in pipeline.stages()] == ["invert"]
    photo = smooth_photo(8, 8)
    np.testing.assert_allclose(pipeline(photo).image, 1.0 - photo, atol=1e-6)


def test_the_stages_and_the_shared_types_never_import_the_pipeline():
    import ast

    folder = Path(pipeline_module.__file__).parent
    for module, others in (("stages", {"pipeline"}), ("context", {"pipeline", "stages"})):
        tree = ast.parse((folder / f"{module}.py").read_text())
        imported = {
            part
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for part in (node.module or "").split(".") + [alias.name for alias in node.names]
        }
        assert not imported & others, (module, imported & others)


def test_inpainting_changes_only_the_grown_mask(weights):
    photo = smooth_photo(32, 40)
    mask = np.zeros((32, 40), np.float32)
    mask[10, 12] = 1.0
    mask[20:22, 30:33] = 0.9
    mask[5, 5] = 0.4  # below the threshold: not filled
    result = RestorePipeline(models=weights, enhance=False, mask=mask, classical_fill_width=0)(
        photo
    )
    holes = cv2.dilate((mask > 0.5).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert holes.sum() == 9 + 4 * 5
    np.testing.assert_array_equal(result.image[~holes], photo[~holes])
    np.testing.assert_array_equal(result.image[holes], np.broadcast_to(FILL, (holes.sum(), 3)))
    np.testing.assert_array_equal(result.mask, mask)


def test_detected_damage_is_filled_and_the_rest_kept(weights):
    photo = smooth_photo(32, 40)
    photo[12, 3:37] = 1.0  # a 1-px white scratch (2.7 % of this tiny picture)
    result = RestorePipeline(models=weights, max_hole=1.0, classical_fill_width=0)(photo)
    scratch = np.zeros((32, 40), bool)
    scratch[12, 3:37] = True
    np.testing.assert_array_equal(result.mask > 0.5, scratch)
    assert result.mask[~scratch].max() < 0.2  # the photo stays below R = 0.45 (logit -2)
    filled = cv2.dilate(scratch.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    np.testing.assert_array_equal(result.image[~filled], photo[~filled])
    np.testing.assert_array_equal(result.image[filled], np.broadcast_to(FILL, (filled.sum(), 3)))


def test_tiled_and_untiled_runs_agree():
    # a depth-0 U-Net sees 1 px around each pixel, well inside the tiles' discarded margin
    photo = smooth_photo(150, 140)
    tiles: list[int] = []
    options = {"models": {"restore-enhance": enhancer(seed=3, depth=0)}, "detect_damage": False}
    tiled = RestorePipeline(tile=64, **options)(
        photo, lambda _stage, _done, total: tiles.append(total)
    )
    whole = RestorePipeline(tile=None, **options)(photo)
    assert max(tiles) > 1
    assert not np.allclose(whole.image, photo, atol=0.01)
    np.testing.assert_allclose(tiled.image, whole.image, atol=1e-5)


def test_progress_names_the_stages_in_order(weights):
    photo = smooth_photo(24, 32)
    photo[4, :] = 1.0
    calls: list[tuple[str, int, int]] = []
    RestorePipeline(models=weights, finish=True)(photo, lambda *call: calls.append(call))
    order = list(dict.fromkeys(stage for stage, _, _ in calls))
    assert order == ["detect", "inpaint", "enhance", "finish"]
    for stage in order:
        assert (stage, 1, 1) in calls
    assert all(1 <= done <= total for _, done, total in calls)


def test_each_model_is_loaded_once_per_pipeline(weights, tmp_path, monkeypatch):
    folder = export(
        tmp_path, **{name.removeprefix("restore-"): net for name, net in weights.items()}
    )
    loaded: list[str] = []
    real_load = hub.load

    def counting_load(name, **kwargs):
        loaded.append(name)
        return real_load(name, **kwargs)

    monkeypatch.setattr(hub, "load", counting_load)
    pipeline = RestorePipeline(weights_dir=folder, max_hole=1.0, classical_fill_width=0)
    photo = smooth_photo(24, 32)
    photo[4, :] = 1.0
    pipeline(photo)
    pipeline(photo)
    assert sorted(loaded) == ["restore-damage", "restore-enhance", "restore-inpaint"]


def test_overrides_leave_the_callers_options_alone(weights):
    options = RestoreOptions(models=weights)
    pipeline = RestorePipeline(options, enhance=False, tile=64)
    assert (pipeline.options.enhance, pipeline.options.tile) == (False, 64)
    assert (options.enhance, options.tile) == (True, None)
    with pytest.raises(TypeError, match="tiles"):
        RestorePipeline(options, tiles=64)


def test_restore_function_takes_options_as_keywords(weights):
    photo = smooth_photo(24, 32)
    mask = np.zeros((24, 32), np.float32)
    mask[8, 8] = 1.0
    restored = restore(photo, models=weights, mask=mask, classical_fill_width=0)
    assert restored.shape == photo.shape
    np.testing.assert_array_equal(restored[8, 8], FILL)
    np.testing.assert_array_equal(restored[0, 0], photo[0, 0])


# ----------------------------------------------------------------------------- classical


def _line_photo(value: float) -> tuple[np.ndarray, np.ndarray]:
    photo = smooth_photo(64, 64, top=0.7)
    line = np.zeros((64, 64), bool)
    rows = (8 + 0.7 * np.arange(64)).astype(int)  # a slanted 1-px line
    line[rows, np.arange(64)] = True
    photo[line] = value
    return photo, line


@pytest.mark.parametrize("value", [1.0, 0.0], ids=["white", "black"])
def test_detect_defects_finds_a_thin_line_with_few_false_alarms(value):
    photo, line = _line_photo(value)
    found = detect_defects(photo) > 0.5
    assert found[line].mean() > 0.95
    near = cv2.dilate(line.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert found[~near].mean() < 0.01
    assert not detect_defects(smooth_photo(64, 64, top=0.7)).any()


@pytest.mark.parametrize("channels", [1, 3])
def test_inpaint_telea_fills_only_the_mask(channels):
    clean = smooth_photo(48, 48, channels)
    damaged, line = clean.copy(), np.zeros((48, 48), bool)
    line[20:22, 5:40] = True
    damaged[line] = 1.0
    filled = inpaint_telea(damaged, line.astype(np.float32))
    assert filled.shape == clean.shape and filled.dtype == np.float32
    np.testing.assert_array_equal(filled[~line], damaged[~line])
    assert np.abs(filled[line] - clean[line]).max() < 0.05
    np.testing.assert_array_equal(inpaint_telea(damaged, np.zeros((48, 48))), damaged)


@pytest.mark.parametrize("in_place", [False, True])
def test_inpaint_telea_in_bands_fills_as_one_call_would(monkeypatch, in_place):
    photo = smooth_photo(120, 90)
    scratches = np.zeros((120, 90), np.uint8)
    cv2.line(scratches, (5, 2), (80, 117), 1, 2)  # crosses every band boundary
    cv2.line(scratches, (0, 31), (89, 33), 1, 3)  # lies along one
    cv2.line(scratches, (60, 0), (62, 119), 1, 1)
    photo[scratches > 0] = 1.0
    whole = inpaint_telea(photo, scratches)
    monkeypatch.setattr(classical, "TELEA_BAND", 16)
    monkeypatch.setattr(classical, "TELEA_MARGIN", 8)
    banded = inpaint_telea(photo.copy(), scratches, in_place=in_place)
    # the fast marching may take a pixel in another order at a band's edge: one 8-bit level
    np.testing.assert_allclose(banded, whole, rtol=0, atol=1 / 255 + 1e-6)
    assert (banded != whole).sum() < 0.01 * scratches.sum()


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(("sigma", "gain_db"), [(0.02, 1.5), (0.06, 5.0)])
def test_denoise_nlmeans_lowers_the_noise(channels, sigma, gain_db):
    clean = smooth_photo(64, 64, channels, top=0.8)
    grainy = noisy(clean, sigma)
    denoised = denoise_nlmeans(grainy)
    assert denoised.shape == clean.shape
    assert metrics.noise_sigma(denoised) < 0.5 * metrics.noise_sigma(grainy)
    # light noise too: the default strength must not smooth the photo below the noisy input
    assert metrics.psnr(denoised, clean) > metrics.psnr(grainy, clean) + gain_db


def test_classical_restore_removes_a_scratch_and_noise():
    photo, line = _line_photo(1.0)
    clean = smooth_photo(64, 64, top=0.7)
    aged = noisy(photo, 0.03)
    restored = classical_restore(aged)
    assert metrics.psnr(restored, clean) > metrics.psnr(aged, clean) + 5.0
    assert np.abs(restored[line] - clean[line]).mean() < 0.1


# ----------------------------------------------------------------------------- finishing


def test_auto_levels_stretches_a_faded_photo_without_shifting_it():
    faded = 0.4 + 0.2 * smooth_photo(48, 48, top=1.0)  # values in [0.42, 0.6]
    levelled = auto_levels(faded)
    gain = levelled.std() / faded.std()
    assert gain == pytest.approx(LEVELS_MAX_GAIN, rel=0.02)  # capped, not 5×
    assert abs(levelled.mean() - faded.mean()) < 0.03
    assert levelled.min() > 0.0 and levelled.max() < 1.0  # a capped stretch clips nothing


def test_auto_levels_of_a_dark_faded_photo_stays_in_range():
    dark = 0.05 + 0.2 * smooth_photo(48, 48, top=1.0)
    levelled = auto_levels(dark)
    assert levelled.std() / dark.std() == pytest.approx(LEVELS_MAX_GAIN, rel=0.02)
    assert levelled.min() >= 0.0 and levelled.max() < 1.0
    assert np.corrcoef(levelled.ravel(), dark.ravel())[0, 1] > 0.999


def test_auto_levels_leaves_a_full_range_photo_almost_alone():
    full = np.random.default_rng(0).uniform(0.0, 1.0, (64, 64, 1)).astype(np.float32)
    full = np.repeat(full, 3, axis=2)
    assert np.abs(auto_levels(full) - full).max() < 0.015  # only the 0.5 % tails move


def _gray_world(seed: int = 0) -> np.ndarray:
    """Random mid-tone colours whose channel means are equal (a neutral scene)."""
    rng = np.random.default_rng(seed)
    pixels = rng.uniform(0.25, 0.75, (48, 48, 3))
    return (pixels - pixels.mean(axis=(0, 1)) + 0.5).astype(np.float32)


def test_white_balance_neutralizes_a_color_cast():
    cast = _gray_world() * np.array([1.12, 1.0, 0.9], np.float32)
    balanced = white_balance(cast)
    means = balanced.mean(axis=(0, 1))
    assert means.max() - means.min() < 0.01 * means.mean()
    cast_means = cast.mean(axis=(0, 1))
    assert cast_means.max() - cast_means.min() > 0.1


def test_white_balance_gains_are_bounded():
    cast = np.clip(_gray_world() * np.array([1.0, 0.6, 0.35], np.float32), 0, 1)
    ratio = white_balance(cast) / cast
    assert ratio.max() <= WHITE_BALANCE_MAX_GAIN + 1e-5
    assert ratio.min() >= 1.0 / WHITE_BALANCE_MAX_GAIN - 1e-5


def test_white_balance_leaves_gray_images_unchanged():
    gray = smooth_photo(32, 32, 1)
    np.testing.assert_array_equal(white_balance(gray), gray)
    neutral = np.repeat(gray, 3, axis=2)
    np.testing.assert_allclose(white_balance(neutral), neutral, atol=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
def test_sharpen_adds_detail_and_keeps_flat_areas(channels):
    soft = cv2.GaussianBlur(_gray_world()[..., :channels], (0, 0), 1.5).reshape(48, 48, channels)
    sharpened = sharpen(soft)
    assert sharpened.shape == soft.shape
    assert metrics.sharpness(sharpened) > 1.3 * metrics.sharpness(soft)
    flat = np.full((16, 16, channels), 0.4, np.float32)
    np.testing.assert_allclose(sharpen(flat), flat, atol=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
def test_finish_keeps_shape_and_range(channels):
    photo = noisy(0.3 + 0.3 * smooth_photo(32, 40, channels, top=1.0), 0.05)
    finished = finish(photo)
    assert finished.shape == photo.shape and finished.dtype == np.float32
    assert finished.min() >= 0.0 and finished.max() <= 1.0


# ----------------------------------------------------------------------------- evaluation


def test_evaluate_scores_every_method_and_writes_a_sheet(weights, tmp_path):
    files = []
    for index in range(2):
        photo = smooth_photo(48 + 8 * index, 56, top=0.9)
        files.append(imageio.write(tmp_path / f"photo{index}.png", photo))
    result = evaluate(
        files,
        preset="light",
        pipeline=RestorePipeline(models=weights),
        extra={"blurred": lambda aged, restored: cv2.GaussianBlur(aged, (0, 0), 1.0)},
    )
    assert result.names == ["photo0.png", "photo1.png"]
    summary = result.summary()
    assert {"input", "classical", "daguerre", "blurred"} <= summary.keys()
    for method in ("input", "classical", "daguerre", "blurred"):
        assert len(result.scores[method]) == 2
        assert 0.0 < summary[method]["ssim"] <= 1.0
        assert np.isfinite(summary[method]["psnr"])

    sheet = write_sheet(result, tmp_path / "sheet.png", height=32)
    picture = imageio.read(sheet)
    assert picture.pixels.shape[0] == 2 * 32
    assert picture.pixels.shape[1] == 3 * round(56 * 32 / 48)  # the wider, first row


class TruthfulDetector:
    """A stand-in pipeline whose mask is the aging's own visible damage (it re-ages the files)."""

    def __init__(self, samples) -> None:
        self.samples = iter(samples)

    def __call__(self, aged: np.ndarray) -> RestoreResult:
        _, _, truth = next(self.samples)
        assert np.array_equal(truth.aged, aged)
        return RestoreResult(image=aged, mask=(truth.mask > VISIBLE_OPACITY).astype(np.float32))


def test_evaluate_scores_the_mask_against_the_damage_that_shows(tmp_path):
    files = [imageio.write(tmp_path / "photo.png", smooth_photo(96, 96, top=0.9))]
    samples = list(aged_samples(files, "moderate", 3))
    faint = (samples[0][2].mask > 0) & (samples[0][2].mask <= VISIBLE_OPACITY)
    assert faint.any() and (samples[0][2].mask > VISIBLE_OPACITY).any()
    result = evaluate(files, preset="moderate", seed=3, pipeline=TruthfulDetector(samples))
    assert result.summary()["mask"] == pytest.approx({"precision": 1, "recall": 1, "iou": 1})


def test_evaluate_and_sheet_refuse_empty_input(weights, tmp_path):
    with pytest.raises(ValueError, match="no photos"):
        evaluate([], pipeline=RestorePipeline(models=weights))
    with pytest.raises(ValueError, match="no rows"):
        write_sheet(Evaluation(), tmp_path / "sheet.png")
    assert not (tmp_path / "sheet.png").exists()


def test_evaluate_with_the_held_out_renderer_scores_its_mask(tmp_path):
    files = [imageio.write(tmp_path / f"p{i}.png", smooth_photo(96, 96, top=0.9)) for i in (0, 1)]
    samples = list(aged_samples(files, None, 3, damage="heldout"))
    for index, (_, clean, aged) in enumerate(samples):
        damaged, mask = heldout.render(clean, 3 + index)
        np.testing.assert_array_equal(aged.aged, damaged)
        np.testing.assert_array_equal(aged.mask, mask)
    result = evaluate(files, seed=3, damage="heldout", pipeline=TruthfulDetector(samples))
    assert result.summary()["mask"] == pytest.approx({"precision": 1, "recall": 1, "iou": 1})
    assert result.flagged_fraction() == pytest.approx(
        np.mean([np.mean(aged.mask > VISIBLE_OPACITY) for _, _, aged in samples])
    )


def test_evaluate_preset_none_keeps_the_photos_clean(tmp_path):
    files = [imageio.write(tmp_path / "photo.png", smooth_photo(48, 40, top=0.9))]
    for damage in ("aging", "heldout"):
        ((_, clean, aged),) = aged_samples(files, "none", 0, damage=damage)
        np.testing.assert_array_equal(aged.aged, clean)
        assert not aged.mask.any() and aged.aged is not clean
    flagging = TruthfulDetector(aged_samples(files, "none", 0))
    result = evaluate(files, preset="none", pipeline=flagging)
    assert result.summary()["input"]["psnr"] == np.inf
    assert result.mask == [] and result.flagged_fraction() == 0.0


def test_evaluate_checks_the_preset_against_the_damage(tmp_path):
    files = [imageio.write(tmp_path / "photo.png", smooth_photo(48, 40))]
    for preset, damage in (("heavy", "heldout"), ("heldout", "aging"), ("moderate", "paint")):
        with pytest.raises(ValueError, match="unknown"):
            evaluate(files, preset=preset, damage=damage, pipeline=TruthfulDetector([]))
    assert resolve_preset(None, "aging") == "moderate"
    assert resolve_preset(None, "heldout") == "heldout"
    assert resolve_preset("none", "heldout") == "none"


def test_evaluate_every_has_a_row_per_preset_and_the_held_out_renderer(tmp_path):
    files = [imageio.write(tmp_path / "photo.png", smooth_photo(48, 40, top=0.9))]
    calls = []

    def pipeline(aged: np.ndarray) -> RestoreResult:
        return RestoreResult(image=aged, mask=np.zeros(aged.shape[:2], np.float32))

    results = evaluate_every(
        files, pipeline=pipeline, progress=lambda *call: calls.append(call), seed=2
    )
    aging = [name for name in PRESETS if name != "none"]  # every aging preset, even new ones
    assert list(results) == ["none", *aging, "heldout"]
    assert {"light", "moderate", "heavy", "bopbtl"} <= set(PRESETS)
    assert [row for row, _, _ in EVERY_PRESET] == list(results)
    assert calls == [(row, 1, 1) for row in results]
    assert results["none"].summary()["input"]["psnr"] == np.inf
    assert results["heldout"].summary()["mask"]["recall"] == 0.0  # this pipeline finds nothing
    with pytest.raises(ValueError, match="every preset"):
        evaluate_every(files, preset="light", pipeline=pipeline)


def test_the_callers_image_is_never_changed_unless_given_away():
    toned = TonedUNet(tone={"width": 8}, unet={"base_channels": 4, "depth": 2, "norm": "none"})
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # a tone stage and a U-Net that change every pixel
        for parameter in toned.parameters():
            parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))
    weights = models(damage=bright_detector(), inpaint=constant_painter(), enhance=toned)
    photo = smooth_photo(48, 48)
    photo[10, 4:44] = 1.0  # a scratch for Telea
    photo[24:44, 14:34] = 1.0  # a tear for the network
    before = photo.copy()
    pipeline = RestorePipeline(models=weights, max_hole=1.0)
    result = pipeline(photo)
    np.testing.assert_array_equal(photo, before)
    assert not np.allclose(result.image, photo, atol=0.01)
    # a caller that gives its image away gets the same result, and no working copy is made:
    # the stages work on that array
    given = pipeline(photo, overwrite=True)
    np.testing.assert_array_equal(given.image, result.image)
    assert not np.array_equal(photo, before)


def test_a_large_photo_hands_back_what_each_stage_kept(weights, monkeypatch):
    released = []
    monkeypatch.setattr(pipeline_module, "release_freed_memory", lambda: released.append(1))
    pipeline = RestorePipeline(models=weights, max_hole=1.0)
    photo = smooth_photo(32, 32)
    pipeline(photo)
    assert released == []  # a small photo keeps it: the next photo's tiles reuse it
    monkeypatch.setattr(pipeline_module, "RELEASE_FROM_MB", photo.nbytes / 2**20)
    pipeline(photo)
    assert len(released) == len(pipeline.stages())


def test_large_detected_regions_are_left_alone_but_a_users_mask_is_obeyed(weights):
    photo = smooth_photo(40, 50)
    photo[5, 2:48] = 1.0  # a thin scratch: 46 px, 2.3 % of the picture
    photo[20:36, 10:40] = 1.0  # a bright block: 480 px, 24 %
    options = {"models": weights, "enhance": False, "classical_fill_width": 0}
    limited = RestorePipeline(**options, max_hole=0.05)(photo)
    assert np.allclose(limited.image[5, 2:48], FILL)
    np.testing.assert_array_equal(limited.image[24:32, 15:35], photo[24:32, 15:35])
    unlimited = RestorePipeline(**options, max_hole=1.0)(photo)
    assert np.allclose(unlimited.image[24:32, 15:35], FILL)
    users = RestorePipeline(**options, mask=limited.mask, max_hole=0.05)
    assert np.allclose(users(photo).image[24:32, 15:35], FILL)


def test_a_large_thin_crack_is_filled_where_a_large_blob_is_not(weights):
    photo = smooth_photo(40, 50)
    photo[5, 2:48] = 1.0  # a scratch across the photo: 2.3 % of it, 1 px wide
    photo[20:36, 20:40] = 1.0  # a bright block, 16 px across
    options = {"models": weights, "enhance": False, "max_hole": 0.01}
    result = RestorePipeline(**options, classical_fill_width=8)(photo).image
    assert not np.allclose(result[5, 2:48], 1.0, atol=0.05)  # filled, though larger than 1 %
    np.testing.assert_array_equal(result[24:32, 24:36], photo[24:32, 24:36])  # left alone


def test_the_painter_runs_on_windows_around_the_holes_not_the_whole_picture():
    holes = np.zeros((400, 600), np.uint8)
    holes[50:60, 40:70] = 1  # a tear near the top left corner
    holes[300:320, 400:430] = 1  # one far from it
    holes[330:335, 450:460] = 1  # and one that shares its context
    windows = hole_windows(holes, context=20)
    assert [window for window, _ in windows] == [
        (slice(30, 80), slice(20, 90)),
        (slice(280, 355), slice(380, 480)),
    ]
    # each hole is painted by exactly one window
    painted = np.zeros(holes.shape, int)
    for window, own in windows:
        painted[window] += own
    np.testing.assert_array_equal(painted, holes)
    # two long diagonal tears: their boxes add up to more than the picture, so it is run whole
    holes[:] = 0
    cv2.line(holes, (0, 0), (399, 399), 1, 3)
    cv2.line(holes, (200, 0), (599, 399), 1, 3)
    ((window, own),) = hole_windows(holes, context=20)
    assert window == (slice(0, 400), slice(0, 600))
    np.testing.assert_array_equal(own, holes > 0)


def test_a_window_paints_only_its_own_holes():
    holes = np.zeros((100, 100), np.uint8)
    holes[10:20, 10:60] = 1
    holes[10:60, 60:64] = 1  # touches the first: one L-shaped tear
    holes[50:55, 10:15] = 1  # a speck inside the L's box, too far from it to share its window
    (big, big_own), (small, small_own) = hole_windows(holes, context=12)
    assert big == (slice(0, 72), slice(0, 76)) and small == (slice(38, 67), slice(0, 27))
    assert big_own.sum() == 500 + 200 and small_own.sum() == 25
    assert holes[big].sum() == 725  # the speck is in the L's window (a hole in its input) ...
    assert not big_own[50:55, 10:15].any()  # ... but is painted by its own window


def test_thin_damage_is_filled_classically_and_wide_holes_by_the_network(weights):
    photo = smooth_photo(48, 48)
    damaged = photo.copy()
    damaged[10, 4:44] = 1.0  # a 1-px scratch: Telea
    damaged[24:44, 14:34] = 1.0  # a 20×20 tear, wider than 16 px: the network (FILL)
    result = RestorePipeline(models=weights, enhance=False, max_hole=1.0)(damaged).image
    np.testing.assert_allclose(result[10, 6:42], photo[10, 6:42], atol=0.03)  # like the photo
    np.testing.assert_array_equal(result[26:42, 16:32], np.broadcast_to(FILL, (16, 16, 3)))
    np.testing.assert_array_equal(result[:8], photo[:8])  # beyond the grown holes: untouched
    everything = RestorePipeline(
        models=weights, enhance=False, max_hole=1.0, classical_fill_width=0
    )
    np.testing.assert_array_equal(
        everything(damaged).image[10, 6:42], np.broadcast_to(FILL, (36, 3))
    )


class _WidthDetector(torch.nn.Module):
    """Sure of damage everywhere on pictures whose width is in ``widths``, of none on others."""

    def __init__(self, widths: range) -> None:
        super().__init__()
        self.widths = widths

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sign = 1.0 if x.shape[-1] in self.widths else -1.0
        return torch.full_like(x[:, :1], 20.0 * sign)


@pytest.mark.parametrize(
    ("photo_side", "widths", "found"),
    [
        (160, range(100, 1000), 1.0),  # found in the photo only (its half is 80 px wide)
        (160, range(1, 100), 1.0),  # found in the photo at half size only
        (160, range(200, 1000), 0.0),  # found at neither size
        (48, range(1, 40), 0.0),  # a photo under 64 px a side is not shrunk (its half: 24 px)
    ],
)
def test_damage_is_found_at_either_size_of_the_photo(
    photo_side: int, widths: range, found: float
) -> None:
    mask = RestorePipeline(
        models={"restore-damage": _WidthDetector(widths)}, inpaint=False, enhance=False
    )(smooth_photo(photo_side * 4 // 5, photo_side)).mask
    assert mask is not None
    np.testing.assert_allclose(mask, found, atol=1e-4)
