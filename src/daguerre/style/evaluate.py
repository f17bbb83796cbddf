"""Measure the fast styles on photos: how near each output is to its painting, how much it keeps.

For every style model and photo three pictures are scored against the painting the model was
trained on: the photo itself (where every method starts from), a colour transfer of the photo to
the painting (:func:`daguerre.style.color.sliced_ot_transfer`, the training-free baseline) and the
model's output. The scores:

* ``style`` and ``texture``: the Gram distances of :class:`~daguerre.style.objective.StyleObjective`
  between the picture, and its detail layer, and the painting (lower is closer to the painting),
  in the features of a random network that no training recipe uses (:data:`FEATURE_SEED`), so
  that a model is not scored by the very features it was trained against;
* ``edge_ssim``: SSIM between the luminance edge maps of the picture and of the photo (higher
  keeps more of the photo's drawing; 1 for the photo itself).

The fast model is also timed, in seconds per megapixel of output.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from daguerre import hub, metrics
from daguerre.color import to_gray, to_rgb
from daguerre.image import read, to_tensor
from daguerre.style.objective import StyleObjective
from daguerre.style.pipeline import Stylizer, fit_long_side

METHODS = ("photo", "colour transfer", "fast model")
METRICS = ("style", "texture", "edge_ssim")
SIZE = 512  # long side of the photos, in pixels
STYLE_SIZE = 768  # painting's long side when the card does not record it (the recipe's default)
EDGE_SIGMA = 1.0  # pixels; smoothing before the edge filter, so that grain is not structure
WARM_UP = 64  # side of the crop run once before timing a model
FEATURE_SEED = 1  # held out: the style recipes draw their feature networks from seed 0
# The paintings folder of the project's data, beside the checkout.
DEFAULT_STYLES = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "styles"

Scores = dict[str, float]
Progress = Callable[[int, int], None]


def style_models(directory: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the models in ``directory`` (default: the bundled ones) whose task is style."""
    cards = hub.list_models(hub.WEIGHTS_DIR if directory is None else directory)
    return [card.name for card in cards if card.task == "style"]


def _training_data(card: hub.ModelCard) -> Mapping[str, object]:
    """The ``data`` section of the config a model was trained with (empty if not recorded)."""
    config = card.training.get("config")
    data = config.get("data") if isinstance(config, Mapping) else None
    return data if isinstance(data, Mapping) else {}


def painting_path(card: hub.ModelCard, styles: str | os.PathLike[str] = DEFAULT_STYLES) -> Path:
    """The painting a style model was trained on, found on this machine.

    Tried in order: the path recorded in the card (``data.style`` of its training config),
    a file of that name in ``styles``, and ``styles/NAME.jpg`` where ``NAME`` is the model's
    name without ``style-`` and with ``_`` for ``-`` (``style-starry-night`` →
    ``starry_night.jpg``). Raises ``FileNotFoundError`` naming every path tried.
    """
    styles = Path(styles)
    candidates = []
    recorded = _training_data(card).get("style")
    if isinstance(recorded, str) and recorded:
        candidates += [Path(recorded), styles / Path(recorded).name]
    candidates.append(styles / f"{card.name.removeprefix('style-').replace('-', '_')}.jpg")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(path) for path in dict.fromkeys(candidates))
    raise FileNotFoundError(f"{card.name}: painting not found (tried {tried})")


def style_size(card: hub.ModelCard) -> int:
    """The long side a style model's painting was trained at (``data.style_size`` of its card,
    else :data:`STYLE_SIZE`): the size its painting is scored at."""
    side = _training_data(card).get("style_size", STYLE_SIZE)
    return side if isinstance(side, int) else STYLE_SIZE


def read_painting(path: str | os.PathLike[str], max_side: int) -> np.ndarray:
    """The painting as RGB, shrunk to ``max_side`` on its long side (never enlarged)."""
    pixels = to_rgb(read(path).pixels)
    return fit_long_side(pixels, min(max_side, max(pixels.shape[:2])))


def edge_map(image: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of the lightly smoothed luminance, H×W×1."""
    luma = cv2.GaussianBlur(to_gray(image)[..., 0], (0, 0), EDGE_SIGMA)
    dx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3)
    dy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3)
    return np.hypot(dx, dy)[..., None]


def edge_ssim(picture: np.ndarray, photo: np.ndarray) -> float:
    """SSIM between the edge maps of ``picture`` and ``photo`` (same size, at least 11 px).

    The data range is the larger peak of the two maps, so the score does not depend on how
    contrasted the photo is. Flat areas agree whatever is done to them, so pictures that share
    nothing still score above 0 (about 0.05 to 0.4 on the project's photos, depending on how
    much of a photo is flat): compare methods on the same photos rather than across photos.
    """
    a, b = edge_map(picture), edge_map(photo)
    peak = float(max(a.max(), b.max()))
    return metrics.ssim(a, b, data_range=peak or 1.0)


@dataclass
class StyleEvaluation:
    """Per-photo scores of each method for each model, and the models' speed."""

    photos: list[str] = field(default_factory=list)
    paintings: dict[str, Path] = field(default_factory=dict)
    scores: dict[str, dict[str, list[Scores]]] = field(default_factory=dict)
    seconds_per_megapixel: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, Scores]]:
        """Mean of each metric, by model and then by method (in the order of :data:`METHODS`)."""
        return {
            model: {
                method: {name: float(np.mean([s[name] for s in rows])) for name in METRICS}
                for method, rows in methods.items()
            }
            for model, methods in self.scores.items()
        }


def painting_objective(painting: np.ndarray, device: torch.device | str = "cpu") -> StyleObjective:
    """The objective that scores pictures against ``painting`` (H×W×3 float in [0, 1])."""
    return StyleObjective(to_tensor(painting).to(device), kind="gram", seed=FEATURE_SEED)


def score(
    objective: StyleObjective,
    picture: np.ndarray,
    photo: np.ndarray,
    device: torch.device | str = "cpu",
) -> Scores:
    """The :data:`METRICS` of ``picture`` made from ``photo`` (both H×W×3, same size)."""
    with torch.no_grad():
        terms = objective.terms(to_tensor(picture).to(device), to_tensor(photo).to(device))
    return {
        "style": float(terms["style"]),
        "texture": float(terms["texture"]),
        "edge_ssim": edge_ssim(picture, photo),
    }


def _card(stylizer: Stylizer) -> hub.ModelCard:
    """The card of the model a style model's stylizer runs (a fast style or a learnt one)."""
    model = stylizer.generator or stylizer.network
    if model is None:
        raise ValueError("not a style model")
    return model.card


def evaluate(
    files: Sequence[Path],
    models: Sequence[str] | None = None,
    *,
    paintings: Mapping[str, str | os.PathLike[str]] | None = None,
    styles: str | os.PathLike[str] = DEFAULT_STYLES,
    size: int = SIZE,
    device: torch.device | str = "cpu",
    directory: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> StyleEvaluation:
    """Score the photo, its colour transfer and each model's output against the model's painting.

    ``models`` are names in ``directory`` (default: every bundled style model). Each model's
    painting is ``paintings[name]`` or else found by :func:`painting_path` in ``styles``, and is
    shrunk to the size it was trained at (``data.style_size`` in its card). Photos are resized
    to ``size`` on their long side. Every model is loaded and every painting found before any
    work starts.
    ``progress(done, total)`` counts photos over all models.

    Raises ``ValueError`` without photos or models, ``FileNotFoundError`` for a missing painting,
    ``hub.ModelError`` for a missing or corrupt model and ``ImageError`` for an unreadable image.
    """
    directory = hub.WEIGHTS_DIR if directory is None else directory
    names = list(models) if models is not None else style_models(directory)
    if not files:
        raise ValueError("no photos to evaluate")
    if not names:
        raise ValueError(f"no style model in {directory}: train one with configs/style.yaml")
    device = torch.device(device)
    stylizers = {name: Stylizer(name, device=device, directory=directory) for name in names}
    cards = {name: _card(stylizer) for name, stylizer in stylizers.items()}
    chosen = dict(paintings or {})
    sources = {
        name: Path(chosen[name]) if name in chosen else painting_path(card, styles)
        for name, card in cards.items()
    }
    photos = [to_rgb(fit_long_side(read(path).pixels, size)) for path in files]
    result = StyleEvaluation(photos=[path.name for path in files], paintings=sources)
    total, done = len(cards) * len(photos), 0
    for name, card in cards.items():
        painting = read_painting(sources[name], style_size(card))
        objective = painting_objective(painting, device)
        fast = stylizers[name]
        color = Stylizer(painting, method="color")
        fast(photos[0][:WARM_UP, :WARM_UP])  # first-call set-up is not the model's speed
        seconds = megapixels = 0.0
        rows: dict[str, list[Scores]] = {method: [] for method in METHODS}
        for photo in photos:
            start = time.perf_counter()
            output = fast(photo)
            seconds += time.perf_counter() - start
            megapixels += photo.shape[0] * photo.shape[1] / 1e6
            pictures = dict(zip(METHODS, (photo, color(photo), output), strict=True))
            for method, picture in pictures.items():
                rows[method].append(score(objective, picture, photo, device))
            done += 1
            if progress is not None:
                progress(done, total)
        result.scores[name] = rows
        result.seconds_per_megapixel[name] = seconds / megapixels
    return result
