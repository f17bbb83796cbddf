"""Face restoration: its data and degradations, the recipe, the faces stage of the restore
pipeline, restore_faces, the options, the commands and eval faces (tiny nets and faces)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from test_data import write_shapes
from test_training import scores
from typer.testing import CliRunner, Result

import daguerre
from daguerre import hub
from daguerre import image as imageio
from daguerre.cli import app
from daguerre.data import FaceDegradation, FacesDataset, ImageCache, build_data, face_view
from daguerre.faces import TEMPLATE, Face, align, face_mask, face_transform, paste, stage
from daguerre.faces.evaluate import degrade, evaluate, face_region
from daguerre.hub import ModelError
from daguerre.nets import UNet
from daguerre.restore import RestoreOptions, RestorePipeline
from daguerre.training import ConfigError, resolve_config, train

BASE = {"detect_damage": False, "enhance": False, "monochrome": False}


class Flat(torch.nn.Module):
    """A face 'restorer' that paints every face mid-gray plus a little of its input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 + 0.1 * (x - 0.5)


def tiny_restorer(seed: int = 0) -> UNet:
    """A residual 2-level U-Net with a non-zero head (a fresh one is the identity)."""
    torch.manual_seed(seed)
    net = UNet(base_channels=4, depth=2, norm="none", residual=True)
    torch.nn.init.normal_(net.head.weight, 0.0, 0.05)
    return net.eval()


def textured(
    height: int = 160, width: int = 200, channels: int = 3, seed: int = 3, cell: int = 8
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.random((height // cell + 1, width // cell + 1, channels)).astype(np.float32)
    big = cv2.resize(coarse, (width + 8, height + 8), interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(np.clip(big[:height, :width], 0, 1).reshape(height, width, -1))


def face_at(x: float, y: float, side: float) -> Face:
    """A face whose aligned crop is the ``side``² square at (x, y), landmarks on the template."""
    points = TEMPLATE * side + (x - 0.5, y - 0.5)
    box = (round(x + 0.3 * side), round(y + 0.35 * side), round(0.4 * side), round(0.4 * side))
    return Face(box, 30.0, landmarks=points)


@pytest.fixture
def found(monkeypatch: pytest.MonkeyPatch) -> list[Face]:
    """The faces the stage will find: a stand-in for the detector and the landmark net."""
    faces = [face_at(20.0, 10.0, 96.0)]
    monkeypatch.setattr(stage, "find_faces", lambda image, landmarks, options=None: faces)
    return faces


# ----------------------------------------------------------------------------- data


def write_faces(folder: Path, count: int = 4, size: int = 64) -> Path:
    """Colour squares with dark dots where the template's landmarks are."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        face = np.ones((size, size, 3), np.float32) * rng.uniform(0.4, 0.9, 3).astype(np.float32)
        for x, y in TEMPLATE * size - 0.5:
            cv2.circle(face, (round(x), round(y)), 2, (0.05, 0.05, 0.1), -1)
        imageio.write(folder / f"face{index}.png", face)
    return folder


def test_canonical_view_keeps_the_template_and_jitter_moves_it(tmp_path: Path) -> None:
    cache = ImageCache.load(write_faces(tmp_path / "faces", 1, size=128))
    view = face_view(cache.images[0], 64)
    assert view.shape == (64, 64, 3) and view.dtype == np.float32
    for x, y in TEMPLATE * 64 - 0.5:  # the dots are where the template puts them at 64²
        assert view[round(y), round(x)].mean() < 0.3
    rng = np.random.default_rng(1)
    moved = face_view(cache.images[0], 64, rng, rotation=8.0, scale=(0.9, 1.1), shift=0.1)
    assert not np.allclose(moved, view)


def test_faces_data_pairs_are_seeded_and_gray_stays_gray(tmp_path: Path) -> None:
    cache = ImageCache.load(write_faces(tmp_path / "faces"))
    gray = FacesDataset(cache, crop=32, degradation=FaceDegradation(clean_p=0.0), gray_p=1.0)
    sample = gray[(0, 1)]
    assert sample["input"].shape == sample["target"].shape == (3, 32, 32)
    assert torch.equal(sample["input"], gray[(0, 1)]["input"])  # the key decides everything
    for name in ("input", "target"):
        assert torch.equal(sample[name][0], sample[name][1]) and torch.equal(
            sample[name][1], sample[name][2]
        )
    clean = np.full((32, 32, 3), 0.5, np.float32)
    assert np.array_equal(FaceDegradation(clean_p=1.0)(clean, np.random.default_rng(0)), clean)
    heavy = FaceDegradation(clean_p=0.0, aging_p=1.0)
    out = heavy(textured(32, 32), np.random.default_rng(2))
    assert out.shape == (32, 32, 3) and out.dtype == np.float32 and 0 <= out.min() <= out.max() <= 1
    with pytest.raises(ValueError, match="jpeg"):
        FaceDegradation(jpeg=(90, 30))


def faces_config(folder: Path, steps: int, **data: object) -> dict:
    return {
        "recipe": "faces",
        "data": {
            "train": str(folder),
            "crop": 32,
            "val_crop": 32,
            "batch_size": 4,
            "workers": 0,
            "val_count": 2,
            "blur": 4.0,
            "downscale": 1.0,
            "noise": 0.0,
            "aging_p": 0.0,
            "clean_p": 0.0,
            **data,
        },
        "model": {
            "generator": {"base_channels": 8, "depth": 2, "max_channels": 16},
            "discriminator": {"num_scales": 2, "base_channels": 4, "n_layers": 2},
        },
        "optim": {"lr": 3.0e-3, "betas": [0.9, 0.99]},
        "train": {
            "steps": steps,
            "log_every": 1,
            "val_every": steps // 3,
            "ckpt_every": 0,
            "ema": 0.5,
            "progress": False,
            "tensorboard": False,
        },
    }


def test_faces_data_kind_builds_from_a_config(tmp_path: Path) -> None:
    faces = write_faces(tmp_path / "faces", 5, size=40)
    bundle = build_data("faces", resolve_config(faces_config(faces, 1))["data"])
    assert len(bundle.val) == 1  # a fifth of the faces held out
    assert bundle.val[0]["input"].shape == bundle.train[(0, 0)]["target"].shape == (3, 32, 32)
    # patch: training sees windows of the whole degraded view, validation the whole view
    windows = build_data("faces", resolve_config(faces_config(faces, 1, patch=16))["data"])
    pair = windows.train[(0, 0)]
    assert pair["input"].shape == pair["target"].shape == (3, 16, 16)
    assert windows.val[0]["input"].shape == (3, 32, 32)
    with pytest.raises(ValueError, match="patch"):
        build_data("faces", resolve_config(faces_config(faces, 1, patch=40))["data"])


def test_faces_recipe_learns_and_exports_a_loadable_model(tmp_path: Path) -> None:
    config = faces_config(write_faces(tmp_path / "faces", 6, size=48), 24)
    config["export"] = {"name": "restore-faces", "dir": str(tmp_path / "weights")}
    run = train(config, run_dir=tmp_path / "run", device="cpu")
    history = scores(run)
    assert history[-1]["l1"] < history[0]["l1"]
    log = (run / "train.log").read_text()
    assert all(f" {term} " in log for term in ("d", "g_l1", "g_fm", "g_adv"))
    model, card = hub.load("restore-faces", directory=tmp_path / "weights")
    assert card.task == "restore-faces"
    assert model(torch.rand(1, 3, 40, 40)).shape == (1, 3, 40, 40)
    assert stage.model_available(tmp_path / "weights")
    fidelity = faces_config(tmp_path / "faces", 2)
    fidelity["model"]["weights"] = {"l1": 1.0, "fm": 0.0, "adv": 0.0, "fft": 0.1}
    fidelity["optim"] = {"g": {"lr": 1.0e-3}}  # no discriminator, so no optim.d
    log = (train(fidelity, run_dir=tmp_path / "fidelity", device="cpu") / "train.log").read_text()
    assert " g_fft " in log and " g_adv " not in log and " d " not in log
    bad = faces_config(tmp_path / "faces", 2, jpeg=[90, 20])
    with pytest.raises(ConfigError, match="jpeg"):
        train(bad, run_dir=tmp_path / "refused", device="cpu")


# ----------------------------------------------------------------------------- stage


def test_stage_pastes_the_restored_face_only_inside_its_mask(found: list[Face]) -> None:
    image = textured()
    plain = RestorePipeline(**BASE)(image).image
    options = {**BASE, "faces": True, "models": {"restore-faces": Flat()}}
    result = RestorePipeline(**options)(image).image
    transform = face_transform(found[0].landmarks, stage.FACE_SIZE)
    inside = cv2.warpAffine(face_mask(stage.FACE_SIZE), transform.inverse, (200, 160))
    changed = np.abs(result - plain).max(axis=2) > 0
    assert changed.any() and not (changed & (inside <= 0)).any()
    core = inside > 0.99  # the face is mid-gray there: its texture (the photo's detail) is gone
    assert result[core].std() < 0.5 * plain[core].std()
    half = RestorePipeline(**options, face_strength=0.5)(image).image
    np.testing.assert_allclose(half, (plain + result) / 2, atol=1e-5)
    zero = RestorePipeline(**options, face_strength=0.0)
    assert "faces" not in [name for name, _ in zero.stages()]
    assert np.array_equal(zero(image).image, plain)


def test_a_face_larger_than_the_crop_keeps_its_own_detail(found: list[Face]) -> None:
    """A 384² face shrinks to the 256² crop: an identity restorer must leave it as it was (a
    paste of the crop would blur it by the round trip), a real change still reaches the photo."""
    found[:] = [face_at(8.0, 8.0, 384.0)]
    image = textured(400, 400, seed=5, cell=3)
    plain = RestorePipeline(**BASE)(image).image
    same = RestorePipeline(**BASE, faces=True, models={"restore-faces": torch.nn.Identity()})
    crop, transform = align(plain, found[0].landmarks, stage.FACE_SIZE)
    round_trip = paste(plain, [crop], [transform])  # what pasting the 256² crop would give
    kept = np.abs(same(image).image - plain).mean()
    assert kept < 0.1 * np.abs(round_trip - plain).mean()
    flat = RestorePipeline(**BASE, faces=True, models={"restore-faces": Flat()})(image).image
    transform = face_transform(found[0].landmarks, stage.FACE_SIZE)
    assert transform.scale < 1.0
    core = cv2.warpAffine(face_mask(stage.FACE_SIZE), transform.inverse, (400, 400)) > 0.99
    assert flat[core].std() < 0.5 * plain[core].std()


def test_stage_runs_after_enhance_and_before_upscale() -> None:
    names = [name for name, _ in RestorePipeline(faces=True, scale=2).stages()]
    assert names == ["detect", "inpaint", "enhance", "faces", "upscale"]
    assert "faces" not in [name for name, _ in RestorePipeline().stages()]  # opt-in in Python


def test_missing_face_model_is_a_model_error(tmp_path: Path) -> None:
    missing = tmp_path / "restore-faces.safetensors"
    pipeline = RestorePipeline(**BASE, faces=True, models={"restore-faces": missing})
    with pytest.raises(ModelError, match="restore-faces"):
        pipeline(textured(40, 40))
    with pytest.raises(ModelError, match="restore-faces"):
        daguerre.restore_faces(textured(40, 40), model=missing)


def test_face_options_are_checked() -> None:
    for bad in ({"face_strength": 1.5}, {"face_strength": -0.1}, {"face_strength": "1"}):
        with pytest.raises(ValueError, match="face_strength"):
            RestoreOptions(**bad)
    with pytest.raises(ValueError, match="faces"):
        RestoreOptions(faces=1)  # type: ignore[arg-type]
    RestoreOptions(faces=True, face_strength=np.float32(0.25))


def test_restore_faces_changes_only_the_faces(found: list[Face]) -> None:
    image = textured(120, 130, 1)
    out = daguerre.restore_faces(image, model=Flat())
    assert out.shape == image.shape and out is not image
    assert not np.array_equal(out, image)
    assert np.array_equal(out[:, 125:], image[:, 125:])  # right of the face's crop
    found.clear()  # no face: the picture comes back unchanged
    assert np.array_equal(daguerre.restore_faces(image, model=Flat()), image)


# ----------------------------------------------------------------------------- commands


def invoke(*args: object) -> Result:
    return CliRunner(env={"COLUMNS": "1000"}).invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("weights")
    hub.export(tiny_restorer(), "restore-faces", {"task": "restore-faces"}, directory=folder)
    return folder


def test_restore_command_face_options(
    found: list[Face], weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    imageio.write(tmp_path / "in" / "a.png", textured())
    args = ["--no-damage", "--no-enhance", "--monochrome", "no"]
    outputs = {}
    for mode, folder in (("on", weights), ("off", weights), ("auto", weights)):
        out = tmp_path / mode
        result = invoke(
            "restore", tmp_path / "in", "-o", out, "--faces", mode, "--weights", folder, *args
        )
        assert result.exit_code == 0, result.output
        outputs[mode] = imageio.read(out / "a.png").pixels
    assert not np.array_equal(outputs["on"], outputs["off"])
    assert np.array_equal(outputs["auto"], outputs["on"])  # the model is there: on
    bad = invoke("restore", tmp_path / "in", "-o", tmp_path / "y", "--face-strength", 2, *args)
    assert bad.exit_code == 2 and "face_strength" in bad.output
    monkeypatch.setattr(hub, "WEIGHTS_DIR", tmp_path / "nothing bundled")
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("restore", tmp_path / "in", "-o", tmp_path / "auto2", "--weights", empty, *args)
    assert result.exit_code == 0, result.output  # no model anywhere: auto is off, no error
    assert np.array_equal(imageio.read(tmp_path / "auto2" / "a.png").pixels, outputs["off"])
    missing = invoke(
        "restore", tmp_path / "in", "-o", tmp_path / "x", "--faces", "on", "--weights", empty, *args
    )
    assert missing.exit_code == 2 and "restore-faces" in missing.output


def test_eval_faces_on_two_tiny_faces(weights: Path, tmp_path: Path) -> None:
    faces = write_shapes(tmp_path / "faces", 2, size=(64, 64))
    truth = imageio.read(next(faces.iterdir())).pixels
    degraded = degrade(truth, "standard", seed=1)
    assert degraded.shape == truth.shape and not np.allclose(degraded, truth)
    assert np.array_equal(degraded, degrade(truth, "standard", seed=1))
    rows, cols = face_region(64)
    assert 0 < rows.start < rows.stop < 64 and 0 < cols.start < cols.stop < 64
    pipeline = RestorePipeline(**BASE)
    landmark_net = torch.nn.Identity()  # not used with the template's landmarks
    result = evaluate(
        sorted(faces.iterdir()), pipeline, Flat(), landmark_net, landmarks="template", size=64
    )
    summary = result.summary()
    assert list(summary) == ["input", "whole image", "face stage"]
    assert summary["input"] == summary["whole image"]  # a pipeline that does nothing
    assert summary["face stage"]["psnr"] != summary["input"]["psnr"]
    assert result.found == [1, 1] and result.seconds_per_face() is not None
    out = invoke(
        "eval", "faces", "--data", faces, "--weights", weights, "--size", 64,
        "--landmarks", "template", "--no-damage",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "face stage" in out.output and "s per face" in out.output
    bad = invoke("eval", "faces", "--data", faces, "--weights", weights, "--preset", "nope")
    assert bad.exit_code == 2


def test_faces_are_cut_from_the_source_and_matched_to_the_image() -> None:
    """The stage's crops come from the photo before global restoration (``source``); the
    paste keeps the restored image's colours (its low frequencies)."""
    face = face_at(20.0, 10.0, 96.0)
    flat = np.full((160, 200, 3), 0.4, np.float32)
    before = textured()
    out = stage.restore_found(flat.copy(), [face], torch.nn.Identity(), source=before)
    transform = face_transform(face.landmarks, stage.FACE_SIZE)
    core = cv2.warpAffine(face_mask(stage.FACE_SIZE), transform.inverse, (200, 160)) > 0.99
    assert out[core].std() > 0.3 * before[core].std()  # the source's detail came through
    assert abs(out[core].mean() - 0.4) < 0.05  # at the image's brightness
    alone = stage.restore_found(flat.copy(), [face], torch.nn.Identity())
    assert alone[core].std() < 1e-3  # without a source, the flat image's own face
