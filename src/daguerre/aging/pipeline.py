"""Seeded aging recipes: a clean picture in, an old-looking picture and its damage mask out.

A :class:`Preset` lists the ops of :mod:`daguerre.aging.ops` (with probabilities and parameter
ranges) and the structured damage of :mod:`daguerre.aging.damage`. :class:`AgingPipeline`
applies a preset in a fixed order:

1. ``stages`` — tone and colour, then softness, then noise and grain;
2. ``damages`` — scratches, dust, cracks... drawn on top, so they stay sharp and the mask is
   exact: it is the largest damage opacity drawn at each pixel;
3. ``finish`` — what happens to the damaged print afterwards (a light scan blur, JPEG). These
   ops change pixels everywhere by a little; the mask still marks where damage was drawn,
   which is what a damage detector should find.

The three phases draw from independent generators derived from the caller's, so the same seed
gives a bit-identical result, and turning damage off leaves the rest of the aging unchanged.

A parameter of a step or damage may be a fixed value, a ``(low, high)`` pair of numbers drawn
uniformly (ints: both ends included) or any other tuple, whose items are chosen uniformly.
Parameters a preset leaves out are drawn by the op from its module-level range.

Black-and-white pictures (gray, or RGB with equal channels) stay black-and-white: the pipeline
sets ``mono`` on every op that takes it, so only colour casts and coloured damage tint them.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from daguerre.aging import ops
from daguerre.aging.damage import DAMAGES

Mode = Literal["each", "shuffle", "one"]
_MODES = ("each", "shuffle", "one")


def _check_params(owner: str, fn: Any, params: Mapping[str, Any]) -> None:
    signature = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.values()):
        return
    accepted = set(signature) - {"image", "rng", "severity"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(f"{owner}: unknown parameters {unknown}; accepted: {sorted(accepted)}")


def _check_probability(owner: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{owner}: probability {p} is outside [0, 1]")


@dataclass(frozen=True)
class Step:
    """One op of :data:`daguerre.aging.ops.OPS`, applied with probability ``p``."""

    op: str
    p: float = 1.0
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.op not in ops.OPS:
            raise ValueError(f"unknown op {self.op!r}; known: {sorted(ops.OPS)}")
        _check_probability(self.op, self.p)
        _check_params(self.op, ops.OPS[self.op], self.params)


@dataclass(frozen=True)
class Stage:
    """A group of steps (or nested stages), run with probability ``p``.

    ``mode``: ``"each"`` runs every child with its own probability, in order; ``"shuffle"``
    does the same in a random order; ``"one"`` runs at most one child, child i with
    probability ``p_i`` (the probabilities sum to at most 1).
    """

    children: tuple[Step | Stage, ...]
    mode: Mode = "each"
    p: float = 1.0

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f"unknown stage mode {self.mode!r}; use one of {_MODES}")
        _check_probability("stage", self.p)
        if self.mode == "one" and sum(child.p for child in self.children) > 1.0 + 1e-9:
            raise ValueError("a 'one' stage needs child probabilities summing to at most 1")


@dataclass(frozen=True)
class DamageStep:
    """One structured damage of :data:`daguerre.aging.damage.DAMAGES`.

    Applied with probability ``p`` at a severity drawn uniformly from ``severity``.
    """

    name: str
    p: float = 1.0
    severity: tuple[float, float] = (0.3, 0.7)
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in DAMAGES:
            raise ValueError(f"unknown damage {self.name!r}; known: {sorted(DAMAGES)}")
        _check_probability(self.name, self.p)
        low, high = self.severity
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError(f"{self.name}: severity range {self.severity} is not within [0, 1]")
        _check_params(self.name, DAMAGES[self.name], self.params)


@dataclass(frozen=True)
class Preset:
    """A complete aging recipe: ops before damage, damage, ops after damage.

    ``damage_p`` is the probability that a picture gets any structured damage at all (below 1,
    some pictures come out with photometric aging only and an empty mask).
    """

    name: str
    stages: tuple[Stage, ...]
    damages: tuple[DamageStep, ...] = ()
    finish: tuple[Stage, ...] = ()
    damage_p: float = 1.0

    def __post_init__(self) -> None:
        _check_probability(f"{self.name} damage", self.damage_p)


@dataclass
class AgingResult:
    """``aged`` and ``clean`` are H×W×C float32 in [0, 1]; ``mask`` H×W float32 damage opacity."""

    aged: np.ndarray
    clean: np.ndarray
    mask: np.ndarray


def _sample(rng: np.random.Generator, value: Any) -> Any:
    """Resolve one preset parameter: a fixed value, a numeric range or a tuple of choices."""
    if not isinstance(value, tuple) or not value:
        return value
    numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(value) != 2 or len(numbers) != 2:
        return value[int(rng.integers(len(value)))]
    low, high = value
    if isinstance(low, int) and isinstance(high, int):
        return int(rng.integers(low, high + 1))
    return float(rng.uniform(low, high))


def _run(node: Step | Stage, image: np.ndarray, rng: np.random.Generator, mono: bool) -> np.ndarray:
    """Apply a step or stage whose own probability has already been decided."""
    if isinstance(node, Step):
        params = {name: _sample(rng, value) for name, value in node.params.items()}
        if mono and node.op in ops.MONO_OPS:
            params["mono"] = True
        return ops.OPS[node.op](image, rng, **params)
    children = list(node.children)
    if node.mode == "one":
        u, total = rng.random(), 0.0
        for child in children:
            total += child.p
            if u < total:
                return _run(child, image, rng, mono)
        return image
    if node.mode == "shuffle":
        children = [children[i] for i in rng.permutation(len(children))]
    for child in children:
        if rng.random() < child.p:
            image = _run(child, image, rng, mono)
    return image


def _run_stages(
    stages: tuple[Stage, ...], image: np.ndarray, rng: np.random.Generator, mono: bool
) -> np.ndarray:
    for stage in stages:
        if rng.random() < stage.p:
            image = _run(stage, image, rng, mono)
    return image


def _stage(*children: Step | Stage, mode: Mode = "each", p: float = 1.0) -> Stage:
    """``Stage`` with its children as arguments, to keep the presets below readable."""
    return Stage(children, mode, p)


_FINISH_SCAN = (
    _stage(
        Step("gaussian_blur", 0.3, {"sigma": (0.3, 0.6), "ratio": 1.0}),
        Step("jpeg", 0.6, {"quality": (75, 95)}),
    ),
)

PRESETS: dict[str, Preset] = {
    "light": Preset(
        "light",
        stages=(
            _stage(
                Step("fade", 0.6, {"amount": (0.05, 0.2), "black": (0.01, 0.06)}),
                Step("yellowing", 0.4, {"amount": (0.1, 0.3)}),
                Step("vignette", 0.4, {"strength": (0.1, 0.3)}),
            ),
            _stage(
                Step("gaussian_blur", 0.5, {"sigma": (0.3, 0.9)}),
                Step("resample", 0.2, {"scale": (0.6, 0.9)}),
                mode="one",
            ),
            _stage(
                Step("film_grain", 0.6, {"strength": (0.015, 0.04), "size": (0.4, 0.8)}),
                Step("gaussian_noise", 0.2, {"sigma": (0.005, 0.015)}),
                mode="one",
            ),
        ),
        damages=(
            DamageStep("dust", 0.6, (0.05, 0.3)),
            DamageStep("scratches", 0.4, (0.05, 0.3)),
        ),
        finish=_FINISH_SCAN,
    ),
    "moderate": Preset(
        "moderate",
        stages=(
            _stage(
                Step("fade", 0.8, {"amount": (0.1, 0.35), "black": (0.02, 0.12)}),
                _stage(
                    Step("yellowing", 0.35, {"amount": (0.2, 0.5)}),
                    Step("sepia", 0.25, {"amount": (0.4, 0.9)}),
                    Step("dye_fade", 0.25, {"cyan": (0.1, 0.4)}),
                    mode="one",
                ),
                Step("uneven_exposure", 0.5, {"stops": (0.1, 0.35)}),
                Step("vignette", 0.6, {"strength": (0.15, 0.45)}),
            ),
            _stage(
                Step("gaussian_blur", 0.5, {"sigma": (0.5, 1.5)}),
                Step("defocus_blur", 0.15, {"radius": (1.0, 2.5)}),
                Step("motion_blur", 0.1, {"length": (3.0, 7.0)}),
                Step("resample", 0.2, {"scale": (0.4, 0.8)}),
                mode="one",
            ),
            _stage(
                Step("film_grain", 0.7, {"strength": (0.02, 0.06), "size": (0.5, 1.0)}),
                _stage(
                    Step("gaussian_noise", 0.3, {"sigma": (0.01, 0.03)}),
                    Step("poisson_noise", 0.2, {"peak": (300.0, 2000.0)}),
                    Step("speckle_noise", 0.1, {"sigma": (0.02, 0.06)}),
                    mode="one",
                ),
                Step("paper_texture", 0.3, {"strength": (0.02, 0.05)}),
            ),
        ),
        damages=(
            DamageStep("dust", 0.8, (0.2, 0.6)),
            DamageStep("scratches", 0.7, (0.2, 0.6)),
            DamageStep("cracks", 0.3, (0.1, 0.5)),
            DamageStep("folds", 0.25, (0.1, 0.5)),
            DamageStep("stains", 0.3, (0.1, 0.5)),
            DamageStep("tears", 0.1, (0.1, 0.4)),
        ),
        finish=_FINISH_SCAN,
    ),
    "heavy": Preset(
        "heavy",
        stages=(
            _stage(
                Step("fade", 1.0, {"amount": (0.25, 0.5), "black": (0.05, 0.2)}),
                _stage(
                    Step("yellowing", 0.4, {"amount": (0.4, 0.8)}),
                    Step("sepia", 0.3, {"amount": (0.7, 1.0)}),
                    Step("dye_fade", 0.3, {"cyan": (0.3, 0.7), "yellow": (0.1, 0.4)}),
                    mode="one",
                ),
                Step("uneven_exposure", 0.8, {"stops": (0.2, 0.6)}),
                Step("vignette", 0.8, {"strength": (0.3, 0.7)}),
            ),
            _stage(
                Step("gaussian_blur", 0.5, {"sigma": (1.0, 2.0)}),
                Step("defocus_blur", 0.2, {"radius": (2.0, 4.5)}),
                Step("motion_blur", 0.15, {"length": (5.0, 11.0)}),
                Step("resample", 0.15, {"scale": (0.25, 0.5)}),
                mode="one",
            ),
            _stage(
                Step("halftone", 0.1, {"cell": (3.0, 5.0)}),
                Step("film_grain", 0.8, {"strength": (0.03, 0.07), "size": (0.6, 1.3)}),
                _stage(
                    Step("gaussian_noise", 0.25, {"sigma": (0.02, 0.05)}),
                    Step("poisson_noise", 0.15, {"peak": (80.0, 500.0)}),
                    Step("speckle_noise", 0.12, {"sigma": (0.04, 0.08)}),
                    Step("salt_pepper", 0.08, {"amount": (0.001, 0.005)}),
                    mode="one",
                ),
                Step("paper_texture", 0.5, {"strength": (0.04, 0.08)}),
            ),
        ),
        damages=(
            DamageStep("dust", 0.9, (0.5, 1.0)),
            DamageStep("scratches", 0.9, (0.5, 1.0)),
            DamageStep("cracks", 0.5, (0.4, 0.9)),
            DamageStep("folds", 0.4, (0.4, 0.9)),
            DamageStep("stains", 0.5, (0.4, 0.9)),
            DamageStep("tears", 0.25, (0.3, 0.8)),
        ),
        finish=(_stage(Step("jpeg", 0.7, {"quality": (40, 85)})),),
    ),
    # No aging at all: a clean photo, which a restorer must hand back as it came
    "none": Preset("none", stages=()),
    # The unstructured degradation of "Bringing Old Photos Back to Life" (Wan et al., 2020):
    # blur, one of three noises, down-up resampling and JPEG, each with p = 0.7, in random order.
    "bopbtl": Preset(
        "bopbtl",
        stages=(
            _stage(
                Step("gaussian_blur", 0.7, {"sigma": (1.0, 5.0), "ratio": 1.0, "radius": (1, 3)}),
                _stage(
                    Step("gaussian_noise", 1 / 3, {"sigma": (5 / 255, 50 / 255), "mono": False}),
                    Step("speckle_noise", 1 / 3, {"sigma": (5 / 255, 50 / 255), "mono": False}),
                    Step("salt_pepper", 1 / 3, {"amount": (0.0, 0.01), "salt": (0.3, 0.8)}),
                    mode="one",
                    p=0.7,
                ),
                Step(
                    "resample",
                    0.7,
                    {"scale": (0.5, 1.0), "down": "cubic", "up": ("nearest", "linear")},
                ),
                Step("jpeg", 0.7, {"quality": (40, 100)}),
                mode="shuffle",
            ),
        ),
    ),
    # A photo saved as JPEG, now and then saved twice: the blocks and ringing of most scans and
    # web copies, with no other damage, which a restorer must take out, not sharpen.
    "compressed": Preset(
        "compressed",
        stages=(
            _stage(
                Step("jpeg", 1.0, {"quality": (30, 95)}),
                Step("jpeg", 0.2, {"quality": (50, 95)}),
            ),
        ),
    ),
    # A small copy enlarged: a web image, a thumbnail scan, a face cut from a group photo. Its
    # noise and JPEG blocks are as large as its pixels, which a restorer must not sharpen.
    "enlarged": Preset(
        "enlarged",
        stages=(
            _stage(
                Step("gaussian_blur", 0.6, {"sigma": (0.5, 2.5), "ratio": 1.0}),
                Step("small_copy", 1.0, {"scale": (0.15, 0.6), "quality": (30, 90)}),
            ),
        ),
    ),
}


def _all(stages: tuple[Stage, ...], p: float) -> Stage:
    """The stages of a preset as one stage run with probability ``p``."""
    return Stage(stages, "each", p)


# For the damage detector: photometric aging from none to heavy (one of the presets' chains, 12 %
# none) and every damage kind, each with its own probability over a wide range of severity, so a
# picture shows from none to many kinds. 10 % of the pictures get no damage at all (about 14 %
# with those whose draws came out empty), so the detector also learns to leave clean photos and
# their scene lines alone.
PRESETS["varied"] = Preset(
    "varied",
    stages=(
        _stage(
            _all(PRESETS["light"].stages, 0.3),
            _all(PRESETS["moderate"].stages, 0.3),
            _all(PRESETS["heavy"].stages, 0.18),
            _all(PRESETS["bopbtl"].stages, 0.1),
            mode="one",
        ),
    ),
    damages=(
        DamageStep("stains", 0.2, (0.1, 1.0)),
        DamageStep("folds", 0.12, (0.1, 1.0)),
        DamageStep("cracks", 0.2, (0.1, 1.0)),
        DamageStep("craquelure", 0.25, (0.1, 1.0)),
        DamageStep("flakes", 0.3, (0.1, 1.0)),
        DamageStep("scratches", 0.35, (0.05, 1.0)),
        DamageStep("bold_scratches", 0.45, (0.1, 1.0)),
        DamageStep("hairs", 0.3, (0.1, 1.0)),
        DamageStep("dust", 0.5, (0.05, 1.0)),
        DamageStep(
            "tears", 0.08, (0.1, 0.8), {"corner_fraction": (0.3, 0.9), "dark_fraction": (0.0, 0.6)}
        ),
    ),
    finish=(
        _stage(
            _all(_FINISH_SCAN, 0.5),
            Step("jpeg", 0.25, {"quality": (40, 85)}),
            mode="one",
        ),
    ),
    damage_p=0.9,
)


class AgingPipeline:
    """Age clean pictures with a preset: ``AgingPipeline("heavy")(clean, seed)``.

    ``damage=False`` skips the structured damage (the mask is then all zero).
    """

    def __init__(self, preset: str | Preset = "moderate", *, damage: bool = True) -> None:
        if isinstance(preset, str):
            if preset not in PRESETS:
                raise ValueError(f"unknown preset {preset!r}; known: {sorted(PRESETS)}")
            preset = PRESETS[preset]
        self.preset = preset
        self.damage = damage

    def __call__(self, clean: np.ndarray, rng_or_seed: np.random.Generator | int) -> AgingResult:
        """Age ``clean`` (H×W×1 or H×W×3 float in [0, 1]); a seed or a generator drives it."""
        clean = ops.check_image(clean)
        rng = (
            rng_or_seed
            if isinstance(rng_or_seed, np.random.Generator)
            else np.random.default_rng(rng_or_seed)
        )
        aging_rng, damage_rng, finish_rng = (
            np.random.default_rng(seed) for seed in rng.integers(0, 2**63, size=3)
        )
        mono = ops.is_neutral(clean)
        aged = _run_stages(self.preset.stages, clean, aging_rng, mono)
        mask = np.zeros(clean.shape[:2], np.float32)
        damaged = self.preset.damage_p >= 1.0 or damage_rng.random() < self.preset.damage_p
        if self.damage and damaged:
            for step in self.preset.damages:
                if damage_rng.random() >= step.p:
                    continue
                severity = float(damage_rng.uniform(*step.severity))
                params = {name: _sample(damage_rng, v) for name, v in step.params.items()}
                aged, drawn = DAMAGES[step.name](aged, damage_rng, severity=severity, **params)
                np.maximum(mask, drawn, out=mask)
        aged = _run_stages(self.preset.finish, aged, finish_rng, mono)
        if aged is clean:  # nothing ran: never hand out the caller's array as the aged one
            aged = clean.copy()
        return AgingResult(aged=aged, clean=clean, mask=mask)


def age(image: np.ndarray, preset: str | Preset = "moderate", seed: int = 0) -> AgingResult:
    """Age one picture with a preset (see :data:`PRESETS`) and a seed."""
    return AgingPipeline(preset)(image, seed)


VINTAGE_FADE = 0.3  # full-strength parameters of :func:`vintage`
VINTAGE_BLACK = 0.08
VINTAGE_YELLOWING = 0.45
VINTAGE_VIGNETTE = 0.4
VINTAGE_GRAIN = 0.03


def vintage(image: np.ndarray, seed: int = 0, strength: float = 1.0) -> np.ndarray:
    """A vintage look without damage: faded tones, warm cast, vignetting and film grain.

    ``strength`` in [0, 1] scales every effect; 0 returns the picture unchanged. The seed only
    moves the grain and the vignette's centre.
    """
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength {strength} is outside [0, 1]")
    image = ops.check_image(image)
    if strength == 0.0:
        return image.copy()
    rng = np.random.default_rng(seed)
    mono = ops.is_neutral(image)
    out = ops.fade(image, rng, amount=strength * VINTAGE_FADE, black=strength * VINTAGE_BLACK)
    out = ops.yellowing(out, rng, amount=strength * VINTAGE_YELLOWING)
    out = ops.vignette(out, rng, strength=strength * VINTAGE_VIGNETTE, power=2.5)
    grain = strength * VINTAGE_GRAIN
    return ops.film_grain(out, rng, strength=grain, size=0.7, chroma=0.1, mono=mono)
