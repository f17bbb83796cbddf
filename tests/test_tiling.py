"""Tests for daguerre.tiling: tiled inference must match untiled inference without seams."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from daguerre.nets import UNet
from daguerre.tiling import (
    choose_tile,
    estimate_bytes_per_pixel,
    run_tiled,
    tile_layout,
)


def _seeded(net: nn.Module, seed: int) -> nn.Module:
    """Re-initialise every parameter from an explicit generator and switch to eval mode."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in net.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * 0.3)
    return net.eval()


def local_net(in_channels: int = 1, out_channels: int = 3) -> nn.Module:
    """Three 3×3 convolutions: receptive-field radius 3."""
    return _seeded(
        nn.Sequential(
            nn.Conv2d(in_channels, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, out_channels, 3, padding=1),
        ),
        seed=0,
    )


class GlobalNet(nn.Module):
    """Tiny instance-norm U-Net: global statistics make every output pixel see the whole input.

    Needs H and W divisible by 4.
    """

    def __init__(self, channels: int = 3) -> None:
        super().__init__()
        self.enc = nn.Conv2d(channels, 8, 3, padding=1)
        self.norm1 = nn.InstanceNorm2d(8, affine=True)
        self.mid = nn.Conv2d(8, 8, 3, padding=1)
        self.norm2 = nn.InstanceNorm2d(8, affine=True)
        self.dec = nn.Conv2d(16, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"GlobalNet needs sizes divisible by 4, got {tuple(x.shape)}")
        skip = F.relu(self.norm1(self.enc(x)))
        low = F.relu(self.norm2(self.mid(F.avg_pool2d(skip, 4))))
        up = F.interpolate(low, scale_factor=4, mode="bilinear", align_corners=False)
        return x + 0.2 * self.dec(torch.cat([skip, up], dim=1))


def _untiled(net: nn.Module, image: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        x = torch.from_numpy(image).permute(2, 0, 1)[None]
        return net(x)[0].permute(1, 2, 0).numpy()


def _random_image(height: int, width: int, channels: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((height, width, channels), dtype=np.float32)


def _smooth_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Low-frequency RGB content so that tile seams would stand out from image gradients."""
    coarse = np.random.default_rng(seed).random((1, 3, height // 16 + 2, width // 16 + 2))
    up = F.interpolate(torch.from_numpy(coarse).float(), scale_factor=16, mode="bicubic")
    return up[0, :, :height, :width].permute(1, 2, 0).contiguous().numpy()


def test_tile_layout_covers_the_axis_evenly_and_ends_inside_it():
    assert tile_layout(100, 40, 16) == (37, [0, 21, 42, 63])
    assert tile_layout(40, 40, 16) == (40, [0])
    assert tile_layout(10, 40, 16) == (10, [0])
    assert tile_layout(100, 40, 16, multiple=8) == (40, [0, 20, 40, 60])
    for length in range(41, 400, 7):
        size, starts = tile_layout(length, 40, 16, multiple=4)
        assert size <= 40 and size % 4 == 0
        assert starts[0] == 0 and starts[-1] + size == length
        assert all(size - (b - a) >= 16 for a, b in itertools.pairwise(starts))
        assert len(starts) == -(-(length - 16) // (40 - 16))  # the fewest tiles that fit
    with pytest.raises(ValueError, match="overlap"):
        tile_layout(100, 16, 16)


@pytest.mark.parametrize(("height", "width"), [(100, 90), (101, 67), (40, 137)])
def test_tiled_equals_untiled_for_limited_receptive_field(height, width):
    net = local_net()
    image = _random_image(height, width, 1)
    tiled = run_tiled(net, image, tile=40, overlap=16)
    assert tiled.shape == (height, width, 3)
    assert tiled.dtype == np.float32
    assert np.abs(tiled - _untiled(net, image)).max() < 1e-5


def test_blend_weights_form_a_partition_of_unity():
    image = _random_image(77, 129, 3)
    for overlap in (0, 1, 7, 16):
        out = run_tiled(nn.Identity(), image, tile=32, overlap=overlap)
        np.testing.assert_allclose(out, image, atol=1e-6)


def test_large_receptive_field_is_close_and_seamless():
    image = _smooth_image(128, 128)
    net = _seeded(GlobalNet(), seed=0)
    reference = _untiled(net, image)

    def column_steps(out: np.ndarray) -> np.ndarray:
        # Mean absolute jump of the tiling error between neighbouring columns, away from the
        # image border (where zero padding meets different per-tile statistics; not a join).
        return np.abs(np.diff(out - reference, axis=1)).mean(axis=(0, 2))[4:-4]

    feathered = run_tiled(net, image, tile=64, overlap=16, multiple=4)  # three tiles of 56
    pasted = run_tiled(net, image, tile=64, overlap=0, multiple=4)  # two tiles edge to edge
    # Instance norm sees different statistics per tile, so the result differs from the untiled
    # one, but by much less than the network's own change to the image.
    assert np.abs(feathered - reference).mean() < 0.3 * np.abs(reference - image).mean()
    natural = np.median(np.abs(np.diff(reference, axis=1)))
    # Pasting tiles side by side leaves a step at every join; feathering removes it.
    assert column_steps(pasted).max() > 3 * natural
    assert column_steps(feathered).max() < 0.5 * natural


@pytest.mark.parametrize("size", [(16, 16), (17, 23)])
def test_small_images_run_as_one_padded_tile(size):
    net = _seeded(GlobalNet(), seed=2)
    image = _random_image(*size, 3)
    calls = []
    out = run_tiled(net, image, multiple=4, progress=lambda done, total: calls.append(total))
    assert out.shape == image.shape
    assert calls == [1]
    padded_h, padded_w = -size[0] % 4, -size[1] % 4
    padded = np.pad(image, ((0, padded_h), (0, padded_w), (0, 0)), mode="reflect")
    expected = _untiled(net, padded)[: size[0], : size[1]]
    assert np.abs(out - expected).max() < 1e-5


def test_multiple_pads_tiles_and_rounds_tile_size():
    net = _seeded(GlobalNet(), seed=3)
    seen = []
    net.register_forward_pre_hook(lambda _m, args: seen.append(tuple(args[0].shape[2:])))
    out = run_tiled(net, _smooth_image(90, 70), tile=42, overlap=8, multiple=4)
    assert out.shape == (90, 70, 3)
    # 42 rounds down to 40; rows need 3 tiles (shrunk to 36), columns 2 tiles of 40.
    assert set(seen) == {(36, 40)}


def test_progress_is_called_once_per_tile_in_order():
    calls = []
    run_tiled(
        local_net(),
        _random_image(100, 90, 1),
        tile=40,
        overlap=16,
        progress=lambda *a: calls.append(a),
    )
    total = len(tile_layout(100, 40, 16)[1]) * len(tile_layout(90, 40, 16)[1])
    assert calls == [(done, total) for done in range(1, total + 1)]


def test_only_tiles_reach_the_network():
    net = local_net()
    seen = []
    net.register_forward_pre_hook(lambda _m, args: seen.append(tuple(args[0].shape)))
    run_tiled(net, _random_image(200, 150, 1), tile=64, overlap=16)
    assert seen
    assert all(shape[0] == 1 and shape[2] <= 64 and shape[3] <= 64 for shape in seen)


def test_accumulator_memory_is_proportional_to_the_image():
    image = _random_image(256, 256, 1)
    net = local_net()
    tracemalloc.start()
    try:
        run_tiled(net, image, tile=32, overlap=8)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    tiles = len(tile_layout(256, 32, 8)[1]) ** 2
    output_bytes = 256 * 256 * 3 * 4
    weight_bytes = 256 * 256 * 4  # what an H×W blending-weight array would add
    assert tiles > 100
    # tracemalloc sees NumPy buffers: the output accumulator is counted, nothing scales with
    # the tiles, and the blending weights are 1-D (no H×W array of them)
    assert output_bytes <= peak < output_bytes + weight_bytes


def test_bytes_per_pixel_counts_input_output_and_leaf_activations():
    # input 1 + three convs (8, 8, 3) + two ReLUs (8, 8) + output 3 channels, 4 bytes each
    assert estimate_bytes_per_pixel(local_net(), 1) == 4 * (1 + 8 + 8 + 8 + 8 + 3 + 3)


def test_choose_tile_fits_the_budget():
    tile = choose_tile(100.0, 1, multiple=8)
    assert tile % 8 == 0
    assert tile * tile * 100 <= 2**20 < (tile + 8) ** 2 * 100
    assert choose_tile(100.0, 4) > choose_tile(100.0, 1)
    with pytest.raises(ValueError, match="memory budget"):
        choose_tile(100.0, 0.01, minimum=64)


def test_memory_budget_selects_the_tile_size():
    net = local_net()
    image = _random_image(120, 120, 1)

    def tile_count(budget: float) -> int:
        calls = []
        out = run_tiled(
            net, image, memory_budget_mb=budget, overlap=16, progress=lambda *a: calls.append(a)
        )
        assert np.abs(out - _untiled(net, image)).max() < 1e-5
        return calls[-1][1]

    # 156 bytes/pixel: 1 MB fits an 81 px tile (4 tiles), 4 MB a 163 px tile (one tile).
    assert tile_count(1) == 4
    assert tile_count(4) == 1
    with pytest.raises(ValueError, match="memory budget"):
        run_tiled(net, image, memory_budget_mb=0.1, overlap=32)


def test_rejects_bad_arguments():
    net = local_net()
    with pytest.raises(ValueError, match="H×W×C"):
        run_tiled(net, np.zeros((16, 16), dtype=np.float32))
    with pytest.raises(ValueError, match="overlap"):
        run_tiled(net, _random_image(64, 64, 1), tile=16, overlap=16)
    with pytest.raises(ValueError, match="C_out"):
        run_tiled(nn.MaxPool2d(2), _random_image(32, 32, 1))


@pytest.mark.parametrize(("height", "width"), [(16, 16), (45, 83)])
def test_runs_a_daguerre_unet_one_channel_in_three_out(height, width):
    net = _seeded(UNet(1, 3, base_channels=4, depth=2, max_channels=8), seed=4)
    image = _random_image(height, width, 1)
    out = run_tiled(net, image, tile=32, overlap=8)
    assert out.shape == (height, width, 3)
    assert np.isfinite(out).all()
    if height <= 32 and width <= 32:
        assert np.abs(out - _untiled(net, image)).max() < 1e-5


@pytest.mark.parametrize(
    ("height", "width", "tile", "overlap"), [(150, 97, 48, 16), (64, 64, 64, 8)]
)
def test_in_place_writes_the_same_result_into_the_image(height, width, tile, overlap):
    net = _seeded(GlobalNet(), seed=1)  # wide context: every tile reads rows far from its own
    image = _smooth_image(height, width)
    expected = run_tiled(net, image, tile=tile, overlap=overlap, multiple=4)
    given = image.copy()
    result = run_tiled(net, given, tile=tile, overlap=overlap, multiple=4, in_place=True)
    assert result is given
    np.testing.assert_array_equal(result, expected)


def test_in_place_needs_a_float32_image_and_as_many_channels_out():
    with pytest.raises(ValueError, match="float32"):
        run_tiled(local_net(3, 3), np.zeros((8, 8, 3), np.float64), in_place=True)
    with pytest.raises(ValueError, match="output channels"):
        run_tiled(local_net(1, 3), _random_image(8, 8, 1), in_place=True)


def test_in_place_needs_a_band_of_rows_not_a_second_image():
    image = _random_image(256, 256, 3)
    net = local_net(3, 3)
    tracemalloc.start()
    try:
        run_tiled(net, image, tile=32, overlap=8, in_place=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a band of 32 rows and its overlaps (48 rows) is under a fifth of the image; a second
    # image would be all of it
    assert peak < 0.3 * image.nbytes


# ----------------------------------------------------------------------------- scale


def shuffle_net(scale: int, channels: int = 3, seed: int = 5) -> nn.Module:
    """Two 3×3 convolutions (receptive-field radius 2), then pixel shuffle to ``scale``×."""
    return _seeded(
        nn.Sequential(
            nn.Conv2d(channels, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, channels * scale * scale, 3, padding=1),
            nn.PixelShuffle(scale),
        ),
        seed=seed,
    )


def nearest_net(scale: int, channels: int = 3) -> nn.Module:
    """Copies every pixel into a ``scale``² block: a 1×1 conv repeating channels, then shuffle."""
    conv = nn.Conv2d(channels, channels * scale * scale, 1, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        for c in range(channels):
            conv.weight[c * scale * scale : (c + 1) * scale * scale, c] = 1.0
    return nn.Sequential(conv, nn.PixelShuffle(scale)).eval()


@pytest.mark.parametrize("scale", [2, 4])
def test_scaled_tiles_give_the_known_answer(scale):
    image = _random_image(45, 70, 3)
    out = run_tiled(nearest_net(scale), image, tile=24, overlap=8, scale=scale)
    expected = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    assert out.shape == (45 * scale, 70 * scale, 3)
    np.testing.assert_allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize(("scale", "height", "width"), [(2, 100, 90), (4, 57, 83), (4, 16, 16)])
def test_scaled_tiled_equals_untiled_for_limited_receptive_field(scale, height, width):
    net = shuffle_net(scale)
    image = _random_image(height, width, 3)
    calls = []
    tiled = run_tiled(
        net, image, tile=32, overlap=8, scale=scale, progress=lambda *a: calls.append(a)
    )
    assert tiled.shape == (height * scale, width * scale, 3)
    assert np.abs(tiled - _untiled(net, image)).max() < 1e-5
    assert len(calls) == len(tile_layout(height, 32, 8)[1]) * len(tile_layout(width, 32, 8)[1])


def test_scaled_output_goes_into_a_given_array_of_any_depth():
    net = shuffle_net(2)
    image = _random_image(50, 40, 3)
    reference = np.clip(_untiled(net, image), 0.0, 1.0)
    for dtype, peak in ((np.uint8, 255), (np.uint16, 65535)):
        out = np.zeros((100, 80, 3), dtype)
        assert run_tiled(net, image, tile=24, overlap=8, scale=2, out=out) is out
        np.testing.assert_array_equal(out, np.rint(reference * peak).astype(dtype))
    half = np.zeros((100, 80, 3), np.float16)
    run_tiled(net, image, tile=24, overlap=8, scale=2, out=half)
    assert np.abs(half - _untiled(net, image)).max() < 2e-3
    with pytest.raises(ValueError, match="out must be 100×80"):
        run_tiled(net, image, scale=2, out=np.zeros((50, 40, 3), np.float32))
    with pytest.raises(ValueError, match="uint8 or uint16"):
        run_tiled(net, image, scale=2, out=np.zeros((100, 80, 3), np.int32))
    with pytest.raises(ValueError, match="channels"):
        run_tiled(net, image, scale=2, out=np.zeros((100, 80, 1), np.float32))


def test_scale_must_match_the_network_and_excludes_in_place():
    image = _random_image(32, 32, 3)
    with pytest.raises(ValueError, match=r"2H, 2W"):
        run_tiled(local_net(3, 3), image, scale=2)
    with pytest.raises(ValueError, match="C_out, H, W"):
        run_tiled(shuffle_net(2), image)
    with pytest.raises(ValueError, match="in_place"):
        run_tiled(shuffle_net(2), image, scale=2, in_place=True)
    with pytest.raises(ValueError, match="scale >= 1"):
        run_tiled(local_net(3, 3), image, scale=0)


def test_scaled_memory_is_the_output_and_a_band():
    image = _random_image(128, 128, 3)
    net = shuffle_net(4)
    out = np.empty((512, 512, 3), np.uint8)
    tracemalloc.start()
    try:
        run_tiled(net, image, tile=32, overlap=8, scale=4, out=out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    band = 4 * 32 * 512 * 3 * 4  # one row of output tiles in float32
    assert peak < 2 * band < out.size * 4  # no float32 output was made


class PaddingPointwise(nn.Module):
    """A 1×1 convolution that, like the daguerre generators, pads its input to ``min_size``
    (replicating the border) and crops back; counts the pixels it works on."""

    min_size = 64

    def __init__(self) -> None:
        super().__init__()
        self.conv = _seeded(nn.Conv2d(3, 3, 1), seed=5)
        self.pixels = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[2:]
        pad = (0, max(0, self.min_size - width), 0, max(0, self.min_size - height))
        padded = F.pad(x, pad, mode="replicate")
        self.pixels += padded.shape[2] * padded.shape[3]
        return self.conv(padded)[:, :, :height, :width]


@pytest.mark.parametrize(("height", "width"), [(8, 3000), (3000, 5)])
def test_a_thin_strip_is_folded_instead_of_padded(height, width):
    """A strip 8 px high used to cost 64 rows of work per column (the network's padding)."""
    image = _random_image(height, width, 3)
    net = PaddingPointwise()
    out = run_tiled(net, image, tile=512, overlap=32)
    unfolded = max(height, width) * net.min_size  # the work of padded tiles, overlaps left out
    assert net.pixels < 0.5 * unfolded
    np.testing.assert_allclose(out, _untiled(net, image), atol=1e-5)
    target = np.empty((2 * height, 2 * width, 3), np.uint8)  # the out= and scale paths agree
    upscaled = run_tiled(_Doubler(), image, tile=512, overlap=32, scale=2, out=target)
    np.testing.assert_array_equal(upscaled, np.rint(np.repeat(np.repeat(image, 2, 0), 2, 1) * 255))


def test_a_folded_unet_result_is_close_to_the_untiled_one():
    net = _seeded(UNet(3, 3, base_channels=4, depth=4, max_channels=8), seed=6)
    assert net.min_size == 32
    image = _smooth_image(6, 900)
    reference = _untiled(net, image)
    out = run_tiled(net, image, tile=128, overlap=32)
    assert np.abs(out - reference).mean() < 0.3 * np.abs(reference - image).mean()


class _Doubler(nn.Module):
    """Nearest-neighbour ×2, with a minimum size to make thin strips worth folding."""

    min_size = 64

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="nearest")
