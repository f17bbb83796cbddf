"""What every tab shares: errors shown in the page, progress, the results and their downloads."""

from __future__ import annotations

import functools
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import gradio as gr

from daguerre.image import ImageError
from daguerre.web.jobs import Report

P = ParamSpec("P")
R = TypeVar("R")
# the toolbar of every picture: Gradio's "share" button would post it to Hugging Face
PICTURE_BUTTONS = ["download", "fullscreen"]
# results are kept this long for the page to fetch, then removed when a later job starts
KEEP_RESULTS_S = 3600


def shown_errors(handler: Callable[P, R]) -> Callable[P, R]:
    """Run ``handler``; a bad upload, option or model becomes a message in the page."""

    @functools.wraps(handler)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        except (ImageError, ValueError) as error:
            raise gr.Error(str(error), print_exception=False) from error
        except Exception as error:
            # imported here: hub loads torch, which a photo's preview does not need
            from daguerre.hub import ModelError

            if isinstance(error, ModelError):
                raise gr.Error(str(error), print_exception=False) from error
            raise

    return run


def reporter(progress: gr.Progress) -> Report:
    """A job's progress callback that moves the page's progress bar."""
    return lambda fraction, what: progress(fraction, desc=what)


def results_folder(root: Path) -> Path:
    """``root``, emptied of the results older than :data:`KEEP_RESULTS_S`."""
    cutoff = time.time() - KEEP_RESULTS_S
    for old in root.iterdir():
        if old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    return root


def download_files(label: str, elem_id: str, many: bool = True) -> gr.File:
    """The component that offers a tab's full-resolution results for download."""
    return gr.File(
        label=label,
        file_count="multiple" if many else "single",
        interactive=False,
        elem_id=elem_id,
    )
