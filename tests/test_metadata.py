"""A scan's metadata (EXIF, resolution, ICC profile) reaches its results (issue 20)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from test_cli import assert_clean_exit, invoke
from test_image import _linear_icc
from typer.testing import CliRunner

from daguerre import image

ARTIST, DESCRIPTION, TAKEN = 0x013B, 0x010E, 0x9003


def _scan(path: Path, *, icc: bytes | None = None, orientation: int = 6, **save: object) -> Path:
    """A 20×30 photo with an artist, a description, a date taken, an orientation and a DPI."""
    exif = PILImage.Exif()
    exif[ARTIST], exif[DESCRIPTION], exif[0x0112] = (
        "A. Daguerre",
        "Boulevard du Temple",
        orientation,
    )
    exif[0x8769] = {TAKEN: "1838:05:01 08:00:00"}
    pixels = np.linspace(0, 255, 20 * 30 * 3).astype(np.uint8).reshape(20, 30, 3)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"exif": exif.tobytes(), "dpi": (300, 150), **save}
    if icc is not None:
        options["icc_profile"] = icc
    PILImage.fromarray(pixels).save(path, **options)
    return path


def _assert_record_kept(path: Path, dpi: tuple[float, float] = (150, 300)) -> None:
    with PILImage.open(path) as written:
        exif = written.getexif()
        assert exif.get(ARTIST) == "A. Daguerre" and exif.get(DESCRIPTION) == "Boulevard du Temple"
        if written.format != "TIFF":  # libtiff writes the first block (IFD0) only
            assert exif.get_ifd(0x8769).get(TAKEN) == "1838:05:01 08:00:00"
        assert exif.get(0x0112, 1) == 1  # the pixels were turned upright
        if written.format != "WEBP":
            assert written.info["dpi"] == pytest.approx(dpi, abs=0.05)  # turned a quarter too


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".webp"])
def test_exif_and_dpi_reach_every_format(tmp_path: Path, suffix: str) -> None:
    picture = image.read(_scan(tmp_path / "scan.jpg"))
    assert picture.pixels.shape[:2] == (30, 20)
    _assert_record_kept(image.write(tmp_path / f"out{suffix}", picture))


def test_sixteen_bit_png_keeps_exif_dpi_and_profile(tmp_path: Path) -> None:
    picture = image.read(_scan(tmp_path / "scan.jpg", icc=_linear_icc(gray=False)))
    written = image.write(tmp_path / "deep.png", picture, bit_depth=16)
    _assert_record_kept(written)
    again = image.read(written)
    assert again.bit_depth == 16 and again.metadata.icc == _linear_icc(gray=False)
    # two trips through tables sampled on 8-bit nodes: up to 2 levels in the deep shadows
    np.testing.assert_allclose(again.pixels, picture.pixels, atol=2.5 / 255)


@pytest.mark.parametrize("gray", [False, True])
def test_a_profile_other_than_srgb_is_kept_with_the_pixels_converted_into_it(
    tmp_path: Path, gray: bool
) -> None:
    """read() gives sRGB; write() puts the pixels back into the scan's own profile."""
    source = tmp_path / "linear.png"
    mode, value = ("L", 128) if gray else ("RGB", (128, 64, 200))
    PILImage.new(mode, (6, 6), value).save(source, icc_profile=_linear_icc(gray=gray))
    picture = image.read(source)
    written = image.write(tmp_path / "out.png", picture)
    with PILImage.open(written) as raw:
        assert raw.info["icc_profile"] == _linear_icc(gray=gray)
        stored = np.asarray(raw)
    np.testing.assert_allclose(stored, np.asarray(PILImage.open(source)), atol=2)
    np.testing.assert_allclose(image.read(written).pixels, picture.pixels, atol=2 / 255)


def test_sixteen_bit_tiff_keeps_the_record_dpi_and_profile(tmp_path: Path) -> None:
    picture = image.read(_scan(tmp_path / "scan.jpg", icc=_linear_icc(gray=False)))
    written = image.write(tmp_path / "deep.tif", picture, bit_depth=16)
    _assert_record_kept(written)
    again = image.read(written)
    assert again.bit_depth == 16 and again.metadata.icc == _linear_icc(gray=False)
    np.testing.assert_allclose(again.pixels, picture.pixels, atol=2.5 / 255)
    plain = image.read(image.write(tmp_path / "plain.tif", picture.pixels, bit_depth=16))
    assert plain.metadata is None  # no metadata: written by OpenCV as before


def test_a_bmp_keeps_srgb_pixels_as_it_cannot_hold_a_profile(tmp_path: Path) -> None:
    source = tmp_path / "linear.png"
    PILImage.new("RGB", (6, 6), (128, 64, 200)).save(source, icc_profile=_linear_icc(gray=False))
    picture = image.read(source)
    written = image.read(image.write(tmp_path / "out.bmp", picture))
    np.testing.assert_allclose(written.pixels, picture.pixels, atol=0.5 / 255 + 1e-6)


def test_an_upscaled_result_keeps_the_print_size(tmp_path: Path) -> None:
    picture = image.read(_scan(tmp_path / "scan.jpg", orientation=1))
    assert picture.metadata.scaled(4).dpi == (1200, 600)


def test_cli_keeps_metadata_unless_told_to_strip_it(tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "1000"})
    scan = _scan(tmp_path / "in" / "scan.jpg")
    assert_clean_exit(invoke(runner, "age", scan, "-o", tmp_path / "kept"), 0)
    _assert_record_kept(tmp_path / "kept" / "scan.jpg")
    result = invoke(runner, "age", scan, "-o", tmp_path / "bare", "--strip-metadata")
    assert_clean_exit(result, 0)
    with PILImage.open(tmp_path / "bare" / "scan.jpg") as bare:
        assert not bare.getexif() and "dpi" not in bare.info


def test_cli_quality_and_the_jpeg_and_webp_extensions(tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "1000"})
    scan = _scan(tmp_path / "in" / "scan.png", orientation=1)
    sizes = {}
    for quality in (30, 95):
        out = tmp_path / f"q{quality}"
        result = invoke(runner, "age", scan, "-o", out, "--ext", "jpeg", "--quality", quality)
        assert_clean_exit(result, 0)
        sizes[quality] = (out / "scan.jpeg").stat().st_size
    assert sizes[30] < sizes[95]
    assert_clean_exit(invoke(runner, "age", scan, "-o", tmp_path / "w", "--ext", "webp"), 0)
    assert image.read(tmp_path / "w" / "scan.webp").format == "WEBP"


def test_a_multi_page_tiff_warns_that_only_the_first_page_is_read(tmp_path: Path) -> None:
    pages = [PILImage.new("RGB", (8, 8), (value, 0, 0)) for value in (10, 200)]
    pages[0].save(tmp_path / "two.tif", save_all=True, append_images=pages[1:])
    with pytest.warns(UserWarning, match="2 pages; only the first"):
        picture = image.read(tmp_path / "two.tif")
    assert round(picture.pixels[0, 0, 0] * 255) == 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image.read(_scan(tmp_path / "one.tif", orientation=1))


def test_a_png_with_a_zero_size_header_is_called_empty(tmp_path: Path) -> None:
    good = image.write(tmp_path / "good.png", np.zeros((2, 2, 1), np.float32)).read_bytes()
    empty = tmp_path / "empty.png"
    empty.write_bytes(good[:16] + bytes(8) + good[24:])  # width 0, height 0
    with pytest.raises(image.ImageError, match="0×0 pixels"):
        image.read(empty)
