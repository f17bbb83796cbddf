"""The page: three tabs in one Gradio app, and the server that shows it on this computer."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import gradio as gr

from daguerre.web import age_tab, restore_tab, style_tab

INTRO = (
    "# daguerre\n"
    "Restore old photos, restyle them after a painting, or make new ones look old. "
    "Everything runs on this computer; nothing is sent anywhere."
)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Gradio's own cache of uploads and results: checked every 10 minutes, cleared after an hour
DELETE_CACHE = (600, 3600)


def build_app(workdir: Path) -> gr.Blocks:
    """The page, writing its results under ``workdir``; each model runs one job at a time."""
    with gr.Blocks(title="daguerre", analytics_enabled=False, delete_cache=DELETE_CACHE) as app:
        gr.Markdown(INTRO)
        with gr.Tabs():
            restore_tab.build(workdir)
            style_tab.build(workdir)
            age_tab.build(workdir)
    app.queue(default_concurrency_limit=1)
    return app


def serve(host: str = "127.0.0.1", port: int = 7860, max_upload_mb: int = 200) -> None:
    """Serve the page until interrupted; results live in a folder removed at the end."""
    if host not in LOOPBACK:
        print(
            f"warning: serving on {host}: anyone who reaches this machine can use the page",
            file=sys.stderr,
        )
    with tempfile.TemporaryDirectory(prefix="daguerre-web-") as workdir:
        build_app(Path(workdir)).launch(
            server_name=host,
            server_port=port,
            max_file_size=f"{max_upload_mb}mb",
            ssr_mode=False,
        )
