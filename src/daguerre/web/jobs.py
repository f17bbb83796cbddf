"""The work behind each tab, free of Gradio: read the uploads, call the public API, write
the downloads, and hand back what the page shows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from daguerre.web.files import UploadError, display, read_upload, save_like, save_mask

# fraction of the job done (0 to 1) and what is being done
Report = Callable[[float, str], None]
MONOCHROME = {"auto": None, "yes": True, "no": False}
FACES = ("auto", "on", "off")


@dataclass
class Result:
    """One photo's outcome: pictures to show (8-bit, small) and the full-resolution file."""

    name: str
    before: np.ndarray
    after: np.ndarray
    downloads: list[Path]
    mask: np.ndarray | None = None


@dataclass(frozen=True)
class RestoreSettings:
    """The Restore tab's controls, named as the ``daguerre restore`` options they mirror."""

    damage: bool = True
    enhance: bool = True
    finish: bool = False
    monochrome: str = "auto"
    mask_threshold: float = 0.9
    max_hole: float = 0.01
    scale: int = 1
    faces: str = "auto"
    face_strength: float = 1.0

    def options(self, mask: np.ndarray | None = None) -> dict[str, object]:
        """Keyword options of :class:`daguerre.RestorePipeline` (checked there)."""
        from daguerre.faces.stage import model_available

        if self.monochrome not in MONOCHROME or self.faces not in FACES:
            raise ValueError(f"unknown choice in {self}")
        return {
            "detect_damage": self.damage or mask is not None,
            "inpaint": self.damage or mask is not None,
            "enhance": self.enhance,
            "finish": self.finish,
            "mask": mask,
            "monochrome": MONOCHROME[self.monochrome],
            "mask_threshold": self.mask_threshold,
            "max_hole": self.max_hole,
            "scale": int(self.scale),
            "faces": self.faces == "on" or (self.faces == "auto" and model_available()),
            "face_strength": self.face_strength,
        }


def brush_mask(layers: Sequence[np.ndarray], shape: tuple[int, ...]) -> np.ndarray | None:
    """The strokes of an editor's layers (H×W×4, drawn on a preview) as a mask of ``shape``'s
    height and width (1 = damaged), or None when nothing was drawn."""
    drawn = [layer[..., 3] for layer in layers if layer.ndim == 3 and layer.shape[2] == 4]
    if not drawn or not any(alpha.any() for alpha in drawn):
        return None
    strokes = np.maximum.reduce(drawn).astype(np.float32) / 255.0
    return cv2.resize(strokes, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def restore_photos(
    paths: Sequence[str | Path],
    settings: RestoreSettings,
    folder: Path,
    layers: Sequence[np.ndarray] = (),
    report: Report | None = None,
) -> tuple[list[Result], list[str]]:
    """Restore each photo; the brush strokes in ``layers`` mark damage on the first one.

    Returns the results and one message per photo that could not be restored. A missing
    model or a bad option raises, since no photo would fare better.
    """
    from daguerre import RestorePipeline

    pipeline = RestorePipeline(**settings.options())
    results, errors = [], []
    for index, path in enumerate(paths):
        name = Path(path).name

        def progress(
            stage: str, done: int, total: int, index: int = index, name: str = name
        ) -> None:
            if report is not None:
                report((index + done / max(total, 1)) / len(paths), f"{name}: {stage}")

        try:
            picture = read_upload(path)
        except UploadError as error:
            errors.append(str(error))
            continue
        mask = brush_mask(layers, picture.pixels.shape) if index == 0 else None
        run = pipeline if mask is None else RestorePipeline(**settings.options(mask))
        before = display(picture.pixels)
        restored = run(picture.pixels, progress, overwrite=True)  # the pixels are not needed again
        after = display(restored.image, before.shape[:2])
        download = save_like(picture, restored.image, folder, "restored")
        mask_shown = None if restored.mask is None else display(restored.mask)
        results.append(Result(name, before, after, [download], mask_shown))
    return results, errors


def stylize_photo(
    path: str | Path,
    style: str | np.ndarray,
    folder: Path,
    *,
    report: Report | None = None,
    **options: Any,
) -> Result:
    """Restyle one photo after a bundled style, ``"vintage"`` or a painting (an array);
    ``options`` (method, strength, preserve_colors, face_strength, size...) are those of
    :class:`~daguerre.style.Stylizer`."""
    from daguerre.style import Stylizer

    picture = read_upload(path)
    stylizer = Stylizer(style, **options)

    def progress(done: int, total: int) -> None:
        if report is not None:
            report(done / max(total, 1), "styling")

    styled = stylizer(picture.pixels, progress)
    before = display(picture.pixels)
    name = Path(path).name
    after = display(styled, before.shape[:2])
    return Result(name, before, after, [save_like(picture, styled, folder, "styled")])


def age_photo(path: str | Path, preset: str, seed: int, folder: Path) -> Result:
    """Age one photo with an aging preset; the damage drawn comes back as a mask too."""
    from daguerre import age

    picture = read_upload(path)
    aged = age(picture.pixels, preset=preset, seed=int(seed))
    result = save_like(picture, aged.aged, folder, "aged")
    before, after = display(picture.pixels), display(aged.aged)
    mask = display(aged.mask)
    return Result(Path(path).name, before, after, [result, save_mask(aged.mask, result)], mask)
