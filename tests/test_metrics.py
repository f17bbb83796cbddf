"""Quality scores: known values on hand-made cases, and the documented edge cases."""

import json
import math

import cv2
import numpy as np
import pytest
from skimage import data

from daguerre import hub, niqe
from daguerre.metrics import mask_scores, noise_sigma, psnr, sharpness, ssim
from daguerre.metrics import niqe as niqe_score


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


# --- NIQE ---------------------------------------------------------------------------------------


def _bundled_photo(name: str) -> np.ndarray:
    """A 512×512 photo bundled with scikit-image (camera: gray, astronaut: RGB), float32 H×W×C."""
    pixels = getattr(data, name)().astype(np.float32) / 255
    return pixels if pixels.ndim == 3 else pixels[..., None]


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    encoded = cv2.imencode(
        ".jpg", np.round(image * 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )[1]
    return (cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255).reshape(
        image.shape
    )


@pytest.mark.parametrize("name", ["camera", "astronaut"])
def test_niqe_scores_a_clean_photo_better_than_noisy_blurred_or_blocky_versions(name):
    clean = _bundled_photo(name)
    noise = np.random.default_rng(0).normal(0, 0.1, clean.shape).astype(np.float32)
    noisy = np.clip(clean + noise, 0, 1)
    blurred = cv2.GaussianBlur(clean, (0, 0), 3).reshape(clean.shape)
    blocky = _jpeg(clean, 10)
    score = niqe_score(clean)
    assert 1.0 < score < 4.0  # measured: camera 2.5, astronaut 2.7
    for damaged in (noisy, blurred, blocky):
        assert niqe_score(damaged) > score + 2.0  # measured: 5.5 to 8.8


def test_niqe_is_deterministic_and_reads_gray_in_any_layout():
    gray = _bundled_photo("camera")[:300, :400]
    score = niqe_score(gray)
    assert niqe_score(gray) == score
    assert niqe_score(gray[..., 0]) == score  # H×W
    assert niqe_score(np.repeat(gray, 3, axis=2)) == pytest.approx(score, abs=1e-9)  # R = G = B
    assert niqe_score(gray.astype(np.float64)) == score


def test_niqe_uses_whole_patches_only():
    photo = _bundled_photo("astronaut")
    assert niqe_score(photo[:300, :290]) == niqe_score(photo[:288, :288])


@pytest.mark.parametrize("shape", [(191, 300, 3), (300, 191, 1), (191, 191)])
def test_niqe_rejects_images_under_192_pixels_a_side(shape):
    with pytest.raises(ValueError, match="192"):
        niqe_score(np.full(shape, 0.5, np.float32))


@pytest.mark.parametrize("shape", [(256, 256, 2), (256, 256, 4), (1, 256, 256, 3), (256,)])
def test_niqe_rejects_other_shapes(shape):
    with pytest.raises(ValueError, match="H×W"):
        niqe_score(np.zeros(shape, np.float32))


def test_niqe_rejects_a_flat_image():
    with pytest.raises(ValueError, match="flat"):
        niqe_score(np.full((256, 256, 3), 0.5, np.float32))


def test_aggd_fit_recovers_gaussian_and_laplacian_shapes():
    rng = np.random.default_rng(0)
    shape, mean, left, right = niqe.fit_aggd(rng.normal(0, 1, (2, 40000)))
    assert shape == pytest.approx([2, 2], abs=0.08)
    assert left == pytest.approx([math.sqrt(2)] * 2, rel=0.03)  # sigma · sqrt(Γ(1/2)/Γ(3/2))
    assert right == pytest.approx([math.sqrt(2)] * 2, rel=0.03)
    assert mean == pytest.approx([0, 0], abs=0.03)
    shape, _, left, right = niqe.fit_aggd(rng.laplace(0, 1, (2, 40000)))
    assert shape == pytest.approx([1, 1], abs=0.06)
    assert left == pytest.approx([1, 1], rel=0.05)
    # an AGGD with a Gaussian shape, twice as wide on the right (mass in proportion to scale)
    halves = np.abs(rng.normal(0, 1, 60000))
    values = np.concatenate([-0.5 * halves[:20000], halves[20000:]])[None]
    shape, mean, left, right = niqe.fit_aggd(values)
    assert shape[0] == pytest.approx(2, abs=0.1)
    assert right[0] / left[0] == pytest.approx(2, rel=0.03)
    assert mean[0] > 0
    # no negative values: undefined, NaN (such patches are left out)
    assert np.isnan(niqe.fit_aggd(np.abs(values))[2][0])


def test_bundled_pristine_model_is_well_formed_and_not_a_model_card():
    model = niqe.pristine()
    assert model.mean.shape == (36,)
    assert np.allclose(model.covariance, model.covariance.T)
    assert np.linalg.eigvalsh(model.covariance).min() > 0
    assert model.provenance["patch"] == 96
    assert model.provenance["patches"] > 1000
    assert "photos/train" in model.provenance["data"]
    assert model.provenance["command"].startswith("python scripts/fit_niqe.py")
    raw = json.loads(niqe.PRISTINE_PATH.read_text(encoding="utf-8"))
    assert niqe.PristineModel.from_dict(raw).mean.tolist() == model.mean.tolist()
    assert niqe.PRISTINE_PATH.parent != hub.WEIGHTS_DIR  # hub reads every weights/*.json as a card


def test_pristine_model_round_trips_and_checks_its_shapes():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(100, 36))
    feats[3, 5] = np.nan  # a patch with an undefined feature is left out
    model = niqe.PristineModel.fit(feats, {"data": "random"})
    assert model.provenance == {"data": "random", "patches": 99}
    again = niqe.PristineModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert np.array_equal(again.mean, model.mean)
    assert np.array_equal(again.covariance, model.covariance)
    with pytest.raises(ValueError, match="36"):
        niqe.PristineModel.from_dict({"mean": [0.0] * 35, "covariance": np.eye(36).tolist()})
    with pytest.raises(ValueError, match="more than 36"):
        niqe.PristineModel.fit(feats[:30])
