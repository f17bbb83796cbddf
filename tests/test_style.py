"""Style transfer: transformer net, objective, style recipe, stylize() methods and the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch
from test_data import write_shapes
from torch import nn
from typer.testing import CliRunner

from daguerre import aging, hub, image
from daguerre.cli import app
from daguerre.color import rgb_to_lab
from daguerre.data import DataError
from daguerre.faces.types import Face
from daguerre.nets import TransformerNet, build_network
from daguerre.style import Generator, Stylizer, stylize, translate
from daguerre.style.evaluate import edge_ssim
from daguerre.style.faces import face_weights
from daguerre.style.fast import fold_batch_norm
from daguerre.style.objective import (
    StyleObjective,
    detail_layer,
    edge_loss,
    structure_loss,
    total_variation,
)
from daguerre.style.optimize import level_sizes, optimize
from daguerre.tiling import run_tiled
from daguerre.training import ConfigError, resolve_config, train
from daguerre.training.recipes.style import Style

TINY_STYLE_MODEL = {
    "generator": {"base_channels": 8, "n_blocks": 1},
    "discriminator": {"base_channels": 8, "n_layers": 2},
}


def stripes(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A 'painting': short, strongly coloured oriented strokes on a warm ground."""
    rng = np.random.default_rng(seed)
    canvas = np.full((height, width, 3), (0.8, 0.6, 0.3), np.float32)
    for _ in range(height * width // 12):
        x, y = int(rng.integers(width)), int(rng.integers(height))
        angle = rng.uniform(0, np.pi)
        dx, dy = int(5 * np.cos(angle)), int(5 * np.sin(angle))
        color = rng.choice([(0.1, 0.2, 0.7), (0.9, 0.8, 0.1), (0.05, 0.05, 0.1)])
        cv2.line(canvas, (x - dx, y - dy), (x + dx, y + dy), tuple(float(c) for c in color), 2)
    return canvas


def smooth_photo(height: int = 48, width: int = 64, seed: int = 1) -> np.ndarray:
    """A 'photo': soft discs on a gradient, colourful but with little fine texture."""
    rng = np.random.default_rng(seed)
    xs = np.arange(width, dtype=np.float32)[None, :, None].repeat(height, axis=0)
    picture = 0.2 + 0.6 * (xs / width) * np.array([1.0, 0.5, 0.2], np.float32)
    for _ in range(3):
        center = (int(rng.integers(width)), int(rng.integers(height)))
        cv2.circle(picture, center, int(rng.integers(6, 20)), rng.uniform(0, 1, 3).tolist(), -1)
    return np.clip(cv2.GaussianBlur(picture, (0, 0), 1.5), 0.0, 1.0)


@pytest.fixture(scope="module")
def painting_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return image.write(tmp_path_factory.mktemp("painting") / "stripes.png", stripes(40, 56))


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_shapes(tmp_path_factory.mktemp("photos"), 6, size=(48, 48))


def style_config(photos: Path, painting: Path, **data: Any) -> dict[str, Any]:
    return {
        "recipe": "style",
        "data": {
            "train": str(photos),
            "style": str(painting),
            "style_size": 48,
            "crop": 32,
            "val_crop": 32,
            "batch_size": 2,
            "val_count": 2,
            "workers": 0,
            **data,
        },
        "model": TINY_STYLE_MODEL,
        "train": {
            "steps": 3,
            "log_every": 0,
            "val_every": 0,
            "ckpt_every": 0,
            "progress": False,
            "tensorboard": False,
        },
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, photos: Path, painting_file: Path) -> Path:
    """A style run of three steps; returns its exported model."""
    run = train(
        style_config(photos, painting_file),
        run_dir=tmp_path_factory.mktemp("run") / "style",
        device="cpu",
    )
    return run / "export" / "style.safetensors"


# ----------------------------------------------------------------------------- transformer net


@pytest.mark.parametrize(("height", "width"), [(5, 7), (37, 53), (64, 48)])
@pytest.mark.parametrize("channels", [1, 3])
def test_transformer_keeps_any_size_and_channels(height: int, width: int, channels: int) -> None:
    net = TransformerNet(channels, channels, base_channels=8, n_blocks=1).eval()
    with torch.no_grad():
        out = net(torch.rand(2, channels, height, width))
    assert out.shape == (2, channels, height, width)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_default_transformer_is_johnson_sized_and_rebuilds_from_its_spec() -> None:
    torch.manual_seed(0)
    net = build_network({"type": "transformer"}).eval()
    assert 1_000_000 < sum(p.numel() for p in net.parameters()) < 2_000_000
    twin = build_network(net.spec).eval()
    twin.load_state_dict(net.state_dict())
    x = torch.rand(1, 3, 24, 40)
    with torch.no_grad():
        assert torch.equal(net(x), twin(x))


def _with_running_statistics(net: nn.Module) -> nn.Module:
    generator = torch.Generator().manual_seed(0)
    for layer in net.modules():
        if isinstance(layer, nn.BatchNorm2d):
            layer.running_mean.copy_(0.2 * torch.rand(layer.num_features, generator=generator))
            layer.running_var.copy_(0.5 + torch.rand(layer.num_features, generator=generator))
    return net.eval()


def test_batch_norm_transformer_tiles_almost_seamlessly_unlike_instance_norm() -> None:
    noise = np.random.default_rng(0).random((160, 200, 3), np.float32)
    picture = cv2.GaussianBlur(noise, (0, 0), 3)
    errors = {}
    for norm in ("batch", "instance"):
        torch.manual_seed(0)
        net = _with_running_statistics(TransformerNet(base_channels=8, n_blocks=1, norm=norm))
        whole = run_tiled(net, picture, tile=512)
        tiled = run_tiled(net, picture, tile=80, overlap=64)
        errors[norm] = float(np.abs(whole - tiled).mean())
    assert errors["batch"] < 0.005
    assert errors["instance"] > 10 * errors["batch"]


def test_folding_batch_norm_keeps_the_function() -> None:
    torch.manual_seed(0)
    net = _with_running_statistics(TransformerNet(base_channels=8, n_blocks=2))
    x = torch.rand(1, 3, 36, 44)
    with torch.no_grad():
        expected = net(x)
        folded = fold_batch_norm(net)
        assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
        torch.testing.assert_close(folded(x), expected, atol=1e-5, rtol=1e-4)


# ----------------------------------------------------------------------------- objective


def test_structure_ignores_global_tone_but_sees_moved_edges() -> None:
    photo = torch.from_numpy(smooth_photo()).permute(2, 0, 1)[None]
    assert float(structure_loss(0.3 + 0.5 * photo, photo)) < 1e-5
    moved = torch.roll(photo, shifts=6, dims=-1)
    assert float(structure_loss(moved, photo)) > 0.05


def test_edge_loss_is_one_minus_the_edge_ssim_that_eval_style_reports() -> None:
    photo = smooth_photo(64, 80)
    noisy = np.clip(photo + np.random.default_rng(3).normal(0, 0.08, photo.shape), 0, 1)
    noisy = noisy.astype(np.float32)
    loss = float(edge_loss(image.to_tensor(noisy), image.to_tensor(photo)))
    assert loss == pytest.approx(1 - edge_ssim(noisy, photo), abs=2e-3)
    assert loss > 0.2
    assert float(edge_loss(image.to_tensor(photo), image.to_tensor(photo))) < 1e-5


def test_face_weights_cover_each_face_and_fade_away_from_it() -> None:
    weights = face_weights((100, 160), [Face((20, 30, 20, 24), 0.99), Face((150, 0, 30, 30), 0.9)])
    assert weights.shape == (100, 160, 1) and weights.dtype == np.float32
    assert weights[42, 30, 0] == pytest.approx(1.0)  # the first face's centre
    assert weights[95, 80, 0] == 0.0  # far from both
    assert 0.0 < weights[42, 20, 0] < 1.0  # its feathered border
    assert weights[5, 159, 0] > 0.5  # a face cut by the picture's edge still counts


def test_total_variation_and_detail_layer_of_flat_images() -> None:
    flat = torch.full((1, 3, 20, 20), 0.3)
    assert float(total_variation(flat)) == 0.0
    torch.testing.assert_close(detail_layer(flat), torch.full_like(flat, 0.5))


def test_texture_term_tells_a_painting_crop_from_a_tinted_photo() -> None:
    """The objective's reason for the texture term: colour statistics alone prefer a tint."""
    painting = stripes(96, 96)
    objective = StyleObjective(image.to_tensor(painting))
    photo = image.to_tensor(smooth_photo(64, 64))
    tinted = image.to_tensor(stylize(smooth_photo(64, 64), painting, method="color"))
    crop = image.to_tensor(painting[16:80, 20:84])
    tinted_terms, crop_terms = objective.terms(tinted, photo), objective.terms(crop, photo)
    assert float(crop_terms["texture"]) * 5 < float(tinted_terms["texture"])


# ----------------------------------------------------------------------------- the recipe


def test_style_recipe_trains_exports_and_the_model_stylizes(trained: Path) -> None:
    card = hub.read_card(trained.with_suffix(".json"))
    assert card.task == "style" and card.architecture["type"] == "transformer"
    assert {"style", "texture", "content", "structure"} <= set(card.metrics)
    assert card.training["config"]["data"]["style"].endswith("stripes.png")
    photo = smooth_photo(37, 53)
    out = stylize(photo, trained, method="fast", tile=64)
    assert out.shape == (37, 53, 3) and out.dtype == np.float32
    assert not np.allclose(out, photo, atol=0.05)
    np.testing.assert_array_equal(out, stylize(photo, trained, tile=64))  # fast is the default


def test_style_recipe_without_adversary_trains_no_discriminator(
    photos: Path, painting_file: Path, tmp_path: Path
) -> None:
    config = style_config(photos, painting_file)
    config["model"] = {**TINY_STYLE_MODEL, "weights": {"adv": 0.0, "edges": 1.0}}
    recipe = Style(resolve_config(config))
    assert set(recipe.build_nets()) == {"g"} and recipe.optimizers() == {"g": ("g",)}
    run = train(config, run_dir=tmp_path / "run", device="cpu")
    assert (run / "export" / "style.safetensors").is_file()


def test_a_fine_tuned_style_card_carries_its_starting_model(
    photos: Path, painting_file: Path, trained: Path, tmp_path: Path
) -> None:
    start, _ = hub.load(trained)
    card = {"task": "style", "description": "after stripes", "training": {"licences": ["CC0"]}}
    hub.export(start, "start", card, directory=tmp_path)
    config = style_config(photos, painting_file)
    config["train"] = {**config["train"], "init": str(tmp_path / "start.safetensors")}
    config["export"] = {"description": "", "licences": ["photos: CC BY"]}
    run = train(config, run_dir=tmp_path / "run", device="cpu")
    tuned = hub.read_card(run / "export" / "style.json")
    assert tuned.description == "after stripes"
    assert tuned.training["licences"] == ["photos: CC BY", "CC0"]
    started = tuned.training["init"]
    assert started["model"] == "start" and started["training"] == {"licences": ["CC0"]}
    assert started["sha256"] == hub.read_card(tmp_path / "start.json").sha256


def test_style_recipe_needs_a_readable_painting(photos: Path, tmp_path: Path) -> None:
    config = style_config(photos, tmp_path / "missing.jpg")
    with pytest.raises(DataError, match=r"data\.style"):
        train(config, run_dir=tmp_path / "run", device="cpu")
    del config["data"]["style"]
    with pytest.raises(DataError, match="no painting"):
        train(config, run_dir=tmp_path / "run2", device="cpu")


def test_style_recipe_checks_its_keys(photos: Path, painting_file: Path) -> None:
    config = style_config(photos, painting_file)
    config["model"] = {**TINY_STYLE_MODEL, "style_kind": "vgg"}
    with pytest.raises(ConfigError, match="style_kind"):
        Style(resolve_config(config))
    with pytest.raises(ConfigError, match=r"unknown config key data\.stlye"):
        resolve_config(style_config(photos, painting_file, stlye="x.jpg"))


def test_painting_crops_are_seeded_windows_of_the_painting(
    photos: Path, painting_file: Path
) -> None:
    zoom_one = {"style_scale": [1.0, 1.0], "style_size": 64}  # native pixels, not resized
    config = resolve_config(style_config(photos, painting_file, **zoom_one))
    painting = image.read(painting_file).pixels
    first, second = Style(config), Style(config)
    for recipe in (first, second):
        recipe.attach({}, {}, torch.device("cpu"))
    crops = first.painting_crops(4, 24)
    assert crops.shape == (4, 3, 24, 24)
    torch.testing.assert_close(crops, second.painting_crops(4, 24))
    windows = np.lib.stride_tricks.sliding_window_view(painting, (24, 24, 3))[..., 0, :, :, :]
    for crop in crops.permute(0, 2, 3, 1).numpy():
        for candidate in (crop, crop[:, ::-1]):
            if np.abs(windows - candidate).max(axis=(2, 3, 4)).min() < 1e-3:
                break
        else:
            pytest.fail("a crop at zoom 1 is not a window of the painting")


# ----------------------------------------------------------------------------- stylize()


@pytest.mark.parametrize(
    ("style", "method"), [("vintage", None), ("painting", "color"), ("model", "fast")]
)
def test_strength_zero_returns_the_input(
    style: str, method: str | None, trained: Path, painting_file: Path
) -> None:
    source = {"vintage": "vintage", "painting": painting_file, "model": trained}[style]
    photo = smooth_photo()
    out = stylize(photo, source, method=method, strength=0.0)
    np.testing.assert_array_equal(out, photo)


def test_strength_interpolates_between_photo_and_style(painting_file: Path) -> None:
    photo = smooth_photo()
    full = stylize(photo, painting_file, method="color")
    half = stylize(photo, painting_file, method="color", strength=0.5)
    lab = [rgb_to_lab(x) for x in (photo, half, full)]
    np.testing.assert_allclose(lab[1], (lab[0] + lab[2]) / 2, atol=1.5)


@pytest.mark.parametrize(("style", "method"), [("painting", "color"), ("model", "fast")])
def test_preserve_colors_keeps_the_chroma(
    style: str, method: str, trained: Path, painting_file: Path
) -> None:
    source = painting_file if style == "painting" else trained
    photo = 0.25 + 0.5 * smooth_photo()  # muted: new lightness keeps its colours in gamut
    out = stylize(photo, source, method=method, preserve_colors=True)
    plain = stylize(photo, source, method=method)
    lab, lab_out, lab_plain = (rgb_to_lab(x) for x in (photo, out, plain))
    kept = np.abs(lab_out[..., 1:] - lab[..., 1:])  # off only where gamut clipping bites
    assert np.median(kept) < 0.2 and kept.mean() < 1.5
    assert np.abs(lab_plain[..., 1:] - lab[..., 1:]).mean() > 5.0
    np.testing.assert_allclose(lab_out[..., 0], lab_plain[..., 0], atol=1.0)


def test_a_gray_photo_takes_the_style_colors_unless_preserved(trained: Path) -> None:
    gray = smooth_photo().mean(axis=2, keepdims=True)
    assert stylize(gray, trained).shape == (*gray.shape[:2], 3)
    kept = stylize(gray, trained, preserve_colors=True)
    assert kept.shape == gray.shape


@pytest.mark.parametrize("method", ["color", "optimize"])
def test_stylize_is_deterministic(method: str, painting_file: Path) -> None:
    photo = smooth_photo()
    options = {"method": method, "iterations": 4, "seed": 3}
    first = stylize(photo, painting_file, **options)
    np.testing.assert_array_equal(first, stylize(photo, painting_file, **options))


def test_size_sets_the_long_side(painting_file: Path) -> None:
    out = stylize(smooth_photo(48, 64), painting_file, method="color", size=32)
    assert out.shape == (24, 32, 3)


def test_vintage_is_the_aging_engines_look_without_damage() -> None:
    photo = smooth_photo()
    np.testing.assert_array_equal(
        stylize(photo, "vintage", seed=5), aging.vintage(photo, seed=5, strength=1.0)
    )
    with pytest.raises(ValueError, match="vintage style; it takes no method"):
        stylize(photo, "vintage", method="color")


def test_methods_must_fit_the_style(trained: Path, painting_file: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="vintage style; it takes no method"):
        Stylizer("vintage", method="fast")
    with pytest.raises(ValueError, match="needs the arbitrary-style network"):
        Stylizer(painting_file, method="fast", directory=tmp_path)
    with pytest.raises(ValueError, match="model style; use fast"):
        Stylizer(trained, method="optimize")
    with pytest.raises(ValueError, match="unknown method"):
        Stylizer(trained, method="gatys")
    with pytest.raises(ValueError, match=r"unknown style 'no-such-style'; .*style-"):
        Stylizer("no-such-style")
    with pytest.raises(image.ImageError):
        Stylizer(painting_file.with_name("absent.png"))


def test_optimize_lowers_the_style_terms_and_goes_coarse_to_fine() -> None:
    photo, painting = smooth_photo(), stripes(64, 64)
    run = optimize(photo, painting, iterations=30, levels=3)
    assert {entry["level"] for entry in run.history} == {0}  # 48 px: too small for more levels
    first, last = run.history[0], run.history[-1]
    assert last["texture"] < 0.5 * first["texture"]
    assert last["loss"] < 0.5 * first["loss"]
    assert run.image.shape == photo.shape
    assert level_sizes(300, 400, 3) == [(75, 100), (150, 200), (300, 400)]
    assert level_sizes(100, 400, 3) == [(100, 400)]


def test_stylizer_lays_the_style_lightly_on_the_faces_it_finds(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = smooth_photo(64, 96)
    face = Face((8, 8, 24, 24), 0.99)
    monkeypatch.setattr("daguerre.style.faces.detect_faces", lambda image: [face])
    full = Stylizer(trained, tile=64)(photo)
    light = Stylizer(trained, tile=64, face_strength=0.2)(photo)
    on_face, away = (slice(16, 24), slice(16, 24)), (slice(48, 64), slice(70, 96))
    assert (
        np.abs(light[on_face] - photo[on_face]).mean()
        < 0.5 * np.abs(full[on_face] - photo[on_face]).mean()
    )
    np.testing.assert_array_equal(light[away], full[away])
    monkeypatch.setattr("daguerre.style.faces.detect_faces", lambda image: [])
    np.testing.assert_array_equal(Stylizer(trained, tile=64, face_strength=0.2)(photo), full)
    with pytest.raises(ValueError, match="face_strength"):
        Stylizer(trained, face_strength=1.5)


@pytest.fixture(scope="module")
def arbitrary_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a seeded, untrained arbitrary-style network under its bundled name."""
    from daguerre.nets import AdaINNet
    from daguerre.style.arbitrary import MODEL, TASK

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("weights")
    hub.export(AdaINNet(widths=(4, 8, 8)), MODEL, {"task": TASK}, directory=folder)
    return folder


def test_a_painting_is_styled_fast_by_the_arbitrary_network_when_there_is_one(
    arbitrary_dir: Path, tmp_path: Path
) -> None:
    from daguerre.style.arbitrary import ArbitraryStylizer

    photo, painting = smooth_photo(40, 52), stripes(48, 48)
    stylizer = Stylizer(painting, directory=arbitrary_dir)
    assert stylizer.method == "fast"
    network = ArbitraryStylizer(directory=arbitrary_dir)
    expected = network(photo, network.style_code(painting))
    np.testing.assert_allclose(stylizer(photo), expected, atol=1e-5)
    assert Stylizer(painting, directory=tmp_path).method == "optimize"  # no network: optimise


def test_two_paintings_mix_inside_the_network(arbitrary_dir: Path) -> None:
    photo, first, second = smooth_photo(40, 52), stripes(48, 48, seed=1), stripes(48, 48, seed=2)
    second = second[..., ::-1].copy()  # other colours

    def styled(style: np.ndarray, **mixing: Any) -> np.ndarray:
        return Stylizer(style, directory=arbitrary_dir, **mixing)(photo)

    np.testing.assert_allclose(styled(first, mix_with=second, mix=0.0), styled(first), atol=1e-5)
    np.testing.assert_allclose(styled(first, mix_with=second, mix=1.0), styled(second), atol=1e-5)
    codes = [Stylizer(x, directory=arbitrary_dir).code for x in (first, second)]
    mixed = Stylizer(first, mix_with=second, mix=0.25, directory=arbitrary_dir)
    assert mixed.partner is None and mixed.code is not None  # one network run, not two
    for name in ("mean", "std"):
        a, b = (getattr(code.stats, name) for code in codes if code is not None)
        torch.testing.assert_close(getattr(mixed.code.stats, name), 0.75 * a + 0.25 * b)


def test_a_model_and_a_painting_mix_their_pictures(arbitrary_dir: Path, trained: Path) -> None:
    from daguerre.style.color import blend

    photo, painting = smooth_photo(40, 52), stripes(48, 48)
    mixed = Stylizer(trained, mix_with=painting, mix=0.3, directory=arbitrary_dir, tile=64)(photo)
    model = Stylizer(trained, directory=arbitrary_dir, tile=64)(photo)
    other = Stylizer(painting, directory=arbitrary_dir, tile=64)(photo)
    np.testing.assert_allclose(mixed, blend(model, other, 0.3), atol=1e-5)
    with pytest.raises(ValueError, match="vintage"):
        Stylizer(trained, mix_with="vintage")
    with pytest.raises(ValueError, match="mix"):
        Stylizer(trained, mix_with=painting, mix=1.2)


# ----------------------------------------------------------------------------- translation


@pytest.fixture(scope="module")
def translator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small untrained translation model (CycleGAN's generator type), exported."""
    torch.manual_seed(0)
    net = build_network({"type": "resnet", "base_channels": 8, "n_blocks": 1, "norm": "batch"})
    folder = tmp_path_factory.mktemp("translator")
    return hub.export(net.eval(), folder / "a2b.safetensors", {"task": "translate"})


def test_translate_runs_the_generator(translator: Path) -> None:
    photo = smooth_photo(30, 41)
    loaded, _ = hub.load(translator)
    with torch.no_grad():
        expected = image.from_tensor(loaded(image.to_tensor(photo)))
    np.testing.assert_allclose(translate(photo, translator), expected, atol=1e-4)


def test_image_models_of_other_tasks_are_refused(tmp_path: Path) -> None:
    net = build_network({"type": "unet", "base_channels": 8, "depth": 2})
    restore = hub.export(net, tmp_path / "restore.safetensors", {"task": "restore"})
    with pytest.raises(ValueError, match="'restore' model"):
        Generator(restore)


# ----------------------------------------------------------------------------- CLI


def test_cli_stylize_writes_results_and_reports_bad_files(
    tmp_path: Path, painting_file: Path
) -> None:
    inputs = tmp_path / "in"
    image.write(inputs / "photo.png", smooth_photo())
    (inputs / "broken.jpg").write_bytes(b"not a jpeg")
    out_dir = tmp_path / "out"
    args = ["stylize", str(inputs), "-o", str(out_dir), "--style", str(painting_file)]
    result = CliRunner().invoke(app, [*args, "--method", "color", "--strength", "0.8"])
    assert result.exit_code == 1, result.output
    written = image.read(out_dir / "photo.png").pixels
    photo = image.read(inputs / "photo.png").pixels
    expected = stylize(photo, painting_file, method="color", strength=0.8)
    np.testing.assert_allclose(written, expected, atol=1 / 255)
    assert not (out_dir / "broken.jpg").exists()
    assert "broken.jpg" in result.output


def test_cli_stylize_refuses_a_bad_style_before_reading_inputs(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["stylize", str(tmp_path), "-o", str(tmp_path / "out"), "--style", "nope"]
    )
    assert result.exit_code == 2
    assert "unknown style 'nope'" in result.output and "style-" in result.output
    assert "restore-" not in result.output and str(hub.WEIGHTS_DIR) not in result.output


def test_cli_stylize_optimize_shows_the_iterations_of_each_file(
    tmp_path: Path, painting_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []

    def styled(self: Stylizer, pixels: np.ndarray, progress=None) -> np.ndarray:
        seen.append(progress)
        progress(3, 10)
        return pixels

    monkeypatch.setattr(Stylizer, "__call__", styled)
    image.write(tmp_path / "in" / "photo.png", smooth_photo())
    args = ["stylize", str(tmp_path / "in"), "-o", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*args, "--style", str(painting_file), "--method", "optimize"])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1 and callable(seen[0])


def test_cli_stylize_mixes_two_styles(tmp_path: Path, painting_file: Path) -> None:
    image.write(tmp_path / "in" / "photo.png", smooth_photo())
    other = tmp_path / "other.png"
    image.write(other, stripes(40, 40, seed=4)[..., ::-1].copy())
    args = ["stylize", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--method", "color"]
    styles = ["--style", str(painting_file), "--style", str(other)]
    result = CliRunner().invoke(app, [*args, *styles, "--mix", "0.3"])
    assert result.exit_code == 0, result.output
    photo = image.read(tmp_path / "in" / "photo.png").pixels
    expected = stylize(photo, painting_file, method="color", mix_with=other, mix=0.3)
    np.testing.assert_allclose(
        image.read(tmp_path / "out" / "photo.png").pixels, expected, atol=1 / 255
    )
    three = CliRunner().invoke(app, [*args, *styles, "--style", "vintage"])
    alone = CliRunner().invoke(app, [*args, *styles[:2], "--mix", "0.3"])
    assert three.exit_code == alone.exit_code == 2
    assert "two with an optional --mix" in alone.output


def test_cli_translate(tmp_path: Path, translator: Path) -> None:
    image.write(tmp_path / "in" / "photo.png", smooth_photo(30, 41))
    out_dir = tmp_path / "out"
    args = ["translate", str(tmp_path / "in"), "-o", str(out_dir), "--model", str(translator)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    photo = image.read(tmp_path / "in" / "photo.png").pixels
    written = image.read(out_dir / "photo.png").pixels
    np.testing.assert_allclose(written, translate(photo, translator), atol=1 / 255)


@pytest.mark.parametrize(
    ("option", "value"),
    [("strength", 1.5), ("size", 8), ("tile", 8), ("iterations", 0)],
)
def test_out_of_range_style_options_are_refused_naming_the_field(option, value) -> None:
    with pytest.raises(ValueError, match=f"{option} must"):
        Stylizer("vintage", **{option: value})
