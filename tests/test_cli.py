"""The ``daguerre`` command: batch naming and safety, per-file errors, exit codes, each command.

Commands run in-process through Typer's ``CliRunner``. The ``restore`` and ``eval`` commands
find their models through ``daguerre.hub.WEIGHTS_DIR``, which the tests point at tiny models
exported to a temporary folder (see ``test_restore.py`` for what those models do).
"""

from __future__ import annotations

import functools
import inspect
import json
from pathlib import Path

import numpy as np
import pytest
from test_restore import (
    bright_detector,
    constant_painter,
    enhancer,
    export,
    smooth_photo,
)
from typer.testing import CliRunner, Result

from daguerre import cli, hub
from daguerre import image as imageio
from daguerre.cli import app
from daguerre.journal import JOURNAL_NAME
from daguerre.nets import format_count
from daguerre.restore import RestoreOptions

HEIGHT, WIDTH = 40, 48


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"COLUMNS": "1000"})  # wide enough that Rich never wraps a path


def invoke(runner: CliRunner, *args: object) -> Result:
    return runner.invoke(app, [str(arg) for arg in args])


def assert_clean_exit(result: Result, code: int) -> None:
    """Exit status ``code`` through ``typer.Exit``, never an uncaught exception."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """``in/`` with colour, gray, RGBA, 16-bit and JPEG photos, and one in ``in/sub/``."""
    folder = tmp_path / "in"
    color = smooth_photo(HEIGHT, WIDTH)
    color[12, 4:44] = 1.0  # a white scratch the tiny detector finds
    imageio.write(folder / "colour.png", color)
    imageio.write(folder / "gray.png", smooth_photo(HEIGHT, WIDTH, 1))
    alpha = np.linspace(0.0, 1.0, WIDTH, dtype=np.float32)[None].repeat(HEIGHT, axis=0)
    imageio.write(folder / "rgba.png", smooth_photo(HEIGHT, WIDTH), alpha=alpha)
    imageio.write(folder / "deep.png", smooth_photo(HEIGHT, WIDTH), bit_depth=16)
    imageio.write(folder / "scan.jpg", smooth_photo(HEIGHT, WIDTH))
    imageio.write(folder / "sub" / "nested.png", smooth_photo(HEIGHT, WIDTH))
    return folder


@pytest.fixture
def tiny_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundled-weights folder, pointed at the tiny detector, painter and identity enhancer."""
    folder = export(
        tmp_path / "weights",
        damage=bright_detector(),
        inpaint=constant_painter(),
        enhance=enhancer(),
    )
    monkeypatch.setattr(hub, "WEIGHTS_DIR", folder)
    return folder


def names(folder: Path) -> set[str]:
    """The files of ``folder`` (relative), the batch's journal left out."""
    found = (path for path in folder.rglob("*") if path.is_file() and path.name != JOURNAL_NAME)
    return {path.relative_to(folder).as_posix() for path in found}


# ----------------------------------------------------------------------------- help


@pytest.mark.parametrize(
    "command", [[], ["age"], ["restore"], ["models"], ["train"], ["eval", "restore"]], ids=str
)
def test_help_of_each_command(runner, command):
    result = invoke(runner, *command, "--help")
    assert_clean_exit(result, 0)
    assert "Usage" in result.output


# ----------------------------------------------------------------------------- age


def test_age_a_folder_keeps_names_formats_depth_alpha_and_gray(runner, photos, tmp_path):
    out = tmp_path / "out"
    result = invoke(runner, "age", photos, "-o", out)
    assert_clean_exit(result, 0)
    assert "aged 5 file(s)" in result.output
    # not recursive: in/sub/ is left alone
    assert names(out) == {"colour.png", "gray.png", "rgba.png", "deep.png", "scan.jpg"}

    assert imageio.read(out / "scan.jpg").format == "JPEG"
    assert imageio.read(out / "deep.png").bit_depth == 16
    assert imageio.read(out / "colour.png").bit_depth == 8
    assert imageio.read(out / "gray.png").pixels.shape == (HEIGHT, WIDTH, 1)
    aged = imageio.read(out / "rgba.png")
    assert aged.alpha is not None
    np.testing.assert_allclose(aged.alpha, imageio.read(photos / "rgba.png").alpha, atol=1e-6)
    assert not np.allclose(aged.pixels, imageio.read(photos / "rgba.png").pixels, atol=0.01)


def test_age_recursive_keeps_the_sub_folders(runner, photos, tmp_path):
    out = tmp_path / "out"
    result = invoke(runner, "age", photos, "-o", out, "--recursive")
    assert_clean_exit(result, 0)
    assert "aged 6 file(s)" in result.output
    assert {"colour.png", "sub/nested.png"} <= names(out)


def test_age_ext_suffix_and_mask(runner, photos, tmp_path):
    out = tmp_path / "out"
    result = invoke(
        runner,
        "age",
        photos / "colour.png",
        photos / "scan.jpg",
        "-o",
        out,
        "--ext",
        "png",
        "--suffix",
        "_old",
        "--save-mask",
    )
    assert_clean_exit(result, 0)
    assert names(out) == {
        "colour_old.png",
        "colour_old_mask.png",
        "scan_old.png",
        "scan_old_mask.png",
    }
    assert imageio.read(out / "scan_old.png").format == "PNG"
    mask = imageio.read(out / "colour_old_mask.png").pixels
    assert mask.shape == (HEIGHT, WIDTH, 1)


def test_age_unknown_extension_or_preset_is_a_clean_error(runner, photos, tmp_path):
    for option, value in (("--ext", "gif"), ("--preset", "ancient")):
        result = invoke(runner, "age", photos, "-o", tmp_path / "out", option, value)
        assert_clean_exit(result, 2)
        assert value in result.output
    assert not (tmp_path / "out").exists()


def test_age_reports_a_corrupt_file_and_writes_the_good_one(runner, photos, tmp_path):
    broken = photos / "scan[old].png"  # brackets: Rich markup must not eat the name
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    out = tmp_path / "out"
    result = invoke(runner, "age", broken, photos / "colour.png", "-o", out)
    assert_clean_exit(result, 1)
    assert str(broken) in result.output
    assert "aged 1 file(s), 1 failed" in result.output
    assert names(out) == {"colour.png"}


def test_age_output_folder_with_brackets_is_printed_as_is(runner, photos, tmp_path):
    out = tmp_path / "out[/old]"
    result = invoke(runner, "age", photos / "colour.png", "-o", out)
    assert_clean_exit(result, 0)
    assert str(out) in result.output


def test_age_never_overwrites_an_input(runner, photos):
    original = (photos / "colour.png").read_bytes()
    result = invoke(runner, "age", photos / "colour.png", "-o", photos)
    assert_clean_exit(result, 2)  # refused before any work
    assert "would replace itself" in result.output
    assert (photos / "colour.png").read_bytes() == original


def test_age_inputs_sharing_a_target_are_refused_before_any_work(runner, tmp_path):
    for folder in ("a", "b"):
        imageio.write(tmp_path / folder / "x.png", smooth_photo(16, 16))
    out = tmp_path / "out"
    result = invoke(runner, "age", tmp_path / "a", tmp_path / "b" / "x.png", "-o", out)
    assert_clean_exit(result, 2)
    assert "would write to" in result.output and str(tmp_path / "b" / "x.png") in result.output
    assert not out.exists()


def test_age_does_a_file_named_twice_once(runner, photos, tmp_path):
    result = invoke(runner, "age", photos, photos / "gray.png", "-o", tmp_path / "out")
    assert_clean_exit(result, 0)
    assert "aged 5 file(s)" in result.output


def test_age_is_deterministic_per_seed(runner, photos, tmp_path):
    def run(seed: int, out: str) -> bytes:
        assert_clean_exit(
            invoke(runner, "age", photos / "colour.png", "-o", tmp_path / out, "--seed", seed), 0
        )
        return (tmp_path / out / "colour.png").read_bytes()

    assert run(7, "first") == run(7, "again")
    assert run(7, "first") != run(8, "other")


# ----------------------------------------------------------------------------- restore


def test_restore_writes_results_masks_and_comparisons(runner, photos, tiny_models, tmp_path):
    out = tmp_path / "out"
    sources = [photos / name for name in ("colour.png", "gray.png", "deep.png", "rgba.png")]
    result = invoke(
        runner, "restore", *sources, "-o", out, "--save-mask", "--compare", "--max-hole", "1"
    )
    assert_clean_exit(result, 0)
    assert "restored 4 file(s)" in result.output
    stems = ("colour", "gray", "deep", "rgba")
    assert names(out) == {
        f"{s}{tail}" for s in stems for tail in (".png", "_mask.png", "_compare.jpg")
    }

    color = imageio.read(out / "colour.png").pixels
    original = imageio.read(photos / "colour.png").pixels
    # the thin scratch is filled (by Telea) like the photo around it
    clean = smooth_photo(HEIGHT, WIDTH)
    np.testing.assert_allclose(color[11:14, 4:44], clean[11:14, 4:44], atol=0.05)
    np.testing.assert_array_equal(color[20:], original[20:])  # the identity enhancer
    mask = imageio.read(out / "colour_mask.png").pixels[..., 0]
    assert (mask > 0.5).sum() == 40 and (mask[12, 4:44] > 0.5).all()

    compare = imageio.read(out / "colour_compare.jpg")
    assert compare.format == "JPEG"
    assert compare.pixels.shape == (HEIGHT, 2 * WIDTH + 4, 3)
    # before on the left (the scratch still there), after on the right
    np.testing.assert_allclose(compare.pixels[:, :WIDTH], original, atol=0.06)
    np.testing.assert_allclose(compare.pixels[:, -WIDTH:], color, atol=0.06)
    assert imageio.read(out / "gray.png").pixels.shape == (HEIGHT, WIDTH, 1)
    assert imageio.read(out / "deep.png").bit_depth == 16
    alpha = imageio.read(out / "rgba.png").alpha
    assert alpha is not None
    np.testing.assert_allclose(alpha, imageio.read(photos / "rgba.png").alpha, atol=1e-6)


def test_restore_no_damage_needs_only_the_enhancer(runner, photos, tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "WEIGHTS_DIR", export(tmp_path / "weights", enhance=enhancer()))
    out = tmp_path / "out"
    result = invoke(
        runner, "restore", photos / "colour.png", "-o", out, "--no-damage", "--save-mask"
    )
    assert_clean_exit(result, 0)
    assert names(out) == {"colour.png"}  # no mask without damage detection
    np.testing.assert_array_equal(
        imageio.read(out / "colour.png").pixels, imageio.read(photos / "colour.png").pixels
    )


def test_restore_monochrome_yes_gives_neutral_black_and_white(
    runner, photos, tmp_path, monkeypatch
):
    monkeypatch.setattr(hub, "WEIGHTS_DIR", export(tmp_path / "weights", enhance=enhancer()))
    out = tmp_path / "out"
    args = ("restore", photos / "colour.png", "-o", out, "--no-damage", "--monochrome")
    assert_clean_exit(invoke(runner, *args, "yes"), 0)
    pixels = imageio.read(out / "colour.png").pixels
    np.testing.assert_array_equal(pixels[..., 0], pixels[..., 2])
    assert np.abs(pixels - imageio.read(photos / "colour.png").pixels).max() > 0.05
    assert_clean_exit(invoke(runner, *args, "sometimes"), 2)


def test_restore_with_a_user_mask(runner, photos, tiny_models, tmp_path):
    mask = np.zeros((HEIGHT, WIDTH, 1), np.float32)
    mask[25:28, 30:34] = 1.0
    imageio.write(tmp_path / "mask.png", mask)
    blotched = imageio.read(photos / "colour.png").pixels
    blotched[25:28, 30:34] = 1.0  # a white blotch under the user's mask
    imageio.write(tmp_path / "blotched.png", blotched)
    out = tmp_path / "out"
    # the user's mask replaces detection, even with --no-damage: the scratch stays
    result = invoke(
        runner,
        "restore",
        tmp_path / "blotched.png",
        "-o",
        out,
        "--no-damage",
        "--mask",
        tmp_path / "mask.png",
    )
    assert_clean_exit(result, 0)
    restored = imageio.read(out / "blotched.png").pixels
    grown = np.zeros((HEIGHT, WIDTH), bool)
    grown[24:29, 29:35] = True
    np.testing.assert_array_equal(restored[~grown], blotched[~grown])
    around = restored[23:30, 28:36][~grown[23:30, 28:36]]
    assert restored[grown].max() < around.max() + 0.05  # the blotch is gone, filled from around
    assert (restored[12, 4:44] == 1.0).all()


def test_restore_with_a_mask_of_the_wrong_size_fails_that_file(
    runner, photos, tiny_models, tmp_path
):
    imageio.write(tmp_path / "mask.png", np.zeros((8, 8, 1), np.float32))
    result = invoke(
        runner,
        "restore",
        photos / "colour.png",
        "-o",
        tmp_path / "out",
        "--mask",
        tmp_path / "mask.png",
    )
    assert_clean_exit(result, 1)
    assert f"{photos / 'colour.png'}: mask is 8×8, image is 48×40" in result.output


def test_restore_with_a_missing_mask_file_is_a_clean_error(runner, photos, tiny_models, tmp_path):
    result = invoke(
        runner,
        "restore",
        photos / "colour.png",
        "-o",
        tmp_path / "out",
        "--mask",
        tmp_path / "nope.png",
    )
    assert_clean_exit(result, 2)
    assert "nope.png" in result.output


@pytest.mark.parametrize(
    ("flags", "missing"), [([], "restore-damage"), (["--no-damage"], "restore-enhance")]
)
def test_restore_without_weights_names_the_missing_file(
    runner, photos, tmp_path, monkeypatch, flags, missing
):
    monkeypatch.setattr(hub, "WEIGHTS_DIR", tmp_path / "empty")
    out = tmp_path / "out"
    result = invoke(runner, "restore", photos / "colour.png", "-o", out, *flags)
    assert_clean_exit(result, 2)
    assert str(tmp_path / "empty" / f"{missing}.safetensors") in result.output
    assert names(out) == set()  # no result (the journal may have the file as started)


def test_restore_with_corrupt_weights_is_a_clean_error(runner, photos, tiny_models, tmp_path):
    weights = tiny_models / "restore-enhance.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8])
    result = invoke(runner, "restore", photos / "colour.png", "-o", tmp_path / "out", "--no-damage")
    assert_clean_exit(result, 2)
    assert str(weights) in result.output and "checksum" in result.output


# ----------------------------------------------------------------------------- models, train, eval


def test_models_lists_the_cards(runner, tiny_models, monkeypatch):
    # list_models binds its folder at import, so redirect the function rather than the folder
    monkeypatch.setattr(hub, "list_models", functools.partial(hub.list_models, tiny_models))
    result = invoke(runner, "models")
    assert_clean_exit(result, 0)
    rows = {row["name"]: row for row in table_rows(result.output)}
    assert sorted(rows) == ["restore-damage", "restore-enhance", "restore-inpaint"]
    for name, row in rows.items():
        card = hub.read_card(tiny_models / f"{name}.json")
        assert card.parameters > 0
        assert row["parameters"] == format_count(card.parameters)


def test_models_shows_an_unknown_parameter_count_as_a_question_mark(runner, tmp_path, monkeypatch):
    (tmp_path / "old.json").write_text('{"name": "old", "task": "restore"}')
    monkeypatch.setattr(hub, "list_models", functools.partial(hub.list_models, tmp_path))
    result = invoke(runner, "models")
    assert_clean_exit(result, 0)
    assert [row["parameters"] for row in table_rows(result.output)] == ["?"]


def test_models_never_cuts_a_name_on_a_narrow_terminal(tmp_path, monkeypatch):
    name = "style-starry-night-over-the-rhone-1888"
    metrics = {f"metric_{index}": 0.123456 for index in range(6)}
    card = {"name": name, "task": "style", "parameters": 1234567, "metrics": metrics}
    (tmp_path / f"{name}.json").write_text(json.dumps(card))
    monkeypatch.setattr(hub, "list_models", functools.partial(hub.list_models, tmp_path))
    result = invoke(CliRunner(env={"COLUMNS": "80"}), "models")
    assert_clean_exit(result, 0)
    assert name in result.output


def table_rows(output: str) -> list[dict[str, str]]:
    """The rows of a Rich table as {column: cell}."""
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith(("┃", "│"))]
    header, *rows = [[cell.strip() for cell in line.strip("┃│").split(line[0])] for line in lines]
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_models_with_none_bundled(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "list_models", functools.partial(hub.list_models, tmp_path))
    result = invoke(runner, "models")
    assert_clean_exit(result, 0)
    assert "no bundled models yet" in result.output


@pytest.mark.parametrize("config", ["missing.yaml", ""], ids=["missing", "a folder"])
def test_train_with_a_bad_config_path_is_a_one_line_error(runner, tmp_path, config):
    path = tmp_path / config
    result = invoke(runner, "train", path, "--run-dir", tmp_path / "run")
    assert_clean_exit(result, 2)
    assert result.output.strip().count("\n") == 0
    assert str(path) in result.output
    assert not (tmp_path / "run").exists()


def test_eval_restore_prints_scores_and_writes_a_sheet(runner, photos, tiny_models, tmp_path):
    sheet = tmp_path / "sheet.png"
    result = invoke(
        runner,
        "eval",
        "restore",
        "--data",
        photos,
        "--limit",
        "2",
        "--preset",
        "light",
        "--sheet",
        sheet,
    )
    assert_clean_exit(result, 0)
    for method in ("input", "classical", "daguerre", "daguerre --finish"):
        assert f"│ {method} " in result.output
    assert "restoration on 2 photos" in result.output
    assert imageio.read(sheet).pixels.shape[0] == 2 * 256


def test_eval_restore_without_weights_is_a_clean_error(runner, photos, tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "WEIGHTS_DIR", tmp_path / "empty")
    result = invoke(runner, "eval", "restore", "--data", photos, "--limit", "1")
    assert_clean_exit(result, 2)
    assert "restore-damage.safetensors" in result.output


def test_restore_and_eval_take_another_weights_folder(runner, photos, tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "WEIGHTS_DIR", tmp_path / "empty")
    folder = export(
        tmp_path / "mine", damage=bright_detector(), inpaint=constant_painter(), enhance=enhancer()
    )
    result = invoke(
        runner,
        "eval",
        "restore",
        "--data",
        photos,
        "--limit",
        "1",
        "--weights",
        folder,
        "--mask-threshold",
        "0.9",
    )
    assert_clean_exit(result, 0)
    assert "restoration on 1 photos" in result.output
    result = invoke(runner, "restore", photos, "--output", tmp_path / "out", "--weights", folder)
    assert_clean_exit(result, 0)
    assert len(names(tmp_path / "out")) == len(list(photos.glob("*.*")))  # not recursive


@pytest.mark.parametrize("command", [cli.restore, cli.evaluate_restore])
def test_restore_commands_default_to_the_pipelines_options(command):
    parameters = inspect.signature(command).parameters
    for option in ("mask_threshold", "max_hole"):
        assert parameters[option].default == getattr(RestoreOptions, option)


@pytest.mark.parametrize(
    ("command", "option", "value", "field"),
    [
        ("restore", "--mask-threshold", "1.5", "mask_threshold"),
        ("restore", "--max-hole", "-1", "max_hole"),
        ("restore", "--tile", "8", "tile"),
        ("eval", "--mask-threshold", "1.5", "mask_threshold"),
        ("eval", "--max-hole", "-1", "max_hole"),
    ],
)
def test_restore_commands_refuse_out_of_range_options_with_the_librarys_check(
    runner, photos, tmp_path, tiny_models, command, option, value, field
):
    where = ["-o", tmp_path / "out"] if command == "restore" else ["--data"]
    args = ["restore", *where, photos] if command == "eval" else ["restore", photos, *where]
    result = invoke(runner, *([command] if command == "eval" else []), *args, option, value)
    assert_clean_exit(result, 2)
    assert f"{field} must" in result.output
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- eval: damage, all


def test_eval_restore_with_the_held_out_renderer(runner, photos, tiny_models, tmp_path):
    sheet = tmp_path / "sheet.png"
    args = ("eval", "restore", "--data", photos, "--limit", "2", "--damage", "heldout")
    result = invoke(runner, *args, "--sheet", sheet)
    assert_clean_exit(result, 0)
    assert "heldout, held-out renderer, seed 0)" in " ".join(result.output.split())  # title
    for method in ("input", "classical", "daguerre", "daguerre --finish"):
        assert f"│ {method} " in result.output
    assert "damage mask: precision" in result.output and "flagged" in result.output
    assert imageio.read(sheet).pixels.shape[0] == 2 * 256
    # the same run again prints the same figures: the renderer is seeded
    assert invoke(runner, *args, "--sheet", sheet).output == result.output


def test_eval_restore_preset_none_and_a_wrong_pairing(runner, photos, tiny_models):
    result = invoke(runner, "eval", "restore", "--data", photos, "--limit", "1", "--preset", "none")
    assert_clean_exit(result, 0)
    assert "│ input " in result.output and " inf " in result.output  # the clean photo itself
    assert "(no damage drawn)" in result.output
    for option in (("--damage", "heldout", "--preset", "heavy"), ("--damage", "paint")):
        result = invoke(runner, "eval", "restore", "--data", photos, *option)
        assert_clean_exit(result, 2)
        assert "unknown" in result.output


def test_eval_restore_preset_all_prints_one_table(runner, photos, tiny_models, tmp_path):
    from daguerre.restore.evaluate import EVERY_PRESET

    args = ("eval", "restore", "--data", photos, "--limit", "2", "--preset", "all")
    result = invoke(runner, *args, "--sheet", tmp_path / "sheet.png")
    assert_clean_exit(result, 0)
    rows = {row["preset"]: row for row in eval_rows(result.output)}
    assert list(rows) == [row for row, _, _ in EVERY_PRESET]
    assert {"none", "light", "moderate", "heavy", "bopbtl", "heldout"} <= rows.keys()
    assert rows["none"]["input PSNR / SSIM"] == "inf / 1.0000"
    assert rows["none"]["mask P / R / IoU"] == "—"
    precision, recall, iou = map(float, rows["heldout"]["mask P / R / IoU"].split(" / "))
    assert 0 <= iou <= min(precision, recall) <= 1
    assert "restoration on 2 photos" in result.output
    for row in rows:
        assert imageio.read(tmp_path / f"sheet_{row}.png").pixels.shape[0] == 2 * 256


def eval_rows(output: str) -> list[dict[str, str]]:
    """The rows of the ``--preset all`` table as {column: cell}."""
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith(("┃", "│"))]
    header, *rows = [[cell.strip() for cell in line.strip("┃│").split(line[0])] for line in lines]
    return [dict(zip(header, row, strict=True)) for row in rows]
