"""Average the weights of two runs of one model (a "model soup", Wortsman et al., 2022).

Two fine-tunes of the same network, one started from the other, often sit in one basin of the
loss: the mean of their weights is a working network between the two, trading what each run
was trained for (the bundled ``restore-damage`` is the mean of a run that finds more damage and
its fine-tune against false alarms; docs/restoration.md gives the figures). The card is the second
model's, with the averaging's command in ``training`` and the second run's record under ``init``.

    python scripts/average_models.py FIRST.safetensors SECOND.safetensors --mix 0.5 --output DIR
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import replace
from pathlib import Path

import torch

from daguerre import hub


def average(first: torch.nn.Module, second: torch.nn.Module, mix: float) -> torch.nn.Module:
    """``first`` with its floating weights set to ``mix`` · first + (1 − mix) · second."""
    if not 0.0 <= mix <= 1.0:
        raise ValueError(f"mix must lie in [0, 1], got {mix}")
    ours, theirs = first.state_dict(), second.state_dict()
    if {k: v.shape for k, v in ours.items()} != {k: v.shape for k, v in theirs.items()}:
        raise ValueError("the two models have different architectures")
    with torch.no_grad():
        for key, value in ours.items():
            if value.is_floating_point():
                value.copy_(mix * value.float() + (1.0 - mix) * theirs[key].float())
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path, help="weights of the first run (.safetensors)")
    parser.add_argument("second", type=Path, help="weights of the second run; its card is kept")
    parser.add_argument("--mix", type=float, default=0.5, help="share of the first run")
    parser.add_argument("--output", type=Path, required=True, help="folder for weights and card")
    parser.add_argument("--note", default="", help="a line for the card's training record")
    args = parser.parse_args()

    card = hub.read_card(hub.model_paths(args.second)[1])
    first, second = (hub.load_network(card.name, path) for path in (args.first, args.second))
    model = average(first, second, args.mix)
    command = " ".join(["python", *map(shlex.quote, sys.argv)])
    training = {"recipe": "average", "mix": args.mix, "command": command, "init": card.as_origin()}
    if args.note:
        training["note"] = args.note
    # the second run's scores are not the average's: measure it and add them to the card
    path = hub.export(model, card.name, replace(card, training=training, metrics={}), args.output)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
