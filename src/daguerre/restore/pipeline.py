"""The restoration pipeline: ordered stages, each ``stage(image, ctx) -> image``."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
from torch import nn

from daguerre.allocator import release_freed_memory
from daguerre.color import preview, to_gray, to_rgb
from daguerre.restore.context import Context, Progress, RestoreOptions, RestoreResult, Stage
from daguerre.restore.monochrome import looks_gray, looks_toned
from daguerre.restore.stages import STAGES

# from this working-array size on, the memory each stage kept for its own reuse is handed back
# before the next (100 MP: 1.2 GB less at the peak); below it, keeping is cheap and faster
RELEASE_FROM_MB = 256


class RestorePipeline:
    """Damage detection → inpainting → global restoration → optional finishing.

    Each model is loaded on first use and kept for the next image: the network or weights that
    ``models`` gives for its name, else the one in ``weights_dir``, else the bundled one.
    """

    def __init__(self, options: RestoreOptions | None = None, **overrides: object) -> None:
        known = {option.name for option in fields(RestoreOptions)}
        for key in overrides:
            if key not in known:
                raise TypeError(f"unknown restore option {key!r}")
        # a copy, so that overrides never change the caller's options object
        self.options = replace(options or RestoreOptions(), **overrides)
        self._models: dict[str, nn.Module] = {}

    def stages(self) -> list[tuple[str, Stage]]:
        """The stages this pipeline runs, in order, by name."""
        return [(stage.name, stage.run) for stage in STAGES if stage.wanted(self.options)]

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
        self.options.check_mask(image.shape)  # before any stage runs
        ctx = Context(self.options, progress=progress, models=self._models)
        ctx.monochrome = image.shape[-1] == 1 or self._monochrome(image)
        work = to_rgb(image)
        if overwrite or not np.shares_memory(work, image):
            work = np.require(work, np.float32, ["C", "W"])  # copies only to convert
        else:
            work = np.array(work, np.float32, order="C")
        large = work.nbytes >= RELEASE_FROM_MB * 2**20
        stages = self.stages()
        keep_unenhanced = "faces" in dict(stages)
        for name, stage in stages:
            if name == "enhance" and keep_unenhanced:
                # the faces stage restores faces from the photo before global restoration
                ctx.unenhanced = work.astype(np.float16)
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
