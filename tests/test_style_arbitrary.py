"""Arbitrary style: the AdaIN network, its two-phase recipe and the stylizer that runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from test_data import write_shapes
from test_style import smooth_photo, stripes, style_config

from daguerre import hub, image
from daguerre.data import DataError
from daguerre.image import find_images
from daguerre.nets import AdaINNet, build_network
from daguerre.nets.arbitrary import FeatureStats, adain
from daguerre.style.arbitrary import ArbitraryStylizer
from daguerre.style.evaluate import DEFAULT_STYLES
from daguerre.style.optimize import resize
from daguerre.training import ConfigError, train
from daguerre.training.recipes.arbitrary import check_not_held_out

TINY = {"type": "adain", "widths": [4, 8]}
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "style-arbitrary.yaml"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(photos, paintings) folders of small generated images."""
    photos = write_shapes(tmp_path_factory.mktemp("photos"), 5, size=(40, 40))
    paintings = tmp_path_factory.mktemp("paintings")
    for seed in range(2):
        image.write(paintings / f"stripes{seed}.png", stripes(36, 44, seed))
    return photos, paintings


def config(photos: Path, paintings: Path, **model: Any) -> dict[str, Any]:
    """The style recipe's tiny test run, aimed at the arbitrary recipe."""
    settings = style_config(photos, paintings)
    data = {k: v for k, v in settings["data"].items() if k != "style"}
    return {
        **settings,
        "recipe": "arbitrary",
        "data": {**data, "styles": str(paintings), "style_size": 40},
        "model": {"generator": TINY, **model},
        "train": {**settings["train"], "steps": 2},
    }


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded, untrained network exported as an arbitrary-style model."""
    torch.manual_seed(0)
    net = AdaINNet(widths=(4, 8, 8))
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    return hub.export(net, path, {"task": "style-arbitrary"})


@pytest.fixture(scope="module")
def stylizer(model: Path) -> ArbitraryStylizer:
    return ArbitraryStylizer(model)


# ----------------------------------------------------------------------------- network


@pytest.mark.parametrize(("height", "width"), [(9, 13), (37, 53), (64, 48)])
def test_network_keeps_any_size(height: int, width: int) -> None:
    net = build_network(TINY).eval()
    x = torch.rand(2, 3, height, width)
    with torch.no_grad():
        reconstruction = net(x)
        styled = net.stylize(x, net.statistics(x), net.statistics(torch.rand(1, 3, 20, 30)))
    assert reconstruction.shape == styled.shape == x.shape
    assert float(styled.min()) >= 0.0 and float(styled.max()) <= 1.0
    assert build_network(net.spec).spec == net.spec == {"type": "adain", "in_channels": 3, **TINY}


def test_adain_gives_the_target_statistics_and_own_statistics_change_nothing() -> None:
    features = torch.randn(2, 5, 6, 7) * 3 + 1
    target = FeatureStats.of(torch.randn(2, 5, 9, 9) * 0.5 - 2)
    moved = FeatureStats.of(adain(features, FeatureStats.of(features), target))
    torch.testing.assert_close(moved.mean, target.mean, atol=1e-4, rtol=0)
    torch.testing.assert_close(moved.std, target.std, atol=1e-3, rtol=1e-3)
    own = FeatureStats.of(features)
    torch.testing.assert_close(adain(features, own, own), features)


# ----------------------------------------------------------------------------- stylizer


def test_styles_any_size_in_tiles_as_in_one_piece(stylizer: ArbitraryStylizer) -> None:
    photo = smooth_photo(150, 170)
    code = stylizer.style_code(stripes(60, 80))
    whole = stylizer(photo, code, tile=1024)
    tiled = stylizer(photo, code, tile=64)
    assert whole.shape == tiled.shape == (150, 170, 3)
    np.testing.assert_allclose(tiled, whole, atol=2e-3)
    gray = stylizer(photo[..., :1], code)
    assert gray.shape == (150, 170, 3)


def test_mixing_with_weight_zero_or_one_is_the_single_style(stylizer: ArbitraryStylizer) -> None:
    photo = smooth_photo(40, 52)
    a = stylizer.style_code(stripes(60, 80, seed=0))
    b = stylizer.style_code(smooth_photo(50, 50, seed=3))
    only_a = stylizer(photo, a)
    np.testing.assert_allclose(stylizer(photo, stylizer.mix([a, b], [1.0, 0.0])), only_a, atol=1e-6)
    np.testing.assert_allclose(
        stylizer(photo, stylizer.mix([a, b], [0.0, 2.0])), stylizer(photo, b), atol=1e-6
    )
    half = stylizer.mix([a, b], [0.5, 0.5]).stats
    torch.testing.assert_close(half.mean, (a.stats.mean + b.stats.mean) / 2)
    with pytest.raises(ValueError, match="weights"):
        stylizer.mix([a, b], [0.0, 0.0])


def test_alpha_zero_is_the_autoencoder(stylizer: ArbitraryStylizer) -> None:
    photo = smooth_photo(40, 52)
    code = stylizer.style_code(stripes(60, 80))
    unstyled = stylizer(photo, code, alpha=0.0)
    other = stylizer.style_code(smooth_photo(30, 30, seed=5))
    np.testing.assert_array_equal(stylizer(photo, other, alpha=0.0), unstyled)
    with torch.no_grad():
        reconstruction = stylizer.net(image.to_tensor(photo))[0].permute(1, 2, 0).numpy()
    # the same network; only the padding of the borders differs (bottom/right vs both sides)
    np.testing.assert_allclose(unstyled, reconstruction, atol=1e-2)
    with pytest.raises(ValueError, match="alpha"):
        stylizer(photo, code, alpha=1.5)


def test_style_code_reads_the_painting_at_the_side_asked(stylizer: ArbitraryStylizer) -> None:
    painting = stripes(100, 120)
    code = stylizer.style_code(painting, side=60)
    assert code.stats.mean.shape == code.stats.std.shape == (1, 8)
    shrunk = stylizer.style_code(resize(painting, (50, 60)))
    torch.testing.assert_close(code.stats.mean, shrunk.stats.mean)


def test_models_of_other_tasks_are_refused(tmp_path: Path) -> None:
    path = hub.export(AdaINNet(widths=(4,)), tmp_path / "ae.safetensors", {"task": "restore"})
    with pytest.raises(ValueError, match="arbitrary"):
        ArbitraryStylizer(path)


# ----------------------------------------------------------------------------- recipe


def test_recipe_trains_both_phases_and_exports(folders: tuple[Path, Path], tmp_path: Path) -> None:
    photos, paintings = folders
    run = train(config(photos, paintings), run_dir=tmp_path / "ae", device="cpu")
    autoencoder = run / "export" / "arbitrary.safetensors"
    transfer = config(photos, paintings, phase="transfer")
    transfer["train"]["init"] = str(autoencoder)
    run = train(transfer, run_dir=tmp_path / "transfer", device="cpu")
    exported = run / "export" / "arbitrary.safetensors"
    before, _ = hub.load(autoencoder)
    after, card = hub.load(exported)
    assert card.task == "style-arbitrary" and card.training["steps"] == 2
    assert set(card.metrics) == {"edge_ssim", "style", "texture"}
    for name, value in before.state_dict().items():
        changed = not torch.equal(value, after.state_dict()[name])
        assert changed == name.startswith("decoder"), name  # the encoder stays frozen
    styled = ArbitraryStylizer(exported)(
        smooth_photo(), ArbitraryStylizer(exported).style_code(stripes(30, 30))
    )
    assert styled.shape == (48, 64, 3)


def test_recipe_refuses_bad_settings(folders: tuple[Path, Path], tmp_path: Path) -> None:
    photos, paintings = folders
    with pytest.raises(ConfigError, match="held out"):
        train(config(photos, paintings, feature_seed=1), run_dir=tmp_path / "a", device="cpu")
    with pytest.raises(ConfigError, match="phase"):
        train(config(photos, paintings, phase="gan"), run_dir=tmp_path / "b", device="cpu")
    missing = config(photos, paintings)
    missing["data"]["styles"] = None
    with pytest.raises(DataError, match="styles"):
        train(missing, run_dir=tmp_path / "c", device="cpu")


def test_held_out_paintings_are_refused(tmp_path: Path) -> None:
    if not DEFAULT_STYLES.is_dir():
        pytest.skip(f"no held-out paintings at {DEFAULT_STYLES}")
    with pytest.raises(DataError, match="held-out"):
        check_not_held_out(DEFAULT_STYLES)
    name = find_images(DEFAULT_STYLES)[0].name
    image.write(tmp_path / name, stripes(20, 20))
    with pytest.raises(DataError, match=name):
        check_not_held_out(tmp_path)


def test_default_config_trains_on_other_paintings_than_the_held_out_ones() -> None:
    settings = yaml.safe_load(CONFIG.read_text())
    styles = (CONFIG.parents[1] / settings["data"]["styles"]).resolve()
    assert styles != DEFAULT_STYLES.resolve()
    assert settings["model"]["feature_seed"] != 1
    if styles.is_dir() and DEFAULT_STYLES.is_dir():
        check_not_held_out(styles)


def test_bundled_model_styles_and_records_its_data_and_held_out_scores() -> None:
    stylizer = ArbitraryStylizer()
    card = stylizer.card
    assert Path(card.training["config"]["data"]["styles"]).name == "styles_extra"
    assert card.training["config"]["model"]["feature_seed"] != 1
    assert len(card.training["licences"]) == 13  # the photos and the 12 paintings
    assert card.metrics["held_out_edge_ssim"] > 0.31  # the peer's mean
    styled = stylizer(smooth_photo(), stylizer.style_code(stripes(60, 80)))
    assert styled.shape == (48, 64, 3)
