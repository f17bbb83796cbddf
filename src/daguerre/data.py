"""Training data: folders decoded once into memory, then cropped and aged on the fly.

Every sample is addressed by a key ``(epoch, index)`` and draws all its randomness
(crop, flip, scale, aging) from a generator seeded with ``(seed, epoch, index)``, so
a batch is the same whatever the number of loader workers, on every rank and after
a resume. :class:`StepSampler` turns a training step into the keys of its batch.

Datasets (``kind`` in :func:`build_data`):

* ``"aging"``: :class:`PairedAgingDataset`, clean crops pushed through
  :class:`~daguerre.aging.pipeline.AgingPipeline` → ``input`` (aged), ``target``
  (clean), ``mask`` (damage, 1×H×W), and with ``undamaged`` the aged crop without
  its structured damage; with ``shrink`` all of them are area-averaged by that factor
  after aging (a thumbnail of a full-size aging, for recipes that judge global tone); with
  ``canvas`` a larger piece is aged and the crop cut from it, so damage keeps its real size.
* ``"unpaired"``: :class:`UnpairedDataset`, independent crops ``a`` and ``b`` from
  two folders.
* ``"folder"``: :class:`FolderDataset`, crops ``image`` from one folder.
* ``"upscale"``: :class:`UpscaleDataset`, clean crops ``target`` and ``input``, the crop
  degraded by :class:`Degradation` (a Real-ESRGAN-like chain of our aging ops, twice) and
  shrunk ``factor`` times.
* ``"faces"``: :class:`FacesDataset`, aligned faces seen through a small random similarity
  (``target``, ``crop``² and colour-jittered, some made gray) and ``input``, that view pushed
  through :class:`FaceDegradation` (blur, downscale, noise, JPEG, sometimes aging).
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from daguerre.aging import ops
from daguerre.aging.pipeline import AgingPipeline
from daguerre.color import to_gray, to_rgb
from daguerre.image import ImageError, find_images, read

Key = tuple[int, int]
Sample = dict[str, torch.Tensor]

TRAIN_STREAM, VALIDATION_STREAM, ORDER_STREAM, CANVAS_STREAM = 0, 1, 2, 3


class DataError(ValueError):
    """A data folder cannot be used for training (missing, empty, no readable image)."""


class DataWarning(UserWarning):
    """A file in a data folder was skipped."""


def sample_rng(seed: int, stream: int, *key: int) -> np.random.Generator:
    """The generator of one sample: a pure function of the seed, a stream id and the key."""
    return np.random.default_rng([seed, stream, *key])


# --------------------------------------------------------------------------- images in memory


@dataclass(frozen=True)
class ImageCache:
    """The decoded images of a folder, kept as uint8 H×W×C arrays (C = ``channels``)."""

    folder: Path
    paths: tuple[Path, ...]
    images: tuple[np.ndarray, ...]

    def __len__(self) -> int:
        return len(self.images)

    @classmethod
    def load(
        cls,
        folder: str | Path,
        *,
        channels: int = 3,
        max_side: int | None = None,
        threads: int | None = None,
    ) -> ImageCache:
        """Decode every image of ``folder`` (sub-folders included) once.

        Images are converted to ``channels`` (1 or 3) and, with ``max_side``, shrunk
        so their longest side is at most ``max_side``. Unreadable files are skipped
        with one :class:`DataWarning` each; a folder without a readable image raises
        :class:`DataError`.
        """
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise DataError(f"{folder}: not a folder")
        paths = find_images(folder, recursive=True)
        if not paths:
            raise DataError(f"{folder}: no image files (expected .jpg, .png, .tif, ...)")
        decode = functools.partial(_decode, channels=channels, max_side=max_side)
        workers = threads or min(8, os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(decode, paths))
        kept_paths, images = [], []
        for path, result in zip(paths, results, strict=True):
            if isinstance(result, str):
                warnings.warn(f"{path}: skipped ({result})", DataWarning, stacklevel=2)
            else:
                kept_paths.append(Path(path))
                images.append(result)
        if not images:
            raise DataError(f"{folder}: none of its {len(paths)} image files could be read")
        return cls(folder, tuple(kept_paths), tuple(images))

    def subset(self, indices: Sequence[int]) -> ImageCache:
        """The images at ``indices``, in that order."""
        return ImageCache(
            self.folder,
            tuple(self.paths[i] for i in indices),
            tuple(self.images[i] for i in indices),
        )

    def hold_out(self, count: int, seed: int) -> tuple[ImageCache, ImageCache]:
        """Split into (rest, ``count`` held-out images chosen by ``seed``)."""
        order = sample_rng(seed, VALIDATION_STREAM).permutation(len(self))
        held = sorted(int(i) for i in order[:count])
        rest = sorted(int(i) for i in order[count:])
        return self.subset(rest), self.subset(held)


def _decode(path: Path, *, channels: int, max_side: int | None) -> np.ndarray | str:
    """One cached image (uint8 H×W×channels), or the reason it cannot be read."""
    try:
        pixels = read(path).pixels
    except ImageError as error:
        return error.reason
    pixels = to_gray(pixels) if channels == 1 else to_rgb(pixels)
    height, width = pixels.shape[:2]
    if max_side is not None and max(height, width) > max_side:
        factor = max_side / max(height, width)
        pixels = _resized(pixels, max(1, round(width * factor)), max(1, round(height * factor)))
    return np.clip(pixels * 255 + 0.5, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- crops


def _resized(
    pixels: np.ndarray, width: int, height: int, interpolation: int = cv2.INTER_AREA
) -> np.ndarray:
    """H×W×C ``pixels`` resized to ``height``×``width``, keeping the channel axis (cv2 drops
    it for one channel)."""
    out = cv2.resize(pixels, (width, height), interpolation=interpolation)
    return out.reshape(height, width, pixels.shape[2])


def shrink_bicubic(pixels: np.ndarray, factor: int) -> np.ndarray:
    """H×W×C float ``pixels`` shrunk ``factor``× by an antialiased bicubic (MATLAB's
    ``imresize``, the super-resolution convention), float32 (H and W: multiples of ``factor``)."""
    tensor = torch.from_numpy(np.ascontiguousarray(pixels, np.float32)).permute(2, 0, 1)[None]
    size = (pixels.shape[0] // factor, pixels.shape[1] // factor)
    small = torch.nn.functional.interpolate(
        tensor, size=size, mode="bicubic", align_corners=False, antialias=True
    )
    return np.ascontiguousarray(small[0].permute(1, 2, 0).numpy())


def _resize_square(region: np.ndarray, size: int) -> np.ndarray:
    if region.shape[0] == size and region.shape[1] == size:
        return region
    shrink = region.shape[0] > size
    return _resized(region, size, size, cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def random_crop(
    image: np.ndarray,
    size: int,
    rng: np.random.Generator,
    *,
    scale: tuple[float, float] = (1.0, 1.0),
    flip: bool = True,
) -> np.ndarray:
    """A random ``size``² crop as float32 in [0, 1].

    The image is seen at a random scale from ``scale`` (a crop of ``size / s`` source
    pixels resized to ``size``); images too small for that are used at the largest
    square that fits. ``flip`` mirrors half of the crops left-right.
    """
    height, width = image.shape[:2]
    side = max(1, min(round(size / rng.uniform(*scale)), height, width))
    top = int(rng.integers(0, height - side + 1))
    left = int(rng.integers(0, width - side + 1))
    region = _resize_square(image[top : top + side, left : left + side], size)
    if flip and rng.random() < 0.5:
        region = region[:, ::-1]
    return region.astype(np.float32) / 255


def center_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The central ``size``² square as float32 in [0, 1] (small images are enlarged)."""
    height, width = image.shape[:2]
    side = min(size, height, width)
    top, left = (height - side) // 2, (width - side) // 2
    region = _resize_square(image[top : top + side, left : left + side], size)
    return region.astype(np.float32) / 255


def to_chw(array: np.ndarray) -> torch.Tensor:
    """H×W×C float32 array → C×H×W tensor."""
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


# --------------------------------------------------------------------------- datasets


def _split_key(key: int | Key) -> Key:
    return (0, int(key)) if isinstance(key, (int, np.integer)) else (int(key[0]), int(key[1]))


class _CropDataset(Dataset):
    """Random crops of one cached folder, addressed by ``(epoch, index)`` keys."""

    def __init__(
        self,
        images: ImageCache,
        *,
        crop: int,
        scale: tuple[float, float] = (1.0, 1.0),
        flip: bool = True,
        seed: int = 0,
    ) -> None:
        self.images = images
        self.crop = crop
        self.scale = (float(scale[0]), float(scale[1]))
        self.flip = flip
        self.seed = seed

    def __len__(self) -> int:
        return len(self.images)

    def _crop(
        self, key: int | Key, size: int | None = None
    ) -> tuple[np.ndarray, np.random.Generator]:
        epoch, index = _split_key(key)
        rng = sample_rng(self.seed, TRAIN_STREAM, epoch, index)
        return self._cut(self.images.images[index], rng, size), rng

    def _cut(
        self, photo: np.ndarray, rng: np.random.Generator, size: int | None = None
    ) -> np.ndarray:
        """A random crop of ``photo`` with this dataset's scale and flip, ``size`` (default:
        the dataset's crop) a side."""
        return random_crop(photo, size or self.crop, rng, scale=self.scale, flip=self.flip)


class PairedAgingDataset(_CropDataset):
    """Clean crops aged on the fly: ``{"input": aged, "target": clean, "mask": 1×H×W}``.

    With ``undamaged`` the sample also holds ``"undamaged"``: the same aging without
    the structured damage (same seed, so tone, blur and grain match), for inpainting.
    With ``real`` (a folder of real old photos) it also holds ``"real"``: a random crop of
    one of them (shrunk like the rest), drawn by the sample's generator — an unpaired domain
    with no truth.

    The aging engine sizes damage by the picture it draws on (a scratch on a 512² photo is
    wider than on a 128² one). With ``canvas`` = (low, high) a square piece of a side drawn
    from that range is aged and the ``crop`` cut from it at random: a tile of a larger photo,
    its damage as wide as on that photo, as the pipeline meets it.
    """

    def __init__(
        self,
        images: ImageCache,
        *,
        crop: int,
        preset: str | Sequence[str] = "moderate",
        damage: bool = True,
        undamaged: bool = False,
        shrink: int = 1,
        real: ImageCache | None = None,
        canvas: tuple[int, int] | None = None,
        scale: tuple[float, float] = (1.0, 1.0),
        flip: bool = True,
        seed: int = 0,
    ) -> None:
        super().__init__(images, crop=crop, scale=scale, flip=flip, seed=seed)
        if canvas is not None and not (shrink == 1 and crop <= canvas[0] <= canvas[1]):
            raise ValueError(f"canvas must be (low, high) with {crop} <= low <= high, shrink 1")
        self.aging = Aging(preset, damage=damage, undamaged=undamaged, shrink=shrink)
        self.real = real
        self.canvas = canvas

    def __getitem__(self, key: int | Key) -> Sample:
        if self.canvas is None:
            clean, rng = self._crop(key)
            sample = self.aging(clean, rng)
        else:
            side = int(
                sample_rng(self.seed, CANVAS_STREAM, *_split_key(key)).integers(
                    self.canvas[0], self.canvas[1] + 1
                )
            )
            piece, rng = self._crop(key, side)
            top, left = (int(v) for v in rng.integers(0, side - self.crop + 1, size=2))
            sample = window(self.aging(piece, rng), top, left, self.crop)
        if self.real is not None:
            photo = self.real.images[int(rng.integers(len(self.real)))]
            sample["real"] = to_chw(self.aging.shrunk(self._cut(photo, rng)))
        return sample


class Aging:
    """Turns a clean crop into a training sample with :class:`AgingPipeline`.

    With several presets each sample draws one (uniformly, from its own RNG). With ``shrink``
    the sample's images are area-averaged by that factor after aging.
    """

    def __init__(
        self, preset: str | Sequence[str], *, damage: bool, undamaged: bool, shrink: int = 1
    ) -> None:
        self.shrink = shrink
        presets = [preset] if isinstance(preset, str) else list(preset)
        self.pipelines = [AgingPipeline(name, damage=damage) for name in presets]
        self.undamaged = (
            [AgingPipeline(name, damage=False) for name in presets] if undamaged else None
        )

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> Sample:
        choice = int(rng.integers(len(self.pipelines))) if len(self.pipelines) > 1 else 0
        seed = int(rng.integers(0, 2**63))
        result = self.pipelines[choice](clean, seed)
        sample = {
            "input": to_chw(self.shrunk(result.aged)),
            "target": to_chw(self.shrunk(result.clean)),
            "mask": to_chw(self.shrunk(result.mask.astype(np.float32)[..., None])),
        }
        if self.undamaged is not None:
            sample["undamaged"] = to_chw(self.shrunk(self.undamaged[choice](clean, seed).aged))
        return sample

    def shrunk(self, pixels: np.ndarray) -> np.ndarray:
        """H×W×C ``pixels`` area-averaged by ``shrink`` (unchanged when it is 1)."""
        if self.shrink == 1:
            return pixels
        height, width = pixels.shape[:2]
        return _resized(pixels, width // self.shrink, height // self.shrink)


def window(sample: Sample, top: int, left: int, size: int) -> Sample:
    """The ``size``² window at (``top``, ``left``) of every C×H×W image of ``sample``."""
    return {
        name: image[:, top : top + size, left : left + size].contiguous()
        for name, image in sample.items()
    }


class Degradation:
    """What a low-resolution photo went through, for super-resolution pairs (Real-ESRGAN's
    "second-order" model, built from :mod:`daguerre.aging.ops`).

    ``"real"``: a first round at full size (anisotropic Gaussian blur, down-up resampling,
    Gaussian or Poisson noise, JPEG), the shrink by ``factor`` (area, bilinear or bicubic, drawn),
    then a milder second round at the small size (blur, noise, JPEG); each round applies its ops
    with their own probabilities in an order drawn afresh. A share ``clean_p`` of the samples is
    only shrunk (antialiased bicubic, :func:`shrink_bicubic`), so clean inputs are not mistaken
    for damaged ones. ``strength`` (0–1] scales both rounds (blur radius, noise, JPEG loss):
    below 1 the inputs are milder, and a model trained on them mistakes less of a photo's own
    softness (a defocused background) for damage. ``"bicubic"``: the shrink alone. Every draw
    comes from the sample's generator.
    """

    KINDS = ("real", "bicubic")
    FIRST: ClassVar[Mapping[str, float]] = {
        "blur": 0.8,
        "resample": 0.4,
        "noise": 0.7,
        "jpeg": 0.6,
    }  # probability of each op
    SECOND: ClassVar[Mapping[str, float]] = {"blur": 0.5, "noise": 0.5, "jpeg": 0.7}
    SHRINK = (cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_CUBIC)

    def __init__(
        self, kind: str = "real", *, factor: int = 4, clean_p: float = 0.1, strength: float = 1.0
    ) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown degradation {kind!r}; expected one of {self.KINDS}")
        if factor < 1:
            raise ValueError(f"factor must be >= 1, got {factor}")
        if not 0.0 < strength <= 1.0:
            raise ValueError(f"strength must lie in (0, 1], got {strength}")
        self.kind, self.factor, self.clean_p, self.strength = kind, factor, clean_p, strength

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The low-resolution input for a clean H×W×C crop (H and W multiples of ``factor``)."""
        height, width = clean.shape[:2]
        size = (width // self.factor, height // self.factor)
        if self.kind == "bicubic" or rng.random() < self.clean_p:
            return shrink_bicubic(clean, self.factor).clip(0.0, 1.0)
        image = self._round(clean, rng, self.FIRST, strength=self.strength)
        image = _resized(image, *size, self.SHRINK[int(rng.integers(len(self.SHRINK)))])
        image = self._round(image.clip(0.0, 1.0), rng, self.SECOND, strength=0.5 * self.strength)
        return image

    def _round(
        self,
        image: np.ndarray,
        rng: np.random.Generator,
        chances: dict[str, float],
        strength: float,
    ) -> np.ndarray:
        """One round: each op of ``chances`` with its probability, in a random order."""
        names = list(chances)
        for index in rng.permutation(len(names)):
            name = names[int(index)]
            if rng.random() < chances[name]:
                image = self._op(name, image, rng, strength)
        return image

    @staticmethod
    def _op(name: str, image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
        if name == "blur":
            sigma = float(rng.uniform(0.3, 0.3 + 2.7 * strength))
            ratio = 1.0 if rng.random() < 0.5 else float(rng.uniform(0.3, 1.0))  # 1: isotropic
            return ops.gaussian_blur(image, rng, sigma=sigma, ratio=ratio)
        if name == "resample":
            return ops.resample(image, rng, scale=float(rng.uniform(0.5, 0.9)))
        if name == "noise":
            if rng.random() < 0.6:
                return ops.gaussian_noise(
                    image, rng, sigma=float(rng.uniform(0.004, 0.1 * strength))
                )
            return ops.poisson_noise(image, rng, peak=10.0 ** rng.uniform(1.5 + strength, 3.5))
        if name == "jpeg":
            return ops.jpeg(image, rng, quality=int(rng.integers(30 + 40 * (1 - strength), 96)))
        raise ValueError(f"unknown degradation op {name!r}")


class UpscaleDataset(_CropDataset):
    """Super-resolution pairs: ``{"input": degraded crop shrunk by factor, "target": crop}``."""

    def __init__(
        self,
        images: ImageCache,
        *,
        crop: int,
        degradation: Degradation,
        scale: tuple[float, float] = (1.0, 1.0),
        flip: bool = True,
        seed: int = 0,
    ) -> None:
        if crop % degradation.factor:
            raise ValueError(f"crop {crop} is not a multiple of factor {degradation.factor}")
        super().__init__(images, crop=crop, scale=scale, flip=flip, seed=seed)
        self.degradation = degradation

    def __getitem__(self, key: int | Key) -> Sample:
        clean, rng = self._crop(key)
        return {"input": to_chw(self.degradation(clean, rng)), "target": to_chw(clean)}


class FaceDegradation:
    """What a face in an old photo went through, for face-restoration pairs (after GFPGAN's
    degradation model, built from :mod:`daguerre.aging.ops`).

    Sizes are in pixels of a ``reference``² aligned face (512: FFHQ's), whatever the crop's side,
    so a σ 8 blur means the same face softness on a 256² crop (σ 4 there). In order, each with
    its own probability: sometimes an :class:`AgingPipeline` preset of ``presets`` first (fading,
    casts, structured damage: what the print went through); Gaussian blur, always (σ
    log-uniform from 1 to ``blur``, a fifth anisotropic); a shrink to ``reference / f`` pixels
    (``f`` log-uniform in [1, ``downscale``]; nothing when that is no smaller than the crop);
    Gaussian or Poisson noise (σ up to ``noise``); JPEG (``jpeg`` quality range); then back up
    to the crop's size. A share
    ``clean_p`` is left as it is, so clean faces are not mistaken for damaged ones. Gray crops
    stay gray. Every draw comes from the sample's generator.
    """

    P: ClassVar[Mapping[str, float]] = {"blur": 1.0, "shrink": 0.8, "noise": 0.7, "jpeg": 0.7}
    DOWN = (cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_CUBIC)
    UP = (cv2.INTER_LINEAR, cv2.INTER_CUBIC)

    def __init__(
        self,
        *,
        blur: float = 8.0,
        downscale: float = 8.0,
        noise: float = 20 / 255,
        jpeg: tuple[int, int] = (30, 95),
        presets: Sequence[str] = ("light", "moderate"),
        damage: bool = True,
        aging_p: float = 0.25,
        clean_p: float = 0.05,
        reference: int = 512,
    ) -> None:
        if blur < 0 or downscale < 1 or noise < 0:
            raise ValueError(
                f"need blur >= 0, downscale >= 1 and noise >= 0; got {blur}, {downscale}, {noise}"
            )
        if not 1 <= jpeg[0] <= jpeg[1] <= 100:
            raise ValueError(f"jpeg must be a quality range within [1, 100], got {jpeg}")
        for name, p in (("aging_p", aging_p), ("clean_p", clean_p)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {p}")
        self.blur, self.downscale, self.noise = float(blur), float(downscale), float(noise)
        self.jpeg = (int(jpeg[0]), int(jpeg[1]))
        self.aging = [AgingPipeline(name, damage=damage) for name in presets]
        self.aging_p, self.clean_p, self.reference = aging_p, clean_p, reference

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The degraded version of a clean H×W×C float32 face crop (same shape)."""
        height, width = clean.shape[:2]
        if rng.random() < self.clean_p:
            return clean.copy()
        gray = ops.is_neutral(clean)
        image = clean
        if self.aging and rng.random() < self.aging_p:
            pipeline = self.aging[int(rng.integers(len(self.aging)))]
            image = pipeline(image, int(rng.integers(0, 2**63))).aged
        units = width / self.reference  # crop pixels per reference pixel
        if rng.random() < self.P["blur"] and self.blur > 0:
            low = min(1.0, self.blur)  # σ 1 at 512²: just visible; untouched faces are clean_p's
            sigma = units * float(np.exp(rng.uniform(np.log(low), np.log(self.blur))))
            ratio = 1.0 if rng.random() < 0.8 else float(rng.uniform(0.4, 1.0))
            image = ops.gaussian_blur(image, rng, sigma=sigma, ratio=ratio)
        side = width
        if rng.random() < self.P["shrink"]:
            side = round(self.reference / float(np.exp(rng.uniform(0.0, np.log(self.downscale)))))
        if side < width:
            size = (max(4, side), max(4, round(side * height / width)))
            image = _resized(image, *size, self.DOWN[int(rng.integers(len(self.DOWN)))])
            image = image.clip(0.0, 1.0)
        if rng.random() < self.P["noise"] and self.noise > 0:
            if rng.random() < 0.7:
                sigma = float(rng.uniform(0.0, self.noise))
                image = ops.gaussian_noise(image, rng, sigma=sigma, mono=gray or None)
            else:
                peak = 10.0 ** float(rng.uniform(1.5, 3.0))
                image = ops.poisson_noise(image, rng, peak=peak, mono=gray or None)
        if rng.random() < self.P["jpeg"]:
            quality = int(rng.integers(self.jpeg[0], self.jpeg[1] + 1))
            image = ops.jpeg(image.clip(0.0, 1.0), rng, quality=quality)
        if image.shape[:2] != (height, width):
            image = _resized(image, width, height, self.UP[int(rng.integers(len(self.UP)))])
        image = np.clip(image, 0.0, 1.0)
        if gray and image.shape[2] == 3 and np.ptp(image, axis=2).max() > 0:
            image = to_rgb(to_gray(image))  # gray faces stay gray, whatever aging or JPEG did
        return np.ascontiguousarray(image, np.float32)


def face_view(
    face: np.ndarray,
    size: int,
    rng: np.random.Generator | None = None,
    *,
    rotation: float = 0.0,
    scale: tuple[float, float] = (1.0, 1.0),
    shift: float = 0.0,
    flip: bool = False,
) -> np.ndarray:
    """A ``size``² float32 view of an aligned face (uint8 H×W×C, H = W), as float in [0, 1].

    Without ``rng`` the face is only resized (the canonical crop: the template's points stay
    on the template). With it, the view is turned by up to ``rotation`` degrees, zoomed by a
    factor in ``scale`` and moved by up to ``shift`` of the side around the crop's centre —
    the errors alignment makes — and mirrored half of the time with ``flip``. Outside the
    photo the view mirrors it.
    """
    side = face.shape[1]
    k = size / side
    angle, zoom, dx, dy, mirror = 0.0, 1.0, 0.0, 0.0, False
    if rng is not None:
        angle = float(rng.uniform(-rotation, rotation))
        zoom = float(rng.uniform(*scale))
        dx, dy = (float(v) for v in rng.uniform(-shift, shift, 2) * size)
        mirror = flip and bool(rng.random() < 0.5)
    # the plain resize takes pixel centres x to k·x + (k - 1)/2; the jitter turns and zooms
    # that about the crop's centre c, then shifts it: zoom·R·(k·x + (k - 1)/2 - c) + c + d
    center = (size - 1) / 2
    theta = np.deg2rad(angle)
    turn = zoom * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    offset = turn @ np.full(2, (k - 1) / 2 - center) + center + (dx, dy)
    matrix = np.hstack([k * turn, offset[:, None]])
    if mirror:
        matrix[0] = -matrix[0]
        matrix[0, 2] += size - 1
    pixels = face.astype(np.float32) / 255
    zoomed = zoom * k
    if zoomed < 0.8:  # anti-alias a shrinking warp
        pixels = cv2.GaussianBlur(pixels, (0, 0), 0.45 * np.sqrt(1.0 / zoomed**2 - 1.0))
    out = cv2.warpAffine(
        pixels, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )
    return np.clip(out.reshape(size, size, face.shape[2]), 0.0, 1.0)


def color_jitter(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Brightness, contrast and saturation changed by up to ``strength`` (a fraction), each
    drawn from ``rng``; gray images stay gray."""
    brightness, contrast, saturation = (1.0 + rng.uniform(-strength, strength, 3)).astype(
        np.float32
    )
    out = image * brightness
    mean = float(out.mean())
    out = (out - mean) * contrast + mean
    if out.shape[2] == 3:
        gray = to_gray(out)
        out = gray + (out - gray) * saturation
    return np.clip(out, 0.0, 1.0).astype(np.float32)


class FacesDataset(_CropDataset):
    """Face-restoration pairs: ``{"input": degraded view, "target": clean view}``.

    Each aligned face (``images``, square) is seen through :func:`face_view` with a random
    similarity (``rotation`` degrees, zoom ``scale``, ``shift`` of the side) and ``flip``, its
    colours jittered by up to ``color`` with probability one half, and made gray with
    probability ``gray_p`` (input and target: gray faces stay gray); the input is that view
    through ``degradation``. With ``patch`` (< ``crop``) the pair is a random ``patch``² window
    of the degraded view: training sees faces at the size inference does, for less work.
    """

    def __init__(
        self,
        images: ImageCache,
        *,
        crop: int,
        degradation: FaceDegradation,
        rotation: float = 8.0,
        scale: tuple[float, float] = (0.9, 1.1),
        shift: float = 0.03,
        flip: bool = True,
        color: float = 0.2,
        gray_p: float = 0.3,
        patch: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(images, crop=crop, scale=scale, flip=flip, seed=seed)
        if patch < 0 or patch > crop:
            raise ValueError(f"patch must be 0 (whole view) or at most crop={crop}, got {patch}")
        self.degradation = degradation
        self.rotation, self.shift, self.color, self.gray_p = rotation, shift, color, gray_p
        self.patch = patch

    def __getitem__(self, key: int | Key) -> Sample:
        epoch, index = _split_key(key)
        rng = sample_rng(self.seed, TRAIN_STREAM, epoch, index)
        clean = face_view(
            self.images.images[index],
            self.crop,
            rng,
            rotation=self.rotation,
            scale=self.scale,
            shift=self.shift,
            flip=self.flip,
        )
        if self.color and rng.random() < 0.5:
            clean = color_jitter(clean, rng, self.color)
        if clean.shape[2] == 3 and rng.random() < self.gray_p:
            clean = to_rgb(to_gray(clean))
        clean = np.ascontiguousarray(clean, np.float32)
        degraded = self.degradation(clean, rng)
        if self.patch and self.patch < self.crop:
            y, x = (int(v) for v in rng.integers(0, self.crop - self.patch + 1, 2))
            window = np.s_[y : y + self.patch, x : x + self.patch]
            degraded, clean = degraded[window], clean[window]
        return {"input": to_chw(degraded), "target": to_chw(clean)}


class FolderDataset(_CropDataset):
    """Plain random crops: ``{"image": C×H×W}``."""

    def __getitem__(self, key: int | Key) -> Sample:
        return {"image": to_chw(self._crop(key)[0])}


class UnpairedDataset(Dataset):
    """Independent random crops from two folders: ``{"a": ..., "b": ...}``.

    Index ``i`` walks folder A (modulo its size); the B image is drawn at random by
    the sample's generator, as in CycleGAN.
    """

    def __init__(
        self,
        a: ImageCache,
        b: ImageCache,
        *,
        crop: int,
        scale: tuple[float, float] = (1.0, 1.0),
        flip: bool = True,
        seed: int = 0,
    ) -> None:
        self.a, self.b = a, b
        self.crop = crop
        self.scale = (float(scale[0]), float(scale[1]))
        self.flip = flip
        self.seed = seed

    def __len__(self) -> int:
        return max(len(self.a), len(self.b))

    def __getitem__(self, key: int | Key) -> Sample:
        epoch, index = _split_key(key)
        rng = sample_rng(self.seed, TRAIN_STREAM, epoch, index)
        image_a = self.a.images[index % len(self.a)]
        image_b = self.b.images[int(rng.integers(len(self.b)))]
        options = {"scale": self.scale, "flip": self.flip}
        return {
            "a": to_chw(random_crop(image_a, self.crop, rng, **options)),
            "b": to_chw(random_crop(image_b, self.crop, rng, **options)),
        }


# --------------------------------------------------------------------------- validation


def aging_validation(
    images: ImageCache,
    *,
    crop: int,
    preset: str | Sequence[str] = "moderate",
    damage: bool = True,
    undamaged: bool = False,
    shrink: int = 1,
    canvas: tuple[int, int] | None = None,
    seed: int = 0,
) -> list[Sample]:
    """Fixed pairs: the centre crop of each image, aged once with a seed per image.

    With ``canvas`` = (low, high) the centre square of their mean side is aged and the crop
    is its centre (see :class:`PairedAgingDataset`).
    """
    aging = Aging(preset, damage=damage, undamaged=undamaged, shrink=shrink)
    side = crop if canvas is None else sum(canvas) // 2
    offset = (side - crop) // 2
    return [
        window(
            aging(center_crop(image, side), sample_rng(seed, VALIDATION_STREAM, index)),
            offset,
            offset,
            crop,
        )
        for index, image in enumerate(images.images)
    ]


def center_validation(crop: int, **folders: ImageCache) -> list[Sample]:
    """Centre crops under the given names, one sample per image (smaller folders cycle)."""
    count = max(len(cache) for cache in folders.values())
    return [
        {
            name: to_chw(center_crop(cache.images[index % len(cache)], crop))
            for name, cache in folders.items()
        }
        for index in range(count)
    ]


def _degraded_pairs(
    views: Iterable[np.ndarray], degradation: Degradation | FaceDegradation, seed: int
) -> list[Sample]:
    """Fixed pairs: each clean view (``target``) degraded once, seeded by its index (``input``)."""
    pairs = []
    for index, clean in enumerate(views):
        degraded = degradation(clean, sample_rng(seed, VALIDATION_STREAM, index))
        pairs.append({"input": to_chw(degraded), "target": to_chw(clean)})
    return pairs


def upscale_validation(
    images: ImageCache, *, crop: int, degradation: Degradation, seed: int = 0
) -> list[Sample]:
    """Fixed pairs: the centre crop of each image, degraded once with a seed per image."""
    return _degraded_pairs((center_crop(image, crop) for image in images.images), degradation, seed)


def faces_validation(
    images: ImageCache, *, crop: int, degradation: FaceDegradation, seed: int = 0
) -> list[Sample]:
    """Fixed pairs: each face's canonical view, degraded once with a seed per face."""
    return _degraded_pairs((face_view(face, crop) for face in images.images), degradation, seed)


def batches(samples: Sequence[Sample], batch_size: int) -> list[Sample]:
    """Stack samples into batches of at most ``batch_size``."""
    return [
        {name: torch.stack([s[name] for s in samples[i : i + batch_size]]) for name in samples[i]}
        for i in range(0, len(samples), batch_size)
    ]


# --------------------------------------------------------------------------- building from config


@dataclass(frozen=True)
class DataBundle:
    """A training dataset, its fixed validation samples and the folders they came from.

    ``folders`` maps data keys to folders (a validation set held out of the training
    folder says so), for model cards.
    """

    train: Dataset
    val: list[Sample]
    folders: dict[str, str]


def _load(cfg: Mapping[str, Any], key: str) -> ImageCache:
    if not cfg.get(key):
        raise DataError(f"no folder for data.{key}: set it in the config or pass --data")
    return ImageCache.load(cfg[key], channels=cfg["channels"], max_side=cfg["max_side"])


def _describe(train: ImageCache, val: ImageCache) -> str:
    """Where validation images come from, in words."""
    if val.folder != train.folder:
        return str(val.folder)
    shared = set(val.paths) & set(train.paths)
    kind = "also used for training" if shared else "held out of training"
    return f"{val.folder} ({len(val)} images {kind})"


def _train_and_val(
    cfg: Mapping[str, Any], train_key: str, val_key: str, seed: int
) -> tuple[ImageCache, ImageCache]:
    """The training images of ``cfg[train_key]`` and at most ``val_count`` validation images.

    Without a validation folder, ``val_count`` images (at most a fifth) are held out
    of the training folder; a folder too small for that validates on its own images.
    """
    train = _load(cfg, train_key)
    count = cfg["val_count"]
    if cfg.get(val_key):
        val = _load(cfg, val_key)
        return train, val.subset(range(min(count, len(val))))
    held = min(count, len(train) // 5)
    if held:
        return train.hold_out(held, seed)
    return train, train.subset(range(min(count, len(train))))


def _crop_options(cfg: Mapping[str, Any], seed: int) -> dict[str, Any]:
    return {"crop": cfg["crop"], "scale": tuple(cfg["scale"]), "flip": cfg["flip"], "seed": seed}


def _build_aging(cfg: Mapping[str, Any], seed: int) -> DataBundle:
    train, val = _train_and_val(cfg, "train", "val", seed)
    real = _load(cfg, "real") if cfg.get("real") else None
    aging = {key: cfg[key] for key in ("preset", "damage", "undamaged", "shrink")}
    canvas = tuple(cfg["canvas"]) if cfg.get("canvas") else None
    folders = {"train": str(train.folder), "val": _describe(train, val)}
    if real is not None:
        folders["real"] = str(real.folder)
    return DataBundle(
        PairedAgingDataset(train, **aging, real=real, canvas=canvas, **_crop_options(cfg, seed)),
        aging_validation(val, crop=cfg["val_crop"], canvas=canvas, seed=seed, **aging),
        folders,
    )


def _build_unpaired(cfg: Mapping[str, Any], seed: int) -> DataBundle:
    train_a, val_a = _train_and_val(cfg, "train_a", "val_a", seed)
    train_b = _load(cfg, "train_b")
    return DataBundle(
        UnpairedDataset(train_a, train_b, **_crop_options(cfg, seed)),
        center_validation(cfg["val_crop"], a=val_a),
        {
            "train_a": str(train_a.folder),
            "train_b": str(train_b.folder),
            "val_a": _describe(train_a, val_a),
        },
    )


def _build_folder(cfg: Mapping[str, Any], seed: int) -> DataBundle:
    train, val = _train_and_val(cfg, "train", "val", seed)
    return DataBundle(
        FolderDataset(train, **_crop_options(cfg, seed)),
        center_validation(cfg["val_crop"], image=val),
        {"train": str(train.folder), "val": _describe(train, val)},
    )


def _build_upscale(cfg: Mapping[str, Any], seed: int) -> DataBundle:
    train, val = _train_and_val(cfg, "train", "val", seed)
    degradation = Degradation(
        cfg["degradation"], factor=cfg["factor"], clean_p=cfg["clean_p"], strength=cfg["strength"]
    )
    return DataBundle(
        UpscaleDataset(train, degradation=degradation, **_crop_options(cfg, seed)),
        upscale_validation(val, crop=cfg["val_crop"], degradation=degradation, seed=seed),
        {"train": str(train.folder), "val": _describe(train, val)},
    )


def face_degradation(cfg: Mapping[str, Any]) -> FaceDegradation:
    """The :class:`FaceDegradation` of a ``data`` config section of kind ``"faces"``."""
    return FaceDegradation(
        blur=cfg["blur"],
        downscale=cfg["downscale"],
        noise=cfg["noise"],
        jpeg=tuple(cfg["jpeg"]),
        presets=cfg["preset"],
        damage=cfg["damage"],
        aging_p=cfg["aging_p"],
        clean_p=cfg["clean_p"],
        reference=cfg["reference"],
    )


def _build_faces(cfg: Mapping[str, Any], seed: int) -> DataBundle:
    train, val = _train_and_val(cfg, "train", "val", seed)
    degradation = face_degradation(cfg)
    jitter = {key: cfg[key] for key in ("rotation", "shift", "color", "gray_p", "patch")}
    # validation faces are all degraded: an untouched one would score an infinite PSNR
    validation = face_degradation({**cfg, "clean_p": 0.0})
    return DataBundle(
        FacesDataset(train, degradation=degradation, **jitter, **_crop_options(cfg, seed)),
        faces_validation(val, crop=cfg["val_crop"], degradation=validation, seed=seed),
        {"train": str(train.folder), "val": _describe(train, val)},
    )


DATA_KINDS = {
    "aging": _build_aging,
    "unpaired": _build_unpaired,
    "folder": _build_folder,
    "upscale": _build_upscale,
    "faces": _build_faces,
}


def build_data(kind: str, cfg: Mapping[str, Any], seed: int = 0) -> DataBundle:
    """Build the dataset of ``kind`` from a ``data`` config section (see docs/training.md)."""
    if kind not in DATA_KINDS:
        raise ValueError(f"unknown data kind {kind!r}; expected one of {sorted(DATA_KINDS)}")
    return DATA_KINDS[kind](cfg, seed)


# --------------------------------------------------------------------------- sampling and loading


class StepSampler(Sampler[list[Key]]):
    """Batches of sample keys for steps ``start_step .. steps - 1`` of one rank.

    The sample stream is an endless sequence of epochs, each a permutation of the
    dataset drawn from ``(seed, epoch)``. Step ``s`` takes the global samples
    ``[s·B·W, (s+1)·B·W)`` (``B`` per-rank batch, ``W`` ranks) and rank ``r`` the
    ``r``-th slice of ``B``; so data order depends only on the step, never on when
    the run started or how many loader workers there are.
    """

    def __init__(
        self,
        size: int,
        batch_size: int,
        *,
        steps: int,
        start_step: int = 0,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if size < 1 or batch_size < 1:
            raise ValueError(f"need a non-empty dataset and batch, got {size} and {batch_size}")
        self.size = size
        self.batch_size = batch_size
        self.steps = steps
        self.start_step = start_step
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self._orders: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return max(0, self.steps - self.start_step)

    def _order(self, epoch: int) -> np.ndarray:
        """The permutation of ``epoch``; the last two are kept, the span of a usual batch."""
        if epoch not in self._orders:
            if len(self._orders) >= 2:
                del self._orders[min(self._orders)]
            self._orders[epoch] = sample_rng(self.seed, ORDER_STREAM, epoch).permutation(self.size)
        return self._orders[epoch]

    def keys(self, step: int) -> list[Key]:
        """The keys of this rank's batch at ``step``."""
        first = (step * self.world_size + self.rank) * self.batch_size
        keys = []
        for number in range(first, first + self.batch_size):
            epoch, position = divmod(number, self.size)
            keys.append((epoch, int(self._order(epoch)[position])))
        return keys

    def __iter__(self) -> Iterator[list[Key]]:
        for step in range(self.start_step, self.steps):
            yield self.keys(step)


def make_loader(
    dataset: Dataset, sampler: StepSampler, *, workers: int = 0, pin_memory: bool = False
) -> DataLoader:
    """A DataLoader yielding one batch per step of ``sampler`` (``workers`` = 0 loads inline).

    Workers are forked (on Linux) and share the decoded images; torch gives each one
    thread. OpenCV's thread count is left alone: changing it in a forked child can
    deadlock on the parent's thread pool.
    """
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        pin_memory=pin_memory,
        # A private generator keeps the loader from drawing on the global torch RNG.
        generator=torch.Generator().manual_seed(sampler.seed),
        prefetch_factor=4 if workers else None,
    )
