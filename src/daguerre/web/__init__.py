"""``daguerre web``: a local Gradio page over the public API (needs the ``web`` extra).

``app`` builds and serves the page; one module per tab lays it out (``restore_tab``,
``style_tab``, ``age_tab``); ``jobs`` does their work without Gradio, through ``files`` (uploads
read safely, results written like their input) and ``styles`` (the gallery's thumbnails).
"""

import os

# set before any module of the page imports Gradio: the page never calls home
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from daguerre.web.app import build_app, serve

__all__ = ["build_app", "serve"]
