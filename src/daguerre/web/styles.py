"""The styles the Stylize tab offers, read from the thumbnails shipped with the page.

``scripts/make_style_thumbnails.py`` writes them from the bundled style models; reading them
here loads no model, so the page starts without torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

THUMBNAILS = Path(__file__).with_name("thumbnails")


@dataclass(frozen=True)
class Style:
    """A style as the gallery shows it: the name ``daguerre stylize --style`` takes, a caption
    and a thumbnail."""

    name: str
    caption: str
    thumbnail: Path


def bundled_styles(folder: Path = THUMBNAILS) -> list[Style]:
    """The gallery's styles in order (``styles.json`` in ``folder``)."""
    entries = json.loads((folder / "styles.json").read_text(encoding="utf-8"))
    return [
        Style(entry["style"], entry["caption"], folder / f"{entry['style']}.jpg")
        for entry in entries
    ]
