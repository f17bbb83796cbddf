"""`daguerre style learn`: the arbitrary network adapted to one painting, saved, and styled with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from test_data import write_shapes
from test_style import smooth_photo, stripes
from typer.testing import CliRunner

from daguerre import hub, image
from daguerre.cli import app
from daguerre.nets import AdaINNet, LearnedAdaINNet
from daguerre.style import Stylizer
from daguerre.style.arbitrary import ArbitraryStylizer
from daguerre.style.evaluate import evaluate
from daguerre.style.learn import LearnedStyle, learn_style, save_learned


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded, untrained arbitrary-style model (small widths)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("base") / "tiny.safetensors"
    return hub.export(AdaINNet(widths=(4, 8, 8)), path, {"task": "style-arbitrary"})


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    return [smooth_photo(48, 64, seed) for seed in range(3)]


def _learn(base: Path, photos: list[np.ndarray], seed: int = 0, steps: int = 3) -> LearnedStyle:
    return learn_style(stripes(60, 80, 1), photos, steps=steps, seed=seed, base=base)


def test_learning_changes_the_decoder_only_and_keeps_the_painting_code(
    base: Path, photos: list[np.ndarray]
) -> None:
    learned = _learn(base, photos)
    start = ArbitraryStylizer(base)
    assert isinstance(learned.net, LearnedAdaINNet) and learned.steps == 3
    before, after = start.net.state_dict(), learned.net.state_dict()
    changed = {name for name, value in before.items() if not torch.equal(value, after[name])}
    assert changed and all(name.startswith("decoder.") for name in changed)
    code = start.style_code(stripes(60, 80, 1)).stats
    assert torch.allclose(learned.net.style.mean, code.mean)
    assert torch.allclose(learned.net.style.std, code.std)
    assert len(learned.history) == 3 and set(learned.history[0]) == set(learned.weights)


def test_learning_is_reproducible_for_a_seed(base: Path, photos: list[np.ndarray]) -> None:
    one, two, other = _learn(base, photos), _learn(base, photos), _learn(base, photos, seed=1)
    first, second = one.net.state_dict(), two.net.state_dict()
    assert all(torch.equal(first[key], second[key]) for key in first)
    assert any(not torch.equal(first[key], other.net.state_dict()[key]) for key in first)


def test_a_time_budget_plans_its_steps(base: Path, photos: list[np.ndarray]) -> None:
    seen: list[tuple[int, int]] = []
    learned = learn_style(
        stripes(60, 80, 1),
        photos,
        minutes=0.02,
        base=base,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert learned.steps == seen[-1][0] == seen[-1][1] >= 5
    assert learned.seconds < 30


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"photos": []}, "no photos"),
        ({"steps": 0}, "steps must be"),
        ({"minutes": 0.0}, "minutes must be"),
        ({"weights": {"colour": 1.0}}, "unknown terms"),
    ],
)
def test_bad_settings_are_refused(
    base: Path, photos: list[np.ndarray], arguments: dict, message: str
) -> None:
    settings = {"photos": photos, "base": base, **arguments}
    with pytest.raises(ValueError, match=message):
        learn_style(stripes(60, 80, 1), **settings)


def test_a_saved_style_styles_like_the_learnt_network_and_is_scored_by_eval_style(
    base: Path, photos: list[np.ndarray], tmp_path: Path
) -> None:
    learned = _learn(base, photos)
    painting = tmp_path / "stripes.png"
    image.write(painting, stripes(60, 80, 1))
    saved = save_learned(learned, tmp_path / "mine", painting=painting, photos="3 test photos")
    assert saved == tmp_path / "mine.safetensors" and (tmp_path / "mine.json").is_file()
    card = hub.read_card(tmp_path / "mine.json")
    assert card.task == "style-arbitrary" and card.training["steps"] == 3
    photo = smooth_photo(40, 56, 5)
    styled = Stylizer(saved)(photo)
    network = ArbitraryStylizer(saved)
    assert network.learned is not None
    expected = network(photo, network.learned)
    assert styled.shape == (40, 56, 3)
    np.testing.assert_allclose(styled, expected, atol=1e-5)
    photo_file = tmp_path / "photos" / "a.png"
    photo_file.parent.mkdir()
    image.write(photo_file, photo)
    result = evaluate([photo_file], [str(saved)], size=40)
    assert result.paintings[str(saved)] == painting
    assert 0.0 <= result.summary()[str(saved)]["fast model"]["edge_ssim"] <= 1.0


def test_the_any_painting_network_alone_is_not_a_style(base: Path) -> None:
    with pytest.raises(ValueError, match="give the painting itself"):
        Stylizer(base)


def test_cli_learns_writes_and_never_replaces_a_model_unasked(tmp_path: Path, base: Path) -> None:
    folder = write_shapes(tmp_path / "photos", 3, size=(40, 40))
    (folder / "broken.png").write_bytes(b"not an image")
    painting = tmp_path / "art.png"
    image.write(painting, stripes(60, 80, 2))
    model = tmp_path / "out" / "art.safetensors"
    model.parent.mkdir()
    args = ["style", "learn", str(painting), "--photos", str(folder), "-o", str(model)]
    # the bundled network is the base; two steps keep it quick
    result = CliRunner().invoke(app, [*args, "--steps", "2"])
    assert result.exit_code == 0, result.output
    assert "broken.png" in result.output and "skipped" in result.output
    assert "--style" in result.output and model.is_file()
    before = model.read_bytes()
    again = CliRunner().invoke(app, [*args, "--steps", "2", "--seed", "1"])
    assert again.exit_code == 2 and "already exists" in again.output
    assert model.read_bytes() == before
    photo = folder / "shape_00.png"
    styled = CliRunner().invoke(
        app, ["stylize", str(photo), "--style", str(model), "-o", str(tmp_path / "styled")]
    )
    assert styled.exit_code == 0, styled.output
    assert image.read(tmp_path / "styled" / photo.name).pixels.shape == (40, 40, 3)
