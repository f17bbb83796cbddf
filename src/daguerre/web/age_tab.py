"""The Age tab: a clean photo made old by an aging preset and seed, with the damage mask."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from daguerre.aging import PRESETS
from daguerre.web.handlers import PICTURE_BUTTONS, download_files, results_folder, shown_errors
from daguerre.web.jobs import age_photo


def build(workdir: Path) -> None:
    """Lay out the tab inside the current Blocks and wire its events."""
    with gr.Tab("Age", id="age"), gr.Row():
        with gr.Column():
            photo = gr.File(label="Clean photo", file_types=["image"], elem_id="age-photo")
            preset = gr.Dropdown(list(PRESETS), value="moderate", label="Aging preset")
            seed = gr.Number(0, precision=0, label="Seed (the same seed gives the same result)")
            run = gr.Button("Age", variant="primary", elem_id="age-run")
        with gr.Column():
            compare = gr.ImageSlider(label="Before / after", elem_id="age-compare")
            mask = gr.Image(
                label="Damage drawn", interactive=False, buttons=PICTURE_BUTTONS, elem_id="age-mask"
            )
            downloads = download_files("Aged photo and its mask", "age-downloads")

    @shown_errors
    def age(path: str | None, preset_name: str, seed_value: float) -> tuple[Any, ...]:
        if not path:
            raise ValueError("upload a photo first")
        result = age_photo(path, preset_name, int(seed_value), results_folder(workdir))
        return (result.before, result.after), result.mask, [str(p) for p in result.downloads]

    run.click(
        age,
        [photo, preset, seed],
        [compare, mask, downloads],
        concurrency_id="age",
        concurrency_limit=1,
    )
