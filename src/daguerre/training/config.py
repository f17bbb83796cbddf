"""Training configuration: engine defaults + recipe defaults + YAML file + ``--set`` overrides.

A configuration is a plain nested dict. :func:`resolve` merges, in order, the
engine's :data:`DEFAULTS`, the recipe's own defaults, the user's file and the
``key=value`` overrides, then checks every key and type so a typo fails before
any data is loaded. Dicts that carry a ``"type"`` key are network specs: their
keys go to the network constructor unchecked, and a spec with another ``type``
replaces the default instead of merging into it.
"""

from __future__ import annotations

import copy
import difflib
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from daguerre.aging import PRESETS
from daguerre.hub import NAME_PATTERN

Config = dict[str, Any]


class ConfigError(ValueError):
    """A configuration value is missing, unknown or of the wrong type."""


DEFAULTS: Config = {
    "recipe": None,  # name in daguerre.training.recipes.RECIPES
    "name": None,  # run and export name; defaults to the recipe
    "seed": 0,
    "output": "runs",  # parent folder of run folders
    "data": {
        "train": None,
        "val": None,
        "train_a": None,
        "train_b": None,
        "val_a": None,
        "real": None,  # real old photos: an unpaired domain (pix2pix weights.real)
        "channels": 3,
        "crop": 256,
        "scale": [0.5, 1.0],
        "flip": True,
        "max_side": None,
        "preset": ["moderate"],  # aging presets; each sample draws one
        "damage": True,
        "undamaged": False,
        "shrink": 1,  # aging samples area-averaged by this factor after aging
        # [low, high]: age a square piece this many px a side (drawn), then cut the crop from
        # it, so damage keeps the size it has on a whole photo (it is sized by the aged image)
        "canvas": None,
        "val_crop": 256,
        "val_count": 8,
        "batch_size": 8,
        "workers": 2,
    },
    "model": {},
    "optim": {"lr": 2.0e-4, "betas": [0.5, 0.999], "weight_decay": 0.0},
    "schedule": {"kind": "linear", "warmup": 0, "decay_start": 0.5, "final_ratio": 0.0},
    "train": {
        "steps": 10000,
        "max_minutes": None,  # stop (save, export) after this long, steps or not
        "init": None,  # start the generator from this exported model (fine-tuning)
        "freeze": [],  # generator parameters kept fixed, by name prefix (e.g. tone)
        "amp": True,
        "grad_clip": None,
        "ema": 0.999,
        "log_every": 50,
        "val_every": 1000,
        "ckpt_every": 1000,
        "keep": 3,
        "progress": True,
        "tensorboard": True,
    },
    "export": {"name": None, "dir": None, "description": "", "licences": []},
}

PATH_KEYS = (
    ("output",),
    ("data", "train"),
    ("data", "val"),
    ("data", "train_a"),
    ("data", "train_b"),
    ("data", "val_a"),
    ("data", "real"),
    ("data", "style"),
    ("export", "dir"),
)
SCHEDULES = ("constant", "linear", "cosine")


def load(source: str | Path | Mapping[str, Any] | None) -> Config:
    """A config from a YAML file, a mapping (copied) or nothing (empty)."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    path = Path(source).expanduser()
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror})") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from error
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping of keys, got {type(loaded).__name__}")
    return loaded


def merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> Config:
    """Deep merge ``update`` into a copy of ``base`` (network specs of a new type replace)."""
    out = copy.deepcopy(dict(base))
    for key, value in update.items():
        current = out.get(key)
        if (
            isinstance(current, dict)
            and isinstance(value, Mapping)
            and not _retyped(current, value)
        ):
            out[key] = merge(current, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _retyped(current: Mapping[str, Any], value: Mapping[str, Any]) -> bool:
    return "type" in current and "type" in value and current["type"] != value["type"]


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"a.b=1e-4"`` → (``["a", "b"]``, value parsed as YAML)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {text!r} is not of the form key=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as error:
        raise ConfigError(f"override {text!r}: value is not valid YAML ({error})") from error
    return key.strip().split("."), value


def apply_overrides(config: Mapping[str, Any], overrides: Iterable[str]) -> Config:
    """A copy of ``config`` with each ``dotted.key=value`` set (intermediate dicts created)."""
    out = copy.deepcopy(dict(config))
    for text in overrides:
        keys, value = parse_override(text)
        node = out
        for depth, key in enumerate(keys[:-1]):
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(
                    f"override {text!r}: {'.'.join(keys[: depth + 1])} is not a section"
                )
            node = child
        node[keys[-1]] = value
    return out


def resolve(
    user: Mapping[str, Any],
    recipe_defaults: Mapping[str, Any],
    *,
    overrides: Iterable[str] = (),
    data: Mapping[str, str] | None = None,
) -> Config:
    """The checked, complete config: defaults < recipe defaults < ``user`` < ``data`` < overrides.

    ``data`` maps data keys (``train``, ``val``, ``train_a``...) to folders. Relative
    paths become absolute (relative to the current directory).
    """
    base = merge(DEFAULTS, recipe_defaults)
    config = merge(base, user)
    if data:
        config = merge(config, {"data": dict(data)})
    config = apply_overrides(config, overrides)
    if isinstance(config.get("data", {}).get("preset"), str):
        config["data"]["preset"] = [config["data"]["preset"]]
    _check_keys(config, base, ())
    _check_values(config)
    for keys in PATH_KEYS:
        section = config
        for key in keys[:-1]:
            section = section[key]
        if section.get(keys[-1]) is not None:  # recipe-specific keys may be absent
            section[keys[-1]] = str(Path(os.path.expanduser(section[keys[-1]])).absolute())
    return config


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


def _check_keys(config: dict[str, Any], base: Mapping[str, Any], path: tuple[str, ...]) -> None:
    """Reject unknown keys and coerce/validate types against ``base`` (in place).

    Inside ``optim``, a sub-section named after an optimiser (``optim.d.lr``)
    takes the same keys as ``optim`` itself.
    """
    for key in list(config):
        here = (*path, key)
        if path == ("optim",) and isinstance(config[key], dict):
            shared = {k: v for k, v in base.items() if not isinstance(v, dict)}
            _check_keys(config[key], shared, here)
        elif key in base:
            config[key] = _checked(config[key], base[key], here)
        else:
            hint = difflib.get_close_matches(key, [str(k) for k in base], n=1)
            suggestion = f" (did you mean {_dotted((*path, hint[0]))}?)" if hint else ""
            raise ConfigError(f"unknown config key {_dotted(here)}{suggestion}")


def _checked(value: Any, default: Any, path: tuple[str, ...]) -> Any:
    """``value`` validated against the type of ``default`` (None defaults accept anything).

    Numbers written as strings (YAML reads ``1e-4`` as text) are converted.
    """
    name = _dotted(path)
    if default is None:
        return value
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"{name} must be a section (mapping), got {value!r}")
        if "type" not in default:  # network specs go to the constructor unchecked
            _check_keys(value, default, path)
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {value!r}")
        return value
    if isinstance(default, (int, float)):
        return _number(value, float if isinstance(default, float) else int, name)
    if isinstance(default, list) and not isinstance(value, list):
        raise ConfigError(f"{name} must be a list, got {value!r}")
    if isinstance(default, str) and not isinstance(value, str):
        raise ConfigError(f"{name} must be a string, got {value!r}")
    return value


def _number(value: Any, kind: type, name: str) -> int | float:
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if kind is int:
        if isinstance(value, int):
            return value
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None


def _optional(
    config: Config, section: str, key: str, kind: type | tuple[type, ...], what: str
) -> None:
    value = config[section][key]
    if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
        raise ConfigError(f"{section}.{key} must be empty or {what}, got {value!r}")


def _numbers(values: list[Any], count: int) -> bool:
    """Whether ``values`` holds exactly ``count`` numbers."""
    return len(values) == count and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
    )


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _check_values(config: Config) -> None:
    """Range checks of the engine's own keys (recipes check theirs)."""
    _require(isinstance(config["recipe"], str), "recipe is not set (e.g. recipe: pix2pix)")
    for key, value in (("name", config["name"]), ("export.name", config["export"]["name"])):
        _require(
            value is None or (isinstance(value, str) and NAME_PATTERN.fullmatch(value) is not None),
            f"{key} must be a model name (letters, digits, '.', '_', '-'), got {value!r}",
        )
    for key in ("train", "val", "train_a", "train_b", "val_a", "real"):
        _optional(config, "data", key, str, "a folder")
    _optional(config, "data", "max_side", int, "an integer")
    _optional(config, "train", "grad_clip", (int, float), "a number")
    _optional(config, "train", "max_minutes", (int, float), "a number")
    _optional(config, "export", "dir", str, "a folder")
    _require(config["seed"] >= 0, "seed must be >= 0")
    data, train, schedule = config["data"], config["train"], config["schedule"]
    _require(data["channels"] in (1, 3), "data.channels must be 1 or 3")
    _require(data["crop"] >= 8 and data["val_crop"] >= 8, "data.crop and data.val_crop >= 8")
    shrink = data["shrink"]
    _require(
        isinstance(shrink, int)
        and shrink >= 1
        and data["crop"] % shrink == data["val_crop"] % shrink == 0,
        "data.shrink must be an integer >= 1 that divides data.crop and data.val_crop",
    )
    canvas = data["canvas"]
    _require(
        canvas is None
        or (
            isinstance(canvas, (list, tuple))
            and _numbers(canvas, 2)
            and all(isinstance(side, int) for side in canvas)
            and data["crop"] <= canvas[0] <= canvas[1]
            and data["val_crop"] <= sum(canvas) // 2
            and shrink == 1
        ),
        "data.canvas must be [low, high] integers with data.crop <= low <= high, data.val_crop"
        " at most their mean, and data.shrink 1",
    )
    scale = data["scale"]
    _require(
        _numbers(scale, 2) and 0 < scale[0] <= scale[1],
        "data.scale must be [low, high] with 0 < low <= high",
    )
    optimizers = [config["optim"], *(v for v in config["optim"].values() if isinstance(v, dict))]
    for betas in (section["betas"] for section in optimizers if "betas" in section):
        _require(
            _numbers(betas, 2) and all(0 <= b < 1 for b in betas),
            f"optim betas must be two numbers in [0, 1), got {betas!r}",
        )
    _require(
        data["max_side"] is None or data["max_side"] >= data["crop"],
        "data.max_side must be >= data.crop",
    )
    _require(data["batch_size"] >= 1 and data["val_count"] >= 1, "data.batch_size, val_count >= 1")
    _require(data["workers"] >= 0, "data.workers must be >= 0")
    _require(train["steps"] >= 1, "train.steps must be >= 1")
    _require(
        isinstance(train["freeze"], list) and all(isinstance(p, str) for p in train["freeze"]),
        "train.freeze must be a list of parameter-name prefixes (e.g. [tone])",
    )
    _require(
        train["max_minutes"] is None or train["max_minutes"] > 0, "train.max_minutes must be > 0"
    )
    unknown = [p for p in data["preset"] if p not in PRESETS]
    _require(
        bool(data["preset"]) and not unknown,
        f"data.preset must name presets of {sorted(PRESETS)}, got {data['preset']!r}",
    )
    _require(0.0 <= train["ema"] < 1.0, "train.ema must be in [0, 1)")
    _require(train["keep"] >= 1, "train.keep must be >= 1")
    for key in ("log_every", "val_every", "ckpt_every"):
        _require(train[key] >= 0, f"train.{key} must be >= 0 (0: only at the end)")
    _require(train["grad_clip"] is None or train["grad_clip"] > 0, "train.grad_clip must be > 0")
    _require(schedule["kind"] in SCHEDULES, f"schedule.kind must be one of {SCHEDULES}")
    _require(schedule["warmup"] >= 0, "schedule.warmup must be >= 0")
    _require(0.0 <= schedule["decay_start"] <= 1.0, "schedule.decay_start must be in [0, 1]")
    _require(0.0 <= schedule["final_ratio"] <= 1.0, "schedule.final_ratio must be in [0, 1]")


def save(config: Mapping[str, Any], path: Path) -> Path:
    """Write ``config`` as YAML atomically (temporary file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(dict(config), sort_keys=False, default_flow_style=None)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    ) as handle:
        handle.write(text)
    os.replace(handle.name, path)
    return path
