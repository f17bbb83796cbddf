"""Tests for daguerre.restore.monochrome: telling black-and-white and toned prints from colour."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from daguerre.color import preview
from daguerre.restore.monochrome import looks_gray, looks_toned


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def test_looks_gray_tells_black_and_white_from_sepia(rng: np.random.Generator) -> None:
    luma = cv2.GaussianBlur(rng.random((200, 300), dtype=np.float32), (0, 0), 4)[..., None]
    bw = np.repeat(luma, 3, axis=2)
    assert looks_gray(bw)
    assert looks_gray(luma)
    noisy = np.clip(bw + rng.normal(0, 0.02, bw.shape).astype(np.float32), 0, 1)
    assert looks_gray(noisy)  # scanner noise is not colour
    buffer = cv2.imencode(
        ".jpg", np.rint(noisy * 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 80]
    )
    assert looks_gray(cv2.imdecode(buffer[1], cv2.IMREAD_COLOR).astype(np.float32) / 255)
    for tint in ([1.07, 0.95, 0.80], [1.03, 1.0, 0.95]):  # strong and slight sepia
        assert not looks_gray(np.clip(bw * np.array(tint, dtype=np.float32), 0, 1))
    color = rng.random((64, 64, 3), dtype=np.float32)
    assert not looks_gray(color)


def test_looks_toned_finds_sepia_and_cyanotype_prints_not_color_photos(
    rng: np.random.Generator,
) -> None:
    luma = cv2.GaussianBlur(rng.random((120, 160), dtype=np.float32), (0, 0), 4)[..., None]
    bw = np.repeat(0.1 + 0.8 * (luma - luma.min()) / np.ptp(luma), 3, axis=2)
    for tint in ([1.07, 0.95, 0.80], [0.80, 0.92, 1.08]):  # sepia, cyanotype
        toned = np.clip(bw * np.array(tint, dtype=np.float32), 0, 1)
        assert looks_toned(toned) and not looks_gray(toned)
    blobs = cv2.GaussianBlur(rng.random((120, 160, 3), dtype=np.float32), (0, 0), 6)
    color = np.clip(0.5 + 4.0 * (blobs - blobs.mean()), 0, 1)  # several hues
    assert not looks_toned(color)
    assert not looks_toned(luma)  # one channel: gray, not toned


def test_looks_toned_allows_a_tint_that_drifts_with_lightness_and_a_small_mark(
    rng: np.random.Generator,
) -> None:
    luma = cv2.GaussianBlur(rng.random((120, 160), dtype=np.float32), (0, 0), 4)[..., None]
    light = 0.1 + 0.8 * (luma - luma.min()) / np.ptp(luma)
    shadows, highlights = np.array([1.12, 0.95, 0.85]), np.array([1.0, 1.0, 0.8])
    print_ = np.clip(light * ((1 - light) * shadows + light * highlights), 0, 1)
    print_[:12, :24] = [0.3, 0.4, 0.8]  # a blue watermark on 1.5 % of the print
    assert looks_toned(print_.astype(np.float32))
    two_hues = np.repeat(light, 3, axis=2) * np.array([1.1, 0.95, 0.85])
    two_hues[:, 80:] = light[:, 80:] * np.array([0.85, 1.1, 0.95])  # one lightness, two hues
    assert not looks_toned(np.clip(two_hues, 0, 1).astype(np.float32))


def test_a_shared_preview_gives_the_same_verdicts(rng: np.random.Generator) -> None:
    luma = cv2.GaussianBlur(rng.random((300, 400), dtype=np.float32), (0, 0), 4)[..., None]
    sepia = np.clip(np.repeat(luma, 3, axis=2) * np.array([1.07, 0.95, 0.80], np.float32), 0, 1)
    small = preview(sepia)
    assert looks_gray(small) == looks_gray(sepia) is False
    assert looks_toned(small) == looks_toned(sepia) is True
