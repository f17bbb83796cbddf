"""Registry of bundled models: ``NAME.safetensors`` (fp16 weights) + ``NAME.json`` (model card).

A card names the architecture (a spec for :func:`daguerre.nets.build_network`), its parameter
count, the sha256 of the weights file, how the model was trained and what it scored. Loading
verifies the checksum, parses the weights with safetensors (never pickle), rebuilds the network
from the card and loads the weights strictly, so missing or corrupt weights are a clear
:class:`ModelError`, never a silently random network.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import safetensors.torch
import torch
from safetensors import SafetensorError
from torch import nn

from daguerre.nets import build_network, count_parameters

WEIGHTS_DIR = Path(__file__).parent / "weights"
WEIGHTS_SUFFIX = ".safetensors"
CARD_SUFFIX = ".json"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class ModelError(Exception):
    """A model file is missing, corrupt or does not match its card."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass
class ModelCard:
    """What a bundled model is, how it was made and how well it does.

    ``architecture`` is the network's spec (constructor arguments only); ``parameters`` how many
    numbers its weights hold (0: not recorded); ``training`` holds data, licences, steps,
    wall_time_s, command, recipe and git_commit; ``metrics`` holds validation scores by name.
    """

    name: str
    task: str
    architecture: dict[str, Any] = field(default_factory=dict)
    parameters: int = 0
    sha256: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready deep copy."""
        return asdict(self)

    def as_origin(self) -> dict[str, Any]:
        """Name, checksum and training record: how a model made from this one (a fine-tune,
        an average) records where it started, as its card's ``training["init"]``."""
        return {"model": self.name, "sha256": self.sha256, "training": _copy(self.training)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelCard:
        """Validate and build a card; raises ``ValueError`` on unknown, missing or mistyped keys."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a model card must be a JSON object, not {type(data).__name__}")
        kinds = {f.name: _KINDS.get(f.name, str) for f in fields(cls)}
        unknown = sorted(set(data) - set(kinds))
        missing = sorted({"name", "task"} - set(data))
        if unknown or missing:
            raise ValueError(f"unknown keys {unknown}, missing keys {missing}")
        for key, value in data.items():
            if not isinstance(value, kinds[key]) or isinstance(value, bool):
                article = "an" if kinds[key] is int else "a"
                raise ValueError(f"{key!r} must be {article} {kinds[key].__name__}, not {value!r}")
        if data.get("parameters", 0) < 0:
            raise ValueError(f"'parameters' must be >= 0, not {data['parameters']!r}")
        return cls(**{key: _copy(value) for key, value in data.items()})


_KINDS: dict[str, type] = {
    "architecture": dict,
    "metrics": dict,
    "training": dict,
    "parameters": int,
}


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value)) if isinstance(value, dict) else value


def model_paths(
    name_or_path: str | os.PathLike[str], directory: str | os.PathLike[str] = WEIGHTS_DIR
) -> tuple[Path, Path]:
    """(weights, card) paths for a model name (looked up in ``directory``) or a file path.

    A ``Path``, or a string with a path separator or a ``.safetensors``/``.json`` suffix, is a
    path; otherwise it must be a plain name such as ``restore-unet``.
    """
    text = os.fspath(name_or_path)
    if (
        isinstance(name_or_path, os.PathLike)
        or os.sep in text
        or "/" in text
        or text.endswith((WEIGHTS_SUFFIX, CARD_SUFFIX))
    ):
        base = Path(text)
    elif NAME_PATTERN.fullmatch(text):
        base = Path(directory) / text
    else:
        raise ValueError(f"not a model name or path: {text!r}")
    for suffix in (WEIGHTS_SUFFIX, CARD_SUFFIX):
        if base.name.endswith(suffix):
            base = base.with_name(base.name.removesuffix(suffix))
    return base.with_name(base.name + WEIGHTS_SUFFIX), base.with_name(base.name + CARD_SUFFIX)


def read_card(path: str | os.PathLike[str]) -> ModelCard:
    """Parse ``NAME.json``; any problem is a :class:`ModelError` naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_bytes())
        card = ModelCard.from_dict(data)
    except FileNotFoundError as error:
        raise ModelError(path, "model card not found") from error
    except OSError as error:
        raise ModelError(path, f"cannot read model card: {error.strerror}") from error
    except ValueError as error:  # also JSONDecodeError and UnicodeDecodeError
        raise ModelError(path, f"corrupt model card: {error}") from error
    expected = path.name.removesuffix(CARD_SUFFIX)
    if card.name != expected:
        raise ModelError(path, f"card names model {card.name!r} but the file is for {expected!r}")
    return card


def list_models(directory: str | os.PathLike[str] = WEIGHTS_DIR) -> list[ModelCard]:
    """Cards of every model in ``directory``, sorted by name."""
    cards = [read_card(path) for path in Path(directory).glob("*" + CARD_SUFFIX)]
    return sorted(cards, key=lambda card: card.name)


def export(
    module: nn.Module,
    name_or_path: str | os.PathLike[str],
    card: ModelCard | Mapping[str, Any],
    directory: str | os.PathLike[str] = WEIGHTS_DIR,
) -> Path:
    """Write ``module``'s weights as fp16 safetensors plus its card; returns the weights path.

    The architecture is ``card.architecture`` or else ``module.spec``; it must rebuild a network
    with exactly this state dict. Floating tensors are stored as float16, integer buffers
    (e.g. BatchNorm's ``num_batches_tracked``) unchanged. Both files are written atomically and
    the card records the weights file's sha256 and the module's parameter count.
    """
    weights_path, card_path = model_paths(name_or_path, directory)
    name = weights_path.name.removesuffix(WEIGHTS_SUFFIX)
    if isinstance(card, Mapping):
        card = ModelCard.from_dict({"name": name, **card})
    if card.name != name:
        raise ValueError(f"card is for model {card.name!r} but is being exported as {name!r}")
    architecture = card.architecture or getattr(module, "spec", None)
    if not architecture:
        raise ValueError("no architecture: the module has no .spec and the card gives none")

    tensors = _half_state_dict(module)
    mismatch = _state_mismatch(build_network(architecture).state_dict(), tensors)
    if mismatch:
        raise ValueError(f"the architecture {architecture} does not fit the module: {mismatch}")
    # one metadata key only: safetensors writes several in no fixed order, and the same
    # weights must give the same bytes, hence the same checksum, at every export
    payload = safetensors.torch.save(tensors, metadata={"format": "pt"})
    card = replace(
        card,
        architecture=dict(architecture),
        parameters=count_parameters(module),
        sha256=_sha256(payload),
    )
    card_text = json.dumps(card.to_dict(), indent=2) + "\n"

    weights_path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(weights_path, payload)
    _write_atomic(card_path, card_text.encode("utf-8"))
    return weights_path


def load(
    name_or_path: str | os.PathLike[str],
    *,
    device: torch.device | str = "cpu",
    directory: str | os.PathLike[str] = WEIGHTS_DIR,
) -> tuple[nn.Module, ModelCard]:
    """Load a verified model: float32, in eval mode, on ``device``; returns (module, card).

    The weights file is read once; the checksum is computed on, and safetensors parses, those
    same bytes, so the file cannot change between verification and use.
    """
    weights_path, card_path = model_paths(name_or_path, directory)
    if not card_path.exists() and not weights_path.exists():
        known = sorted(p.name.removesuffix(CARD_SUFFIX) for p in card_path.parent.glob("*.json"))
        raise ModelError(weights_path, f"no such model (available: {', '.join(known) or 'none'})")
    card = read_card(card_path)
    try:
        payload = weights_path.read_bytes()
    except FileNotFoundError as error:
        raise ModelError(weights_path, f"weights file is missing; {_remedy(card)}") from error
    digest = _sha256(payload)
    if digest != card.sha256:
        raise ModelError(
            weights_path,
            f"checksum mismatch (card {card.sha256 or 'has none'}, file {digest}); {_remedy(card)}",
        )
    try:
        state = safetensors.torch.load(payload)
    except SafetensorError as error:
        raise ModelError(weights_path, f"not a valid safetensors file: {error}") from error
    try:
        module = build_network(card.architecture)
    except (TypeError, ValueError) as error:
        raise ModelError(card_path, f"cannot build architecture: {error}") from error
    mismatch = _state_mismatch(module.state_dict(), state)
    if mismatch:
        raise ModelError(weights_path, f"weights do not match the card's architecture: {mismatch}")
    if card.parameters and card.parameters != count_parameters(module):
        raise ModelError(
            card_path,
            f"the card says {card.parameters} parameters, its architecture has "
            f"{count_parameters(module)}; re-export the model or correct the card",
        )
    module.load_state_dict(state, strict=True)
    # channels-last weights: the tiling engine feeds H×W×C tiles, and convolutions run faster so
    return module.float().to(device, memory_format=torch.channels_last).eval(), card


# a network itself, or where its weights are: a path, or a model name
ModelSource = str | os.PathLike[str] | nn.Module


def has_model(
    name: str, weights_dir: str | os.PathLike[str] | None = None, *, bundled: bool = True
) -> bool:
    """Whether model ``name`` (weights and card) is in ``weights_dir`` or (``bundled``) bundled."""
    folders = [weights_dir] if weights_dir is not None else []
    for folder in [*folders, WEIGHTS_DIR] if bundled else folders:
        weights, card = model_paths(name, folder)
        if weights.is_file() and card.is_file():
            return True
    return False


def load_network(
    name: str,
    source: ModelSource | None = None,
    *,
    weights_dir: str | os.PathLike[str] | None = None,
    device: torch.device | str = "cpu",
) -> nn.Module:
    """The network for model ``name`` in eval mode on ``device``: ``source`` (a network, or a
    weights path or model name) when given, else the model of ``weights_dir`` when that folder
    has one, else the bundled one; a missing model is a :class:`ModelError`, never random
    weights."""
    if isinstance(source, nn.Module):
        return source.to(device).eval()
    directory: str | os.PathLike[str] = WEIGHTS_DIR
    if weights_dir is not None:
        weights, card = model_paths(name, weights_dir)
        if source is not None or weights.exists() or card.exists():
            directory = weights_dir
    module, _ = load(name if source is None else source, device=device, directory=directory)
    return module


def _half_state_dict(module: nn.Module) -> dict[str, torch.Tensor]:
    """CPU copy of the state dict with floating tensors in float16; no shared storage."""
    tensors = {}
    for key, value in module.state_dict().items():
        tensor = value.detach().to("cpu")
        if tensor.is_floating_point():
            tensor = tensor.to(torch.float16)
            if not torch.isfinite(tensor).all():
                raise ValueError(f"{key!r} has values that are not finite in float16")
        tensors[key] = tensor.clone(memory_format=torch.contiguous_format)
    return tensors


def _state_mismatch(expected: Mapping[str, torch.Tensor], given: Mapping[str, torch.Tensor]) -> str:
    """Human-readable difference in keys and shapes, or "" when they agree."""
    problems = []
    if missing := sorted(expected.keys() - given.keys()):
        problems.append(f"missing keys {missing}")
    if unexpected := sorted(given.keys() - expected.keys()):
        problems.append(f"unexpected keys {unexpected}")
    shapes = [
        f"{key} {tuple(given[key].shape)} != {tuple(expected[key].shape)}"
        for key in sorted(expected.keys() & given.keys())
        if given[key].shape != expected[key].shape
    ]
    if shapes:
        problems.append(f"wrong shapes {shapes}")
    return "; ".join(problems)


def _remedy(card: ModelCard) -> str:
    command = card.training.get("command") or "daguerre train"
    return f"reinstall daguerre to restore bundled weights, or retrain with `{command}`"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
