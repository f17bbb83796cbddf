"""daguerre.faces: detection (MTCNN), landmarks, alignment, pasting back."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from daguerre import hub
from daguerre import image as imageio
from daguerre.faces import (
    TEMPLATE,
    DetectOptions,
    Face,
    FaceDetector,
    FaceError,
    FaceTransform,
    align,
    face_mask,
    face_transform,
    is_gray,
    locate,
    mtcnn,
    paste,
)
from daguerre.faces.align import similarity
from daguerre.faces.detect import detect_faces, iou, view, working_image
from daguerre.faces.paste import MASK_CENTER
from daguerre.nets import LandmarkNet, build_network
from daguerre.training import ConfigError, resolve_config, train
from daguerre.training.recipes.landmarks import Landmarks, point_errors, random_warps

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

# ---------------------------------------------------------------------------- geometry


def rotation_matrix(angle: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    cos, sin = math.cos(angle), math.sin(angle)
    return np.array([[scale * cos, -scale * sin, shift[0]], [scale * sin, scale * cos, shift[1]]])


def landmarks_in_photo(angle: float = 0.3, side: float = 120.0, at=(150.0, 110.0)) -> np.ndarray:
    """The template placed in a photo by a known similarity (a face ``side`` px wide)."""
    matrix = rotation_matrix(angle, side, at)
    return (TEMPLATE - 0.5) @ matrix[:, :2].T + matrix[:, 2]


def test_similarity_recovers_a_known_transform_without_mirroring() -> None:
    source = np.random.default_rng(0).uniform(0, 100, (5, 2))
    matrix = rotation_matrix(0.7, 1.8, (12.0, -30.0))
    target = source @ matrix[:, :2].T + matrix[:, 2]
    assert np.allclose(similarity(source, target), matrix, atol=1e-9)
    mirrored = source * [-1, 1]
    found = similarity(source, mirrored)
    assert np.linalg.det(found[:, :2]) > 0  # the best rotation, never a reflection


def test_face_transform_puts_landmarks_on_the_template_and_inverts() -> None:
    points = landmarks_in_photo()
    transform = face_transform(points, 256)
    assert np.allclose(transform.to_crop(points), TEMPLATE * 256 - 0.5, atol=1e-6)
    assert np.allclose(transform.to_photo(transform.to_crop(points)), points, atol=1e-6)
    assert np.allclose(
        np.vstack([transform.inverse, [0, 0, 1]]) @ np.vstack([transform.matrix, [0, 0, 1]]),
        np.eye(3),
        atol=1e-9,
    )
    assert transform.scale == pytest.approx(256 / 120.0)
    with pytest.raises(FaceError, match="5×2"):
        face_transform(points[:4])


# ---------------------------------------------------------------------------- mask and paste


def test_face_mask_is_one_inside_zero_outside_and_monotone() -> None:
    mask = face_mask(128)
    assert mask.dtype == np.float32 and mask.shape == (128, 128)
    assert mask.min() == 0.0 and mask.max() == 1.0
    assert mask[0, 0] == 0.0 and mask[-1, -1] == 0.0
    row = mask[int(MASK_CENTER[1] * 128)]  # the ellipse's middle row
    left = row[:64]
    assert np.all(np.diff(left) >= 0) and left[0] == 0.0 and row[63] == 1.0
    assert np.allclose(mask, mask[:, ::-1], atol=1e-6)  # left-right symmetric
    soft = ((mask > 0) & (mask < 1)).sum()
    assert soft > 0.2 * (mask > 0).sum()  # a real feather, not a hard edge
    with pytest.raises(ValueError, match="feather"):
        face_mask(32, feather=0.0)


def textured_photo(channels: int, size: tuple[int, int] = (240, 300)) -> np.ndarray:
    rng = np.random.default_rng(1)
    height, width = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 0.5 + 0.2 * np.sin(x / 23.0) * np.cos(y / 17.0)
    small = rng.uniform(-0.08, 0.08, (height // 4, width // 4)).astype(np.float32)
    texture = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    gray = np.clip(base + texture, 0, 1)
    if channels == 1:
        return gray[..., None]
    return np.clip(np.stack([gray, gray * 0.9 + 0.05, gray * 0.7 + 0.1], -1), 0, 1)


@pytest.mark.parametrize("channels", [1, 3])
def test_align_then_paste_with_an_identity_restorer_changes_almost_nothing(channels: int) -> None:
    photo = textured_photo(channels)
    points = landmarks_in_photo(side=110.0)
    crop, transform = align(photo, points, 128)
    assert crop.shape == (128, 128, channels) and crop.dtype == np.float32
    out = paste(photo, [crop], [transform])
    assert out.shape == photo.shape
    changed = np.abs(out - photo).max(-1)
    # outside the mask, bit for bit; the mask's footprint is where changes may be
    footprint = cv2.warpAffine(face_mask(128), transform.inverse, photo.shape[1::-1]) > 0
    assert not changed[~footprint].any()
    assert footprint.sum() > 2000
    assert changed[footprint].mean() < 0.01 and changed.max() < 0.08


def test_paste_matches_the_low_frequencies_of_the_photo() -> None:
    photo = textured_photo(3)
    crop, transform = align(photo, landmarks_in_photo(side=110.0), 128)
    darker = crop * 0.6  # a restorer that also darkened the face
    matched = paste(photo, [darker], [transform])
    unmatched = paste(photo, [darker], [transform], match_color=False)
    assert np.abs(matched - photo).mean() < 0.3 * np.abs(unmatched - photo).mean()


def test_gray_photos_stay_gray_even_with_a_colour_crop() -> None:
    photo = np.repeat(textured_photo(1), 3, axis=2)
    assert is_gray(photo)
    crop, transform = align(photo, landmarks_in_photo(side=110.0), 96)
    tinted = np.clip(crop * [1.2, 0.9, 0.7], 0, 1).astype(np.float32)
    out = paste(photo, [tinted], [transform])
    assert is_gray(out)
    single = paste(photo[..., :1], [tinted], [transform])
    assert single.shape == photo[..., :1].shape


def test_overlapping_faces_blend_whatever_their_order() -> None:
    photo = textured_photo(3)
    a = landmarks_in_photo(angle=0.1, side=100.0, at=(130.0, 110.0))
    b = landmarks_in_photo(angle=-0.2, side=90.0, at=(175.0, 120.0))
    crop_a, ta = align(photo, a, 64)
    crop_b, tb = align(photo, b, 64)
    crop_a, crop_b = crop_a * 0.8 + 0.1, 1.0 - crop_b
    one = paste(photo, [crop_a, crop_b], [ta, tb], match_color=False)
    other = paste(photo, [crop_b, crop_a], [tb, ta], match_color=False)
    assert np.allclose(one, other, atol=1e-5)
    assert np.isfinite(one).all() and one.min() >= 0 and one.max() <= 1


def test_paste_refuses_mismatched_inputs_and_ignores_faces_outside() -> None:
    photo = textured_photo(1)
    crop, transform = align(photo, landmarks_in_photo(), 64)
    with pytest.raises(FaceError, match="crops"):
        paste(photo, [crop], [])
    with pytest.raises(FaceError, match="transform"):
        paste(photo, [crop[:32, :32]], [transform])
    far = FaceTransform(np.array([[1.0, 0, 5000], [0, 1.0, 5000]]), 64)
    assert np.array_equal(paste(photo, [crop], [far]), photo)
    assert np.array_equal(paste(photo, [], []), photo)


# ---------------------------------------------------------------------------- detection


def astronaut() -> np.ndarray:
    """The bundled sample portrait (scikit-image's astronaut, one frontal face)."""
    return imageio.read(SAMPLES / "clean" / "astronaut.jpg").pixels


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 9, 9], [1, 1, 10, 10], [50, 50, 59, 59], [2, 2, 6, 6]], float)
    scores = np.array([0.8, 0.9, 0.7, 0.95])
    assert list(mtcnn.nms(boxes, scores, 0.5)) == [3, 1, 2]  # [0] overlaps [1] too much
    assert list(mtcnn.nms(boxes, scores, 0.5, by_min=True)) == [3, 2]  # [3] lies inside both


def test_mtcnn_finds_the_one_face_of_a_portrait_in_gray_and_colour() -> None:
    photo = astronaut()
    for image in (photo, photo.mean(axis=2)):
        faces = FaceDetector()(image)
        assert len(faces) == 1
        x, y, w, h = faces[0].box
        assert faces[0].score >= 0.9 and 70 <= w <= 140
        assert 150 <= x + w / 2 <= 230 and 60 <= y + h / 2 <= 150  # her face, not the flag
    assert FaceDetector()(textured_photo(3)) == []  # no face in a texture
    found = detect_faces(photo, landmarks=True)
    left, right = found[0].landmarks[:2]
    assert left[0] < right[0] and abs(left[1] - right[1]) < 15  # eyes side by side


def test_select_drops_boxes_inside_kept_ones_and_small_faces() -> None:
    detector = FaceDetector(DetectOptions(threshold=0.5, min_face=32))
    faces = [
        Face((0, 0, 100, 100), 0.6),
        Face((20, 20, 40, 40), 0.9),  # inside the first, and better
        Face((150, 0, 20, 20), 0.9),  # too small
        Face((150, 60, 40, 40), 0.4),  # below the threshold
        Face((200, 100, 40, 40), 0.7),
    ]
    assert [f.box for f in detector.select(faces)] == [(20, 20, 40, 40), (200, 100, 40, 40)]


def test_each_view_is_searched_and_its_boxes_come_back_in_photo_pixels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a stand-in for MTCNN that "finds" the bright square of whatever picture it is given
    def bright_square(work: np.ndarray, smallest: float, floor: float) -> list[mtcnn.Detection]:
        ys, xs = np.nonzero(work.mean(axis=2) > 0.9)
        box = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
        score = 0.95 if work[..., 0].mean() > work[..., 2].mean() else 0.8
        return [mtcnn.Detection(box, score, np.zeros((5, 2)))]

    monkeypatch.setattr(mtcnn, "detect", bright_square)
    photo = np.full((200, 300, 3), 0.3, np.float32)
    photo[40:100, 200:260] = 1.0  # a "face" on the right
    for views in (("photo",), ("mirror",), ("equalized",)):
        detector = FaceDetector(DetectOptions(views=views, box_scale=1.0, threshold=0.5))
        assert [f.box for f in detector.scored(photo)] == [(200, 40, 60, 60)], views
    both = FaceDetector(DetectOptions(views=("photo", "mirror"), box_scale=1.0, threshold=0.5))
    assert len(both.scored(photo)) == 2 and len(both(photo)) == 1  # one face, found twice
    assert view(photo, "mirror")[50, 50].max() == 1.0
    with pytest.raises(ValueError, match="views"):
        DetectOptions(views=("upside down",))


def test_working_image_is_shrunk_but_keeps_min_face_above_the_mtcnn_window() -> None:
    work, scale = working_image(np.zeros((3000, 2000, 3), np.float32), DetectOptions(min_face=96))
    assert max(work.shape) == 1024 and scale == pytest.approx(1024 / 3000)
    work, scale = working_image(np.zeros((3000, 2000), np.float32), DetectOptions(min_face=32))
    assert scale == pytest.approx(0.75) and work.shape[2] == 3  # a 32-px face keeps 24 px
    with pytest.raises(FaceError, match="image"):
        working_image(np.zeros((5,), np.float32), DetectOptions())
    for bad in ({"threshold": 1.5}, {"box_scale": 0.0}, {"min_face": 4}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            DetectOptions(**bad)


def test_mtcnn_weights_are_checksummed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in mtcnn.SHA256:
        (tmp_path / f"{name}.onnx").write_bytes(b"not the weights")
    monkeypatch.setattr(mtcnn, "weights_folder", lambda: tmp_path)
    mtcnn.load_nets.cache_clear()
    try:
        with pytest.raises(FaceError, match="checksum"):
            mtcnn.load_nets()
    finally:
        mtcnn.load_nets.cache_clear()


# ---------------------------------------------------------------------------- landmark net


def test_landmark_net_spec_round_trip_and_output() -> None:
    net = LandmarkNet(in_channels=1, size=32, base_channels=4, depth=2, max_channels=8, hidden=16)
    rebuilt = build_network(net.spec)
    rebuilt.load_state_dict(net.state_dict())
    x = torch.rand(3, 1, 50, 50)  # resized to 32 inside
    out = net(x)
    assert out.shape == (3, 5, 2)
    assert torch.allclose(out, torch.full_like(out, 0.5))  # a fresh net answers the centre
    assert torch.equal(out, rebuilt(x))
    with pytest.raises(ValueError, match="multiple"):
        LandmarkNet(size=40, depth=4)


def test_random_warps_carry_the_template_with_the_image() -> None:
    size = 128
    source = torch.zeros(4, 1, size, size)
    for x, y in TEMPLATE * size:
        source[:, :, int(y) - 2 : int(y) + 3, int(x) - 2 : int(x) + 3] = 1.0
    generator = torch.Generator().manual_seed(0)
    options = dict(eye_distance=(0.2, 0.4), rotation=30.0, shift=0.1, stretch=0.05)
    theta, points = random_warps(4, generator=generator, **options)
    grid = torch.nn.functional.affine_grid(theta, [4, 1, 96, 96], align_corners=False)
    warped = torch.nn.functional.grid_sample(source, grid, align_corners=False)
    for image, sample in zip(warped, points, strict=True):
        for x, y in sample.tolist():
            assert image[0, int(y * 96), int(x * 96)] > 0.3  # the dot went where the point did
    errors = point_errors(points, points)
    assert torch.equal(errors, torch.zeros_like(errors))


def write_faces(folder: Path, count: int = 6) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(count):
        image = np.full((64, 64), 120, np.uint8)
        for x, y in TEMPLATE * 64:
            cv2.circle(image, (int(x), int(y)), 3, int(rng.integers(0, 60)), -1)
        cv2.imwrite(str(folder / f"face{index}.png"), image)
    return folder


def test_landmarks_recipe_trains_and_exports_a_loadable_model(tmp_path: Path) -> None:
    faces = write_faces(tmp_path / "faces")
    config = {
        "recipe": "landmarks",
        "data": {"train": str(faces), "crop": 64, "val_crop": 64, "batch_size": 4},
        "model": {"net": {"size": 32, "base_channels": 4, "depth": 2, "hidden": 16}},
        "train": {"steps": 3, "val_every": 3, "ckpt_every": 3, "progress": False},
    }
    config["data"].update(channels=1, workers=0, val_count=2, max_side=64)
    run = train(config, run_dir=tmp_path / "run", device="cpu")
    model, card = hub.load(run / "export" / "landmarks.safetensors")
    assert card.task == "face-landmarks"
    assert set(card.metrics) == {"nme", "fail10"}
    assert model(torch.rand(1, 1, 32, 32)).shape == (1, 5, 2)


def test_landmarks_recipe_checks_its_eye_distance() -> None:
    with pytest.raises(ConfigError, match="eye_distance"):
        Landmarks(resolve_config({"recipe": "landmarks", "model": {"eye_distance": [0.5, 0.2]}}))


def test_bundled_landmark_model_locates_points_near_a_drawn_face() -> None:
    model, card = hub.load("faces-landmarks")
    assert card.task == "face-landmarks" and "nme" in card.metrics
    photo = textured_photo(1, (200, 200))
    points = locate(photo, (60, 60, 80, 80), model)
    assert points.shape == (5, 2) and np.isfinite(points).all()
    assert (points > 20).all() and (points < 180).all()
