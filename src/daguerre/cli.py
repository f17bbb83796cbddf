"""The ``daguerre`` command: a thin layer over the Python API."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from daguerre import __version__, batch
from daguerre.image import ImageError

app = typer.Typer(
    name="daguerre",
    help="Bring damaged old photographs back to life and restyle images with GANs.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

Inputs = Annotated[
    list[Path], typer.Argument(help="Image files and/or folders.", show_default=False)
]
OutputDir = Annotated[
    Path, typer.Option("--output", "-o", help="Folder for the results (created if needed).")
]
Recursive = Annotated[
    bool, typer.Option("--recursive", "-r", help="Also look inside sub-folders of folder inputs.")
]
Ext = Annotated[
    str,
    typer.Option(help="Output format: auto (same as the input), png, jpg or tif."),
]
Suffix = Annotated[str, typer.Option(help="Text added to each output file's stem.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"daguerre {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Bring damaged old photographs back to life and restyle images with GANs.

    Every model is trained by the project with [bold]daguerre train[/bold] and ships inside
    the package; nothing is downloaded.
    """


def _plan(
    inputs: list[Path], output: Path, ext: str, suffix: str, recursive: bool
) -> list[batch.BatchItem]:
    try:
        return batch.plan(inputs, output, ext=ext, suffix=suffix, recursive=recursive)
    except (ImageError, ValueError) as error:
        console.print(f"[red]error[/red] {error}")
        raise typer.Exit(2) from error


def _finish(report: batch.BatchReport, verb: str, output: Path) -> None:
    colour = "green" if report.ok else "yellow"
    console.print(f"[{colour}]{batch.summary(report, verb)}[/{colour}] → {output}")
    raise typer.Exit(0 if report.ok else 1)


def _file_seed(seed: int, path: Path) -> int:
    """A per-file seed that depends on the file name, not on its place in the batch."""
    return seed ^ zlib.crc32(path.name.encode())


@app.command()
def age(
    inputs: Inputs,
    output: OutputDir,
    preset: Annotated[
        str, typer.Option(help="Aging preset: light, moderate, heavy or bopbtl.")
    ] = "moderate",
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same result.")
    ] = 0,
    save_mask: Annotated[
        bool, typer.Option("--save-mask", help="Also write the damage mask as NAME_mask.png.")
    ] = False,
    ext: Ext = "auto",
    suffix: Suffix = "",
    recursive: Recursive = False,
) -> None:
    """Make clean photos look old: fading, blur, noise, grain, scratches, dust, cracks, tears."""
    from daguerre import aging, image

    if preset not in aging.PRESETS:
        console.print(
            f"[red]error[/red] unknown preset {preset!r}; choose from {list(aging.PRESETS)}"
        )
        raise typer.Exit(2)
    pipeline = aging.AgingPipeline(preset)
    items = _plan(inputs, output, ext, suffix, recursive)
    sources = [item.source for item in items]

    def job(item: batch.BatchItem) -> list[Path]:
        picture = image.read(item.source)
        result = pipeline(picture.pixels, _file_seed(seed, item.source))
        written = [
            image.write(
                item.target,
                result.aged,
                alpha=picture.alpha,
                bit_depth=picture.bit_depth,
                protect=sources,
            )
        ]
        if save_mask:
            mask_path = item.target.with_name(f"{item.target.stem}_mask.png")
            written.append(image.write(mask_path, result.mask[..., None], protect=sources))
        return written

    _finish(batch.run(items, job, description="aging", console=console), "aged", output)


@app.command()
def models() -> None:
    """List the bundled models with their measured validation metrics."""
    from daguerre import hub

    cards = hub.list_models()
    if not cards:
        console.print("no bundled models yet")
        return
    table = Table(title="bundled models")
    for column in ("name", "task", "architecture", "steps", "metrics"):
        table.add_column(column)
    for card in cards:
        metrics = ", ".join(f"{key} {value:.4g}" for key, value in card.metrics.items())
        table.add_row(
            card.name,
            card.task,
            str(card.architecture.get("type", "?")),
            str(card.training.get("steps", "?")),
            metrics,
        )
    Console().print(table)


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="A recipe YAML, e.g. configs/pix2pix.yaml.")],
    data: Annotated[
        list[str] | None,
        typer.Option(help="Training folder, or NAME=DIR for recipes with several folders."),
    ] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Continue the run in this folder at its last checkpoint.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config key: --set train.steps=2000 (repeatable)."),
    ] = None,
    run_dir: Annotated[Path | None, typer.Option(help="Folder for this run's files.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
) -> None:
    """Train a model from a recipe; the same command runs distributed under torchrun."""
    from daguerre import training

    folders: dict[str, str] = {}
    for entry in data or []:
        name, _, folder = entry.rpartition("=")
        folders[name or "train"] = folder
    finished = training.train(
        config,
        data=folders or None,
        resume=resume,
        overrides=list(set_ or []),
        run_dir=run_dir,
        device=device,
    )
    console.print(f"[green]done[/green] → {finished}")
