"""Training engine: config, schedule, EMA, checkpoints, resume, recipes, export."""

from __future__ import annotations

import copy
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
import yaml
from safetensors.torch import load_file
from test_data import write_shapes
from torch import nn

from daguerre import devices, hub
from daguerre.data import DataError
from daguerre.nets import count_parameters, format_count
from daguerre.training import RECIPES, ConfigError, Recipe, TrainingError, resolve_config, train
from daguerre.training import trainer as trainer_module
from daguerre.training.checkpoint import STATE_FILE, CheckpointStore, step_name
from daguerre.training.ema import EMA
from daguerre.training.recipes import Optimize
from daguerre.training.schedule import lr_factor

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
TINY_MODEL = {
    "generator": {"base_channels": 8, "depth": 3},
    "discriminator": {"base_channels": 8, "n_layers": 2},
}


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_shapes(tmp_path_factory.mktemp("photos"), 16, size=(64, 64))


def tiny(photos: Path, steps: int, **train_changes: Any) -> dict[str, Any]:
    """A pix2pix config small enough to train in seconds on one CPU thread."""
    return {
        "recipe": "pix2pix",
        "data": {
            "train": str(photos),
            "crop": 48,
            "val_crop": 48,
            "scale": [0.75, 1.0],
            "batch_size": 4,
            "workers": 0,
            "val_count": 3,
            "preset": "light",
        },
        "model": copy.deepcopy(TINY_MODEL),
        "optim": {"lr": 1.0e-3},
        "train": {
            "steps": steps,
            "log_every": 0,
            "val_every": 0,
            "ckpt_every": 0,
            "ema": 0.9,
            "progress": False,
            "tensorboard": False,
            **train_changes,
        },
    }


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return {
        f"{path.stem}.{key}": value
        for path in sorted(folder.glob("*.safetensors"))
        for key, value in load_file(path).items()
    }


def scores(run: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


# ----------------------------------------------------------------------------- config


def test_overrides_are_dotted_and_yaml_typed() -> None:
    config = resolve_config(
        {"recipe": "pix2pix", "model": {"weights": {"fm": 1}}},
        data={"train": "photos"},
        overrides=[
            "train.steps=5",
            "optim.lr=1e-3",  # YAML reads this as text: coerced to a number
            "optim.d.lr=5e-5",
            "data.flip=false",
            "data.scale=[0.8, 1.0]",
            "model.weights.fft=0.5",
            "model.generator.depth=3",
        ],
    )
    assert config["train"]["steps"] == 5
    assert config["optim"]["lr"] == 1e-3 and config["optim"]["d"] == {"lr": 5e-5}
    assert config["data"]["flip"] is False and config["data"]["scale"] == [0.8, 1.0]
    assert config["model"]["weights"] == {
        "adv": 1.0,
        "l1": 100.0,
        "fm": 1.0,
        "fft": 0.5,
        "tone": 0.0,
        "psnr": 0.0,
        "ssim": 0.0,
        "real": 0.0,
    }
    assert config["model"]["generator"]["depth"] == 3
    assert config["model"]["generator"]["type"] == "unet"  # the rest of the spec is kept
    assert Path(config["data"]["train"]).is_absolute()


def test_a_network_spec_of_another_type_replaces_the_default() -> None:
    spec = {"type": "resnet", "n_blocks": 2}
    config = resolve_config({"recipe": "pix2pix", "model": {"generator": spec}})
    assert config["model"]["generator"] == spec


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.stpes=3", "did you mean train.steps"),
        ("train.steps=many", "train.steps must be an integer"),
        ("data.channels=2", "data.channels must be 1 or 3"),
        ("model.weights.perceptual=1", "unknown config key model.weights.perceptual"),
        ("schedule.kind=step", "schedule.kind must be one of"),
        ("train.ema=1.5", "train.ema must be in"),
        ("optim.lr=fast", "optim.lr must be a number"),
        ("data.max_side=16", "data.max_side must be >= data.crop"),
        ("export.name=my model", "export.name must be a model name"),
        ("data.scale=[low, 1]", "data.scale must be"),
        ("optim.d.betas=[0.5, 1.5]", "optim betas must be"),
        ("train", "not of the form key=value"),
    ],
)
def test_bad_config_values_fail_before_training(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_config({"recipe": "pix2pix"}, overrides=[override])


def test_yaml_recipe_and_unknown_recipe(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("recipe: cyclegan\ntrain:\n  steps: 7\n")
    config = resolve_config(path)
    assert config["train"]["steps"] == 7 and config["model"]["gan_mode"] == "lsgan"
    with pytest.raises(ValueError, match="unknown recipe 'nope'"):
        resolve_config({"recipe": "nope"})
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        resolve_config(path)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_configs_resolve(path: Path) -> None:
    config = resolve_config(path)
    assert config["recipe"] in RECIPES
    if config["recipe"] == "style":  # its recipe reads the painting when it is made
        return
    groups = RECIPES[config["recipe"]](config).optimizers()  # the trainer refuses any other
    assert {k for k, v in config["optim"].items() if isinstance(v, dict)} <= set(groups)


# ----------------------------------------------------------------------------- schedule, EMA


def test_lr_schedules() -> None:
    linear = {"kind": "linear", "warmup": 4, "decay_start": 0.5, "final_ratio": 0.0}
    factors = [lr_factor(step, 100, linear) for step in range(100)]
    assert factors[:4] == [0.25, 0.5, 0.75, 1.0]
    assert set(factors[4:51]) == {1.0}
    assert all(a > b for a, b in itertools.pairwise(factors[50:]))
    assert factors[-1] == pytest.approx(1 / 50)
    cosine = {**linear, "kind": "cosine", "final_ratio": 0.1}
    curve = [lr_factor(step, 100, cosine) for step in range(4, 100)]
    assert curve[0] == 1.0 and all(a >= b for a, b in itertools.pairwise(curve))
    assert curve[-1] == pytest.approx(0.1, abs=0.01)
    assert lr_factor(60, 100, {**linear, "kind": "constant"}) == 1.0


def test_ema_follows_the_weights_with_warmup() -> None:
    net = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(net.weight)
    ema = EMA(net, decay=0.9)
    with torch.no_grad():
        net.weight.fill_(1.0)
    ema.update(net, step=0)  # warm-up decay min(0.9, 1/10) = 0.1
    assert ema.module.weight.item() == pytest.approx(0.9)
    ema.update(net, step=100)  # full decay 0.9
    assert ema.module.weight.item() == pytest.approx(0.9 + 0.1 * 0.1)
    assert not ema.module.weight.requires_grad


# ----------------------------------------------------------------------------- checkpoints


def test_checkpoint_store_commits_atomically_and_keeps_the_last(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "checkpoints", keep=2)
    for step in (10, 20, 30):
        staging = store.staging(step)
        staging.mkdir(parents=True)
        (staging / "state.pt").write_bytes(b"x")
        store.commit(staging, step)
    assert [step for step, _ in store.completed()] == [20, 30]
    interrupted = store.staging(40)  # a save killed half-way
    interrupted.mkdir()
    (store.root / step_name(50)).mkdir()  # no state file: not a checkpoint
    assert store.latest() == store.root / step_name(30)
    store.clean_staging()
    assert not interrupted.exists()


# ----------------------------------------------------------------------------- runs


def test_tiny_pix2pix_learns_and_exports_a_loadable_model(photos: Path, tmp_path: Path) -> None:
    config = tiny(photos, 40, val_every=5, log_every=10)
    config["export"] = {"name": "tiny-restore", "dir": str(tmp_path / "weights")}
    run = train(config, run_dir=tmp_path / "run", device="cpu")

    history = scores(run)
    assert [h["step"] for h in history] == list(range(5, 41, 5))
    assert history[-1]["l1"] < 0.85 * history[0]["l1"]
    assert history[-1]["psnr"] > history[0]["psnr"]
    assert (run / "val" / "step_00000040.png").is_file()
    assert "step 40/40" in (run / "train.log").read_text()
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["train"]["steps"] == 40 and saved["data"]["train"] == str(photos)

    model, card = hub.load(run / "export" / "tiny-restore.safetensors")
    assert card.task == "restore" and card.training["steps"] == 40
    assert card.training["recipe"] == "pix2pix" and card.metrics["l1"] == history[-1]["l1"]
    assert card.training["data"]["train"] == str(photos)
    ema = load_file(run / "checkpoints" / step_name(40) / "ema.safetensors")
    assert torch.allclose(model.state_dict()["head.weight"], ema["head.weight"], atol=1e-3)
    copy, _ = hub.load("tiny-restore", directory=tmp_path / "weights")
    probe = torch.rand(1, 3, 40, 40)
    assert torch.equal(copy(probe), model(probe))


def test_pix2pix_trains_against_a_real_old_domain_in_luminance(
    photos: Path, tmp_path: Path
) -> None:
    old = write_shapes(tmp_path / "old", 4, size=(64, 64), seed=5)
    config = tiny(photos, 4, ckpt_every=4, log_every=1)
    config["data"]["real"] = str(old)
    config["model"]["weights"] = {"real": 0.5}
    run = train(config, run_dir=tmp_path / "run", device="cpu")
    assert " g_real " in (run / "train.log").read_text()
    d_real = load_file(run / "checkpoints" / step_name(4) / "d_real.safetensors")
    assert any(v.ndim == 4 and v.shape[1] == 1 for v in d_real.values())  # luminance only
    _, card = hub.load(run / "export" / "pix2pix.safetensors")
    assert card.training["data"]["real"] == str(old)
    config["data"]["real"] = None
    with pytest.raises(ConfigError, match=r"data\.real"):
        train(config, run_dir=tmp_path / "refused", device="cpu")


@pytest.mark.parametrize("recipe", ["pix2pix", "cyclegan"])
def test_resume_gives_the_weights_of_an_uninterrupted_run(
    photos: Path, tmp_path: Path, recipe: str
) -> None:
    config = tiny(photos, 6, ckpt_every=3, keep=5)
    if recipe == "cyclegan":
        config["recipe"] = "cyclegan"
        config["data"] |= {"train": None, "train_a": str(photos), "train_b": str(photos)}
        config["model"] = {
            "generator": {"base_channels": 8, "n_blocks": 1},
            "discriminator": {"base_channels": 8, "n_layers": 2},
            "pool_size": 6,  # fills after two steps: later steps swap with the pool
        }
    run = train(config, run_dir=tmp_path / "run", device="cpu")
    final = run / "checkpoints" / step_name(6)
    uninterrupted = weights(final)
    nets = {"pix2pix": {"ema", "g", "d"}, "cyclegan": {"ema", "g_ab", "g_ba", "d_a", "d_b"}}
    assert {key.split(".")[0] for key in uninterrupted} == nets[recipe]

    # Kill after the step-3 checkpoint, half-way through writing the next one.
    shutil.rmtree(final)
    (run / "checkpoints" / ".tmp-step_00000006").mkdir()
    train(resume=run, device="cpu")
    resumed = weights(final)
    assert resumed.keys() == uninterrupted.keys()
    assert all(torch.equal(resumed[key], uninterrupted[key]) for key in resumed)
    assert not (run / "checkpoints" / ".tmp-step_00000006").exists()


def test_loader_workers_never_outnumber_the_cores(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = []
    real = trainer_module.make_loader

    def loader(*args: Any, workers: int, **kwargs: Any) -> Any:
        asked.append(workers)
        return real(*args, workers=0, **kwargs)

    monkeypatch.setattr(trainer_module, "make_loader", loader)
    monkeypatch.setattr(devices, "cores", lambda: 2)
    config = tiny(photos, 1)
    config["data"]["workers"] = 4
    train(config, run_dir=tmp_path / "run", device="cpu")
    assert asked == [2]


def test_resume_falls_back_past_a_corrupt_newest_checkpoint(photos: Path, tmp_path: Path) -> None:
    run = train(tiny(photos, 6, ckpt_every=3, keep=5), run_dir=tmp_path / "run", device="cpu")
    final = run / "checkpoints" / step_name(6)
    uninterrupted = weights(final)
    (final / "g.safetensors").unlink()  # not truncated: the tensors above map that file
    (final / "g.safetensors").write_bytes(b"damaged on disk")
    with pytest.warns(UserWarning, match="step_00000006: cannot be read"):
        train(resume=run, device="cpu")
    resumed = weights(final)
    assert all(torch.equal(resumed[key], uninterrupted[key]) for key in uninterrupted)
    for folder in (run / "checkpoints").glob("step_*"):
        (folder / STATE_FILE).write_bytes(b"")
    with (
        pytest.warns(UserWarning, match="cannot be read"),
        pytest.raises(TrainingError, match="none of its 2 checkpoints can be read"),
    ):
        train(resume=run, device="cpu")


def test_a_run_killed_with_sigkill_resumes_from_its_last_checkpoint(
    photos: Path, tmp_path: Path
) -> None:
    config_file = tmp_path / "run.yaml"
    config_file.write_text(yaml.safe_dump(tiny(photos, 1000, ckpt_every=2, keep=2)))
    run = tmp_path / "run"
    code = (
        "import sys; from daguerre.training import train; train(sys.argv[1], run_dir=sys.argv[2])"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(config_file), str(run)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = CheckpointStore(run / "checkpoints")
    deadline = time.monotonic() + 60
    while len(store.completed()) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.kill()  # SIGKILL: no cleanup, possibly in the middle of a checkpoint
    process.wait()
    done = store.completed()
    assert len(done) >= 2, "the run should have saved checkpoints before it was killed"
    last = done[-1][0]
    train(resume=run, overrides=[f"train.steps={last + 2}"], device="cpu")
    assert store.completed()[-1][0] == last + 2
    assert f"steps {last}→{last + 2}" in (run / "train.log").read_text()
    assert not list(store.root.glob(".tmp-*"))


def test_resume_needs_a_run_with_a_checkpoint(photos: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="not a run folder"):
        train(resume=tmp_path, device="cpu")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(yaml.safe_dump(tiny(photos, 2)))
    with pytest.raises(TrainingError, match="no checkpoint to resume from"):
        train(resume=run, device="cpu")


def test_bad_data_folder_stops_the_run(photos: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    config = tiny(photos, 2)
    with pytest.raises(DataError, match=str(empty)):
        train(config, data={"train": str(empty)}, run_dir=tmp_path / "run", device="cpu")


class Denoise(Recipe):
    """A recipe written as a user would: one generator, L1, no discriminator."""

    data_kind = "folder"
    task = "denoise"
    defaults: ClassVar[dict[str, Any]] = {
        "model": {"generator": {"type": "unet", "base_channels": 8, "depth": 2}, "noise": 0.1}
    }

    def build_nets(self) -> dict[str, nn.Module]:
        c = self.channels
        return {"g": self.network("generator", in_channels=c, out_channels=c, residual=True)}

    def optimizers(self) -> dict[str, tuple[str, ...]]:
        return {"g": ("g",)}

    def noisy(self, clean: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return clean + self.model["noise"] * torch.randn(clean.shape, generator=generator)

    def train_step(self, batch: dict[str, torch.Tensor], optimize: Optimize) -> dict:
        clean = batch["image"]
        loss = (self.nets["g"](self.noisy(clean)) - clean).abs().mean()
        optimize("g", loss)
        return {"l1": loss}

    def evaluate(self, generator: nn.Module, batch: dict[str, torch.Tensor]) -> dict:
        clean = batch["image"]
        noisy = self.noisy(clean, torch.Generator().manual_seed(0))
        return {"input": noisy, "output": generator(noisy), "target": clean}


def test_a_new_recipe_is_one_class_and_one_registration(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(RECIPES, "denoise", Denoise)
    config = {**tiny(photos, 3), "recipe": "denoise", "model": {}}
    run = train(config, overrides=["data.channels=1"], run_dir=tmp_path / "run", device="cpu")
    card = json.loads((run / "export" / "denoise.json").read_text())
    assert card["task"] == "denoise" and card["architecture"]["in_channels"] == 1
    assert {"psnr", "ssim", "l1"} <= set(card["metrics"])
    with pytest.raises(ConfigError, match="recipe's optimisers are"):
        train(config, overrides=["optim.d.lr=1"], run_dir=tmp_path / "other", device="cpu")


def test_a_diverging_loss_stops_with_a_clear_error(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(RECIPES, "denoise", Denoise)
    config = {**tiny(photos, 3, log_every=1), "recipe": "denoise", "model": {}}
    with pytest.raises(TrainingError, match="loss l1 is not finite at step 1"):
        train(config, overrides=["model.noise=.nan"], run_dir=tmp_path / "run", device="cpu")


def test_a_time_limit_stops_validates_and_exports(photos: Path, tmp_path: Path) -> None:
    config = tiny(photos, 500, max_minutes=1e-9)  # out of time at the first check (step 10)
    run = train(config, run_dir=tmp_path / "run", device="cpu")
    assert "stopping at step 10: train.max_minutes reached" in (run / "train.log").read_text()
    assert [h["step"] for h in scores(run)] == [10]
    _, card = hub.load("pix2pix", directory=run / "export")
    assert card.training["steps"] == 10


def test_aging_presets_are_a_checked_list(photos: Path) -> None:
    config = resolve_config(tiny(photos, 1), overrides=["data.preset=[light, heavy]"])
    assert config["data"]["preset"] == ["light", "heavy"]
    assert resolve_config(tiny(photos, 1))["data"]["preset"] == ["light"]
    with pytest.raises(ConfigError, match=r"data\.preset must name presets"):
        resolve_config(tiny(photos, 1), overrides=["data.preset=[light, ancient]"])


def test_init_starts_the_generator_from_an_exported_model(photos: Path, tmp_path: Path) -> None:
    first = train(tiny(photos, 2), run_dir=tmp_path / "first", device="cpu")
    exported = first / "export" / "pix2pix.safetensors"
    config = tiny(photos, 2, init=str(exported))
    config["optim"] = {"lr": 0.0}  # nothing moves: the export must be the initial weights
    again = train(config, run_dir=tmp_path / "again", device="cpu")
    before, after = weights(first / "export"), weights(again / "export")
    assert before.keys() == after.keys()
    assert all(torch.equal(before[key], after[key]) for key in before)
    config = tiny(photos, 2, init=str(exported))
    config["model"]["generator"]["base_channels"] = 4
    with pytest.raises(TrainingError, match=r"train\.init"):
        train(config, run_dir=tmp_path / "other", device="cpu")


def test_the_header_gives_each_nets_parameter_count(photos: Path, tmp_path: Path) -> None:
    run = train(tiny(photos, 1, freeze=["down"]), run_dir=tmp_path / "run", device="cpu")
    generator, card = hub.load("pix2pix", directory=run / "export")
    frozen = count_parameters(generator.down)
    assert card.parameters == count_parameters(generator) > frozen > 0
    config = yaml.safe_load((run / "config.yaml").read_text())
    d = count_parameters(RECIPES["pix2pix"](config).build_nets()["d"])
    line = next(line for line in (run / "train.log").read_text().splitlines() if " nets: " in line)
    assert line.endswith(
        f"nets: g (unet) {format_count(card.parameters)} parameters, "
        f"{format_count(card.parameters - frozen)} of them trained; "
        f"d (patch) {format_count(d)} parameters"
    )


def test_damage_targets_only_the_damage_that_shows_with_min_contrast() -> None:
    config = resolve_config(
        {"recipe": "damage", "model": {"min_contrast": 0.1}, "data": {"undamaged": True}}
    )
    recipe = RECIPES["damage"](config)
    undamaged = torch.full((1, 3, 2, 3), 0.95)
    damaged = undamaged.clone()
    damaged[..., 0, 0] = 1.0  # a white flake on a white wall: opaque, but invisible
    damaged[..., 1, 1] = 0.1  # a dark scratch across it
    mask = torch.zeros(1, 1, 2, 3)
    mask[..., 0, 0] = mask[..., 1, 1] = 1.0
    batch = {"input": damaged, "undamaged": undamaged, "mask": mask}
    assert recipe.target(batch)[0, 0].tolist() == [[0, 0, 0], [0, 1, 0]]
    plain = RECIPES["damage"](resolve_config({"recipe": "damage"}))
    assert plain.target(batch)[0, 0].tolist() == [[1, 0, 0], [0, 1, 0]]
    with pytest.raises(ConfigError, match=r"data\.undamaged"):
        RECIPES["damage"](resolve_config({"recipe": "damage", "model": {"min_contrast": 0.1}}))


def test_hard_negative_loss_averages_only_the_worst_undamaged_pixels() -> None:
    from daguerre.training.recipes.damage import hard_negative_loss

    losses = torch.tensor([[[[9.0, 0.1, 0.2, 4.0, 0.3]]]])
    target = torch.tensor([[[[1.0, 0.0, 0.0, 0.0, 0.0]]]])  # the 9 is a damaged pixel
    assert hard_negative_loss(losses, target, 0.25).item() == pytest.approx(4.0)
    assert hard_negative_loss(losses, target, 0.5).item() == pytest.approx(2.15)
    assert hard_negative_loss(losses, target, 0.1).item() == 0.0  # less than one pixel


def test_damage_recipe_adds_the_hard_negative_term_only_when_asked() -> None:
    def terms(model: dict[str, Any]) -> dict[str, torch.Tensor]:
        torch.manual_seed(0)
        recipe = RECIPES["damage"](resolve_config({"recipe": "damage", "model": model}))
        recipe.nets = recipe.build_nets()
        batch = {"input": torch.rand(2, 3, 32, 32), "mask": torch.zeros(2, 1, 32, 32)}
        batch["mask"][0, :, 10, :] = 1.0  # the first crop is damaged, the second clean
        return recipe.train_step(batch, lambda name, loss: None)

    plain = terms({})
    mined = terms({"hard_negatives": 0.05, "weights": {"hard": 2.0}})
    assert "hard" not in plain and set(mined) == {"bce", "dice", "hard"}
    assert mined["bce"].item() == pytest.approx(plain["bce"].item())
    # the worst 5 % of the negatives cost more than the mean of all pixels
    assert mined["hard"].item() / 2.0 > plain["bce"].item()
    with pytest.raises(ConfigError, match=r"hard_negatives"):
        RECIPES["damage"](resolve_config({"recipe": "damage", "model": {"weights": {"hard": 1.0}}}))
    # mined in clean crops only: the damaged first crop gives none, the clean second its worst
    clean = terms({"hard_negatives": 0.05, "weights": {"hard": 2.0}, "hard_from": "clean"})
    assert 0 < clean["hard"].item() != mined["hard"].item()
    with pytest.raises(ConfigError, match=r"hard_from"):
        RECIPES["damage"](resolve_config({"recipe": "damage", "model": {"hard_from": "some"}}))


class _FiresOnSmall(torch.nn.Module):
    """Logit 5 on pictures under 20 px wide, -5 on others."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full_like(x[:, :1], 5.0 if x.shape[-1] < 20 else -5.0)


def test_damage_recipe_takes_the_highest_logit_over_the_sizes_it_is_given() -> None:
    def logits(sizes: list[float]) -> torch.Tensor:
        config = resolve_config({"recipe": "damage", "model": {"sizes": sizes}})
        return RECIPES["damage"](config).logits(_FiresOnSmall(), torch.rand(2, 3, 32, 32))

    assert logits([1.0]).shape == (2, 1, 32, 32) and (logits([1.0]) == -5).all()
    assert (logits([1.0, 0.5]) == 5).all()  # found at half size, brought back to full size
    for sizes in ([0.5], [1.0, 1.5], []):
        with pytest.raises(ConfigError, match=r"model\.sizes"):
            RECIPES["damage"](resolve_config({"recipe": "damage", "model": {"sizes": sizes}}))
