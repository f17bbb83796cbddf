"""The Restore tab: photos in, the stages of ``daguerre restore`` as switches, a brush for the
damage the detector misses, before/after, the damage mask and full-resolution downloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from daguerre.web.files import display, read_upload
from daguerre.web.handlers import (
    PICTURE_BUTTONS,
    download_files,
    reporter,
    results_folder,
    shown_errors,
)
from daguerre.web.jobs import FACES, MONOCHROME, RestoreSettings, restore_photos

BRUSH_COLOR = "#ff3030"


@shown_errors
def show_first(paths: list[str] | None) -> Any:
    """The first photo, shown in the brush editor (None clears it)."""
    return None if not paths else display(read_upload(paths[0]).pixels)


def build(workdir: Path) -> None:
    """Lay out the tab inside the current Blocks and wire its events."""
    with gr.Tab("Restore", id="restore"), gr.Row():
        with gr.Column():
            photos = gr.File(
                label="Old photos (one or many)",
                file_count="multiple",
                file_types=["image"],
                elem_id="restore-photos",
            )
            brush = gr.ImageEditor(
                label="Paint over damage the detector misses (first photo; optional)",
                type="numpy",
                sources=[],
                transforms=[],
                layers=False,
                brush=gr.Brush(colors=[BRUSH_COLOR], color_mode="fixed"),
                buttons=["fullscreen"],
                elem_id="restore-brush",
            )
            damage = gr.Checkbox(True, label="Find and fill scratches, dust, cracks, tears")
            enhance = gr.Checkbox(True, label="Clean noise, blur and fading")
            finish = gr.Checkbox(False, label="Finish: auto levels, white balance, sharpening")
            with gr.Accordion("More settings", open=False):
                monochrome = gr.Radio(
                    list(MONOCHROME),
                    value="auto",
                    label="Black and white (auto: gray and toned prints come back neutral)",
                )
                faces = gr.Radio(
                    list(FACES), value="auto", label="Restore faces (auto: when the model ships)"
                )
                face_strength = gr.Slider(0, 1, 1.0, step=0.05, label="Face strength")
                scale = gr.Radio([1, 2, 4], value=1, label="Enlarge")
                threshold = gr.Slider(0, 1, 0.9, step=0.01, label="Damage threshold")
                max_hole = gr.Slider(
                    0, 1, 0.01, step=0.01, label="Largest detected region filled (of the picture)"
                )
            # in the order of RestoreSettings' fields
            controls = [
                damage,
                enhance,
                finish,
                monochrome,
                threshold,
                max_hole,
                scale,
                faces,
                face_strength,
            ]
            run = gr.Button("Restore", variant="primary", elem_id="restore-run")
        with gr.Column():
            compare = gr.ImageSlider(label="Before / after", elem_id="restore-compare")
            with gr.Accordion("Damage mask", open=False):
                mask = gr.Image(
                    label="Damage mask",
                    interactive=False,
                    buttons=PICTURE_BUTTONS,
                    elem_id="restore-mask",
                )
            gallery = gr.Gallery(
                label="All results (click one to compare it)",
                visible=False,
                allow_preview=False,
                buttons=[*PICTURE_BUTTONS, "download_all"],
                elem_id="restore-gallery",
            )
            downloads = download_files("Full-resolution results", "restore-downloads")
            status = gr.Markdown(elem_id="restore-status")
            shown = gr.State([])  # each result's (before, after, mask), for the gallery

    def show(results: list[tuple[Any, ...]], event: gr.SelectData) -> tuple[Any, ...]:
        before, after, damage_mask = results[event.index]
        return (before, after), damage_mask

    @shown_errors
    def restore(
        paths: list[str] | None,
        editor: dict[str, Any] | None,
        damage: bool,
        enhance: bool,
        finish: bool,
        monochrome: str,
        mask_threshold: float,
        max_hole: float,
        scale: int,
        faces: str,
        face_strength: float,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio asks for progress)
    ) -> tuple[Any, ...]:
        if not paths:
            raise ValueError("upload one or more photos first")
        settings = RestoreSettings(
            damage,
            enhance,
            finish,
            monochrome,
            mask_threshold,
            max_hole,
            scale,
            faces,
            face_strength,
        )
        layers = (editor or {}).get("layers") or []
        results, errors = restore_photos(
            paths, settings, results_folder(workdir), layers, reporter(progress)
        )
        if not results:
            raise ValueError("; ".join(errors))
        first = results[0]
        notes = "\n".join(f"- could not restore {message}" for message in errors)
        return (
            (first.before, first.after),
            first.mask,
            gr.Gallery([(r.after, r.name) for r in results], visible=len(results) > 1),
            [str(path) for r in results for path in r.downloads],
            notes,
            [(r.before, r.after, r.mask) for r in results],
        )

    photos.upload(show_first, photos, brush)
    photos.clear(lambda: None, None, brush)
    gallery.select(show, shown, [compare, mask])
    run.click(
        restore,
        [photos, brush, *controls],
        [compare, mask, gallery, downloads, status, shown],
        concurrency_id="restore",
        concurrency_limit=1,
    )
