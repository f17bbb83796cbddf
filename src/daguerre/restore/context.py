"""The types every restore module shares: options, the context passed along the stages, results.

They live apart so that the pipeline and its stages both import them and never each other.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from torch import nn

from daguerre.faces.stage import LANDMARKS_MODEL
from daguerre.faces.stage import MODEL_NAME as FACES_MODEL
from daguerre.faces.types import Face
from daguerre.hub import ModelSource, load_network

Progress = Callable[[str, int, int], None]

DAMAGE_MODEL = "restore-damage"
INPAINT_MODEL = "restore-inpaint"
ENHANCE_MODEL = "restore-enhance"
# the upscalers of ``scale`` 2 and 4 (daguerre.upscale.model_names)
UPSCALE_MODELS = tuple(f"upscale-x{s}{kind}" for s in (2, 4) for kind in ("", "-fidelity"))
# ``models`` may name these
MODELS = (
    DAMAGE_MODEL,
    INPAINT_MODEL,
    ENHANCE_MODEL,
    FACES_MODEL,
    LANDMARKS_MODEL,
    *UPSCALE_MODELS,
)
MIN_TILE = 64  # smaller tiles are mostly padding and overlap


@dataclass
class RestoreOptions:
    """What the pipeline does; every stage can be switched off.

    Every value is checked when the options are made: a ``ValueError`` names the field.
    """

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
    # detected regions larger than this fraction of the picture and wider than
    # classical_fill_width are not filled: on real scans such regions are bright, flat areas (a
    # white dress, a sky) far more often than tears; thin ones (cracks, long scratches) are
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
    # where the models live (default: the bundled weights); a model missing there is bundled
    weights_dir: Path | None = None
    # networks or weight paths by model name (see ``MODELS``), before ``weights_dir``
    models: Mapping[str, ModelSource] = field(default_factory=dict)
    # 2 or 4: the restored photo is then enlarged by the GAN upscaler (the last stage)
    scale: int = 1
    # the faces stage (after global restoration): every face found, cut from the photo as it
    # was before global restoration, aligned, restored by the restore-faces network and pasted
    # back into the restored photo. Opt-in here, like finish (the CLI's and the web page's
    # --faces auto turn it on whenever a restore-faces model is bundled or in --weights)
    faces: bool = False
    # 0: the faces of the whole-image result; 1: those of the face network; between: a blend
    face_strength: float = 1.0

    def __post_init__(self) -> None:
        for name in ("mask_threshold", "max_hole", "face_strength"):
            _check_range(name, getattr(self, name), 0.0, 1.0)
        if not isinstance(self.faces, bool):
            raise ValueError(f"faces must be True or False, got {self.faces!r}")
        if self.scale not in (1, 2, 4) or isinstance(self.scale, bool):
            raise ValueError(f"scale must be 1, 2 or 4, got {self.scale!r}")
        if self.classical_fill_width < 0:
            raise ValueError(f"classical_fill_width must be >= 0, got {self.classical_fill_width}")
        if self.tile is not None and self.tile < MIN_TILE:
            raise ValueError(f"tile must be at least {MIN_TILE} pixels, got {self.tile}")
        if self.memory_budget_mb is not None and self.memory_budget_mb <= 0:
            raise ValueError(f"memory_budget_mb must be positive, got {self.memory_budget_mb}")
        if self.monochrome not in (None, True, False):
            raise ValueError(f"monochrome must be True, False or None, got {self.monochrome!r}")
        if self.mask is not None:
            shape = np.shape(self.mask)
            if len(shape) not in (2, 3) or 0 in shape:
                raise ValueError(f"mask must be an H×W or H×W×C array, got shape {shape}")
        if unknown := sorted(set(self.models) - set(MODELS)):
            raise ValueError(f"models names unknown models {unknown}; known: {list(MODELS)}")
        for name, source in self.models.items():
            if not isinstance(source, str | os.PathLike | nn.Module):
                raise ValueError(
                    f"models[{name!r}] must be a path or an nn.Module, got {type(source).__name__}"
                )

    def check_mask(self, shape: tuple[int, ...]) -> None:
        """Raise ``ValueError`` unless the user's mask fits an image of ``shape``."""
        if self.mask is not None and np.shape(self.mask)[:2] != shape[:2]:
            mask_height, mask_width = np.shape(self.mask)[:2]
            raise ValueError(f"mask is {mask_width}×{mask_height}, image is {shape[1]}×{shape[0]}")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must lie in [{low}, {high}], got {value}")


@dataclass
class Context:
    """State passed along the stages: options, the damage mask, the faces found, a progress
    callback."""

    options: RestoreOptions
    mask: np.ndarray | None = None
    progress: Progress | None = None
    monochrome: bool = False
    models: dict[str, nn.Module] = field(default_factory=dict)
    faces: list[Face] | None = None  # set by the faces stage (each with its landmarks)
    # the working image as the enhance stage found it (float16), kept for the faces stage
    unenhanced: np.ndarray | None = None

    def model(self, name: str) -> nn.Module:
        """The network ``name``, loaded once per pipeline: ``options.models`` first, then
        ``options.weights_dir``, then the bundled models (:func:`daguerre.hub.load_network`)."""
        if name not in self.models:
            options = self.options
            self.models[name] = load_network(
                name,
                options.models.get(name),
                weights_dir=options.weights_dir,
                device=options.device,
            )
        return self.models[name]

    def report(self, stage: str) -> Callable[[int, int], None] | None:
        """A tile-progress callback for ``stage``, or None when nobody listens."""
        if self.progress is None:
            return None
        progress = self.progress
        return lambda done, total: progress(stage, done, total)


# a stage gets the pipeline's working image (float32 H×W×3, its to change in place) and
# returns the result, which may be that same array
Stage = Callable[[np.ndarray, Context], np.ndarray]


@dataclass(frozen=True)
class StageSpec:
    """A stage of the pipeline by name, and whether the options ask for it."""

    name: str
    run: Stage
    wanted: Callable[[RestoreOptions], bool]


@dataclass
class RestoreResult:
    """The restored image and the damage mask the pipeline used (None when none)."""

    image: np.ndarray
    mask: np.ndarray | None
