"""Tests for daguerre.losses: adversarial objectives, reconstruction, SSIM, FFT, style."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage.metrics import structural_similarity

from daguerre import losses
from daguerre.losses import AdversarialLoss, RandomFeatureNet
from daguerre.nets import MultiScaleDiscriminator, PatchDiscriminator

MODES = ["lsgan", "nonsaturating", "hinge"]


def full(value: float, shape: tuple[int, ...] = (2, 1, 4, 4)) -> torch.Tensor:
    return torch.full(shape, value)


def make_image(height: int = 48, width: int = 64) -> torch.Tensor:
    """A 1×3×H×W picture with smooth gradients, stripes and hard edges."""
    yy, xx = torch.meshgrid(
        torch.arange(height, dtype=torch.float32),
        torch.arange(width, dtype=torch.float32),
        indexing="ij",
    )
    red = 0.5 + 0.4 * torch.sin(xx / 5)
    green = yy / height
    blue = ((xx // 8 + yy // 8) % 2) * 0.8 + 0.1
    return torch.stack([red, green, blue])[None]


def textures(size: int = 96) -> tuple[torch.Tensor, torch.Tensor]:
    """Two distinct seeded textures: diagonal stripes and soft blobs."""
    gen = torch.Generator().manual_seed(1)
    yy, xx = torch.meshgrid(torch.arange(float(size)), torch.arange(float(size)), indexing="ij")
    stripes = (0.5 + 0.35 * torch.sin(0.9 * xx + 0.4 * yy)).expand(1, 3, -1, -1)
    stripes = stripes + 0.05 * torch.randn(1, 3, size, size, generator=gen)
    blobs = F.avg_pool2d(torch.rand(1, 3, size + 8, size + 8, generator=gen), 9, stride=1)
    blobs = (blobs - blobs.mean()) * 4 + 0.5
    return stripes, blobs


@pytest.fixture(scope="module")
def feature_net() -> RandomFeatureNet:
    return RandomFeatureNet(seed=0)


# --- adversarial -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_discriminator_loss_rewards_telling_real_from_fake(mode: str) -> None:
    adv = AdversarialLoss(mode)
    good = adv.discriminator(full(2.0), full(-2.0))
    bad = adv.discriminator(full(-2.0), full(2.0))
    assert good < bad


@pytest.mark.parametrize("mode", MODES)
def test_generator_loss_rewards_fooling_the_discriminator(mode: str) -> None:
    adv = AdversarialLoss(mode)
    assert adv.generator(full(2.0)) < adv.generator(full(-2.0))


@pytest.mark.parametrize("mode", MODES)
def test_lists_of_logits_are_averaged_over_scales(mode: str) -> None:
    adv = AdversarialLoss(mode)
    real = [torch.randn(2, 1, 8, 8), torch.randn(2, 1, 3, 3)]
    fake = [torch.randn(2, 1, 8, 8), torch.randn(2, 1, 3, 3)]
    per_scale = [adv.discriminator(r, f) for r, f in zip(real, fake, strict=True)]
    assert torch.allclose(adv.discriminator(real, fake), torch.stack(per_scale).mean())
    assert torch.allclose(
        adv.generator(fake), (adv.generator(fake[0]) + adv.generator(fake[1])) / 2
    )


def test_known_values() -> None:
    hinge = AdversarialLoss("hinge")
    assert hinge.discriminator(full(0.5), full(-2.0)).item() == pytest.approx(0.5)
    assert hinge.discriminator(full(1.5), full(0.0)).item() == pytest.approx(1.0)
    assert hinge.generator(torch.tensor([1.0, -3.0])).item() == pytest.approx(1.0)
    lsgan = AdversarialLoss("lsgan")
    assert lsgan.discriminator(full(1.0), full(0.0)).item() == 0.0
    assert lsgan.discriminator(full(0.0), full(1.0)).item() == pytest.approx(2.0)
    assert lsgan.generator(full(0.5)).item() == pytest.approx(0.25)
    bce = AdversarialLoss("nonsaturating")
    assert bce.discriminator(full(0.0), full(0.0)).item() == pytest.approx(2 * math.log(2))
    assert bce.generator(full(0.0)).item() == pytest.approx(math.log(2))


def test_unknown_adversarial_mode() -> None:
    with pytest.raises(ValueError, match="wgan"):
        AdversarialLoss("wgan")


def test_adversarial_loss_trains_a_discriminator() -> None:
    torch.manual_seed(0)
    disc = MultiScaleDiscriminator(1, num_scales=2, base_channels=4, n_layers=1)
    adv = AdversarialLoss("hinge")
    real = torch.full((4, 1, 16, 16), 0.8)
    fake = torch.full((4, 1, 16, 16), 0.2)
    before = adv.discriminator(disc(real), disc(fake)).item()
    optimizer = torch.optim.Adam(disc.parameters(), lr=1e-2)
    for _ in range(10):
        optimizer.zero_grad()
        adv.discriminator(disc(real), disc(fake)).backward()
        optimizer.step()
    assert adv.discriminator(disc(real), disc(fake)).item() < before


# --- reconstruction and feature matching -------------------------------------------------


def test_l1_and_charbonnier() -> None:
    a = torch.zeros(1, 1, 2, 2)
    b = torch.tensor([[[[1.0, -1.0], [2.0, 0.0]]]])
    assert losses.l1(a, b).item() == pytest.approx(1.0)
    assert losses.charbonnier(a, a).item() == 0.0
    assert losses.charbonnier(a, b).item() == pytest.approx(1.0 - 0.75e-3, abs=1e-5)
    assert losses.cycle_loss(b, a).item() == pytest.approx(1.0)
    assert losses.identity_loss(b, b).item() == 0.0


def test_feature_matching_single_and_multi_scale() -> None:
    torch.manual_seed(0)
    disc = MultiScaleDiscriminator(3, num_scales=2, base_channels=4, n_layers=2)
    real = torch.rand(2, 3, 32, 32, requires_grad=True)
    fake = torch.rand(2, 3, 32, 32, requires_grad=True)
    real_feats, fake_feats = disc.features(real), disc.features(fake)
    assert losses.feature_matching(real_feats, real_feats).item() == 0.0
    loss = losses.feature_matching(real_feats, fake_feats)
    per_scale = [losses.feature_matching(r, f) for r, f in zip(real_feats, fake_feats, strict=True)]
    assert torch.allclose(loss, torch.stack(per_scale).mean())
    loss.backward()
    assert fake.grad.abs().sum() > 0
    assert real.grad is None  # real features are detached


def test_feature_matching_rejects_mismatched_scales() -> None:
    disc = PatchDiscriminator(3, base_channels=4, n_layers=1)
    feats = disc.features(torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match="scales"):
        losses.feature_matching([feats, feats], [feats])


# --- FFT ---------------------------------------------------------------------------------


def blur(x: torch.Tensor, size: int) -> torch.Tensor:
    return F.avg_pool2d(F.pad(x, [size // 2] * 4, mode="reflect"), size, stride=1)


def test_fft_loss_penalises_blur_more_the_stronger_it_is() -> None:
    sharp = make_image()
    assert losses.fft_loss(sharp, sharp).item() == 0.0
    mild = losses.fft_loss(blur(sharp, 3), sharp).item()
    strong = losses.fft_loss(blur(sharp, 9), sharp).item()
    assert 0 < mild < strong


def test_fft_loss_sees_shifts_and_is_size_independent() -> None:
    image = make_image(64, 64)
    rolled = image.roll(3, dims=-1)
    # same amplitude spectrum, so an amplitude-only loss would call this a perfect match
    assert torch.allclose(torch.fft.rfft2(rolled).abs(), torch.fft.rfft2(image).abs(), atol=1e-3)
    assert losses.fft_loss(rolled, image) > losses.fft_loss(blur(image, 3), image)
    noise = torch.Generator().manual_seed(0)
    small = torch.rand(1, 1, 32, 32, generator=noise)
    large = torch.rand(1, 1, 128, 128, generator=noise)
    ratio = losses.fft_loss(small, 0 * small) / losses.fft_loss(large, 0 * large)
    assert 0.7 < ratio.item() < 1.4


# --- SSIM --------------------------------------------------------------------------------


def test_ssim_of_identical_images_is_one() -> None:
    image = make_image()
    assert losses.ssim(image, image).item() == pytest.approx(1.0, abs=1e-6)
    assert losses.ssim_loss(image, image).item() == pytest.approx(0.0, abs=1e-6)


def test_ssim_matches_scikit_image() -> None:
    clean = make_image()
    rng = np.random.default_rng(0)
    noisy = (clean + torch.from_numpy(rng.normal(0, 0.1, clean.shape)).float()).clamp(0, 1)
    ours = losses.ssim(clean, noisy).item()
    reference = structural_similarity(
        clean[0].permute(1, 2, 0).numpy(),
        noisy[0].permute(1, 2, 0).numpy(),
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=1.0,
        channel_axis=2,
    )
    assert 0.3 < reference < 0.9
    assert ours == pytest.approx(reference, abs=1e-3)


def test_ssim_falls_with_noise_small_images_and_gradients() -> None:
    clean = make_image()
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(clean.shape, generator=gen)
    scores = [losses.ssim(clean, (clean + s * noise).clamp(0, 1)).item() for s in (0.02, 0.1, 0.3)]
    assert scores[0] > scores[1] > scores[2]
    tiny = torch.rand(2, 1, 5, 7, generator=gen, requires_grad=True)
    value = losses.ssim(tiny, torch.rand(2, 1, 5, 7, generator=gen))
    value.backward()
    assert torch.isfinite(value) and tiny.grad.abs().sum() > 0


# --- random-feature style ----------------------------------------------------------------


def test_random_feature_net_is_seeded_and_frozen() -> None:
    first, second, other = RandomFeatureNet(seed=7), RandomFeatureNet(seed=7), RandomFeatureNet(8)
    for p, q, r in zip(first.parameters(), second.parameters(), other.parameters(), strict=True):
        assert torch.equal(p, q)
        assert not torch.equal(p, r)
        assert not p.requires_grad
    x = torch.rand(1, 3, 16, 16)
    feats = first.features(x)
    assert [tuple(f.shape) for f in feats] == [
        (1, 32, 16, 16),
        (1, 64, 8, 8),
        (1, 128, 4, 4),
        (1, 256, 2, 2),
    ]
    assert all(torch.equal(f, g) for f, g in zip(feats, second(x), strict=True))


def test_random_feature_net_weights_are_pinned() -> None:
    """Same seed, same numbers on every machine: guards against a change of generator use."""
    net = RandomFeatureNet(seed=0)
    expected = torch.randn(32, 3, 3, 3, generator=torch.Generator().manual_seed(0))
    expected = (expected - expected.mean(dim=(1, 2, 3), keepdim=True)) * math.sqrt(2 / 27)
    assert torch.allclose(net.stages[0].weight, expected)


def test_random_feature_net_accepts_gray() -> None:
    net = RandomFeatureNet()
    gray = torch.rand(1, 1, 20, 20)
    assert all(
        torch.equal(f, g)
        for f, g in zip(net.features(gray), net.features(gray.expand(-1, 3, -1, -1)), strict=True)
    )


@pytest.mark.parametrize("kind", ["gram", "sliced_wasserstein"])
def test_style_loss_separates_textures(feature_net: RandomFeatureNet, kind: str) -> None:
    stripes, blobs = textures()
    crop = stripes[..., :48, :48]
    assert losses.style_loss(feature_net, crop, crop, kind).item() == 0.0
    shifted = losses.style_loss(feature_net, crop, stripes[..., 37:85, 21:69], kind)
    other_size = losses.style_loss(feature_net, crop, stripes[..., :64, 5:37], kind)
    different = losses.style_loss(feature_net, crop, blobs[..., :48, :48], kind)
    assert different > 20 * shifted
    assert different > 20 * other_size


@pytest.mark.parametrize("kind", ["gram", "sliced_wasserstein"])
def test_style_loss_gradients_and_style_batch_broadcast(
    feature_net: RandomFeatureNet, kind: str
) -> None:
    stripes, _ = textures()
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(2, 3, 24, 32, generator=gen, requires_grad=True)
    loss = losses.style_loss(feature_net, x, stripes, kind)
    loss.backward()
    assert x.grad.abs().sum() > 0
    alone = losses.style_loss(feature_net, x[:1].detach(), stripes, kind)
    assert alone.item() > 0


def test_sliced_wasserstein_uses_the_given_generator(feature_net: RandomFeatureNet) -> None:
    stripes, blobs = textures(48)

    def loss(seed: int | None) -> float:
        gen = None if seed is None else torch.Generator().manual_seed(seed)
        return losses.style_loss(
            feature_net, stripes, blobs, "sliced_wasserstein", generator=gen
        ).item()

    assert loss(None) == loss(0) == loss(None)
    assert loss(1) != loss(0)


def test_style_loss_unknown_kind(feature_net: RandomFeatureNet) -> None:
    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(ValueError, match="kind"):
        losses.style_loss(feature_net, x, x, "histogram")


def test_content_loss(feature_net: RandomFeatureNet) -> None:
    image = make_image(32, 32)
    assert losses.content_loss(feature_net, image, image).item() == 0.0
    near = losses.content_loss(feature_net, image, (image + 0.02).clamp(0, 1))
    far = losses.content_loss(feature_net, image, image.flip(-1))
    assert 0 < near < far
    with pytest.raises(ValueError, match="equal sizes"):
        losses.content_loss(feature_net, image, make_image(32, 48))


def test_periodic_loss_finds_the_pattern_of_a_pixel_shuffle() -> None:
    torch.manual_seed(0)
    target = torch.rand(2, 3, 64, 64)
    grid = torch.zeros(1, 1, 64, 64)
    grid[..., ::4, ::4] = 0.08  # one sub-pixel filter of a ×4 shuffle drifted
    # differences of the same energy (root mean square 0.02) without the pattern
    noise = 0.02 * torch.randn(2, 3, 64, 64)
    smooth = F.avg_pool2d(torch.randn(2, 3, 64, 64), 7, stride=1, padding=3)
    smooth *= 0.02 / smooth.square().mean().sqrt()
    assert losses.periodic_loss(target, target, 4).item() == 0.0
    printed = losses.periodic_loss(target + grid, target, 4)
    assert printed > 3 * losses.periodic_loss(target + noise, target, 4)
    assert printed > 5 * losses.periodic_loss(target + smooth, target, 4)
    with pytest.raises(ValueError, match="multiples of 32"):
        losses.periodic_loss(target[..., :48], target[..., :48], 4)


def test_artifact_map_points_at_noisy_residuals_not_smooth_ones() -> None:
    torch.manual_seed(0)
    target = torch.rand(1, 3, 32, 64)
    output = target.clone()
    output[..., :32] += 0.1 * torch.randn(1, 3, 32, 32)  # invented texture on the left
    output[..., 32:] += 0.1  # a smooth offset on the right: L1's business, not an artefact
    where = losses.artifact_map(output, target)
    assert where.shape == (1, 1, 32, 64) and not where.requires_grad
    assert abs(where.mean().item() - 1.0) < 1e-4
    assert where[..., 4:28, 4:28].mean() > 20 * where[..., 4:28, 36:60].mean()


def test_random_feature_l1_grows_with_the_difference_and_reaches_the_output(
    feature_net: RandomFeatureNet,
) -> None:
    image = make_image(32, 32)
    assert losses.random_feature_l1(feature_net, image, image).item() == 0.0
    blurred = F.avg_pool2d(image, 3, stride=1, padding=1, count_include_pad=False)
    output = blurred.clone().requires_grad_(True)
    near = losses.random_feature_l1(feature_net, output, image)
    far = losses.random_feature_l1(feature_net, image.flip(-1), image)
    assert 0 < near < far
    near.backward()
    assert output.grad is not None and output.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="equal sizes"):
        losses.random_feature_l1(feature_net, image, make_image(32, 48))
