"""Tests for daguerre.image: a corpus of awkward files generated in tmp_path."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import time
import tracemalloc
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image as PILImage
from PIL import ImageCms, ImageOps

from daguerre import image
from daguerre.image import Image, ImageError
from daguerre.restore.monochrome import looks_gray

RNG_SEED = 1234


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(RNG_SEED)


# ----------------------------------------------------------------------------- file builders


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_header_only(width: int, height: int, bit_depth: int = 8, color_type: int = 2) -> bytes:
    """A valid PNG signature + IHDR (correct CRC) + a tiny IDAT: the header lies about the size."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + _png_chunk(b"IEND", b"")
    )


def _with_png_chunk(png: bytes, kind: bytes, body: bytes) -> bytes:
    """Insert a chunk right after IHDR (8-byte signature + 25-byte IHDR chunk)."""
    return png[:33] + _png_chunk(kind, body) + png[33:]


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + bytes(4) + _s15(x) + _s15(y) + _s15(z)


def _linear_icc(gray: bool) -> bytes:
    """A minimal ICC v2 display profile: sRGB primaries (or gray) with a LINEAR tone curve.

    Mid-gray 128 in such a file is linear light 0.502, which is sRGB-encoded 0.7366 (≈188).
    """
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 256) + bytes(2)  # gamma 1.0
    tags = {b"wtpt": _xyz(0.9642, 1.0, 0.8249)}
    if gray:
        tags[b"kTRC"] = curve
    else:
        tags.update(
            {
                b"rXYZ": _xyz(0.4361, 0.2225, 0.0139),
                b"gXYZ": _xyz(0.3851, 0.7169, 0.0971),
                b"bXYZ": _xyz(0.1431, 0.0606, 0.7141),
                b"rTRC": curve,
                b"gTRC": curve,
                b"bTRC": curve,
            }
        )
    start = 128 + 4 + 12 * len(tags)
    table, data = struct.pack(">I", len(tags)), b""
    for signature, body in tags.items():
        table += signature + struct.pack(">II", start + len(data), len(body))
        data += body
    header = (
        struct.pack(">I", start + len(data))
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntr"
        + (b"GRAY" if gray else b"RGB ")
        + b"XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(28)
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + bytes(48)
    )
    assert len(header) == 128
    return header + table + data


def _exif_with_orientation(orientation: int) -> bytes:
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


SRGB_ENCODED_HALF = 1.055 * (128 / 255) ** (1 / 2.4) - 0.055  # ≈ 0.7366


# ------------------------------------------------------------------------------ errors on read


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "nowhere.png"
    with pytest.raises(ImageError, match="not found") as caught:
        image.read(target)
    assert caught.value.path == target
    assert str(caught.value) == f"{target}: file not found"


def test_zero_bytes_is_an_empty_file(tmp_path: Path) -> None:
    target = tmp_path / "zero.jpg"
    target.write_bytes(b"")
    with pytest.raises(ImageError, match="empty file"):
        image.read(target)


def test_text_named_jpg_is_not_an_image(tmp_path: Path) -> None:
    target = tmp_path / "notes.jpg"
    target.write_text("shopping list: milk, film, fixer\n")
    with pytest.raises(ImageError, match="not a JPEG, PNG, TIFF, BMP or WebP image"):
        image.read(target)


def test_unsupported_format_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "anim.gif"
    PILImage.new("RGB", (4, 4), (10, 20, 30)).save(target)
    with pytest.raises(ImageError, match="not a JPEG"):
        image.read(target)


def test_floating_point_tiff_is_named_for_what_it_is(tmp_path: Path) -> None:
    target = tmp_path / "scan.tif"
    assert cv2.imwrite(str(target), np.full((8, 8, 3), 0.5, np.float32))
    with pytest.raises(ImageError, match="a TIFF with a sample layout that cannot be read"):
        image.read(target)


def test_directory_given_as_file(tmp_path: Path) -> None:
    folder = tmp_path / "album.jpg"
    folder.mkdir()
    with pytest.raises(ImageError, match="is a directory"):
        image.read(folder)


def test_truncated_jpeg_is_a_clear_error(tmp_path: Path, rng: np.random.Generator) -> None:
    noise = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    PILImage.fromarray(noise).save(buffer, "JPEG", quality=90)
    target = tmp_path / "cut.jpg"
    target.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) * 2 // 3])
    with pytest.raises(ImageError, match="truncated") as caught:
        image.read(target)
    assert str(target) in str(caught.value)


def test_truncated_16bit_png_is_a_clear_error(tmp_path: Path, rng: np.random.Generator) -> None:
    deep = rng.integers(0, 65536, (48, 48, 3), dtype=np.uint16)
    encoded = cv2.imencode(".png", deep)[1].tobytes()
    target = tmp_path / "cut16.png"
    target.write_bytes(encoded[: len(encoded) // 2])
    with pytest.raises(ImageError, match="corrupt"):
        image.read(target)


def test_no_file_handles_leak(tmp_path: Path, rng: np.random.Generator) -> None:
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to count open files")
    good = tmp_path / "good.png"
    PILImage.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(good)
    bad = tmp_path / "bad.png"
    bad.write_bytes(good.read_bytes()[:60])
    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header_only(50_000, 50_000))
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        image.read(good)
        for broken in (bad, huge):
            with pytest.raises(ImageError):
                image.read(broken)
    assert len(os.listdir("/proc/self/fd")) == before


# ------------------------------------------------------------------------------ size guard


def test_bomb_header_is_refused_before_decoding(tmp_path: Path) -> None:
    target = tmp_path / "bomb.png"
    target.write_bytes(_png_header_only(100_000, 100_000))
    start = time.perf_counter()
    with pytest.raises(ImageError, match="too large") as caught:
        image.read(target)
    assert time.perf_counter() - start < 0.5
    assert "100000×100000" in caught.value.reason


def test_pixel_limit_comes_from_argument_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "small.png"
    PILImage.new("L", (20, 10), 128).save(target)
    monkeypatch.setenv(image.MAX_PIXELS_ENV, "199")
    with pytest.raises(ImageError, match="too large"):
        image.read(target)
    assert image.read(target, max_pixels=200).pixels.shape == (10, 20, 1)
    monkeypatch.setenv(image.MAX_PIXELS_ENV, "200")
    assert image.read(target).pixels.shape == (10, 20, 1)
    monkeypatch.setenv(image.MAX_PIXELS_ENV, "lots")
    with pytest.raises(ValueError, match=image.MAX_PIXELS_ENV):
        image.read(target)


def test_pillow_bomb_guard_is_superseded_by_ours(tmp_path: Path) -> None:
    """Headers of 120 and 200 megapixels pass the size check (the default allows 300 MP):
    neither Pillow's warning (> 89 MP) nor its error (> 179 MP) appears; the files then fail
    only because their pixel data is missing. Bilevel keeps the decoder's buffer small."""
    saved = PILImage.MAX_IMAGE_PIXELS
    for width, height in ((12_000, 10_000), (20_000, 10_000)):
        target = tmp_path / f"scan_{width}.png"
        target.write_bytes(_png_header_only(width, height, bit_depth=1, color_type=0))
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with pytest.raises(ImageError, match="truncated"):
                image.read(target)
    assert saved == PILImage.MAX_IMAGE_PIXELS  # Pillow's own setting is restored


# ------------------------------------------------------------------------------ modes and depths


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_16bit_files_from_opencv_read_exactly(
    tmp_path: Path, rng: np.random.Generator, suffix: str, channels: int
) -> None:
    rgba = rng.integers(0, 65536, (5, 7, 4), dtype=np.uint16)
    rgba[0, 0] = (1, 65534, 257, 12345)  # values that 8 bits cannot hold
    stored = {1: rgba[..., 0], 3: rgba[..., 2::-1], 4: rgba[..., [2, 1, 0, 3]]}[channels]
    target = tmp_path / f"deep{channels}{suffix}"
    assert cv2.imwrite(str(target), np.ascontiguousarray(stored))
    picture = image.read(target)
    assert picture.bit_depth == 16
    assert picture.format == ("PNG" if suffix == ".png" else "TIFF")
    expected = rgba[..., :1] if channels == 1 else rgba[..., :3]
    np.testing.assert_array_equal(np.rint(picture.pixels * 65535), expected)
    if channels == 4:
        np.testing.assert_array_equal(np.rint(picture.alpha * 65535), rgba[..., 3])
    else:
        assert picture.alpha is None


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [1, 3])
def test_16bit_write_keeps_every_value(
    tmp_path: Path, rng: np.random.Generator, suffix: str, channels: int
) -> None:
    deep = rng.integers(0, 65536, (6, 4, channels), dtype=np.uint16)
    target = tmp_path / f"out{suffix}"
    image.write(target, deep.astype(np.float32) / 65535, bit_depth=16)
    raw = cv2.imread(str(target), cv2.IMREAD_UNCHANGED)  # an independent reader
    assert raw.dtype == np.uint16
    np.testing.assert_array_equal(raw.reshape(6, 4, -1)[..., ::-1], deep)
    again = image.read(target)
    assert again.bit_depth == 16
    np.testing.assert_array_equal(np.rint(again.pixels * 65535), deep)


def test_16bit_gray_png_from_pillow(tmp_path: Path) -> None:
    ramp = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5461 + 3).astype(np.uint16)
    target = tmp_path / "ramp16.png"
    PILImage.fromarray(ramp).save(target)
    picture = image.read(target)
    assert picture.pixels.shape == (3, 4, 1)
    assert picture.bit_depth == 16
    np.testing.assert_array_equal(np.rint(picture.pixels[..., 0] * 65535), ramp)


def test_16bit_gray_alpha_png_reads_as_gray(tmp_path: Path) -> None:
    rows = np.stack([np.full((3, 4), 1001), np.full((3, 4), 50003)], axis=-1).astype(">u2")
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 3, 16, 4, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )
    target = tmp_path / "la16.png"
    target.write_bytes(png)
    picture = image.read(target)
    assert picture.pixels.shape == (3, 4, 1)
    assert picture.bit_depth == 16
    np.testing.assert_array_equal(np.rint(picture.pixels * 65535), 1001)
    np.testing.assert_array_equal(np.rint(picture.alpha * 65535), 50003)


def test_cmyk_jpeg_with_adobe_inversion(tmp_path: Path) -> None:
    cmyk = PILImage.new("CMYK", (16, 16), (0, 0, 0, 0))  # paper white
    cmyk.paste((0, 255, 255, 0), (0, 0, 8, 16))  # magenta + yellow = red
    cmyk.paste((0, 0, 0, 255), (8, 8, 16, 16))  # full black ink
    target = tmp_path / "print.jpg"
    cmyk.save(target, quality=95)
    assert b"Adobe" in target.read_bytes()  # Pillow writes inverted CMYK with an APP14 marker
    picture = image.read(target)
    assert picture.pixels.shape == (16, 16, 3)
    np.testing.assert_allclose(picture.pixels[4, 3], [1, 0, 0], atol=0.03)
    np.testing.assert_allclose(picture.pixels[3, 12], [1, 1, 1], atol=0.03)
    np.testing.assert_allclose(picture.pixels[12, 12], [0, 0, 0], atol=0.03)


def test_rgba_alpha_survives_write_and_read(tmp_path: Path, rng: np.random.Generator) -> None:
    pixels = rng.integers(0, 256, (5, 6, 3)).astype(np.float32) / 255
    alpha = rng.integers(0, 256, (5, 6)).astype(np.float32) / 255
    for suffix in (".png", ".tif"):
        target = image.write(tmp_path / f"cutout{suffix}", pixels, alpha=alpha)
        back = image.read(target)
        np.testing.assert_array_equal(back.pixels, pixels)
        np.testing.assert_array_equal(back.alpha, alpha)
    webp = image.read(image.write(tmp_path / "cutout.webp", pixels, alpha=alpha))
    np.testing.assert_array_equal(webp.alpha, alpha)  # WebP keeps alpha losslessly


def test_16bit_alpha_survives_write_and_read(tmp_path: Path, rng: np.random.Generator) -> None:
    pixels = rng.integers(0, 65536, (4, 5, 3)).astype(np.float32) / 65535
    alpha = rng.integers(0, 65536, (4, 5)).astype(np.float32) / 65535
    back = image.read(image.write(tmp_path / "deep.png", Image(pixels, alpha, bit_depth=16)))
    np.testing.assert_array_equal(back.pixels, pixels)
    np.testing.assert_array_equal(back.alpha, alpha)


def test_palette_images_with_and_without_transparency(tmp_path: Path) -> None:
    palette = PILImage.new("P", (4, 2))
    palette.putpalette([255, 0, 0, 0, 0, 255, 10, 200, 30] + [0] * (256 * 3 - 9))
    palette.putdata([0, 1, 2, 0, 1, 2, 0, 1])
    plain = tmp_path / "plain.png"
    palette.save(plain)
    picture = image.read(plain)
    assert picture.alpha is None
    np.testing.assert_array_equal(
        np.rint(picture.pixels[0, :3] * 255), [[255, 0, 0], [0, 0, 255], [10, 200, 30]]
    )
    holes = tmp_path / "holes.png"
    palette.save(holes, transparency=1)
    picture = image.read(holes)
    np.testing.assert_array_equal(picture.alpha[0], [1, 0, 1, 1])
    np.testing.assert_array_equal(np.rint(picture.pixels[0, 2] * 255), [10, 200, 30])


def test_gray_alpha_and_bilevel(tmp_path: Path) -> None:
    la = PILImage.merge("LA", (PILImage.new("L", (3, 2), 77), PILImage.new("L", (3, 2), 200)))
    la.save(tmp_path / "la.png")
    picture = image.read(tmp_path / "la.png")
    assert picture.pixels.shape == (2, 3, 1)
    np.testing.assert_allclose(picture.pixels, 77 / 255)
    np.testing.assert_allclose(picture.alpha, 200 / 255)
    PILImage.new("1", (5, 3), 1).save(tmp_path / "bilevel.tif")
    bilevel = image.read(tmp_path / "bilevel.tif")
    assert bilevel.pixels.shape == (3, 5, 1)
    assert bilevel.pixels.min() == 1.0


@pytest.mark.parametrize("suffix", sorted(image.IMAGE_SUFFIXES))
def test_one_pixel_images_round_trip(tmp_path: Path, suffix: str) -> None:
    pixel = np.array([[[0.2, 0.6, 0.9]]], dtype=np.float32)
    back = image.read(image.write(tmp_path / f"dot{suffix}", pixel))
    assert back.pixels.shape == (1, 1, 3)
    assert back.pixels.dtype == np.float32
    tolerance = 0 if suffix in (".png", ".tif", ".tiff", ".bmp") else 0.04
    np.testing.assert_allclose(back.pixels, np.rint(pixel * 255) / 255, atol=tolerance)


def test_bmp_and_webp_round_trips_keep_gray_where_possible(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    smooth = cv2.GaussianBlur(rng.random((32, 32, 3), dtype=np.float32), (0, 0), 3)
    gray = smooth[..., :1]
    bmp = image.read(image.write(tmp_path / "a.bmp", gray))
    assert bmp.format == "BMP"
    np.testing.assert_array_equal(bmp.pixels, np.rint(gray * 255) / 255)
    webp = image.read(image.write(tmp_path / "a.webp", smooth, quality=95))
    assert webp.format == "WEBP"
    assert webp.pixels.shape == (32, 32, 3)
    assert np.abs(webp.pixels - smooth).mean() < 0.01
    gray_webp = image.read(image.write(tmp_path / "g.webp", gray))
    assert gray_webp.pixels.shape == (32, 32, 3)  # WebP has no gray mode
    assert looks_gray(gray_webp.pixels)


# ------------------------------------------------------------------------------ orientation


def _asymmetric(height: int = 3, width: int = 4) -> np.ndarray:
    return (np.arange(height * width * 3, dtype=np.uint8).reshape(height, width, 3) * 7) % 251


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow(tmp_path: Path, orientation: int) -> None:
    stored = PILImage.fromarray(_asymmetric())
    target = tmp_path / f"o{orientation}.png"
    stored.save(target, exif=_exif_with_orientation(orientation))
    with PILImage.open(target) as reference:
        expected = np.asarray(ImageOps.exif_transpose(reference))
    picture = image.read(target)
    np.testing.assert_array_equal(np.rint(picture.pixels * 255), expected)


def test_orientation_6_and_3_move_the_corner_marker(tmp_path: Path) -> None:
    """A camera JPEG (big blocks survive compression): the marker sits top-left as stored."""
    stored = np.zeros((32, 48, 3), dtype=np.uint8)
    stored[:16, :16] = 255
    for orientation, corner in (
        (6, (slice(0, 16), slice(-16, None))),
        (3, (slice(-16, None),) * 2),
    ):
        target = tmp_path / f"camera{orientation}.jpg"
        PILImage.fromarray(stored).save(target, exif=_exif_with_orientation(orientation))
        pixels = image.read(target).pixels
        assert pixels.shape == ((48, 32, 3) if orientation == 6 else (32, 48, 3))
        assert pixels[corner].mean() > 0.95  # 6: turned clockwise to top-right; 3: bottom-right
        assert pixels[:16, :16].mean() < 0.05


def test_orientation_applies_to_16bit_and_alpha(tmp_path: Path) -> None:
    rgba = np.zeros((2, 3, 4), dtype=np.uint16)
    rgba[0, 0] = (65535, 1, 2, 40000)  # top-left marker, stored as BGRA
    encoded = cv2.imencode(".png", rgba[..., [2, 1, 0, 3]])[1].tobytes()
    exif = _exif_with_orientation(6).removeprefix(b"Exif\x00\x00")  # eXIf holds bare TIFF data
    target = tmp_path / "turned16.png"
    target.write_bytes(_with_png_chunk(encoded, b"eXIf", exif))
    picture = image.read(target)
    assert picture.pixels.shape == (3, 2, 3)
    assert picture.alpha.shape == (3, 2)
    assert np.rint(picture.pixels[0, 1, 0] * 65535) == 65535  # top-left went top-right
    assert np.rint(picture.alpha[0, 1] * 65535) == 40000


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow's own, unnamed warning
def test_broken_exif_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    target = tmp_path / "odd_exif.jpg"
    PILImage.new("RGB", (8, 8), (90, 40, 20)).save(target, exif=b"Exif\x00\x00XX\x00*garbage!")
    with pytest.warns(UserWarning, match=r"odd_exif\.jpg.*EXIF"):
        picture = image.read(target)
    assert picture.pixels.shape == (8, 8, 3)
    target = tmp_path / "cut_exif.jpg"
    cut_ifd = (
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12"  # 5 entries promised, none there
    )
    PILImage.new("RGB", (8, 8), (90, 40, 20)).save(target, exif=cut_ifd)
    with pytest.warns(UserWarning, match=r"cut_exif\.jpg.*EXIF"):
        assert image.read(target).pixels.shape == (8, 8, 3)


# ------------------------------------------------------------------------------ ICC profiles


def test_srgb_profile_reads_unchanged(tmp_path: Path, rng: np.random.Generator) -> None:
    pixels = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    target = tmp_path / "tagged.png"
    PILImage.fromarray(pixels).save(target, icc_profile=srgb)
    np.testing.assert_array_equal(np.rint(image.read(target).pixels * 255), pixels)


def test_linear_profile_is_converted_to_srgb(tmp_path: Path) -> None:
    target = tmp_path / "linear.png"
    PILImage.new("RGB", (3, 3), (128, 128, 0)).save(target, icc_profile=_linear_icc(gray=False))
    pixels = image.read(target).pixels
    np.testing.assert_allclose(
        pixels[1, 1], [SRGB_ENCODED_HALF, SRGB_ENCODED_HALF, 0], atol=2 / 255
    )
    gray_target = tmp_path / "linear_gray.jpg"
    PILImage.new("L", (8, 8), 128).save(
        gray_target, icc_profile=_linear_icc(gray=True), quality=100
    )
    gray = image.read(gray_target).pixels
    assert gray.shape == (8, 8, 1)
    np.testing.assert_allclose(gray, SRGB_ENCODED_HALF, atol=2 / 255)


def test_linear_profile_on_16bit_files(tmp_path: Path) -> None:
    values = np.array([0, 1000, 8224, 32896, 50000, 65535], dtype=np.float64)
    expected = np.where(
        values / 65535 <= 0.0031308,
        12.92 * values / 65535,
        1.055 * (values / 65535) ** (1 / 2.4) - 0.055,
    )
    rgb = np.stack([np.tile(values, (2, 1))] * 3, axis=-1).astype(np.uint16)
    encoded = cv2.imencode(".png", rgb)[1].tobytes()
    target = tmp_path / "linear16.png"
    icc = b"linear\x00\x00" + zlib.compress(_linear_icc(gray=False))
    target.write_bytes(_with_png_chunk(encoded, b"iCCP", icc))
    picture = image.read(target)
    assert picture.bit_depth == 16
    np.testing.assert_allclose(picture.pixels[0, :, 0], expected, atol=1.5 / 255)
    gray = PILImage.fromarray(np.tile(values, (2, 1)).astype(np.uint16))
    gray_target = tmp_path / "linear16_gray.png"
    gray.save(gray_target, icc_profile=_linear_icc(gray=True))
    gray_picture = image.read(gray_target)
    assert gray_picture.bit_depth == 16
    np.testing.assert_allclose(gray_picture.pixels[0, :, 0], expected, atol=1.5 / 255)


def test_unusable_profiles_warn_and_leave_pixels_alone(tmp_path: Path) -> None:
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    for name, profile in (("wrong_space.png", lab), ("garbage.png", b"not an icc profile" * 8)):
        target = tmp_path / name
        PILImage.new("RGB", (2, 2), (10, 120, 240)).save(target, icc_profile=profile)
        with pytest.warns(UserWarning, match=f"{name}.*ICC"):
            picture = image.read(target)
        np.testing.assert_array_equal(np.rint(picture.pixels[0, 0] * 255), [10, 120, 240])


# ------------------------------------------------------------------------------ writing


def test_write_rounds_instead_of_truncating(tmp_path: Path) -> None:
    pixels = np.array([[[0.7 / 255], [254.6 / 255]]], dtype=np.float32)
    back = image.read(image.write(tmp_path / "round.png", pixels))
    np.testing.assert_array_equal(np.rint(back.pixels[0, :, 0] * 255), [1, 255])
    deep = image.read(image.write(tmp_path / "round16.png", pixels, bit_depth=16))
    np.testing.assert_array_equal(np.rint(deep.pixels[0, :, 0] * 65535), [180, 65432])


def test_write_keeps_gray_and_creates_folders(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "gray.tif"
    image.write(target, np.full((3, 3, 1), 0.5, dtype=np.float32))
    with PILImage.open(target) as stored:
        assert stored.mode == "L"
    assert image.read(target).pixels.shape == (3, 3, 1)


def test_jpeg_and_bmp_composite_alpha_over_white(tmp_path: Path) -> None:
    pixels = np.zeros((8, 8, 3), dtype=np.float32)
    alpha = np.zeros((8, 8), dtype=np.float32)
    alpha[:, :4] = 1.0
    for suffix in (".jpg", ".bmp"):
        with pytest.warns(UserWarning, match="composited over white"):
            target = image.write(tmp_path / f"flat{suffix}", pixels, alpha=alpha)
        back = image.read(target)
        assert back.alpha is None
        assert back.pixels[:, :3].max() < 0.05
        assert back.pixels[:, 5:].min() > 0.95


def test_sixteen_bits_fall_back_to_eight_where_the_format_needs(tmp_path: Path) -> None:
    deep = Image(np.full((4, 4, 3), 0.25, dtype=np.float32), bit_depth=16)
    for suffix in (".jpg", ".webp", ".bmp"):
        assert image.read(image.write(tmp_path / f"x{suffix}", deep)).bit_depth == 8
    assert image.read(image.write(tmp_path / "x.tiff", deep)).bit_depth == 16


def test_write_refuses_bad_requests(tmp_path: Path) -> None:
    pixels = np.zeros((2, 2, 3), dtype=np.float32)
    with pytest.raises(ImageError, match="unknown image suffix"):
        image.write(tmp_path / "out.gif", pixels)
    with pytest.raises(ImageError, match="NaN"):
        image.write(tmp_path / "out.png", np.full((2, 2, 3), np.nan, dtype=np.float32))
    with pytest.raises(ImageError, match="floats"):
        image.write(tmp_path / "out.png", np.zeros((2, 2, 3), dtype=np.uint8))
    with pytest.raises(ImageError, match="alpha must be floats"):
        image.write(tmp_path / "out.png", pixels, alpha=np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(ImageError, match="shape"):
        image.write(tmp_path / "out.png", np.zeros((2, 2, 2), dtype=np.float32))
    with pytest.raises(ImageError, match="bit depth"):
        image.write(tmp_path / "out.png", pixels, bit_depth=12)
    (tmp_path / "taken.png").mkdir()
    with pytest.raises(ImageError, match="directory"):
        image.write(tmp_path / "taken.png", pixels)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.png"]


def test_write_refuses_to_overwrite_inputs(tmp_path: Path) -> None:
    original = tmp_path / "album" / "grandma.png"
    image.write(original, np.full((4, 4, 3), 0.3, dtype=np.float32))
    before = original.read_bytes()
    picture = image.read(original)
    with pytest.raises(ImageError, match="refusing to overwrite"):
        image.write(original, picture)
    respelled = tmp_path / "album" / ".." / "album" / "grandma.png"
    with pytest.raises(ImageError, match="refusing to overwrite"):
        image.write(respelled, picture.pixels, protect=[original])
    link = tmp_path / "link.png"
    link.symlink_to(original)
    with pytest.raises(ImageError, match="refusing to overwrite"):
        image.write(link, picture.pixels, protect=[str(original)])
    assert original.read_bytes() == before
    image.write(tmp_path / "album" / "grandma_restored.png", picture)  # other names are fine


def test_failed_write_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "result.png"
    image.write(target, np.zeros((4, 4, 3), dtype=np.float32))
    before = target.read_bytes()

    def refuse(*_: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ImageError, match=r"cannot write.*Permission denied"):
        image.write(target, np.ones((4, 4, 3), dtype=np.float32))
    assert [p.name for p in tmp_path.iterdir()] == ["result.png"]
    assert target.read_bytes() == before


# ------------------------------------------------------------------------------ discovery


def test_find_images_expands_folders_and_keeps_given_files(tmp_path: Path) -> None:
    for name in (
        "b.JPG",
        "a.png",
        "c.tiff",
        "notes.txt",
        ".hidden.png",
        "sub/d.webp",
        ".git/e.png",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    flat = image.find_images([tmp_path])
    assert [p.name for p in flat] == ["a.png", "b.JPG", "c.tiff"]
    deep = image.find_images([str(tmp_path)], recursive=True)
    assert [p.relative_to(tmp_path).as_posix() for p in deep] == [
        "a.png",
        "b.JPG",
        "c.tiff",
        "sub/d.webp",
    ]
    given = image.find_images([tmp_path / "notes.txt", tmp_path / "a.png", tmp_path])
    assert [p.name for p in given] == ["notes.txt", "a.png", "b.JPG", "c.tiff"]
    assert image.find_images(tmp_path / "sub") == [tmp_path / "sub" / "d.webp"]
    with pytest.raises(ImageError, match="no such file"):
        image.find_images([tmp_path / "missing"])


# ------------------------------------------------------------------------------ array helpers


def test_tensor_round_trip_and_clipping() -> None:
    array = np.linspace(0, 1, 2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    tensor = image.to_tensor(array)
    assert tensor.shape == (1, 3, 2, 3)
    assert tensor.dtype == torch.float32
    assert tensor[0, 1, 1, 2].item() == pytest.approx(array[1, 2, 1])
    np.testing.assert_array_equal(image.from_tensor(tensor), array)
    clipped = image.from_tensor(torch.tensor([[[-0.5, 1.5]]]))
    assert clipped.shape == (1, 2, 1)
    np.testing.assert_array_equal(clipped[0, :, 0], [0.0, 1.0])
    with pytest.raises(ValueError, match="batch of one"):
        image.from_tensor(torch.zeros(2, 3, 4, 4))


def test_importing_image_does_not_import_torch() -> None:
    code = "import sys, daguerre.image; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_image_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="H×W×1 or H×W×3"):
        Image(np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="alpha shape"):
        Image(np.zeros((2, 2, 3), dtype=np.float32), alpha=np.zeros((3, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="bit_depth"):
        Image(np.zeros((2, 2, 3), dtype=np.float32), bit_depth=10)


def test_reading_and_writing_need_no_second_full_size_float_copy(tmp_path: Path) -> None:
    y, x = np.mgrid[0:1024, 0:1024].astype(np.float32) / 1024
    pixels = np.stack([x, y, (x + y) / 2], axis=-1)  # smooth: the PNG itself stays small
    floats = pixels.nbytes
    tracemalloc.start()
    try:
        target = image.write(tmp_path / "big.png", pixels)
        _, written = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        image.read(target)
        _, read = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written < floats  # 8-bit samples and a few rows of float scratch
    assert read - start < 1.5 * floats  # the float32 result and the decoded 8-bit samples
