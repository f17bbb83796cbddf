"""Tests for daguerre.nets: shapes on any size, residual identity, spec round trip, D outputs."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from daguerre.nets import (
    NETWORKS,
    MultiScaleDiscriminator,
    PatchDiscriminator,
    ResnetGenerator,
    UNet,
    UNetDiscriminator,
    build_network,
)
from daguerre.nets.blocks import (
    MirrorAveraged,
    ResizeConv,
    crop_padding,
    make_norm,
    pad_to_multiple,
)
from daguerre.nets.spec import records_spec

SIZES = [(1, 1), (16, 16), (17, 33), (5, 7), (100, 3)]


def small_generators() -> list[nn.Module]:
    torch.manual_seed(0)
    return [
        UNet(base_channels=8, depth=3),
        UNet(in_channels=4, out_channels=1, base_channels=8, depth=2, out_activation="sigmoid"),
        UNet(in_channels=3, out_channels=3, base_channels=8, depth=4, norm="group"),
        ResnetGenerator(base_channels=8, n_blocks=1),
        ResnetGenerator(in_channels=1, out_channels=1, base_channels=4, n_blocks=2, norm="batch"),
    ]


def as_list(out: torch.Tensor | list[torch.Tensor]) -> list[torch.Tensor]:
    return out if isinstance(out, list) else [out]


def shapes(net: nn.Module) -> dict[str, tuple[int, ...]]:
    return {key: tuple(value.shape) for key, value in net.state_dict().items()}


@pytest.mark.parametrize("size", SIZES)
def test_generators_keep_any_size(size: tuple[int, int]) -> None:
    for net in small_generators():
        x = torch.rand(2, net.in_channels, *size)
        y = net.eval()(x)
        assert y.shape == (2, net.out_channels, *size)
        assert torch.isfinite(y).all()


def test_sigmoid_output_is_in_unit_range() -> None:
    net = UNet(in_channels=4, out_channels=1, base_channels=8, depth=2, out_activation="sigmoid")
    y = net(torch.randn(1, 4, 20, 20) * 10)
    assert y.min() >= 0 and y.max() <= 1


@pytest.mark.parametrize(
    "net",
    [
        UNet(in_channels=4, out_channels=3, base_channels=8, depth=3, residual=True),
        ResnetGenerator(in_channels=3, out_channels=3, base_channels=8, n_blocks=1, residual=True),
        UNet(base_channels=8, depth=2, residual=True, out_activation="tanh"),
    ],
)
def test_fresh_residual_generator_is_identity(net: nn.Module) -> None:
    x = torch.rand(1, net.in_channels, 19, 23)
    assert torch.equal(net(x), x[:, : net.out_channels])


def test_residual_generator_learns_away_from_identity() -> None:
    net = UNet(base_channels=8, depth=2, residual=True)
    x = torch.rand(1, 3, 16, 16)
    net(x).sub(1).square().mean().backward()
    assert net.head.weight.grad.abs().sum() > 0


def test_residual_needs_enough_input_channels() -> None:
    with pytest.raises(ValueError, match="residual"):
        UNet(in_channels=1, out_channels=3, residual=True)


def test_generator_rejects_wrong_channel_count() -> None:
    with pytest.raises(ValueError, match="input channels"):
        UNet(in_channels=4, base_channels=8, depth=2)(torch.rand(1, 3, 16, 16))


def all_networks() -> list[nn.Module]:
    return [
        *small_generators(),
        PatchDiscriminator(3, base_channels=8, n_layers=2, spectral_norm=True),
        MultiScaleDiscriminator(1, num_scales=2, base_channels=8, n_layers=2, norm="none"),
        UNetDiscriminator(3, base_channels=4, depth=2),
    ]


@pytest.mark.parametrize("net", all_networks(), ids=lambda net: net.spec["type"])
def test_build_network_round_trip(net: nn.Module) -> None:
    rebuilt = build_network(net.spec)
    assert type(rebuilt) is type(net)
    assert json.loads(json.dumps(net.spec)) == net.spec
    assert rebuilt.spec == net.spec
    assert shapes(rebuilt) == shapes(net)
    rebuilt.load_state_dict(net.state_dict())
    x = torch.rand(1, net.spec["in_channels"], 40, 40)
    net.eval()
    rebuilt.eval()
    with torch.no_grad():
        out, again = net(x), rebuilt(x)
    for a, b in zip(as_list(out), as_list(again), strict=True):
        assert torch.allclose(a, b)


def test_build_network_rejects_bad_specs() -> None:
    with pytest.raises(ValueError, match="unknown network type"):
        build_network({"type": "vit"})
    with pytest.raises(ValueError, match="no 'type'"):
        build_network({"in_channels": 3})


# Arguments unlike every default, per registered net: a spec that records the default
# instead of the argument given rebuilds a different net.
NON_DEFAULT: dict[str, dict[str, Any]] = {
    "unet": dict(
        in_channels=4,
        out_channels=1,
        base_channels=8,
        depth=2,
        norm="group",
        residual=True,
        out_activation="sigmoid",
        max_channels=12,
    ),
    "resnet": dict(
        in_channels=1,
        out_channels=1,
        base_channels=4,
        n_blocks=2,
        n_downsampling=3,
        norm="batch",
        residual=True,
        out_activation="tanh",
    ),
    "patch": dict(in_channels=1, base_channels=8, n_layers=2, norm="batch", spectral_norm=True),
    "multiscale": dict(
        in_channels=2, num_scales=2, base_channels=4, n_layers=1, norm="none", spectral_norm=True
    ),
    "transformer": dict(
        in_channels=1,
        out_channels=2,
        base_channels=4,
        n_blocks=1,
        norm="instance",
        upsample="bilinear",
    ),
    "tone": dict(channels=1, thumb_size=32, width=4, knots=5, grid=3, max_stops=1.5),
    "landmarks": dict(
        in_channels=3, size=32, base_channels=4, depth=2, max_channels=8, hidden=16, points=4
    ),
    "compact_sr": dict(
        in_channels=3,
        out_channels=1,
        scale=2,
        channels=4,
        n_convs=2,
        act="leaky",
        upsample="nearest",
    ),
    "toned_unet": dict(
        tone={"width": 4, "knots": 5},
        unet={"base_channels": 4, "depth": 2, "max_channels": 8},
        in_channels=1,
        out_channels=1,
        detail_sigma=2.0,
    ),
    "unet_judge": dict(in_channels=1, base_channels=4, depth=2, spectral_norm=False, unshuffle=2),
    "adain": dict(in_channels=1, widths=[4, 8]),
    "adain-learned": dict(in_channels=1, widths=[4, 8]),
}


def spec_problems(kind: str, cls: type[nn.Module], net: nn.Module) -> list[str]:
    """What is wrong with ``net.spec``: a missing or extra argument, or a rebuild that differs."""
    spec = getattr(net, "spec", None)
    if not isinstance(spec, dict):
        return [f"{kind}: no spec"]
    problems = []
    if spec.get("type") != kind:
        problems.append(f"{kind}: spec type {spec.get('type')!r}")
    parameters = set(inspect.signature(cls).parameters)
    recorded = set(spec) - {"type"}
    if recorded != parameters:
        problems.append(f"{kind}: missing {parameters - recorded}, extra {recorded - parameters}")
    rebuilt = build_network(spec)
    if type(rebuilt) is not cls or rebuilt.spec != spec or shapes(rebuilt) != shapes(net):
        problems.append(f"{kind}: build_network(spec) does not rebuild the same net")
    return problems


@pytest.mark.parametrize("kind", sorted(NETWORKS))
def test_spec_records_every_constructor_argument(kind: str) -> None:
    cls = NETWORKS[kind]
    assert sorted(NON_DEFAULT[kind]) == sorted(inspect.signature(cls).parameters)
    for net in (cls(), cls(**NON_DEFAULT[kind])):
        assert spec_problems(kind, cls, net) == []
    assert json.loads(json.dumps(net.spec)) == net.spec


class ForgetfulUNet(UNet):
    """A net whose hand-written spec leaves out ``max_channels`` (as a hand-made dict can)."""

    def __init__(self, base_channels: int = 8, depth: int = 2, max_channels: int = 256) -> None:
        super().__init__(base_channels=base_channels, depth=depth, max_channels=max_channels)
        self.spec = {"type": "forgetful", "base_channels": base_channels, "depth": depth}


def test_spec_check_catches_a_forgotten_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(NETWORKS, "forgetful", ForgetfulUNet)
    assert spec_problems("forgetful", ForgetfulUNet, ForgetfulUNet()) == [
        "forgetful: missing {'max_channels'}, extra set()"
    ]
    # with defaults the rebuild looks right; with the argument given it is another net
    problems = spec_problems("forgetful", ForgetfulUNet, ForgetfulUNet(max_channels=8))
    assert "forgetful: build_network(spec) does not rebuild the same net" in problems


def test_records_spec_applies_defaults_and_positional_arguments() -> None:
    assert UNet(4, 1, 8).spec == {
        **UNet().spec,
        "in_channels": 4,
        "out_channels": 1,
        "base_channels": 8,
    }

    class Undecorated(UNet):
        pass

    assert not hasattr(Undecorated(base_channels=8, depth=2), "spec")  # not UNet's spec

    @records_spec("wide")
    class Wide(UNet):
        def __init__(self, width: int = 8) -> None:
            super().__init__(base_channels=width, depth=2)

    assert Wide(16).spec == {"type": "wide", "width": 16}


def test_records_spec_refuses_what_it_cannot_record() -> None:
    with pytest.raises(TypeError, match=r"\*args or \*\*kwargs \['options'\]"):

        @records_spec("open")
        class Open(nn.Module):
            def __init__(self, **options: int) -> None:
                super().__init__()

    @records_spec("renamed")
    class Renamed(nn.Module):
        def __init__(self, width: int = 8) -> None:
            super().__init__()

        def _canonical_arguments(self, arguments: dict[str, Any]) -> dict[str, Any]:
            return {"channels": arguments["width"]}

    with pytest.raises(TypeError, match="changed the keys"):
        Renamed()


def test_initialization_is_seeded() -> None:
    torch.manual_seed(3)
    first = UNet(base_channels=8, depth=2).state_dict()
    torch.manual_seed(3)
    second = UNet(base_channels=8, depth=2).state_dict()
    torch.manual_seed(4)
    third = UNet(base_channels=8, depth=2).state_dict()
    assert all(torch.equal(first[key], second[key]) for key in first)
    assert not torch.equal(first["stem.0.weight"], third["stem.0.weight"])


def test_default_unet_width_is_capped() -> None:
    net = UNet()
    widths = [block[0][0].out_channels for block in net.down]
    assert widths == [64, 128, 256, 256]


def test_patch_discriminator_matches_pix2pix_geometry() -> None:
    disc = PatchDiscriminator(3)
    assert disc(torch.rand(1, 3, 256, 256)).shape == (1, 1, 30, 30)
    feats = disc.features(torch.rand(2, 3, 64, 48))
    assert len(feats) == 5
    assert [f.shape[1] for f in feats] == [64, 128, 256, 512, 1]
    assert feats[-1].shape == (2, 1, 6, 4)


@pytest.mark.parametrize("size", [(1, 1), (5, 7), (100, 3)])
def test_discriminators_accept_tiny_inputs(size: tuple[int, int]) -> None:
    disc = MultiScaleDiscriminator(3, num_scales=3, base_channels=4)
    logits = disc(torch.rand(1, 3, *size))
    assert len(logits) == 3
    assert all(t.shape[:2] == (1, 1) and t.numel() >= 1 for t in logits)


def test_multiscale_outputs_per_scale() -> None:
    disc = MultiScaleDiscriminator(3, num_scales=3, base_channels=8)
    x = torch.rand(2, 3, 128, 128)
    logits = disc(x)
    assert [tuple(t.shape) for t in logits] == [(2, 1, 14, 14), (2, 1, 6, 6), (2, 1, 2, 2)]
    feats = disc.features(x)
    assert len(feats) == 3
    assert all(torch.equal(f[-1], t) for f, t in zip(feats, logits, strict=True))
    # separate weights per scale
    assert not torch.equal(disc.scales[0].blocks[0][0].weight, disc.scales[1].blocks[0][0].weight)


@pytest.mark.parametrize("size", [(1, 1), (17, 33), (64, 48)])
def test_unet_discriminator_scores_every_pixel(size: tuple[int, int]) -> None:
    disc = UNetDiscriminator(3, base_channels=4, depth=3).eval()
    x = torch.rand(2, 3, *size)
    feats = disc.features(x)
    assert feats[-1].shape == (2, 1, *size)
    assert [f.shape[1] for f in feats[:4]] == [32, 16, 8, 4]  # coarse to fine
    assert torch.allclose(disc(x), feats[-1])
    phased = UNetDiscriminator(3, base_channels=4, depth=2, unshuffle=4).eval()
    assert phased(x).shape == (2, 1, *size)
    assert phased.stem.in_channels == 3 * 16  # the 16 pixel phases side by side


def test_unet_discriminator_halves_without_aliasing() -> None:
    """A pixel-period checkerboard, which a bare stride-2 convolution sees as a flat image of
    either colour, is blurred to its mean before the stride: the halving sees flat grey."""
    down = UNetDiscriminator(1, base_channels=4, depth=1, spectral_norm=False).downs[0]
    checker = ((torch.arange(32)[:, None] + torch.arange(32)[None, :]) % 2).float()
    checker = checker[None, None].expand(1, 4, 32, 32)
    grey = torch.full_like(checker, 0.5)
    assert torch.allclose(down(checker), down(grey), atol=1e-6)
    strided = down.conv(checker)
    assert not torch.allclose(strided, down.conv(grey), atol=1e-3)  # without the blur it would


def test_spectral_norm_only_when_asked() -> None:
    plain = PatchDiscriminator(3, base_channels=8)
    normed = MultiScaleDiscriminator(3, num_scales=2, base_channels=8, spectral_norm=True)
    plain_convs = [m for m in plain.modules() if isinstance(m, nn.Conv2d)]
    normed_convs = [m for m in normed.modules() if isinstance(m, nn.Conv2d)]
    assert len(normed_convs) == 10
    assert all(parametrize.is_parametrized(conv, "weight") for conv in normed_convs)
    assert not any(parametrize.is_parametrized(conv, "weight") for conv in plain_convs)


@pytest.mark.parametrize("net", all_networks(), ids=lambda net: net.spec["type"])
def test_gradients_reach_every_parameter(net: nn.Module) -> None:
    x = torch.rand(2, net.spec["in_channels"], 32, 32, requires_grad=True)
    out = net.train()(x)
    loss = sum(t.square().mean() for t in as_list(out))
    loss.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for name, param in net.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_pad_to_multiple_reflects_and_crops_back() -> None:
    x = torch.arange(2 * 3 * 5 * 7, dtype=torch.float32).reshape(2, 3, 5, 7)
    padded, pads = pad_to_multiple(x, 4)
    assert padded.shape[-2:] == (8, 8)
    assert pads == (0, 1, 1, 2)
    assert torch.equal(padded[..., 0, :7], x[..., 1, :])  # reflect: row 1 mirrored above row 0
    assert torch.equal(crop_padding(padded, pads), x)


def test_pad_to_multiple_falls_back_to_replicate() -> None:
    x = torch.rand(1, 1, 100, 3)
    padded, pads = pad_to_multiple(x, 16, min_size=32)
    assert padded.shape[-2:] == (112, 32)
    assert pads == (14, 15, 6, 6)
    assert torch.equal(padded[..., 6:106, 0], x[..., 0])  # left edge column replicated
    assert torch.equal(crop_padding(padded, pads), x)


def test_pad_is_a_no_op_on_good_sizes() -> None:
    x = torch.rand(1, 3, 32, 48)
    padded, pads = pad_to_multiple(x, 16)
    assert padded is x and pads == (0, 0, 0, 0)


def test_norm_factory() -> None:
    assert isinstance(make_norm("batch", 8), nn.BatchNorm2d)
    assert isinstance(make_norm("instance", 8), nn.InstanceNorm2d)
    assert make_norm("group", 48).num_groups == 16
    assert isinstance(make_norm("none", 8), nn.Identity)
    with pytest.raises(ValueError, match="unknown norm"):
        make_norm("layer", 8)


def test_resize_conv_doubles_size_without_checkerboard() -> None:
    block = ResizeConv(1, 1, norm="none", act="none")
    conv = block[1][0]
    nn.init.constant_(conv.weight, 1.0 / 9)
    nn.init.zeros_(conv.bias)
    y = block(torch.ones(1, 1, 5, 6))
    assert y.shape == (1, 1, 10, 12)
    assert torch.allclose(y, torch.ones_like(y))  # a constant stays constant: no checkerboard


def test_mirror_averaged_is_mirror_equivariant_and_the_mean_of_both_views() -> None:
    torch.manual_seed(0)
    net = nn.Conv2d(3, 1, 3, padding=1)  # a random kernel: not symmetric, so views differ
    x = torch.rand(1, 3, 8, 11)
    averaged = MirrorAveraged(net)
    with torch.no_grad():
        y = averaged(x)
        expected = (net(x) + net(x.flip(-1)).flip(-1)) / 2
        assert not torch.allclose(net(x), net(x.flip(-1)).flip(-1), atol=1e-3)
        assert torch.allclose(y, expected)
        assert torch.allclose(averaged(x.flip(-1)).flip(-1), y, atol=1e-6)
