"""Tests for daguerre.hub: fp16 safetensors export and verified, pickle-free loading."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from daguerre.hub import (
    WEIGHTS_DIR,
    ModelCard,
    ModelError,
    export,
    list_models,
    load,
    model_paths,
    read_card,
)
from daguerre.nets import UNet, build_network, count_parameters

CARD = {
    "task": "restore",
    "metrics": {"psnr": 27.5},
    "training": {"steps": 10, "command": "daguerre train configs/restore.yaml"},
    "description": "tiny test model",
}


def _randomized(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every parameter and floating buffer seeded, non-trivial values."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            if tensor.is_floating_point():
                tensor.copy_(torch.rand(tensor.shape, generator=generator) * 0.4 + 0.1)
            else:
                tensor.fill_(7)
    return module.eval()


def tiny_unet(norm: str = "instance") -> UNet:
    return _randomized(UNet(3, 3, base_channels=4, depth=2, norm=norm, max_channels=8))


@pytest.fixture
def exported(tmp_path):
    module = tiny_unet()
    path = export(module, "tiny", CARD, directory=tmp_path)
    return module, path


def _image(seed: int = 1) -> torch.Tensor:
    return torch.rand(1, 3, 24, 24, generator=torch.Generator().manual_seed(seed))


def test_round_trip_matches_within_fp16_tolerance(exported, tmp_path):
    module, path = exported
    assert path == tmp_path / "tiny.safetensors"
    loaded, card = load("tiny", directory=tmp_path)
    assert not loaded.training
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    assert card.name == "tiny" and card.task == "restore"
    assert card.architecture == module.spec
    assert card.metrics == CARD["metrics"] and card.training == CARD["training"]

    x = _image()
    with torch.no_grad():
        expected = module(x)
        got = loaded(x)
        for param in module.parameters():
            param.copy_(param.half().float())
        rounded = module(x)
    assert (got - expected).abs().max() < 2e-2
    assert (got - rounded).abs().max() < 1e-5


def test_loaded_convolutions_are_channels_last_and_export_again(exported, tmp_path):
    loaded, _ = load("tiny", directory=tmp_path)
    kernels = [p for p in loaded.parameters() if p.ndim == 4]
    assert kernels and all(p.is_contiguous(memory_format=torch.channels_last) for p in kernels)
    assert not all(p.is_contiguous() for p in kernels)  # the format really changed
    again = export(loaded, "again", CARD, directory=tmp_path)
    with safe_open(again, "pt") as weights, safe_open(tmp_path / "tiny.safetensors", "pt") as first:
        for key in first.keys():  # noqa: SIM118 (safe_open is not a mapping)
            assert torch.equal(weights.get_tensor(key), first.get_tensor(key))


def test_weights_are_fp16_and_integer_buffers_are_kept(tmp_path):
    module = tiny_unet(norm="batch")
    path = export(module, "bn", {"task": "restore"}, directory=tmp_path)
    with safe_open(str(path), framework="pt") as handle:
        stored = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    assert stored.keys() == module.state_dict().keys()
    counters = {k: t for k, t in stored.items() if k.endswith("num_batches_tracked")}
    assert counters
    assert all(t.dtype == torch.int64 and t.item() == 7 for t in counters.values())
    assert {t.dtype for k, t in stored.items() if k not in counters} == {torch.float16}

    loaded, _ = load(path)
    for key, value in loaded.state_dict().items():
        original = module.state_dict()[key]
        if key in counters:
            assert value.dtype == torch.int64 and value.item() == 7
        else:
            assert value.dtype == torch.float32
            assert torch.equal(value, original.half().float())


def test_card_records_the_sha256_of_the_weights(exported, tmp_path):
    _, path = exported
    card = json.loads((tmp_path / "tiny.json").read_text())
    assert card["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert read_card(tmp_path / "tiny.json") == ModelCard.from_dict(card)


def test_card_records_the_parameter_count(exported, tmp_path):
    module, path = exported
    card = json.loads((tmp_path / "tiny.json").read_text())
    assert card["parameters"] == count_parameters(module) > 0
    with safe_open(path, "pt") as weights:  # this net has no buffers: every tensor is a parameter
        names = weights.keys()  # safe_open is not a mapping
        assert card["parameters"] == sum(weights.get_tensor(name).numel() for name in names)
    assert list(card)[:4] == ["name", "task", "architecture", "parameters"]
    given = export(module, "given", {**CARD, "parameters": 5}, directory=tmp_path)
    assert read_card(given.with_suffix(".json")).parameters == card["parameters"]  # measured


def test_a_card_with_the_wrong_parameter_count_is_a_model_error(exported, tmp_path):
    card_path = tmp_path / "tiny.json"
    card = json.loads(card_path.read_text())
    card_path.write_text(json.dumps({**card, "parameters": card["parameters"] + 1}))
    with pytest.raises(ModelError, match=r"card says \d+ parameters, its architecture has") as info:
        load("tiny", directory=tmp_path)
    assert info.value.path == card_path
    card_path.write_text(json.dumps({key: v for key, v in card.items() if key != "parameters"}))
    _, older = load("tiny", directory=tmp_path)  # a card from before parameters were recorded
    assert older.parameters == 0


@pytest.mark.parametrize("name", sorted(path.stem for path in WEIGHTS_DIR.glob("*.json")))
def test_bundled_models_load_and_record_their_parameter_count(name):
    module, card = load(name)  # checksum verified, architecture rebuilt, weights loaded strictly
    assert card.parameters == count_parameters(module) > 0
    assert module.spec == card.architecture == build_network(card.architecture).spec


def test_the_same_weights_export_to_the_same_bytes(tmp_path):
    module = tiny_unet()
    payloads = {
        export(module, "tiny", CARD, directory=tmp_path / str(attempt)).read_bytes()
        for attempt in range(8)
    }
    assert len(payloads) == 1  # so a re-export, or a rerun of a recipe, has the same checksum


def test_export_is_atomic_and_leaves_no_temp_files(tmp_path, monkeypatch):
    export(tiny_unet(), "tiny", CARD, directory=tmp_path)
    export(tiny_unet(), "tiny", CARD, directory=tmp_path)  # overwriting works
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.json", "tiny.safetensors"]

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        export(tiny_unet(), "other", CARD, directory=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.json", "tiny.safetensors"]


def test_tampered_weights_fail_the_checksum(exported, tmp_path):
    _, path = exported
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum mismatch") as info:
        load("tiny", directory=tmp_path)
    assert info.value.path == path


def test_missing_weights_name_the_file_and_the_remedy(exported, tmp_path):
    _, path = exported
    path.unlink()
    with pytest.raises(ModelError) as info:
        load("tiny", directory=tmp_path)
    assert str(path) in str(info.value)
    assert "daguerre train configs/restore.yaml" in str(info.value)
    assert "reinstall" in str(info.value)


def test_unknown_model_lists_the_available_ones(exported, tmp_path):
    with pytest.raises(ModelError, match=r"no such model \(available: tiny\)"):
        load("nope", directory=tmp_path)


def test_corrupt_card_is_reported_with_its_path(exported, tmp_path):
    card_path = tmp_path / "tiny.json"
    card_path.write_text('{"name": "tiny", "task": ')
    with pytest.raises(ModelError, match="corrupt model card") as info:
        load("tiny", directory=tmp_path)
    assert info.value.path == card_path
    with pytest.raises(ModelError, match=r"tiny\.json"):
        list_models(tmp_path)
    card_path.write_text(json.dumps({"name": "tiny", "task": "restore", "colour": "blue"}))
    with pytest.raises(ModelError, match="unknown keys"):
        read_card(card_path)
    card_path.write_text(json.dumps({"name": "other", "task": "restore"}))
    with pytest.raises(ModelError, match="file is for 'tiny'"):
        read_card(card_path)


def test_wrong_architecture_is_a_model_error(exported, tmp_path):
    card_path = tmp_path / "tiny.json"
    card = json.loads(card_path.read_text())
    card["architecture"]["depth"] = 3
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="missing keys"):
        load("tiny", directory=tmp_path)
    card["architecture"]["depth"] = 2
    card["architecture"]["base_channels"] = 6
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="wrong shapes"):
        load("tiny", directory=tmp_path)
    card["architecture"] = {"type": "no-such-network"}
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="cannot build architecture") as info:
        load("tiny", directory=tmp_path)
    assert info.value.path == card_path


def test_pickled_weights_are_rejected_without_unpickling(exported, tmp_path, monkeypatch):
    module, path = exported
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    path.write_bytes(buffer.getvalue())
    card_path = tmp_path / "tiny.json"
    card = json.loads(card_path.read_text())
    card["sha256"] = hashlib.sha256(
        buffer.getvalue()
    ).hexdigest()  # the checksum passes; the format must not
    card_path.write_text(json.dumps(card))

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    with pytest.raises(ModelError, match="not a valid safetensors file"):
        load("tiny", directory=tmp_path)


def test_list_models_is_sorted_by_name(tmp_path):
    for name in ("zeta", "alpha", "mid"):
        export(tiny_unet(), name, {"task": "restore"}, directory=tmp_path)
    cards = list_models(tmp_path)
    assert [card.name for card in cards] == ["alpha", "mid", "zeta"]
    assert all(len(card.sha256) == 64 for card in cards)
    assert list_models(tmp_path / "missing") == []


def test_export_refuses_what_could_not_be_loaded(tmp_path):
    with pytest.raises(ValueError, match="exported as 'b'"):
        export(tiny_unet(), "b", ModelCard(name="a", task="restore"), directory=tmp_path)
    with pytest.raises(ValueError, match="no architecture"):
        export(torch.nn.Conv2d(3, 3, 3), "conv", CARD, directory=tmp_path)
    wrong = {**CARD, "architecture": {**tiny_unet().spec, "depth": 3}}
    with pytest.raises(ValueError, match="does not fit"):
        export(tiny_unet(), "c", wrong, directory=tmp_path)
    huge = tiny_unet()
    with torch.no_grad():
        huge.head.weight.fill_(1e6)
    with pytest.raises(ValueError, match="not finite in float16"):
        export(huge, "d", CARD, directory=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_model_paths_accept_names_and_files(tmp_path):
    assert model_paths("restore-v1.2", tmp_path) == (
        tmp_path / "restore-v1.2.safetensors",
        tmp_path / "restore-v1.2.json",
    )
    expected = (tmp_path / "m.safetensors", tmp_path / "m.json")
    assert model_paths(tmp_path / "m.safetensors") == expected
    assert model_paths(str(tmp_path / "m.json")) == expected
    assert model_paths(tmp_path / "m") == expected
    with pytest.raises(ValueError, match="not a model name"):
        model_paths("my model")


def test_card_dict_round_trip():
    card = ModelCard(name="m", task="style", architecture={"type": "unet"}, metrics={"a": 1.0})
    data = card.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert ModelCard.from_dict(data) == card
    data["metrics"]["a"] = 2.0
    assert card.metrics == {"a": 1.0}
    with pytest.raises(ValueError, match="missing keys"):
        ModelCard.from_dict({"name": "m"})
    with pytest.raises(ValueError, match="'metrics' must be a dict"):
        ModelCard.from_dict({"name": "m", "task": "t", "metrics": [1]})
    assert ModelCard.from_dict({"name": "m", "task": "t", "parameters": 12}).parameters == 12
    for wrong in ("12", 1.5, True):
        with pytest.raises(ValueError, match="'parameters' must be an int"):
            ModelCard.from_dict({"name": "m", "task": "t", "parameters": wrong})
    with pytest.raises(ValueError, match="'parameters' must be >= 0"):
        ModelCard.from_dict({"name": "m", "task": "t", "parameters": -1})


def test_average_models_script_mixes_two_runs_and_nests_the_second_card(tmp_path):
    first = tiny_unet(norm="none")
    second = _randomized(UNet(3, 3, base_channels=4, depth=2, norm="none", max_channels=8), 5)
    a = export(first, "tiny", CARD, directory=tmp_path / "a")
    b = export(second, "tiny", CARD, directory=tmp_path / "b")
    script = Path(__file__).resolve().parents[1] / "scripts" / "average_models.py"
    command = [sys.executable, str(script), str(a), str(b), "--mix", "0.25"]
    subprocess.run([*command, "--output", str(tmp_path / "mean")], check=True)

    mean, _ = load("tiny", directory=tmp_path / "mean")
    for key, value in mean.state_dict().items():
        expected = 0.25 * first.state_dict()[key] + 0.75 * second.state_dict()[key]
        assert torch.allclose(value.float(), expected, atol=2e-3), key
    card = read_card(tmp_path / "mean" / "tiny.json")
    assert card.training["recipe"] == "average" and card.training["mix"] == 0.25
    assert card.training["init"] == read_card(tmp_path / "b" / "tiny.json").as_origin()
    assert card.metrics == {}  # the second run's scores are not the average's
    bad = subprocess.run(
        [*command[:-1], "1.5", "--output", str(tmp_path / "x")], capture_output=True, check=False
    )
    assert bad.returncode != 0 and not (tmp_path / "x").exists()
