"""Does a ×4 upscaler print a regular pattern? The share of its change in a few frequencies.

A GAN upscaler that learns texture can instead learn a pattern at a fixed period (the pixel
shuffle's 4 px, or near the Nyquist frequency) that no photo has. For every model given, the central
256² of the photos are shrunk ×4 as `daguerre eval upscale --degrade clean` does and enlarged back;
the model's output less the bundled fidelity model's output is Fourier-transformed, and the script
prints the share of that difference's energy in its 8 strongest frequencies (a regular pattern puts
it there; texture spreads it) with the periods (vertical × horizontal, in pixels) of the strongest
four: a period of 2 or 4 px in a direction is the pixel grid's, whatever the share (a pattern whose
phase drifts spreads over neighbouring frequencies). And the PSNR against the truth.

    python benchmarks/upscale_patterns.py MODEL.safetensors [...] [--data DIR]

A model is an exported ``.safetensors`` with its card, or a training checkpoint's
``ema.safetensors`` (read with the fidelity model's architecture, the shape every GAN run of
``configs/upscale-x4.yaml`` shares).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from safetensors.torch import load_file

from daguerre import hub
from daguerre.data import to_chw
from daguerre.image import read
from daguerre.nets import build_network
from daguerre.upscale.evaluate import center_crop, degrade
from daguerre.upscale.upscaler import model_names

SIDE = 256  # truth crops
TOP = 8  # frequencies whose share is reported


def load(path: Path, fidelity: torch.nn.Module) -> torch.nn.Module:
    """An exported model (with its card), or checkpoint weights in the fidelity model's shape."""
    if path.with_suffix(".json").exists():
        return hub.load(path)[0]
    net = build_network(fidelity.spec).eval()
    net.load_state_dict(load_file(path))
    return net


def crops(folder: Path) -> torch.Tensor:
    """The central SIDE² of every photo of ``folder`` at least that large, as RGB N×3×SIDE×SIDE."""
    pieces = [center_crop(read(path).pixels, SIDE, 4) for path in sorted(folder.iterdir())]
    return torch.stack([to_chw(p) for p in pieces if p.shape[:2] == (SIDE, SIDE)])


def pattern(change: torch.Tensor) -> tuple[float, list[str]]:
    """Share of ``change``'s energy (mean over channels) in its TOP strongest frequencies, and
    their periods as ``vertical×horizontal`` pixels (∞: constant that way)."""
    power = torch.fft.fft2(change.mean(dim=1)).abs().square().mean(dim=0)
    power[0, 0] = 0.0
    flat = power.flatten()
    top = flat.topk(TOP).indices
    side = power.shape[-1]

    def period(index: int) -> str:
        frequency = min(index, side - index)
        return "∞" if frequency == 0 else f"{side / frequency:.1f}"

    periods = [f"{period(int(i) // side)}×{period(int(i) % side)}" for i in top]
    return float(flat[top].sum() / flat.sum()), periods


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/photos/val"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    fidelity = hub.load(model_names(4)[0])[0]
    truth = crops(args.data)
    small = torch.stack([to_chw(degrade(t.permute(1, 2, 0).numpy(), 4, "clean")) for t in truth])
    with torch.no_grad():
        plain = fidelity(small)
    print(f"{len(truth)} crops of {SIDE}² from {args.data}; change against {model_names(4)[0]}")
    for path in args.models:
        with torch.no_grad():
            output = load(path, fidelity)(small)
        mse = (output.clamp(0, 1) - truth).square().mean(dim=(1, 2, 3))
        psnr = f"{path}: PSNR {(-10 * mse.log10()).mean():.2f} dB"
        if torch.equal(output, plain):
            print(f"{psnr}, no change")
            continue
        share, periods = pattern(output - plain)
        print(f"{psnr}, {share:.1%} of the change in {TOP} frequencies, periods {periods[:4]}")


if __name__ == "__main__":
    main()
