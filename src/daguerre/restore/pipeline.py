"""The restoration pipeline: ordered stages, each ``stage(image, ctx) -> image``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from daguerre.allocator import release_freed_memory
from daguerre.image import looks_gray, looks_toned, preview, to_gray, to_rgb
from daguerre.restore import stages
from daguerre.restore.finish import finish

Progress = Callable[[str, int, int], None]
# from this working-array size on, the memory each stage kept for its own reuse is handed back
# before the next (100 MP: 1.2 GB less at the peak); below it, keeping is cheap and faster
RELEASE_FROM_MB = 256


@dataclass
class RestoreOptions:
    """What the pipeline does; every stage can be switched off."""

    detect_damage: bool = True
    inpaint: bool = True
    enhance: bool = True
    finish: bool = False
    mask: np.ndarray | None = None  # a user mask (H×W, 1 = damaged) replaces detection
    # True: the result is neutral black and white; False: colours are kept (a pale, one-hue
    # colour photo — a plank, a beach — can look like a toned print); None: decided from the
    # photo (gray and toned prints come back neutral). One-channel images always stay gray.
    monochrome: bool | None = None
    # detected damage probability above which pixels are filled; 0.9 measured best with the
    # bundled detector (filling to the undamaged photo: light 44.2 dB against 43.0 at 0.5,
    # moderate and heavy the same within 0.05 dB); a user's mask is cut at one half
    mask_threshold: float = 0.9
    # detected regions larger than this fraction of the picture are not filled: on real scans
    # such regions are bright, flat areas (a white dress, a sky) far more often than tears
    max_hole: float = 0.01
    # holes at most this many pixels across are filled by OpenCV's Telea, wider ones (tears,
    # missing corners) by the inpainting network; 0 sends every hole to the network. Measured
    # with the aging engine's own masks, Telea comes closer to the undamaged photo on thin
    # damage (moderate: 44.1 against 43.0 dB; heavy: 34.7 against 34.1), and the network
    # taking only holes over 16 px costs under 0.05 dB
    classical_fill_width: int = 16
    device: str = "cpu"
    tile: int | None = None
    memory_budget_mb: int | None = 1024
    weights_dir: Path | None = None  # where the models live (default: the bundled weights)


@dataclass
class Context:
    """State passed along the stages: options, the damage mask, a progress callback."""

    options: RestoreOptions
    mask: np.ndarray | None = None
    progress: Progress | None = None
    monochrome: bool = False
    models: dict[str, object] = field(default_factory=dict)

    def report(self, stage: str) -> Callable[[int, int], None] | None:
        """A tile-progress callback for ``stage``, or None when nobody listens."""
        if self.progress is None:
            return None
        progress = self.progress
        return lambda done, total: progress(stage, done, total)


# a stage gets the pipeline's working image (float32 H×W×3, its to change in place) and
# returns the result, which may be that same array
Stage = Callable[[np.ndarray, Context], np.ndarray]


@dataclass
class RestoreResult:
    """The restored image and the damage mask the pipeline used (None when none)."""

    image: np.ndarray
    mask: np.ndarray | None


class RestorePipeline:
    """Damage detection → inpainting → global restoration → optional finishing.

    Models are loaded from the bundled weights on first use and kept for the next image.
    """

    def __init__(self, options: RestoreOptions | None = None, **overrides: object) -> None:
        known = {option.name for option in fields(RestoreOptions)}
        for key in overrides:
            if key not in known:
                raise TypeError(f"unknown restore option {key!r}")
        # a copy, so that overrides never change the caller's options object
        self.options = replace(options or RestoreOptions(), **overrides)
        self._models: dict[str, object] = {}

    def stages(self) -> list[tuple[str, Stage]]:
        """The stages this pipeline runs, in order, by name."""
        chosen: list[tuple[str, Stage]] = []
        wants_mask = self.options.mask is not None or self.options.detect_damage
        if wants_mask:
            chosen.append(("detect", stages.detect_damage))
            if self.options.inpaint:
                chosen.append(("inpaint", stages.inpaint))
        if self.options.enhance:
            chosen.append(("enhance", stages.enhance))
        if self.options.finish:
            chosen.append(("finish", lambda image, ctx: finish(image)))
        return chosen

    def __call__(
        self, image: np.ndarray, progress: Progress | None = None, *, overwrite: bool = False
    ) -> RestoreResult:
        """Restore ``image`` (float H×W×1 or H×W×3 in [0, 1]).

        The stages change a working copy in place (a large scan has no room for a new array at
        every step); ``overwrite=True`` lets them use a float32 RGB ``image`` itself and saves
        that copy, for a caller that no longer needs the original.
        """
        if image.ndim != 3 or image.shape[-1] not in (1, 3):
            raise ValueError(f"expected an H×W×1 or H×W×3 image, got shape {image.shape}")
        ctx = Context(self.options, progress=progress, models=self._models)
        ctx.monochrome = image.shape[-1] == 1 or self._monochrome(image)
        work = to_rgb(image)
        if overwrite or not np.shares_memory(work, image):
            work = np.require(work, np.float32, ["C", "W"])  # copies only to convert
        else:
            work = np.array(work, np.float32, order="C")
        large = work.nbytes >= RELEASE_FROM_MB * 2**20
        for name, stage in self.stages():
            work = stage(work, ctx)
            if large:  # hand back what this stage kept for its own reuse (daguerre.allocator)
                release_freed_memory()
            if ctx.progress is not None:
                ctx.progress(name, 1, 1)
        if ctx.monochrome:
            gray = to_gray(work)
            if image.shape[-1] == 1:
                work = gray
            else:
                work[...] = gray  # neutral RGB, in place
        return RestoreResult(np.clip(work, 0.0, 1.0, out=work), ctx.mask)

    def _monochrome(self, image: np.ndarray) -> bool:
        """Whether an RGB photo comes back neutral: the caller's choice, or what it looks like."""
        if self.options.monochrome is not None:
            return self.options.monochrome
        # toned prints (sepia, cyanotype) are black-and-white photos too: they come back neutral
        small = preview(image)
        return looks_gray(small) or looks_toned(small)


def restore(image: np.ndarray, **options: object) -> np.ndarray:
    """Restore one image (float32 H×W×C in [0,1]) with the bundled models."""
    return RestorePipeline(**options)(image).image
