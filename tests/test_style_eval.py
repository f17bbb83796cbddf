"""Style evaluation: painting lookup, edge SSIM, scores per model and method, ``eval style``.

The models are tiny and exported to a temporary weights folder: ``style-stripes`` is the
identity (a residual generator whose last layer is zero), ``style-flat`` a TransformerNet that
paints every pixel one colour, and a restoration model that must be left out.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from test_style import smooth_photo, stripes
from typer.testing import CliRunner

from daguerre import hub, image
from daguerre.cli import app
from daguerre.nets import build_network
from daguerre.style.evaluate import (
    METHODS,
    METRICS,
    edge_ssim,
    evaluate,
    painting_path,
    style_models,
)

SIZE = 48
GROUND = (0.8, 0.6, 0.3)  # the background of test_style's stripes painting


@pytest.fixture(scope="module")
def styles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The paintings folder: ``stripes.jpg``, found for ``style-stripes`` by its name."""
    folder = tmp_path_factory.mktemp("styles")
    image.write(folder / "stripes.jpg", stripes(40, 56))
    return folder


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A painting elsewhere, recorded in ``style-flat``'s card as its training painting."""
    return image.write(tmp_path_factory.mktemp("elsewhere") / "dots.png", stripes(44, 36, seed=3))


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory, recorded: Path) -> Path:
    folder = tmp_path_factory.mktemp("weights")
    identity = {"type": "resnet", "base_channels": 4, "n_blocks": 1, "residual": True}
    hub.export(build_network(identity), "style-stripes", {"task": "style"}, directory=folder)
    flat = build_network({"type": "transformer", "base_channels": 4, "n_blocks": 1}).eval()
    with torch.no_grad():
        flat.head.weight.zero_()
        flat.head.bias.copy_(torch.logit(torch.tensor(GROUND)))
    training = {"config": {"data": {"style": str(recorded), "style_size": 32}}}
    hub.export(flat, "style-flat", {"task": "style", "training": training}, directory=folder)
    restore = build_network({"type": "unet", "base_channels": 4, "depth": 2})
    hub.export(restore, "restore-enhance", {"task": "restore"}, directory=folder)
    return folder


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 'photos' drawn all over: patches of colour in an 8-pixel grid, slightly blurred.

    (Edge SSIM counts flat areas as agreeing, so mostly flat photos would hide a lost drawing.)
    """
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for index in range(2):
        cells = rng.uniform(0.0, 1.0, (SIZE // 8, 5, 3)).astype(np.float32)
        grid = cv2.resize(cells, (40, SIZE), interpolation=cv2.INTER_NEAREST)
        image.write(folder / f"grid_{index}.png", cv2.GaussianBlur(grid, (0, 0), 1.0))
    return folder


def test_style_models_are_the_style_cards(weights: Path) -> None:
    assert style_models(weights) == ["style-flat", "style-stripes"]


def test_painting_is_found_by_card_then_by_name(
    weights: Path, styles: Path, recorded: Path
) -> None:
    flat = hub.read_card(weights / "style-flat.json")
    assert painting_path(flat, styles) == recorded
    stripes_card = hub.read_card(weights / "style-stripes.json")
    assert painting_path(stripes_card, styles) == styles / "stripes.jpg"
    starry = hub.ModelCard(name="style-starry-night", task="style")
    with pytest.raises(FileNotFoundError, match="style-starry-night") as error:
        painting_path(starry, styles)
    assert str(styles / "starry_night.jpg") in str(error.value)


def test_edge_ssim_keeps_drawing_not_color() -> None:
    photo = smooth_photo(40, 48)
    assert edge_ssim(photo, photo) == pytest.approx(1.0)
    assert edge_ssim(np.zeros_like(photo), np.zeros_like(photo)) == pytest.approx(1.0)
    recolored = photo[..., ::-1].copy()  # other colours, nearly the same edges
    moved = np.roll(photo, 9, axis=1)
    assert edge_ssim(moved, photo) < edge_ssim(recolored, photo) < 1.0
    assert edge_ssim(recolored, photo) > 0.7


def test_evaluate_scores_each_method_of_each_model(
    weights: Path, styles: Path, photos: Path, recorded: Path
) -> None:
    files = sorted(photos.iterdir())
    seen: list[tuple[int, int]] = []
    result = evaluate(
        files,
        styles=styles,
        size=SIZE,
        directory=weights,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert result.photos == [path.name for path in files]
    assert result.paintings == {"style-flat": recorded, "style-stripes": styles / "stripes.jpg"}
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    summary = result.summary()
    assert list(summary) == ["style-flat", "style-stripes"]
    for model, methods in summary.items():
        assert list(methods) == list(METHODS)
        assert all(len(rows) == len(files) for rows in result.scores[model].values())
        assert all(math.isfinite(methods[m][k]) for m in METHODS for k in METRICS)
        assert methods["photo"]["edge_ssim"] == pytest.approx(1.0)
        # the colour transfer moves the photo towards the painting and keeps its drawing
        assert methods["colour transfer"]["style"] < methods["photo"]["style"]
        assert 0.0 < methods["colour transfer"]["edge_ssim"] < 1.0
        assert result.seconds_per_megapixel[model] > 0.0
    identity = summary["style-stripes"]
    # the identity keeps the photo's drawing and stays as far from the painting as the photo
    assert identity["fast model"]["edge_ssim"] == pytest.approx(1.0, abs=1e-3)
    for name in ("style", "texture"):
        assert identity["fast model"][name] == pytest.approx(identity["photo"][name], rel=1e-3)
    # a flat output keeps none of the drawing
    flat = summary["style-flat"]
    assert flat["fast model"]["edge_ssim"] < 0.05 < flat["colour transfer"]["edge_ssim"]


def test_evaluate_checks_every_painting_before_any_work(
    weights: Path, styles: Path, tmp_path: Path, photos: Path
) -> None:
    files = sorted(photos.iterdir())[:1]
    seen: list[tuple[int, int]] = []
    with pytest.raises(FileNotFoundError, match="style-stripes") as error:
        # style-flat (its painting found) comes first, yet nothing runs
        evaluate(files, styles=tmp_path, directory=weights, progress=lambda *n: seen.append(n))
    assert str(tmp_path / "stripes.jpg") in str(error.value)
    assert seen == []
    painting = styles / "stripes.jpg"
    result = evaluate(
        files,
        ["style-stripes"],
        paintings={"style-stripes": painting},
        styles=tmp_path,
        size=SIZE,
        directory=weights,
    )
    assert result.paintings == {"style-stripes": painting}
    assert list(result.summary()) == ["style-stripes"]


def test_evaluate_loads_every_model_before_any_work(
    weights: Path, styles: Path, tmp_path: Path, photos: Path
) -> None:
    for path in weights.iterdir():
        shutil.copy(path, tmp_path)
    (tmp_path / "style-stripes.safetensors").write_bytes(b"not weights")
    seen: list[tuple[int, int]] = []
    with pytest.raises(hub.ModelError, match="checksum"):
        evaluate(
            sorted(photos.iterdir()),
            styles=styles,
            directory=tmp_path,
            progress=lambda *n: seen.append(n),
        )
    assert seen == []


def test_evaluate_without_style_models_or_photos(tmp_path: Path, photos: Path) -> None:
    with pytest.raises(ValueError, match="no style model"):
        evaluate(sorted(photos.iterdir()), directory=tmp_path)
    with pytest.raises(ValueError, match="no photos"):
        evaluate([], directory=tmp_path)


# ----------------------------------------------------------------------------- CLI


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"COLUMNS": "1000"})  # wide enough that Rich never wraps a path


def test_cli_eval_style_prints_a_row_per_model_and_method(
    runner: CliRunner, weights: Path, styles: Path, photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub, "WEIGHTS_DIR", weights)
    args = ["eval", "style", "--data", str(photos), "--styles", str(styles), "--size", str(SIZE)]
    result = runner.invoke(app, [*args, "--model", "style-stripes", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "style on 1 photos" in result.output
    for method in METHODS:
        assert f"│ {method} " in result.output
    assert result.output.count("style-stripes") == len(METHODS)
    assert "style-flat" not in result.output


@pytest.mark.parametrize("problem", ["no models", "no painting"])
def test_cli_eval_style_errors_exit_2_with_a_message(
    runner: CliRunner,
    weights: Path,
    photos: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    problem: str,
) -> None:
    monkeypatch.setattr(hub, "WEIGHTS_DIR", tmp_path if problem == "no models" else weights)
    args = ["eval", "style", "--data", str(photos), "--styles", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    expected = "no style model" if problem == "no models" else str(tmp_path / "stripes.jpg")
    assert expected in result.output
