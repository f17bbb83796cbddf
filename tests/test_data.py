"""Training data: caching, crops, aging on the fly, determinism, sharding, bad folders."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from daguerre import image
from daguerre.aging import DamageStep, Preset
from daguerre.data import (
    DataError,
    DataWarning,
    ImageCache,
    PairedAgingDataset,
    StepSampler,
    UnpairedDataset,
    build_data,
    make_loader,
    random_crop,
)
from daguerre.training.config import DEFAULTS, ConfigError, resolve


def write_shapes(folder: Path, count: int, size: tuple[int, int] = (64, 80), seed: int = 0) -> Path:
    """``count`` PNGs of smooth shapes on gradients (H×W = ``size``), for tests."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    height, width = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    for index in range(count):
        low, high = rng.uniform(0, 1, (2, 3))
        angle = rng.uniform(0, np.pi)
        ramp = (xs * np.cos(angle) + ys * np.sin(angle)) / (height + width)
        picture = low + (high - low) * ramp[..., None]
        for _ in range(3):
            center = (int(rng.integers(width)), int(rng.integers(height)))
            radius = int(rng.integers(6, height // 2))
            cv2.circle(picture, center, radius, rng.uniform(0, 1, 3).tolist(), -1)
        picture = cv2.GaussianBlur(picture.astype(np.float32), (0, 0), 1.5)
        image.write(folder / f"shape_{index:02d}.png", np.clip(picture, 0, 1))
    return folder


def data_config(**changes: object) -> dict:
    return {**DEFAULTS["data"], "crop": 32, "val_crop": 32, "workers": 0, **changes}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_shapes(tmp_path_factory.mktemp("shapes"), 10)


@pytest.fixture(scope="module")
def cache(shapes: Path) -> ImageCache:
    return ImageCache.load(shapes)


def test_cache_decodes_once_to_uint8_and_shrinks(shapes: Path, cache: ImageCache) -> None:
    assert len(cache) == 10
    assert all(im.dtype == np.uint8 and im.shape == (64, 80, 3) for im in cache.images)
    gray = ImageCache.load(shapes, channels=1, max_side=40)
    assert {im.shape for im in gray.images} == {(32, 40, 1)}
    # Shrinking averages pixels: the small image is close to the big one resized.
    luma = cache.images[0].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    small = cv2.resize(luma, (40, 32), interpolation=cv2.INTER_AREA)
    assert np.abs(gray.images[0][..., 0].astype(np.float32) - small).mean() < 1.5


def test_unreadable_files_are_skipped_with_one_warning_each(tmp_path: Path) -> None:
    folder = write_shapes(tmp_path / "mixed", 2)
    (folder / "broken.jpg").write_bytes(b"not a jpeg at all")
    (folder / "notes.txt").write_text("ignored: not an image suffix")
    with pytest.warns(DataWarning) as caught:
        loaded = ImageCache.load(folder)
    assert len(loaded) == 2
    assert [str(w.message).split(":")[0] for w in caught] == [str(folder / "broken.jpg")]


@pytest.mark.parametrize("case", ["missing", "empty", "no_images", "all_broken"])
def test_bad_folders_are_clear_errors(tmp_path: Path, case: str) -> None:
    folder = tmp_path / case
    if case != "missing":
        folder.mkdir()
    if case == "no_images":
        (folder / "readme.txt").write_text("hello")
    if case == "all_broken":
        (folder / "a.png").write_bytes(b"\x89PNG broken")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DataError, match=re.escape(str(folder))):
            ImageCache.load(folder)
    assert len(caught) == (1 if case == "all_broken" else 0)


def test_missing_training_folder_in_config_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"data\.train"):
        build_data("aging", data_config(train=None))


def test_random_crop_scale_and_flip() -> None:
    ramp = np.tile(np.arange(256, dtype=np.uint8), (64, 1))[..., None]  # value = x coordinate
    rng = np.random.default_rng(0)

    def span(crop: np.ndarray) -> float:
        return float(crop[0, -1, 0] - crop[0, 0, 0]) * 255

    assert span(random_crop(ramp, 16, rng, flip=False)) == pytest.approx(15, abs=0.5)
    # At scale 0.5, 32 source pixels are squeezed into 16.
    assert span(random_crop(ramp, 16, rng, scale=(0.5, 0.5), flip=False)) == pytest.approx(
        30, abs=2
    )
    mirrored = [span(random_crop(ramp, 16, rng)) < 0 for _ in range(30)]
    assert 5 < sum(mirrored) < 25


def test_paired_aging_samples_are_deterministic_per_key(cache: ImageCache) -> None:
    dataset = PairedAgingDataset(cache, crop=32, preset="moderate", scale=(0.5, 1.0), seed=3)
    sample = dataset[(2, 5)]
    assert set(sample) == {"input", "target", "mask"}
    assert sample["input"].shape == sample["target"].shape == (3, 32, 32)
    assert sample["mask"].shape == (1, 32, 32)
    assert sample["input"].dtype == torch.float32
    assert float(sample["target"].min()) >= 0 and float(sample["target"].max()) <= 1
    assert not torch.equal(sample["input"], sample["target"])  # aged
    again = dataset[(2, 5)]
    assert all(torch.equal(sample[k], again[k]) for k in sample)
    other_epoch = dataset[(3, 5)]
    assert not torch.equal(sample["target"], other_epoch["target"])


def test_shrunk_samples_are_the_full_size_aging_area_averaged(cache: ImageCache) -> None:
    full = PairedAgingDataset(cache, crop=48, preset="heavy", undamaged=True, seed=4)
    shrunk = PairedAgingDataset(cache, crop=48, preset="heavy", undamaged=True, shrink=4, seed=4)
    big, small = full[(1, 2)], shrunk[(1, 2)]
    assert set(small) == set(big)
    for key in big:
        assert small[key].shape == (big[key].shape[0], 12, 12)
        averaged = torch.nn.functional.avg_pool2d(big[key][None], 4)[0]
        torch.testing.assert_close(small[key], averaged, atol=1e-5, rtol=0)


def test_undamaged_twin_differs_only_where_damage_was_drawn(cache: ImageCache) -> None:
    dataset = PairedAgingDataset(cache, crop=48, preset="heavy", undamaged=True, seed=2)
    samples = [dataset[(0, index)] for index in range(len(cache))]
    damaged = [s for s in samples if s["mask"].max() > 0.5]
    assert damaged, "heavy aging should draw damage on some of the crops"
    for sample in damaged:
        changed = (sample["input"] - sample["undamaged"]).abs().amax(dim=0) > 0.1
        assert changed.any()
        outside = sample["mask"][0] == 0
        near_mask = torch.nn.functional.max_pool2d(
            (~outside).float()[None, None], 9, stride=1, padding=4
        )[0, 0].bool()
        assert not (changed & ~near_mask).any()  # beyond the mask (and the scan blur): same


def test_loader_batches_do_not_depend_on_worker_count(cache: ImageCache) -> None:
    dataset = PairedAgingDataset(cache, crop=32, seed=1)

    def run(workers: int) -> list[dict[str, torch.Tensor]]:
        sampler = StepSampler(len(dataset), 3, steps=4, seed=1)
        return list(make_loader(dataset, sampler, workers=workers))

    inline, parallel = run(0), run(2)
    assert len(inline) == len(parallel) == 4
    for a, b in zip(inline, parallel, strict=True):
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_step_sampler_shards_and_resumes() -> None:
    size, batch, world, steps = 7, 2, 3, 9
    single = StepSampler(size, batch * world, steps=steps, seed=4)
    ranks = [
        StepSampler(size, batch, steps=steps, seed=4, rank=r, world_size=world)
        for r in range(world)
    ]
    for step in range(steps):
        together = [key for rank in ranks for key in rank.keys(step)]
        assert together == single.keys(step)  # ranks split the global batch, disjointly
    stream = [key for keys in single for key in keys]
    for epoch in range(5):  # every epoch visits every image exactly once
        assert sorted(i for e, i in stream if e == epoch) == list(range(size))
    resumed = StepSampler(size, batch * world, steps=steps, start_step=5, seed=4)
    assert list(resumed) == list(single)[5:]
    assert len(resumed) == 4


def test_validation_pairs_are_fixed_and_held_out(shapes: Path, cache: ImageCache) -> None:
    cfg = data_config(train=str(shapes), val_count=2)
    first, second = build_data("aging", cfg, seed=0), build_data("aging", cfg, seed=0)
    assert len(first.val) == 2 and len(first.train) == 8
    assert first.val[0]["input"].shape == (3, 32, 32)
    for a, b in zip(first.val, second.val, strict=True):
        assert all(torch.equal(a[k], b[k]) for k in a)
    rest, held = cache.hold_out(2, seed=0)
    assert len(held) == 2 and not set(held.paths) & set(rest.paths)
    assert set(held.paths) | set(rest.paths) == set(cache.paths)
    assert first.folders == {
        "train": str(shapes),
        "val": f"{shapes} (2 images held out of training)",
    }


def test_aging_samples_carry_a_real_old_crop_when_given_a_real_folder(
    tmp_path: Path, shapes: Path
) -> None:
    old = write_shapes(tmp_path / "old", 3, size=(48, 56), seed=7)
    bundle = build_data("aging", data_config(train=str(shapes), real=str(old), val_count=2))
    sample = bundle.train[(1, 4)]
    assert sample["real"].shape == sample["input"].shape == (3, 32, 32)
    assert torch.equal(sample["real"], bundle.train[(1, 4)]["real"])  # drawn per key
    assert len({bundle.train[(0, i)]["real"].sum().item() for i in range(8)}) > 1
    assert bundle.folders["real"] == str(old)
    shrunk = build_data("aging", data_config(train=str(shapes), real=str(old), shrink=4))
    assert shrunk.train[(1, 4)]["real"].shape == shrunk.train[(1, 4)]["input"].shape == (3, 8, 8)
    assert "real" not in build_data("aging", data_config(train=str(shapes))).train[0]


def test_unpaired_and_folder_kinds(tmp_path: Path, shapes: Path) -> None:
    other = write_shapes(tmp_path / "b", 3, size=(48, 48), seed=9)
    cfg = data_config(train_a=str(shapes), train_b=str(other), val_count=2)
    bundle = build_data("unpaired", cfg)
    assert isinstance(bundle.train, UnpairedDataset) and len(bundle.train) == 8
    sample = bundle.train[(0, 1)]
    assert sample["a"].shape == sample["b"].shape == (3, 32, 32)
    assert [set(v) for v in bundle.val] == [{"a"}, {"a"}]
    folder = build_data("folder", data_config(train=str(shapes), val=str(other), channels=1))
    assert folder.train[0]["image"].shape == (1, 32, 32)
    assert len(folder.val) == 3 and folder.val[0]["image"].shape == (1, 32, 32)


def test_a_canvas_keeps_damage_as_wide_as_on_the_whole_photo(tmp_path: Path) -> None:
    # the aging engine sizes damage by the picture it draws on: a 64² crop aged alone gets
    # scratches a quarter as wide as on its 256² photo; aged on a 256² canvas it keeps them
    folder = write_shapes(tmp_path / "big", 6, size=(256, 256))
    cache = ImageCache.load(folder)
    bold = Preset("bold", stages=(), damages=(DamageStep("bold_scratches", 1.0, (1.0, 1.0)),))
    options = {"crop": 64, "preset": [bold], "scale": (1.0, 1.0), "flip": False, "seed": 5}
    plain = PairedAgingDataset(cache, **options)
    canvas = PairedAgingDataset(cache, **options, canvas=(256, 256))

    def widest(dataset: PairedAgingDataset) -> float:
        """Mean over damaged samples of the widest stroke's width (px)."""
        widths = []
        for key in [(epoch, index) for epoch in range(4) for index in range(len(cache))]:
            mask = (dataset[key]["mask"][0].numpy() > 0.5).astype(np.uint8)
            if mask.any():
                inside = cv2.distanceTransform(np.pad(mask, 1), cv2.DIST_L2, 3)
                widths.append(2 * float(inside.max()))
        assert len(widths) >= 8
        return float(np.mean(widths))

    assert widest(canvas) > 1.8 * widest(plain)


def test_a_canvas_sample_is_one_window_of_every_image(cache: ImageCache) -> None:
    dataset = PairedAgingDataset(
        cache, crop=32, preset="heavy", undamaged=True, canvas=(48, 64), seed=1
    )
    sample = dataset[(0, 3)]
    assert {k: tuple(v.shape) for k, v in sample.items()} == {
        "input": (3, 32, 32),
        "target": (3, 32, 32),
        "mask": (1, 32, 32),
        "undamaged": (3, 32, 32),
    }
    # the same window: where no damage was drawn the undamaged twin is the aged input
    clear = sample["mask"][0] == 0
    assert clear.any()
    assert (sample["input"] - sample["undamaged"]).abs().amax(dim=0)[clear].mean() < 0.02
    assert all(torch.equal(sample[k], dataset[(0, 3)][k]) for k in sample)
    with pytest.raises(ValueError, match="canvas"):
        PairedAgingDataset(cache, crop=32, canvas=(16, 64))


def test_canvas_is_a_checked_range_and_validation_uses_its_mean(shapes: Path) -> None:
    config = data_config(train=str(shapes), preset=["heavy"], canvas=[40, 56])
    bundle = build_data("aging", config, seed=0)
    assert bundle.val[0]["input"].shape == (3, 32, 32)
    for bad in ([16, 64], [64, 40], 48, [40.5, 56]):
        with pytest.raises(ConfigError, match="canvas"):
            resolve({"recipe": "damage", "data": {"canvas": bad, "crop": 32, "val_crop": 32}}, {})
