"""Quality scores: known values on hand-made cases, and the documented edge cases."""

import math

import cv2
import numpy as np
import pytest

from daguerre.metrics import mask_scores, noise_sigma, psnr, sharpness, ssim


@pytest.fixture
def photo() -> np.ndarray:
    """A smooth RGB scene with some edges, values kept away from 0 and 1."""
    y, x = np.mgrid[0:64, 0:80].astype(np.float32) / 64
    base = 0.5 + 0.2 * np.sin(3 * x) * np.cos(2 * y)
    base[20:40, 30:50] += 0.2
    return np.stack([base, 0.8 * base + 0.1, 0.6 * base + 0.2], axis=2).astype(np.float32)


def test_psnr_of_identical_images_is_infinite(photo):
    assert psnr(photo, photo) == math.inf


def test_psnr_of_a_constant_offset(photo):
    # MSE 0.01 with a peak of 1 is 20 dB; the same on a 0..255 scale.
    assert psnr(photo, photo + 0.1) == pytest.approx(20.0, abs=1e-4)
    assert psnr(photo * 255, (photo + 0.1) * 255, data_range=255) == pytest.approx(20.0, abs=1e-4)
    assert psnr(photo, photo + 0.01) == pytest.approx(40.0, abs=1e-3)


def test_ssim_is_one_for_identical_and_drops_with_noise(photo):
    rng = np.random.default_rng(0)
    assert ssim(photo, photo) == pytest.approx(1.0)
    gray = photo[..., :1]
    assert ssim(gray, gray) == pytest.approx(1.0)
    slightly = ssim(photo, photo + rng.normal(0, 0.02, photo.shape).astype(np.float32))
    heavily = ssim(photo, photo + rng.normal(0, 0.2, photo.shape).astype(np.float32))
    assert 1.0 > slightly > heavily > 0.0


def test_ssim_is_symmetric(photo):
    other = np.clip(photo * 0.7 + 0.1, 0, 1)
    assert ssim(photo, other) == pytest.approx(ssim(other, photo))


@pytest.mark.parametrize("score", [psnr, ssim])
def test_full_reference_scores_reject_mismatched_shapes(score, photo):
    with pytest.raises(ValueError, match="same shape"):
        score(photo, photo[:, :-1])
    with pytest.raises(ValueError, match="same shape"):
        score(photo, photo[..., :1])
    with pytest.raises(ValueError, match="H×W×C"):
        score(photo[..., 0], photo[..., 0])


def test_ssim_rejects_images_smaller_than_its_window():
    tiny = np.zeros((8, 8, 3), np.float32)
    with pytest.raises(ValueError, match="11×11"):
        ssim(tiny, tiny)


def test_mask_scores_on_a_hand_made_case():
    truth = np.zeros((4, 4), bool)
    truth[0, :] = True  # four true positives to find
    pred = np.zeros((4, 4), np.float32)
    pred[0, :3] = [0.9, 0.5, 0.7]  # three found (0.5 counts, the threshold is inclusive)
    pred[0, 3] = 0.49  # one missed
    pred[2, 2] = 0.8  # one false alarm
    scores = mask_scores(pred, truth)
    assert scores == pytest.approx({"precision": 0.75, "recall": 0.75, "iou": 0.6, "f1": 0.75})
    stricter = mask_scores(pred, truth, threshold=0.75)
    assert stricter == pytest.approx({"precision": 0.5, "recall": 0.25, "iou": 0.2, "f1": 1 / 3})


def test_mask_scores_accept_channel_last_masks_and_float_truth():
    truth = np.zeros((3, 3, 1), np.float32)
    truth[1, 1, 0] = 0.8
    truth[0, 0, 0] = 0.3  # below 0.5: not part of the truth
    pred = np.zeros((3, 3, 1), np.float32)
    pred[1, 1, 0] = 1.0
    assert mask_scores(pred, truth) == {"precision": 1.0, "recall": 1.0, "iou": 1.0, "f1": 1.0}


def test_mask_scores_empty_cases():
    empty = np.zeros((5, 5), np.float32)
    some = empty.copy()
    some[2, 2] = 1.0
    perfect = {"precision": 1.0, "recall": 1.0, "iou": 1.0, "f1": 1.0}
    failed = {"precision": 0.0, "recall": 0.0, "iou": 0.0, "f1": 0.0}
    assert mask_scores(empty, empty) == perfect
    assert mask_scores(empty, some) == failed  # missed everything
    assert mask_scores(some, empty) == failed  # false alarm on a clean photo


def test_mask_scores_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        mask_scores(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="H×W"):
        mask_scores(np.zeros((4, 4, 3)), np.zeros((4, 4, 3)))


def test_sharpness_ranks_detail(photo):
    blurred = cv2.GaussianBlur(photo, (0, 0), 2.0)
    assert sharpness(photo) > 2 * sharpness(blurred) > 0.0
    assert sharpness(np.full((16, 16, 1), 0.5, np.float32)) == 0.0
    assert sharpness(photo[..., :1]) > sharpness(blurred[..., :1])


@pytest.mark.parametrize("sigma", [0.01, 0.05])
@pytest.mark.parametrize("channels", [1, 3])
def test_noise_sigma_recovers_added_gaussian_noise(photo, sigma, channels):
    clean = photo[..., :channels]
    noise = np.random.default_rng(1).normal(0, sigma, clean.shape).astype(np.float32)
    assert noise_sigma(clean + noise) == pytest.approx(sigma, rel=0.15)
    assert noise_sigma(clean) < 0.2 * sigma


def test_noise_sigma_averages_channels(photo):
    rng = np.random.default_rng(2)
    sigmas = np.array([0.01, 0.03, 0.05], np.float32)
    noisy = photo + rng.normal(0, 1, photo.shape).astype(np.float32) * sigmas
    assert noise_sigma(noisy) == pytest.approx(sigmas.mean(), rel=0.15)
