"""Super-resolution: the compact generator, its training data and recipe, the upscaler and its
stage in the restore pipeline, the commands, the evaluation and Deep Image Prior (tiny sizes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_data import write_shapes
from test_training import scores
from typer.testing import CliRunner, Result

from daguerre import hub
from daguerre import image as imageio
from daguerre.cli import app
from daguerre.data import Degradation, ImageCache, UpscaleDataset, build_data
from daguerre.hub import ModelError
from daguerre.nets import CompactUpscaler
from daguerre.restore import RestoreOptions, RestorePipeline
from daguerre.tiling import run_tiled
from daguerre.training import ConfigError, train
from daguerre.upscale import Blend, Halved, Upscaler, model_names, upscale
from daguerre.upscale.dip import deep_image_prior, default_iterations
from daguerre.upscale.evaluate import degrade, evaluate


def tiny_upscaler(scale: int, seed: int = 0) -> CompactUpscaler:
    """A 2-conv upscaler with a non-zero head (a fresh one is plain interpolation)."""
    torch.manual_seed(seed)
    net = CompactUpscaler(scale=scale, channels=4, n_convs=2)
    torch.nn.init.normal_(net.head.weight, 0.0, 0.05)
    return net.eval()


def photo(height: int = 24, width: int = 20, channels: int = 3, seed: int = 0) -> np.ndarray:
    coarse = np.random.default_rng(seed).random((height // 4 + 1, width // 4 + 1, channels))
    big = np.kron(coarse, np.ones((4, 4, 1)))[:height, :width]
    return np.ascontiguousarray(big, np.float32)


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four upscale models, tiny, exported to a folder."""
    folder = tmp_path_factory.mktemp("weights")
    for scale in (2, 4):
        for index, name in enumerate(model_names(scale)):
            hub.export(tiny_upscaler(scale, index), name, {"task": "upscale"}, directory=folder)
    return folder


# ----------------------------------------------------------------------------- network


@pytest.mark.parametrize("scale", [2, 4])
def test_a_fresh_upscaler_is_interpolation_and_keeps_any_size(scale: int) -> None:
    net = CompactUpscaler(scale=scale, channels=8, n_convs=3).eval()
    x = torch.rand(1, 3, 7, 9)
    with torch.no_grad():
        y = net(x)
    expected = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    assert y.shape == (1, 3, 7 * scale, 9 * scale)
    assert torch.allclose(y, expected)


def test_upscaler_refuses_bad_arguments() -> None:
    for bad in ({"scale": 0}, {"upsample": "area"}, {"act": "relu"}, {"out_channels": 4}):
        with pytest.raises(ValueError):
            CompactUpscaler(**bad)


# ----------------------------------------------------------------------------- data


def test_degradation_shrinks_deterministically() -> None:
    clean = photo(32, 32)
    for kind in ("real", "bicubic"):
        degradation = Degradation(kind, factor=4)
        first = degradation(clean, np.random.default_rng(3))
        again = degradation(clean, np.random.default_rng(3))
        assert first.shape == (8, 8, 3) and first.dtype == np.float32
        assert first.min() >= 0.0 and first.max() <= 1.0
        np.testing.assert_array_equal(first, again)
    draws = [Degradation("real", factor=2)(clean, np.random.default_rng(s)) for s in range(4)]
    assert len({d.tobytes() for d in draws}) == 4  # every sample its own chain
    with pytest.raises(ValueError, match="degradation"):
        Degradation("blurry")


def test_degradation_strength_makes_milder_inputs() -> None:
    clean = photo(64, 64)
    shrunk = Degradation("bicubic", factor=2)(clean, np.random.default_rng(0))

    def distance(strength: float) -> float:
        degradation = Degradation("real", factor=2, clean_p=0.0, strength=strength)
        draws = [degradation(clean, np.random.default_rng(seed)) for seed in range(24)]
        return float(np.mean([np.abs(d - shrunk).mean() for d in draws]))

    assert distance(0.25) < 0.7 * distance(1.0)
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="strength"):
            Degradation("real", strength=bad)


def test_upscale_data_pairs_low_and_high_resolution(tmp_path: Path) -> None:
    folder = write_shapes(tmp_path / "photos", 6, size=(48, 48))
    dataset = UpscaleDataset(
        ImageCache.load(folder), crop=32, degradation=Degradation(factor=2), seed=1
    )
    sample = dataset[(0, 2)]
    assert sample["input"].shape == (3, 16, 16) and sample["target"].shape == (3, 32, 32)
    assert torch.equal(sample["input"], dataset[(0, 2)]["input"])
    with pytest.raises(ValueError, match="multiple"):
        UpscaleDataset(ImageCache.load(folder), crop=30, degradation=Degradation(factor=4))
    cfg = {
        "train": str(folder),
        "val": None,
        "channels": 3,
        "max_side": None,
        "val_count": 2,
        "crop": 32,
        "scale": [1.0, 1.0],
        "flip": True,
        "val_crop": 32,
        "factor": 4,
        "degradation": "bicubic",
        "clean_p": 0.0,
        "strength": 1.0,
    }
    bundle = build_data("upscale", cfg)
    assert len(bundle.val) == 1 and bundle.val[0]["input"].shape == (3, 8, 8)  # a fifth held out


# ----------------------------------------------------------------------------- recipe


def tiny_config(photos: Path, weights: dict[str, float], steps: int) -> dict:
    return {
        "recipe": "upscale",
        "data": {
            "train": str(photos),
            "factor": 2,
            "crop": 32,
            "val_crop": 32,
            "scale": [0.75, 1.0],
            "batch_size": 4,
            "workers": 0,
            "val_count": 2,
        },
        "model": {
            "generator": {"channels": 8, "n_convs": 2},
            "discriminator": {"base_channels": 8, "n_layers": 2},
            "weights": weights,
        },
        "optim": {"lr": 2.0e-3, "betas": [0.9, 0.99]},
        "train": {
            "steps": steps,
            "log_every": 1,
            "val_every": steps // 2,
            "ckpt_every": 0,
            "ema": 0.5,
            "progress": False,
            "tensorboard": False,
        },
    }


def test_tiny_fidelity_upscaler_learns_and_exports(tmp_path: Path) -> None:
    photos = write_shapes(tmp_path / "photos", 8, size=(48, 48))
    config = tiny_config(photos, {"l1": 1.0, "fm": 0.0, "adv": 0.0}, 40)
    config["train"]["val_every"] = 5
    config["export"] = {"name": "upscale-x2-fidelity", "dir": str(tmp_path / "weights")}
    run = train(config, run_dir=tmp_path / "run", device="cpu")
    history = scores(run)
    assert history[-1]["l1"] < history[0]["l1"]
    assert " g_adv " not in (run / "train.log").read_text()  # no discriminator was built
    model, card = hub.load("upscale-x2-fidelity", directory=tmp_path / "weights")
    assert card.task == "upscale" and card.architecture["scale"] == 2
    assert model(torch.rand(1, 3, 10, 12)).shape == (1, 3, 20, 24)
    upscaler = Upscaler(2, sharpness=0.0, weights_dir=tmp_path / "weights")
    assert upscaler(photo(10, 12)).shape == (20, 24, 3)


def test_tiny_gan_upscaler_trains_its_discriminator(tmp_path: Path) -> None:
    photos = write_shapes(tmp_path / "photos", 4, size=(40, 40))
    run = train(tiny_config(photos, {}, 2), run_dir=tmp_path / "run", device="cpu")
    log = (run / "train.log").read_text()
    assert " g_adv " in log and " g_fm " in log and " d " in log
    weights = {"l1": 1.0, "fm": 0.0, "adv": 0.1, "percep": 1.0, "grid": 1.0}
    config = tiny_config(photos, weights, 2)
    config["model"]["discriminator"] = {"type": "unet_judge", "base_channels": 4, "depth": 2}
    log = (train(config, run_dir=tmp_path / "unet", device="cpu") / "train.log").read_text()
    assert " g_percep " in log and " g_grid " in log and " g_adv " in log
    config["data"]["crop"] = 24  # a multiple of the factor, not of the grid term's blocks
    with pytest.raises(ConfigError, match=r"weights\.grid"):
        train(config, run_dir=tmp_path / "no-grid", device="cpu")
    config = tiny_config(photos, {"l1": 1.0, "adv": 0.1, "artifacts": 1.0}, 2)
    with pytest.raises(ConfigError, match=r"train\.init"):
        train(config, run_dir=tmp_path / "no-reference", device="cpu")
    config["train"]["init"] = str(next((run / "export").glob("*.safetensors")))
    log = (train(config, run_dir=tmp_path / "ldl", device="cpu") / "train.log").read_text()
    assert " g_artifacts " in log
    config = tiny_config(photos, {}, 2)
    config["data"]["crop"] = 33
    with pytest.raises(ConfigError, match=r"multiple of data\.factor"):
        train(config, run_dir=tmp_path / "refused", device="cpu")
    config = tiny_config(photos, {}, 2)
    config["data"]["strength"] = 0.0
    with pytest.raises(ConfigError, match=r"data\.strength"):
        train(config, run_dir=tmp_path / "too-mild", device="cpu")


# ----------------------------------------------------------------------------- upscaler


def test_sharpness_blends_the_fidelity_and_gan_outputs(weights: Path) -> None:
    image = photo()
    fidelity = Upscaler(4, sharpness=0.0, weights_dir=weights)(image)
    gan = Upscaler(4, sharpness=1.0, weights_dir=weights)(image)
    blend = Upscaler(4, sharpness=0.25, weights_dir=weights)
    assert isinstance(blend.network(), Blend)
    assert not np.allclose(fidelity, gan)
    raw = [  # the blend is of the networks' outputs, before clipping
        run_tiled(hub.load(name, directory=weights)[0], image, scale=4) for name in model_names(4)
    ]
    expected = np.clip(0.75 * raw[0] + 0.25 * raw[1], 0, 1)
    np.testing.assert_allclose(blend(image), expected, atol=1e-5)
    with pytest.raises(ValueError, match="sharpness"):
        Upscaler(4, sharpness=1.5)
    with pytest.raises(ValueError, match="scale"):
        Upscaler(3)


def test_missing_models_are_a_model_error_never_random_weights(tmp_path: Path) -> None:
    missing = {name: tmp_path / f"{name}.safetensors" for name in model_names(4)}
    with pytest.raises(ModelError, match="upscale-x4"):
        Upscaler(4, models=missing).network()


def test_without_a_x2_model_x2_is_the_x4_model_halved(weights: Path, tmp_path: Path) -> None:
    only_x4 = tmp_path / "x4"
    for name in model_names(4):
        for path in hub.model_paths(name, weights):
            (only_x4 / path.name).parent.mkdir(exist_ok=True)
            (only_x4 / path.name).write_bytes(path.read_bytes())
    image = photo()
    halved = Upscaler(2, weights_dir=only_x4)
    assert isinstance(halved.network(), Halved)
    raw = run_tiled(hub.load_network("upscale-x4-fidelity", weights_dir=only_x4), image, scale=4)
    expected = np.clip(raw.reshape(48, 2, 40, 2, 3).mean(axis=(1, 3)), 0, 1)
    np.testing.assert_allclose(halved(image), expected, atol=1e-5)
    own = Upscaler(2, weights_dir=weights)  # a folder with ×2 models uses them
    assert not isinstance(own.network(), Halved)


def test_upscale_tiles_into_a_preallocated_array() -> None:
    net, image = tiny_upscaler(2), photo(40, 36)
    whole = upscale(image, net, 2, tile=1024)
    out = np.zeros((80, 72, 3), np.uint8)
    assert upscale(image, net, 2, tile=40, out=out) is out
    assert np.abs(out.astype(np.float32) / 255 - whole).max() < 0.01


def test_restore_pipeline_upscales_last(weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = photo(20, 24)
    options = {"detect_damage": False, "enhance": False, "weights_dir": weights}
    result = RestorePipeline(scale=2, monochrome=False, **options)(image).image
    assert result.shape == (40, 48, 3) and result.dtype == np.float32
    expected = Upscaler(2, sharpness=0.0, weights_dir=weights)(image)  # the fidelity model
    np.testing.assert_allclose(result, expected, atol=1e-6)
    gray = RestorePipeline(scale=4, monochrome=True, **options)(image[..., :1]).image
    assert gray.shape == (80, 96, 1)
    net = tiny_upscaler(2, seed=7)
    given = RestorePipeline(scale=2, models={"upscale-x2-fidelity": net}, **options)(image).image
    assert given.shape == (40, 48, 3)
    names = [name for name, _ in RestorePipeline(scale=2).stages()]
    assert names[-1] == "upscale"
    with pytest.raises(ValueError, match="scale must be 1, 2 or 4"):
        RestoreOptions(scale=3)
    empty = {**options, "weights_dir": weights / "none"}
    monkeypatch.setattr(hub, "WEIGHTS_DIR", weights / "nothing bundled")
    with pytest.raises(ModelError, match="upscale-x4"):  # not in the folder, and not bundled
        RestorePipeline(scale=4, **empty)(image)


# ----------------------------------------------------------------------------- commands


def invoke(*args: object) -> Result:
    return CliRunner(env={"COLUMNS": "1000"}).invoke(app, [str(a) for a in args])


def test_upscale_command(weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    imageio.write(tmp_path / "in" / "a.png", photo(16, 20))
    imageio.write(tmp_path / "in" / "g.png", photo(16, 20, 1))
    imageio.write(tmp_path / "in" / "deep.png", photo(16, 20), bit_depth=16)
    result = invoke(
        "upscale", tmp_path / "in", "-o", tmp_path / "out", "--weights", weights, "--scale", 2
    )
    assert result.exit_code == 0, result.output
    assert imageio.read(tmp_path / "out" / "a.png").pixels.shape == (32, 40, 3)
    assert imageio.read(tmp_path / "out" / "g.png").pixels.shape == (32, 40, 1)
    deep = imageio.read(tmp_path / "out" / "deep.png")
    assert deep.bit_depth == 16 and deep.pixels.shape == (32, 40, 3)
    monkeypatch.setattr(hub, "WEIGHTS_DIR", tmp_path / "nothing bundled")
    missing = invoke("upscale", tmp_path / "in", "-o", tmp_path / "no", "--weights", tmp_path)
    assert missing.exit_code == 2 and "upscale-x4" in missing.output
    bad = invoke("upscale", tmp_path / "in", "-o", tmp_path / "no", "--scale", 3)
    assert bad.exit_code == 2 and "scale" in bad.output


def test_restore_command_scales(weights: Path, tmp_path: Path) -> None:
    imageio.write(tmp_path / "in" / "a.png", photo(16, 20))
    args = ["--no-damage", "--no-enhance", "--weights", weights, "--monochrome", "no"]
    result = invoke("restore", tmp_path / "in", "-o", tmp_path / "out", "--scale", 4, *args)
    assert result.exit_code == 0, result.output
    assert imageio.read(tmp_path / "out" / "a.png").pixels.shape == (64, 80, 3)
    bad = invoke("restore", tmp_path / "in", "-o", tmp_path / "no", "--scale", 3, *args)
    assert bad.exit_code == 2 and "scale must be 1, 2 or 4" in bad.output


def test_dip_methods_of_the_commands(tmp_path: Path) -> None:
    imageio.write(tmp_path / "in" / "a.png", photo(32, 32))
    mask = np.zeros((32, 32, 1), np.float32)
    mask[10:14, 5:20] = 1.0
    imageio.write(tmp_path / "mask.png", mask)
    dip = ["--method", "dip", "--iterations", 5]
    result = invoke("upscale", tmp_path / "in", "-o", tmp_path / "up", "--scale", 2, *dip)
    assert result.exit_code == 0, result.output
    assert imageio.read(tmp_path / "up" / "a.png").pixels.shape == (64, 64, 3)
    result = invoke(
        "restore", tmp_path / "in", "-o", tmp_path / "re", "--mask", tmp_path / "mask.png", *dip
    )
    assert result.exit_code == 0, result.output
    assert imageio.read(tmp_path / "re" / "a.png").pixels.shape == (32, 32, 3)


def test_eval_upscale(weights: Path, tmp_path: Path) -> None:
    photos = write_shapes(tmp_path / "photos", 2, size=(200, 208))
    models = {name: hub.load(name, directory=weights)[0] for name in model_names(4)}
    for kind in ("clean", "real"):
        result = evaluate(sorted(photos.iterdir()), models, scale=4, degradation=kind, crop=192)
        summary = result.summary()
        assert list(summary) == ["bicubic", "lanczos", *model_names(4)]
        assert all(np.isfinite(list(row.values())).all() for row in summary.values())
    truth = photo(192, 192)
    assert degrade(truth, 4, "real").shape == (48, 48, 3)
    assert not np.array_equal(degrade(truth, 4, "real"), degrade(truth, 4, "clean"))
    out = invoke("eval", "upscale", "--data", photos, "--weights", weights, "--crop", 192)
    assert out.exit_code == 0, out.output
    assert "bicubic" in out.output and "upscale-x4-fidelity" in out.output
    assert "truth NIQE" in out.output
    # a folder without them: the installed models only (the bundled fidelity one, no GAN)
    bundled = invoke("eval", "upscale", "--data", photos, "--weights", tmp_path, "--crop", 192)
    assert bundled.exit_code == 0, bundled.output
    assert "upscale-x4-fidelity" in bundled.output
    assert ("│ upscale-x4 " in bundled.output) == hub.has_model("upscale-x4")
    missing = invoke("eval", "upscale", "--data", photos, "--model", "upscale-x8", "--crop", 192)
    assert missing.exit_code == 2 and "upscale-x8" in missing.output


# ----------------------------------------------------------------------------- deep image prior


def test_deep_image_prior_denoises_upscales_and_inpaints() -> None:
    image = photo(32, 32)
    calls = []
    result = deep_image_prior(
        image, iterations=5, truth=image, every=2, progress=lambda *a: calls.append(a)
    )
    assert result.image.shape == (32, 32, 3) and result.image.dtype == np.float32
    assert calls[-1] == (5, 5) and [step for step, _ in result.psnr] == [2, 4, 5]
    again = deep_image_prior(image, iterations=5)
    np.testing.assert_array_equal(result.image, again.image)  # seeded
    assert deep_image_prior(image, scale=2, iterations=5).image.shape == (64, 64, 3)
    mask = np.zeros((32, 32), bool)
    mask[8:12] = True
    painted = deep_image_prior(image[..., :1], mask=mask, iterations=5).image
    assert painted.shape == (32, 32, 1)
    assert default_iterations(1, mask) > default_iterations(1)
    with pytest.raises(ValueError, match="mask"):
        deep_image_prior(image, mask=np.zeros((4, 4)), iterations=1)
