"""Write the Stylize tab's gallery: a thumbnail of each bundled style's painting.

Into ``src/daguerre/web/thumbnails/``: ``NAME.jpg`` per bundled style model (its painting, found
as ``daguerre eval style`` finds it), ``vintage.jpg`` (a sample photo in the vintage look) and
``styles.json`` (name and caption of each, in gallery order). Rerun after adding a style.

    python scripts/make_style_thumbnails.py [--side 192]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from daguerre import hub, image
from daguerre.aging import vintage
from daguerre.color import preview
from daguerre.style.evaluate import painting_path, style_models

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "src" / "daguerre" / "web" / "thumbnails"
VINTAGE_PHOTO = ROOT / "samples" / "clean" / "chelsea.jpg"


def caption(card: hub.ModelCard) -> str:
    """The painting's title as its card records it (``path: Painter, Title``), else the name."""
    recorded = str(card.training.get("data", {}).get("style", ""))
    return recorded.partition(": ")[2] or card.name.removeprefix("style-")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=192, help="long side of the thumbnails")
    args = parser.parse_args()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    entries = []
    cards = {card.name: card for card in hub.list_models()}
    for name in style_models():
        painting = image.read(painting_path(cards[name])).pixels
        image.write(OUTPUT / f"{name}.jpg", preview(painting, args.side), quality=85)
        entries.append({"style": name, "caption": caption(cards[name])})
    photo = preview(image.read(VINTAGE_PHOTO).pixels, args.side)
    image.write(OUTPUT / "vintage.jpg", vintage(photo, seed=0), quality=85)
    entries.append({"style": "vintage", "caption": "Vintage: faded tones and grain, no damage"})
    (OUTPUT / "styles.json").write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(entries)} thumbnails → {OUTPUT}")


if __name__ == "__main__":
    main()
