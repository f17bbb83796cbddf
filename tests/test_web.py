"""The web page's work without a browser: uploads, downloads, masks and the three jobs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gradio", reason="the web extra is not installed")

from daguerre import image
from daguerre.web import files, jobs
from daguerre.web.styles import bundled_styles

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def photo(tmp_path: Path, name: str = "photo.png", bit_depth: int = 16) -> Path:
    """A small old sample photo saved as ``name`` (a 16-bit PNG by default)."""
    pixels = image.read(SAMPLES / "old" / "chelsea.jpg").pixels[::3, ::3]
    return image.write(tmp_path / name, pixels, bit_depth=bit_depth)


def test_bad_uploads_are_refused_with_their_name(tmp_path: Path) -> None:
    text = tmp_path / "letter.jpg"
    text.write_text("not a photo")
    truncated = tmp_path / "torn.jpg"
    truncated.write_bytes((SAMPLES / "old" / "chelsea.jpg").read_bytes()[:15000])
    with pytest.raises(files.UploadError, match=r"^letter\.jpg: not a JPEG"):
        files.read_upload(text)
    with pytest.raises(files.UploadError, match=r"^torn\.jpg: truncated"):
        files.read_upload(truncated)


def test_uploads_above_the_pixel_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_PIXELS", 1000)
    with pytest.raises(files.UploadError, match="too large"):
        files.read_upload(photo(tmp_path))


def test_results_keep_the_uploads_format_bit_depth_and_size(tmp_path: Path) -> None:
    picture = files.read_upload(photo(tmp_path, "scan.png"))
    written = files.save_like(picture, picture.pixels * 0.5, tmp_path / "out", "restored")
    again = image.read(written)
    assert written.name == "scan_restored.png"
    assert (again.format, again.bit_depth) == ("PNG", 16)
    assert again.pixels.shape == picture.pixels.shape


def test_brush_strokes_become_a_full_size_mask() -> None:
    layer = np.zeros((10, 20, 4), np.uint8)
    assert jobs.brush_mask([layer], (40, 80, 3)) is None
    layer[2:5, 4:8, 3] = 255
    mask = jobs.brush_mask([layer], (40, 80, 3))
    assert mask.shape == (40, 80)
    assert mask[14, 24] == 1.0 and mask[35, 70] == 0.0


def test_restore_photos_goes_on_past_a_bad_file_and_uses_the_brush(tmp_path: Path) -> None:
    good = photo(tmp_path)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    layer = np.zeros((100, 150, 4), np.uint8)
    layer[40:60, 60:90, 3] = 255
    settings = jobs.RestoreSettings(enhance=False, faces="off")
    results, errors = jobs.restore_photos([good, bad], settings, tmp_path / "out", [layer])
    assert len(results) == 1 and len(errors) == 1 and errors[0].startswith("bad.png: ")
    (result,) = results
    restored = image.read(result.downloads[0])
    original = image.read(good)
    assert restored.pixels.shape == original.pixels.shape and restored.bit_depth == 16
    assert not np.allclose(restored.pixels, original.pixels, atol=1 / 255)
    assert result.mask is not None and result.mask[50, 75].max() > 127  # the stroke was filled
    assert result.before.dtype == np.uint8 and result.before.shape == result.after.shape


def test_stylize_and_age_write_what_they_show(tmp_path: Path) -> None:
    source = photo(tmp_path, "photo.jpg", bit_depth=8)
    painting = image.read(bundled_styles()[0].thumbnail).pixels
    styled = jobs.stylize_photo(source, painting, tmp_path / "out", method="color")
    assert styled.downloads[0].suffix == ".jpg"
    assert image.read(styled.downloads[0]).pixels.shape == image.read(source).pixels.shape
    aged = jobs.age_photo(source, "heavy", 3, tmp_path / "out")
    assert [path.name for path in aged.downloads] == ["photo_aged.jpg", "photo_aged_mask.png"]
    assert aged.mask is not None and aged.mask.any()


def test_every_bundled_style_has_a_thumbnail() -> None:
    from daguerre.style.evaluate import style_models

    styles = bundled_styles()
    assert [s.name for s in styles if s.name != "vintage"] == style_models()
    assert all(style.thumbnail.is_file() and style.caption for style in styles)


def test_the_page_is_built_and_previews_without_loading_torch(tmp_path: Path) -> None:
    # the models load on first use, so that the page starts in seconds
    code = (
        "import sys; from pathlib import Path; import daguerre.web as web; "
        "from daguerre.web.restore_tab import show_first; "
        f"web.build_app(Path({str(tmp_path)!r})); show_first([{str(photo(tmp_path))!r}]); "
        "print('torch' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"


def test_errors_the_user_can_act_on_become_messages() -> None:
    import gradio as gr

    from daguerre.hub import ModelError
    from daguerre.web.handlers import shown_errors

    @shown_errors
    def fail(error: Exception) -> None:
        raise error

    with pytest.raises(gr.Error, match=r"upscale-x4\.safetensors: no such model"):
        fail(ModelError("upscale-x4.safetensors", "no such model"))
    with pytest.raises(gr.Error, match="scale must be 1, 2 or 4"):
        fail(ValueError("scale must be 1, 2 or 4, got 3"))
    with pytest.raises(ZeroDivisionError):  # a bug stays a bug, with its traceback
        fail(ZeroDivisionError())


def test_each_model_runs_one_job_at_a_time(tmp_path: Path) -> None:
    from daguerre.web import build_app

    app = build_app(tmp_path)
    limits = {fn.concurrency_id: fn.concurrency_limit for fn in app.fns.values()}
    assert [limits[model] for model in ("restore", "style", "age")] == [1, 1, 1]
