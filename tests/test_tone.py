"""Global tone stage: identity at start, strip-invariant, learns a cast, runs in the pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_data import write_shapes
from test_training import tiny

from daguerre import hub
from daguerre.nets import TonedUNet, ToneNet, build_network
from daguerre.nets.tone import DetailStage, apply_curves, thumbnail
from daguerre.restore import RestorePipeline
from daguerre.restore.stages import global_tone
from daguerre.training import train
from daguerre.training.config import ConfigError

TINY_UNET = {"base_channels": 4, "depth": 2, "norm": "none", "out_activation": "sigmoid"}


def perturbed(net: torch.nn.Module, seed: int, scale: float = 0.05) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.add_(scale * torch.randn(parameter.shape, generator=generator))
    return net.eval()


def test_a_fresh_tone_net_is_the_identity() -> None:
    x = torch.rand(2, 3, 37, 53)
    torch.testing.assert_close(ToneNet(width=8)(x), x, atol=1e-6, rtol=0)


def test_curves_are_monotone_and_span_zero_to_one() -> None:
    net = perturbed(ToneNet(width=8), seed=0, scale=0.5)
    knots = net.predict(torch.rand(3, 3, 128, 128))["knots"]
    assert torch.all(knots[..., 1:] >= knots[..., :-1])
    torch.testing.assert_close(knots[..., 0], torch.zeros_like(knots[..., 0]))
    torch.testing.assert_close(knots[..., -1], torch.ones_like(knots[..., -1]))
    ramp = torch.linspace(0, 1, 101).expand(1, 3, 1, 101)
    assert torch.all(torch.diff(apply_curves(ramp, knots[:1]), dim=-1) >= 0)


def test_pieces_toned_apart_match_the_whole() -> None:
    net = perturbed(ToneNet(width=8), seed=1, scale=0.3)
    x = torch.rand(1, 3, 90, 70, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        params = net.predict(thumbnail(x, net.thumb_size))
        whole = net.apply(x, params)
        pieces = [
            torch.cat(
                [
                    net.apply(x[..., r : r + 40, c : c + 30], params, (r, c), (90, 70))
                    for c in range(0, 70, 30)
                ],
                dim=-1,
            )
            for r in range(0, 90, 40)
        ]
    assert (whole - x).abs().mean() > 0.01  # the parameters do change the image
    # the same sums in another order: equal up to float32 rounding of values that reach ~20
    torch.testing.assert_close(torch.cat(pieces, dim=-2), whole, atol=1e-6, rtol=1e-6)


def test_tone_net_learns_to_undo_a_fade_and_cast() -> None:
    torch.manual_seed(0)
    net = ToneNet(width=8)
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    clean = torch.rand(8, 3, 32, 32) ** 2
    aged = 0.15 + 0.6 * clean * torch.tensor([1.0, 0.9, 0.7])[:, None, None]
    before = F.l1_loss(aged, clean).item()
    for _ in range(300):
        optimizer.zero_grad()
        loss = F.l1_loss(net(aged), clean)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.2 * before


def test_toned_unet_rebuilds_from_its_spec_and_returns_both_stages() -> None:
    net = TonedUNet(tone={"width": 8}, unet=TINY_UNET)
    twin = build_network(net.spec)
    twin.load_state_dict(net.state_dict())
    x = torch.rand(1, 3, 24, 40)
    out, toned = net(x, with_tone=True)
    torch.testing.assert_close(twin(x), out)
    torch.testing.assert_close(toned, x, atol=1e-6, rtol=0)


@pytest.mark.parametrize(("tile", "detail_sigma"), [(None, 0.0), (80, 0.0), (None, 2.0)])
def test_pipeline_runs_the_tone_once_then_the_local_net_in_tiles(
    tmp_path, tile, detail_sigma
) -> None:
    unet = {**TINY_UNET, "depth": 0}
    net = perturbed(
        TonedUNet(tone={"width": 8}, unet=unet, detail_sigma=detail_sigma), seed=2, scale=0.2
    )
    hub.export(net, "restore-enhance", {"task": "enhance"}, directory=tmp_path)
    loaded, _ = hub.load("restore-enhance", directory=tmp_path)
    photo = np.random.default_rng(0).random((70, 60, 3), dtype=np.float32)
    restored = RestorePipeline(weights_dir=tmp_path, detect_damage=False, tile=tile)(photo).image
    with torch.no_grad():
        expected = loaded(torch.from_numpy(photo).permute(2, 0, 1)[None])[0].permute(1, 2, 0)
    np.testing.assert_allclose(restored, expected.clamp(0, 1).numpy(), atol=1e-5)


class Shift(torch.nn.Module):
    """Adds a constant and a fine checkerboard: a tone change and a detail change."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        checker = (torch.arange(x.shape[-1]) % 2 - 0.5) * (torch.arange(x.shape[-2]) % 2 - 0.5)[
            :, None
        ]
        return x + 0.1 + 0.2 * checker


def test_the_detail_stage_keeps_only_the_fine_part_of_a_change() -> None:
    x = torch.rand(1, 3, 48, 40)
    detail = DetailStage(Shift(), sigma=3.0)(x)
    change = detail - x
    assert change.mean().abs() < 1e-3  # the constant shift is gone
    checker = Shift()(torch.zeros_like(x)) - 0.1
    inner = (..., slice(9, -9), slice(9, -9))  # beyond the blur's reach of the edges
    torch.testing.assert_close(change[inner], checker[inner], atol=0.01, rtol=0)  # detail stays
    torch.testing.assert_close(DetailStage(Shift(), sigma=0.0)(x), Shift()(x))


def test_detail_sigma_is_part_of_the_spec_and_old_specs_mean_none() -> None:
    net = TonedUNet(tone={"width": 8}, unet=TINY_UNET, detail_sigma=4.0)
    assert build_network(net.spec).detail_sigma == 4.0
    old = {k: v for k, v in net.spec.items() if k != "detail_sigma"}
    assert build_network(old).detail_sigma == 0.0
    with pytest.raises(ValueError, match="channels"):
        TonedUNet(unet=TINY_UNET, out_channels=1, detail_sigma=4.0)


def test_global_tone_in_strips_matches_one_pass() -> None:
    net = perturbed(ToneNet(width=8), seed=3, scale=0.3)
    photo = np.random.default_rng(1).random((50, 33, 3), dtype=np.float32)
    strips, whole = global_tone(net, photo, "cpu", rows=7), global_tone(net, photo, "cpu", rows=64)
    # equal up to float32 rounding: this perturbed net sends values to a few hundred
    np.testing.assert_allclose(strips, whole, atol=1e-6, rtol=1e-6)


def test_global_tone_may_write_over_its_input() -> None:
    net = perturbed(ToneNet(width=8), seed=3, scale=0.3)
    photo = np.random.default_rng(1).random((50, 33, 3), dtype=np.float32)
    apart = global_tone(net, photo, "cpu", rows=7)
    same = global_tone(net, photo, "cpu", rows=7, out=photo)
    assert same is photo
    np.testing.assert_array_equal(same, apart)


def test_pix2pix_trains_a_toned_unet_with_its_tone_loss(tmp_path) -> None:
    config = tiny(write_shapes(tmp_path / "photos", 8, size=(64, 64)), steps=3)
    config["model"]["generator"] = {"type": "toned_unet", "tone": {"width": 8}, "unet": TINY_UNET}
    config["model"]["weights"] = {"tone": 1.0}
    run = train(config, run_dir=tmp_path / "run", device="cpu")
    assert " g_tone " in (run / "train.log").read_text()
    model, _ = hub.load("pix2pix", directory=run / "export")
    assert isinstance(model, TonedUNet)


def tone_config(photos, steps: int, generator: dict) -> dict:
    config = tiny(photos, steps=steps)
    config["recipe"] = "tone"
    config["data"].update(crop=64, val_crop=64, shrink=4, preset=["moderate"], damage=False)
    config["model"] = {"generator": generator}
    return config


def test_tone_recipe_trains_only_the_tone_stage_of_a_toned_unet(tmp_path) -> None:
    photos = write_shapes(tmp_path / "photos", 8, size=(64, 64))
    generator = {"type": "toned_unet", "tone": {"width": 8, "thumb_size": 32}, "unet": TINY_UNET}
    start = tmp_path / "start.safetensors"
    first = perturbed(build_network(generator), seed=5)
    hub.export(first, start.stem, {"task": "restore"}, directory=tmp_path)
    config = tone_config(photos, 30, generator)
    config["train"]["init"] = str(start)
    run = train(config, run_dir=tmp_path / "run", device="cpu")
    trained, _ = hub.load("tone", directory=run / "export")
    assert isinstance(trained, TonedUNet)
    for name, value in first.state_dict().items():
        changed = not torch.allclose(trained.state_dict()[name].float(), value.half().float())
        assert changed == name.startswith("tone."), name  # the tone stage learns, U-Net kept


def test_tone_recipe_lowers_the_thumbnail_error(tmp_path) -> None:
    photos = write_shapes(tmp_path / "photos", 8, size=(64, 64))
    config = tone_config(photos, 60, {"type": "tone", "width": 8, "thumb_size": 32})
    config["optim"] = {"lr": 3e-3}
    config["train"].update(val_every=60, log_every=10)
    run = train(config, run_dir=tmp_path / "run", device="cpu")
    log = (run / "train.log").read_text()
    losses = [
        float(line.split(" log_mse ")[1].split()[0])
        for line in log.splitlines()
        if " log_mse " in line
    ]
    assert losses[-1] < losses[0] - 0.1  # at least 1 dB better on the thumbnails


def test_a_frozen_tone_stage_stays_while_the_local_net_psnr_and_ssim_terms_train(
    tmp_path,
) -> None:
    config = tiny(write_shapes(tmp_path / "photos", 8, size=(64, 64)), steps=3, freeze=["tone"])
    config["model"]["generator"] = {"type": "toned_unet", "tone": {"width": 8}, "unet": TINY_UNET}
    config["model"]["weights"] = {"psnr": 0.1, "ssim": 0.1}
    run = train(config, run_dir=tmp_path / "run", device="cpu")
    log = (run / "train.log").read_text()
    assert " g_psnr " in log and " g_ssim " in log
    model, _ = hub.load("pix2pix", directory=run / "export")
    fresh = build_network(config["model"]["generator"])
    assert torch.equal(model.tone.mlp[-1].weight.float(), fresh.tone.mlp[-1].weight)  # still 0
    assert model.local.head.weight.abs().sum() > 0


def test_freezing_a_missing_part_is_refused(tmp_path) -> None:
    config = tiny(write_shapes(tmp_path / "photos", 4, size=(64, 64)), steps=1, freeze=["tone"])
    with pytest.raises(ConfigError, match="no 'tone'"):
        train(config, run_dir=tmp_path / "run", device="cpu")
