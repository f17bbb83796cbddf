"""The Stylize tab: a gallery of the bundled styles, or a painting of one's own for colour
transfer or optimisation, with the strength and preserve-colours controls of ``daguerre
stylize``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from daguerre.web.files import read_upload
from daguerre.web.handlers import download_files, reporter, results_folder, shown_errors
from daguerre.web.jobs import stylize_photo
from daguerre.web.styles import bundled_styles

PAINTING_METHODS = [
    ("any painting, fast (seconds)", "fast"),
    ("colour transfer (seconds)", "color"),
    ("optimize (minutes)", "optimize"),
]


def build(workdir: Path) -> None:
    """Lay out the tab inside the current Blocks and wire its events."""
    styles = bundled_styles()
    with gr.Tab("Stylize", id="stylize"), gr.Row():
        with gr.Column():
            photo = gr.File(label="Photo", file_types=["image"], elem_id="style-photo")
            gallery = gr.Gallery(
                [(str(style.thumbnail), style.caption) for style in styles],
                label="Bundled styles (click one)",
                columns=5,
                height="auto",
                allow_preview=False,
                buttons=[],
                elem_id="style-gallery",
            )
            style = gr.Dropdown(
                [(style.caption, style.name) for style in styles],
                value=styles[0].name,
                label="Style",
                elem_id="style-name",
            )
            with gr.Accordion("Or a painting of your own", open=False):
                painting = gr.File(
                    label="Painting (used instead of the style above)",
                    file_types=["image"],
                    elem_id="style-painting",
                )
                method = gr.Radio(PAINTING_METHODS, value="fast", label="Method")
            strength = gr.Slider(0, 1, 1.0, step=0.05, label="Strength")
            preserve = gr.Checkbox(False, label="Keep the photo's colours (restyle lightness)")
            faces = gr.Slider(
                0, 1, 0.5, step=0.05, label="Style on faces, relative to the rest (1: as the rest)"
            )
            size = gr.Slider(
                0, 2048, 0, step=64, label="Long side in pixels (0: the photo's own; sets strokes)"
            )
            run = gr.Button("Stylize", variant="primary", elem_id="style-run")
        with gr.Column():
            compare = gr.ImageSlider(label="Before / after", elem_id="style-compare")
            downloads = download_files("Result", "style-downloads", many=False)

    def pick(event: gr.SelectData) -> str:
        return styles[event.index].name

    @shown_errors
    def stylize(
        path: str | None,
        name: str,
        painting_path: str | None,
        painting_method: str,
        strength: float,
        preserve_colors: bool,
        face_strength: float,
        long_side: int,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio asks for progress)
    ) -> tuple[Any, ...]:
        if not path:
            raise ValueError("upload a photo first")
        painting = None if not painting_path else read_upload(painting_path).pixels
        result = stylize_photo(
            path,
            name if painting is None else painting,
            results_folder(workdir),
            method=None if painting is None else painting_method,
            strength=strength,
            preserve_colors=preserve_colors,
            face_strength=face_strength if face_strength < 1 else None,
            size=int(long_side) or None,
            report=reporter(progress),
        )
        return (result.before, result.after), str(result.downloads[0])

    gallery.select(pick, None, style)
    run.click(
        stylize,
        [photo, style, painting, method, strength, preserve, faces, size],
        [compare, downloads],
        concurrency_id="style",
        concurrency_limit=1,
    )
