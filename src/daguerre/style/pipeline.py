"""One entry point for every way of styling a picture: :func:`stylize` and :class:`Stylizer`.

``style`` names what the picture should look like:

* ``"vintage"``: the aging engine's tone and grain without damage (:func:`daguerre.aging.vintage`);
* a bundled model name or a ``.safetensors`` path: a trained stylizer or translator, run by the
  ``"fast"`` method (:mod:`daguerre.style.fast`), or a painting learnt by ``daguerre style
  learn`` (:mod:`daguerre.style.learn`), run by the arbitrary-style machinery;
* a painting (an image file or an H×W×C array): by default the ``"fast"`` method, the bundled
  arbitrary-style network (:mod:`daguerre.style.arbitrary`, seconds, any painting), or
  ``"optimize"`` (:mod:`daguerre.style.optimize`, minutes), or ``"color"``, its palette and
  tones alone (:func:`daguerre.style.color.sliced_ot_transfer`).

``mix_with`` names a second style and ``mix`` its share: two paintings styled by the fast method
mix inside the arbitrary network (their codes are averaged: one style between the two); any
other pair mixes the two styled pictures in Lab.

Every method works on RGB, so a gray photo takes on the style's colours; ``preserve_colors``
keeps the photo's own (a gray photo stays gray). ``strength`` mixes the photo and the styled
picture in Lab (:func:`daguerre.style.color.blend`); for vintage it scales each effect instead.
``face_strength`` lays the style more lightly on the faces found in the picture
(:mod:`daguerre.style.faces`), so that a portrait's sitters stay recognisable.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from daguerre import aging, hub
from daguerre.color import to_rgb
from daguerre.image import IMAGE_SUFFIXES, read
from daguerre.style import arbitrary, color, faces
from daguerre.style.fast import Generator, Progress
from daguerre.style.optimize import optimize, resize

METHODS = ("fast", "optimize", "color")
MIN_TILE = 64  # smaller tiles are mostly padding and overlap
VINTAGE = "vintage"
MODEL_SUFFIXES = (hub.WEIGHTS_SUFFIX, hub.CARD_SUFFIX)
_METHODS_BY_KIND = {"model": ("fast",), "painting": ("fast", "optimize", "color"), VINTAGE: ()}

StyleSource = str | os.PathLike[str] | np.ndarray


def _checked(image: np.ndarray, name: str) -> np.ndarray:
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or image.shape[2] not in (1, 3) or 0 in image.shape:
        raise ValueError(f"{name} must be an H×W×1 or H×W×3 array, got shape {image.shape}")
    return image


def fit_long_side(image: np.ndarray, size: int | None) -> np.ndarray:
    """``image`` resized so that its long side is ``size`` pixels (None: unchanged)."""
    if size is None:
        return image
    height, width = image.shape[:2]
    scale = size / max(height, width)
    return resize(image, (max(1, round(height * scale)), max(1, round(width * scale))))


class Stylizer:
    """Styles pictures one after another; the model or painting is loaded once.

    ``method`` is ``None`` (the style's natural method: ``"fast"`` for a model, ``"optimize"``
    for a painting) or one of :data:`METHODS`. ``size`` resizes every picture to that long side
    first (and the result stays at that size): the scale at which brush strokes are drawn, and
    the time the optimisation takes, follow the picture's size. ``tile`` bounds the tile of the
    fast methods; ``iterations`` (optimisation at the coarsest level) and ``seed`` (vintage grain,
    optimisation) are passed on. ``mix_with`` (any style but vintage) is mixed in at ``mix``
    (0: none of it, 1: all of it), styled by its natural method (a painting beside a painting: by
    the same method). ``face_strength`` (in [0, 1]) is the style's strength on faces
    as a fraction of ``strength`` (None: faces are not looked for; vintage ignores it).
    Raises ``ValueError`` for a bad combination or an unknown style
    name, ``ImageError`` for an unreadable painting and ``hub.ModelError`` for a corrupt model.
    """

    def __init__(
        self,
        style: StyleSource,
        *,
        method: str | None = None,
        strength: float = 1.0,
        preserve_colors: bool = False,
        face_strength: float | None = None,
        mix_with: StyleSource | None = None,
        mix: float = 0.5,
        size: int | None = None,
        tile: int | None = None,
        device: torch.device | str = "cpu",
        iterations: int = 200,
        seed: int = 0,
        directory: str | os.PathLike[str] = hub.WEIGHTS_DIR,
    ) -> None:
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must lie in [0, 1], got {strength}")
        if face_strength is not None and not 0.0 <= face_strength <= 1.0:
            raise ValueError(f"face_strength must lie in [0, 1], got {face_strength}")
        if size is not None and size < 16:
            raise ValueError(f"size must be at least 16 pixels, got {size}")
        if tile is not None and tile < MIN_TILE:
            raise ValueError(f"tile must be at least {MIN_TILE} pixels, got {tile}")
        if iterations < 1:
            raise ValueError(f"iterations must be at least 1, got {iterations}")
        if method is not None and method not in METHODS:
            raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
        if not 0.0 <= mix <= 1.0:
            raise ValueError(f"mix must lie in [0, 1], got {mix}")
        self.strength = strength
        self.preserve_colors = preserve_colors
        self.face_strength = face_strength
        self.size = size
        self.tile = tile
        self.device = device
        self.iterations = iterations
        self.seed = seed
        self.generator: Generator | None = None
        self.painting: np.ndarray | None = None
        self.network: arbitrary.ArbitraryStylizer | None = None
        self.code: arbitrary.StyleCode | None = None
        self.painting = _read_painting(style)
        if self.painting is not None:
            kind = "painting"
        elif _is_vintage(style):
            kind = VINTAGE
        else:
            _check_model_name(style, directory)
            if _model_task(style, directory) == arbitrary.TASK:
                self.network = arbitrary.ArbitraryStylizer(
                    style, device=device, directory=directory
                )
                if self.network.learned is None:
                    raise ValueError(
                        f"{os.fspath(style)} styles after any painting: give the painting "
                        "itself as the style"
                    )
                self.code = self.network.learned
            else:
                self.generator = Generator(style, device=device, directory=directory)
            kind = "model"
        allowed = _METHODS_BY_KIND[kind]
        if method is not None and method not in allowed:
            fitting = f"use {' or '.join(allowed)}" if allowed else "it takes no method"
            raise ValueError(f"method {method!r} does not apply to a {kind} style; {fitting}")
        if kind == "painting" and not hub.has_model(arbitrary.MODEL, directory, bundled=False):
            if method == "fast":
                raise ValueError(
                    f"method 'fast' needs the arbitrary-style network {arbitrary.MODEL}, which is "
                    "not installed; use optimize or color"
                )
            method = method or "optimize"  # the training-free way
        self.method = method or (allowed[0] if allowed else VINTAGE)
        if kind == "painting" and self.method == "fast":
            self.network = arbitrary.ArbitraryStylizer(device=device, directory=directory)
            self.code = self.network.style_code(to_rgb(self._painting()))
        self.mix = mix
        self.partner: Stylizer | None = None
        if mix_with is not None:
            if self.method == VINTAGE or _is_vintage(mix_with):
                raise ValueError("vintage cannot be mixed with another style")
            other = _read_painting(mix_with) if kind == "painting" else None
            if self.network is not None and self.code is not None and other is not None:
                # one style between the two paintings, run once by the network already loaded
                other_code = self.network.style_code(to_rgb(other))
                self.code = arbitrary.ArbitraryStylizer.mix([self.code, other_code], [1 - mix, mix])
            else:
                self.partner = Stylizer(
                    mix_with,
                    method=self.method if kind == "painting" else None,
                    device=device,
                    iterations=iterations,
                    tile=tile,
                    seed=seed,
                    directory=directory,
                )

    def __call__(self, image: np.ndarray, progress: Progress | None = None) -> np.ndarray:
        """The styled picture, float32 in [0, 1] (RGB, or gray for a gray photo kept gray).

        At strength 0 the picture itself (resized to ``size``) is returned, and nothing is run.

        ``progress(done, total)`` reports tiles (fast) or iterations (optimize).
        """
        base = fit_long_side(_checked(image, "image"), self.size)
        if self.strength == 0.0:
            return base.copy()
        if self.method == VINTAGE:
            styled = aging.vintage(base, seed=self.seed, strength=self.strength)
            return color.preserve_colors(styled, base) if self.preserve_colors else styled
        rgb = to_rgb(base)
        styled = self._method(rgb, progress)
        if self.partner is not None:
            styled = color.blend(styled, to_rgb(self.partner._method(rgb, None)), self.mix)
        if self.preserve_colors:
            styled = color.preserve_colors(styled, base)
        reference = base if styled.shape[2] == base.shape[2] else rgb
        strength: float | np.ndarray = self.strength
        if self.face_strength is not None and self.face_strength < 1.0:
            strength = faces.strength_map(base, self.strength, self.face_strength)
        return color.blend(reference, styled, strength)

    def _painting(self) -> np.ndarray:
        if self.painting is None:
            raise RuntimeError("this style has no painting")
        return self.painting

    def _method(self, rgb: np.ndarray, progress: Progress | None) -> np.ndarray:
        if self.generator is not None:
            return to_rgb(self.generator(rgb, tile=self.tile, progress=progress))
        if self.network is not None and self.code is not None:
            return self.network(rgb, self.code, tile=self.tile, progress=progress)
        if self.method == "color":
            return color.sliced_ot_transfer(rgb, self._painting(), seed=self.seed)
        run = optimize(
            rgb,
            self._painting(),
            iterations=self.iterations,
            seed=self.seed,
            device=self.device,
            progress=progress,
        )
        return run.image


def _is_vintage(style: StyleSource) -> bool:
    return not isinstance(style, np.ndarray) and os.fspath(style) == VINTAGE


def _read_painting(style: StyleSource) -> np.ndarray | None:
    """The painting ``style`` is (an array, or an image file read), or None for vintage or a
    model."""
    if isinstance(style, np.ndarray):
        return _checked(style, "style")
    if _is_vintage(style) or not _is_image_path(style):
        return None
    return read(style).pixels


def _check_model_name(style: str | os.PathLike[str], directory: str | os.PathLike[str]) -> None:
    """A plain name that no model in ``directory`` has is a ``ValueError`` listing the styles."""
    weights, card = hub.model_paths(style, directory)
    if card.parent != Path(directory) or card.is_file() or weights.is_file():
        return  # a path (checked when loaded) or a model that exists
    styles = [model.name for model in hub.list_models(directory) if model.task == "style"]
    raise ValueError(
        f"unknown style {os.fspath(style)!r}; use vintage, a bundled style "
        f"({', '.join(styles) or 'none bundled'}), a painting (an image file) or a "
        "MODEL.safetensors"
    )


def _model_task(style: str | os.PathLike[str], directory: str | os.PathLike[str]) -> str | None:
    """The task in the card of model ``style``, or None when it has no card (loading it then
    says why)."""
    _, card = hub.model_paths(style, directory)
    return hub.read_card(card).task if card.is_file() else None


def _is_image_path(style: str | os.PathLike[str]) -> bool:
    """Whether ``style`` names a painting file rather than a model."""
    path = Path(style)
    return path.suffix.lower() in IMAGE_SUFFIXES or (
        path.is_file() and not path.name.endswith(MODEL_SUFFIXES)
    )


def stylize(
    image: np.ndarray,
    style: StyleSource,
    *,
    method: str | None = None,
    strength: float = 1.0,
    preserve_colors: bool = False,
    face_strength: float | None = None,
    mix_with: StyleSource | None = None,
    mix: float = 0.5,
    size: int | None = None,
    tile: int | None = None,
    device: torch.device | str = "cpu",
    iterations: int = 200,
    seed: int = 0,
    progress: Progress | None = None,
) -> np.ndarray:
    """Style one picture (float32 H×W×C in [0, 1]); see :class:`Stylizer` for the options.

    >>> stylize(photo, "vintage", strength=0.7)  # doctest: +SKIP
    >>> stylize(photo, "paintings/starry_night.jpg", method="color")  # doctest: +SKIP
    """
    stylizer = Stylizer(
        style,
        method=method,
        strength=strength,
        preserve_colors=preserve_colors,
        face_strength=face_strength,
        mix_with=mix_with,
        mix=mix,
        size=size,
        tile=tile,
        device=device,
        iterations=iterations,
        seed=seed,
    )
    return stylizer(image, progress)
