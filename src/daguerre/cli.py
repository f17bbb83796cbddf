"""The ``daguerre`` command: a thin layer over the Python API."""

from __future__ import annotations

import functools
import sys
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, TextIO

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from daguerre import __version__, batch, runner
from daguerre.aging import PRESETS as AGING_PRESETS
from daguerre.image import Image, ImageError

if TYPE_CHECKING:
    from daguerre.restore import RestorePipeline
    from daguerre.restore.evaluate import Evaluation

console = Console(stderr=True, soft_wrap=True)  # messages name files: never wrap them

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
    typer.Option(
        help="Output format: auto (same as the input), png, jpg, jpeg, tif, tiff or webp."
    ),
]
Suffix = Annotated[str, typer.Option(help="Text added to each output file's stem.")]
Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Redo every file and replace results already there (by default a rerun skips "
        "the files it finished and refuses to replace other runs' results).",
    ),
]
Workers = Annotated[
    int, typer.Option(min=1, help="Processes working at once; they share the CPU cores.")
]
Report = Annotated[
    Path | None,
    typer.Option(help="Write a CSV here: input, status, outputs, seconds, error for each input."),
]
Quality = Annotated[int, typer.Option(min=1, max=100, help="JPEG and WebP quality.")]
StripMetadata = Annotated[
    bool,
    typer.Option(
        "--strip-metadata",
        help="Leave out the input's EXIF, resolution (DPI) and ICC profile (kept by default).",
    ),
]


@contextmanager
def _exit_2_on(*errors: type[Exception]) -> Iterator[None]:
    """Any of ``errors`` raised inside is printed as one error line, and the command exits 2."""
    try:
        yield
    except errors as error:
        console.print(f"[red]error[/red] {escape(str(error))}")
        raise typer.Exit(2) from error


def _device_or_exit(name: str, auto: bool) -> str:
    """A ``--device`` this machine has; else one line naming the ones it has, exit 2."""
    from daguerre import devices

    with _exit_2_on(ValueError):
        return devices.check(name, auto=auto)


def _checked_device(name: str) -> str:
    return _device_or_exit(name, auto=False)


def _checked_device_or_auto(name: str) -> str:
    return _device_or_exit(name, auto=True)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Print a warning as one line (no source file, line number or code)."""
    console.print(f"[yellow]warning[/yellow] {escape(str(message))}")


class _Commands(TyperGroup):
    """The command group, with a hint when a file name that starts with '-' is read as an
    option."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **options: Any) -> Any:
        self._words = list(sys.argv[1:] if args is None else args)
        return super().main(args, *rest, **options)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            # by name: Typer bundles its own copy of Click in some versions, not in others
            names = [word for word in getattr(self, "_words", []) if _dashed_file(word)]
            if type(error).__name__ == "NoSuchOption" and names:
                error.message += (
                    f". {names[0]!r} is read as options: write ./{names[0]}, or put file names "
                    f"after -- (… -o out -- {names[0]})"
                )
            raise


def _dashed_file(word: str) -> bool:
    """Whether ``word`` starts with '-' but names an image file (existing or by its suffix)."""
    from daguerre.image import IMAGE_SUFFIXES

    return (
        word.startswith("-")
        and not word.startswith("--")
        and (Path(word).suffix.lower() in IMAGE_SUFFIXES or Path(word).is_file())
    )


app = typer.Typer(
    name="daguerre",
    help="Bring damaged old photographs back to life and restyle images with GANs.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    cls=_Commands,
)


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
    warnings.showwarning = _show_warning


@dataclass(frozen=True)
class _Writing:
    """How results are written: JPEG/WebP quality, and whether the input's metadata is kept."""

    quality: int = 95
    keep_metadata: bool = True


@dataclass(frozen=True)
class _BatchOptions:
    """The options every batch command shares."""

    output: Path
    ext: str
    suffix: str
    recursive: bool
    overwrite: bool
    workers: int
    report: Path | None
    writing: _Writing
    cluster: str | None = None  # a Ray cluster's address (restore)
    gpus: bool = False  # one GPU per Ray actor


def _run_batch(
    inputs: list[Path],
    options: _BatchOptions,
    factory: functools.partial[runner.Job],
    *,
    description: str,
    verb: str,
    extras: dict[str, str] | None = None,
) -> NoReturn:
    """Check the job (``factory`` makes it: a bad model is an error before any file), plan,
    run, report; exit 0, 1 (a file failed), 2 (refused) or 130 (interrupted)."""
    from daguerre.hub import ModelError

    # the version too: a newer daguerre (other bundled models) does not silently mix its results
    # with an older one's in one folder
    settings = _shaping({"job": factory.func.__name__, "version": __version__, **factory.keywords})
    with _exit_2_on(batch.PlanError, ImageError, ModelError, ValueError):
        job: runner.Job | None = factory()
        planned = batch.plan(
            inputs,
            options.output,
            ext=options.ext,
            suffix=options.suffix,
            recursive=options.recursive,
            extras=extras,
            settings=settings,
            overwrite=options.overwrite,
        )
        if not (planned.items or planned.finished or planned.failed):
            given = ", ".join(str(path) for path in inputs)
            raise batch.PlanError(f"no image files in {given}")
        if planned.skipped:
            console.print(
                f"[yellow]skipped[/yellow] {len(planned.skipped)} file(s) that are not JPEG, "
                f"PNG, TIFF, BMP or WebP images: {escape(_names(planned.skipped))}"
            )
        if planned.earlier_outputs:
            console.print(
                f"[yellow]left out[/yellow] {len(planned.earlier_outputs)} file(s) that an "
                f"earlier batch wrote into {escape(str(options.output))}: "
                f"{escape(_names(planned.earlier_outputs))}"
            )
        if options.workers > 1 or options.cluster is not None:
            job = None  # the workers make their own: this process keeps no models
        report = _execute(planned, factory, job, options, description)
    if options.report is not None:
        runner.write_csv(report, options.report)
    color = "green" if report.ok else "yellow"
    line = runner.summary(report, verb)
    console.print(f"[{color}]{line}[/{color}] → {escape(str(options.output))}")
    raise typer.Exit(130 if report.interrupted else 0 if report.ok else 1)


def _execute(
    planned: batch.Plan,
    factory: functools.partial[runner.Job],
    job: runner.Job | None,
    options: _BatchOptions,
    description: str,
) -> runner.BatchReport:
    """Run the plan here (``job``, or ``--workers`` processes) or on a Ray cluster."""
    if options.cluster is None:
        return runner.run(
            planned,
            factory,
            job=job,
            description=description,
            console=console,
            workers=options.workers,
        )
    from daguerre import cluster

    return cluster.run(
        planned,
        factory,
        address=options.cluster,
        description=description,
        console=console,
        gpus=options.gpus,
    )


def _names(paths: list[Path], shown: int = 5) -> str:
    """The first file names of ``paths``, then an ellipsis for the rest."""
    return ", ".join(path.name for path in paths[:shown]) + (", …" if len(paths) > shown else "")


def _shaping(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings that shape a result, for the journal: all but the device, so that a batch
    begun on one machine (or a CPU) is resumed, not refused, on another (or a GPU)."""
    return {
        key: _shaping(value) if isinstance(value, dict) else value
        for key, value in settings.items()
        if key != "device"
    }


def _file_seed(seed: int, path: Path) -> int:
    """A per-file seed that depends on the file name, not on its place in the batch."""
    return seed ^ zlib.crc32(path.name.encode())


def _write_like(target: Path, picture: Image, pixels: np.ndarray, writing: _Writing) -> Path:
    """Write ``pixels`` for ``picture`` with its bit depth, alpha and metadata (resized to fit)."""
    from daguerre import image

    return image.write_like(
        target, picture, pixels, keep_metadata=writing.keep_metadata, quality=writing.quality
    )


def _write_mask(item: batch.BatchItem, mask: np.ndarray) -> Path:
    """Write a damage mask as the item's ``mask`` output."""
    from daguerre import image

    return image.write(item.extras["mask"], mask[..., None], protect=[item.source])


@app.command()
def age(
    inputs: Inputs,
    output: OutputDir,
    preset: Annotated[
        str,
        typer.Option(
            help=f"Aging preset: {', '.join(name for name in AGING_PRESETS if name != 'none')}."
        ),
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
    overwrite: Overwrite = False,
    workers: Workers = 1,
    report: Report = None,
    quality: Quality = 95,
    strip: StripMetadata = False,
) -> None:
    """Make clean photos look old: fading, blur, noise, grain, scratches, dust, cracks, tears."""
    from daguerre import aging

    if preset not in aging.PRESETS:
        console.print(
            f"[red]error[/red] unknown preset {preset!r}; choose from {list(aging.PRESETS)}"
        )
        raise typer.Exit(2)
    options = _BatchOptions(
        output, ext, suffix, recursive, overwrite, workers, report, _Writing(quality, not strip)
    )
    factory = functools.partial(
        _age_job, preset=preset, seed=seed, save_mask=save_mask, writing=options.writing
    )
    extras = {"mask": "_mask.png"} if save_mask else None
    _run_batch(inputs, options, factory, description="aging", verb="aged", extras=extras)


def _age_job(*, preset: str, seed: int, save_mask: bool, writing: _Writing) -> runner.Job:
    """The job of ``age``: read, age with the file's seed, write the result (and its mask)."""
    from daguerre import aging, image

    pipeline = aging.AgingPipeline(preset)

    def job(item: batch.BatchItem) -> list[Path]:
        picture = image.read(item.source)
        result = pipeline(picture.pixels, _file_seed(seed, item.source))
        written = [_write_like(item.target, picture, result.aged, writing)]
        if save_mask:
            written.append(_write_mask(item, result.mask))
        return written

    return job


@app.command()
def models() -> None:
    """List the bundled models with their sizes and measured validation metrics."""
    from daguerre import hub
    from daguerre.nets import format_count

    with _exit_2_on(hub.ModelError):
        cards = hub.list_models()
    if not cards:
        console.print("no bundled models yet")
        return
    table = Table(title="bundled models")
    # the names are what users type: never cut; the other columns wrap instead
    table.add_column("name", no_wrap=True, min_width=max(len(card.name) for card in cards))
    for column in ("task", "architecture", "parameters", "steps", "metrics"):
        table.add_column(column, justify="right" if column == "parameters" else "left")
    for card in cards:
        metrics = ", ".join(f"{key} {value:.4g}" for key, value in card.metrics.items())
        table.add_row(
            card.name,
            card.task,
            str(card.architecture.get("type", "?")),
            format_count(card.parameters) if card.parameters else "?",
            str(card.training.get("steps", "?")),
            metrics,
        )
    Console().print(table)


@app.command()
def train(
    config: Annotated[
        Path | None,
        typer.Argument(help="A recipe YAML, e.g. configs/pix2pix.yaml (not needed with --resume)."),
    ] = None,
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
    device: Annotated[
        str, typer.Option(help="auto, cpu, cuda or mps.", callback=_checked_device_or_auto)
    ] = "auto",
) -> None:
    """Train a model from a recipe; the same command runs distributed under torchrun."""
    from daguerre import training
    from daguerre.data import DataError

    folders: dict[str, str] = {}
    for entry in data or []:
        name, _, folder = entry.rpartition("=")
        folders[name or "train"] = folder
    with _exit_2_on(training.ConfigError, training.TrainingError, DataError):
        finished = training.train(
            config,
            data=folders or None,
            resume=resume,
            overrides=list(set_ or []),
            run_dir=run_dir,
            device=device,
        )
    console.print(f"[green]done[/green] → {escape(str(finished))}")


# long side of each half of a --compare sheet: a look at the whole photo, not a second copy
# of a large scan (the restored file itself has every pixel)
COMPARE_SIDE = 2048


def _side_by_side(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Before and after next to each other with a thin white gutter (channels matched)."""
    channels = max(before.shape[-1], after.shape[-1])
    before, after = (np.broadcast_to(x, (*x.shape[:2], channels)) for x in (before, after))
    gutter = np.ones((before.shape[0], max(4, before.shape[1] // 100), channels), np.float32)
    return np.concatenate([before, gutter, after], axis=1)


Device = Annotated[str, typer.Option(help="cpu, cuda, cuda:N or mps.", callback=_checked_device)]
TileSize = Annotated[
    int | None, typer.Option(help="Tile size in pixels (default: from a memory budget).")
]


WeightsDir = Annotated[
    Path | None,
    typer.Option(help="Folder of restore-* models to use; a model it lacks is the bundled one."),
]
# ranges are checked by RestoreOptions itself, for the CLI and the Python API alike
MaskThreshold = Annotated[
    float, typer.Option(help="Damage probability above which pixels are filled (0 to 1).")
]
MaxHole = Annotated[
    float,
    typer.Option(
        help="Largest detected region filled, as a fraction of the picture (1: no limit)."
    ),
]


ScaleOption = Annotated[
    int, typer.Option("--scale", help="Enlarge 2× or 4× (restore: 1 keeps the size).")
]
FacesOption = Annotated[
    Literal["auto", "on", "off"],
    typer.Option(
        help="Restore every face with the face model after global restoration. auto: when a "
        "restore-faces model is bundled or in --weights, else off without an error; on: always "
        "(a missing model is an error); off: never."
    ),
]
FaceStrength = Annotated[
    float,
    typer.Option(
        help="Blend of the restored faces with the whole-image result (0 to 1; 0 = no change)."
    ),
]
Iterations = Annotated[
    int | None,
    typer.Option(
        min=1, help="Deep Image Prior steps (default: measured per task; more fits the noise)."
    ),
]
DipSeed = Annotated[int, typer.Option(help="Seed of Deep Image Prior's network and input.")]


def _dip_holes(mask: np.ndarray, pipeline: RestorePipeline) -> np.ndarray:
    """The pixels Deep Image Prior paints: the pipeline's fill mask (threshold, grown rim)."""
    from daguerre.restore.context import Context
    from daguerre.restore.stages import holes

    return holes(Context(pipeline.options, mask=mask)).astype(bool)


def _dip(
    pixels: np.ndarray,
    scale: int,
    holes: np.ndarray | None,
    iterations: int | None,
    device: str,
    seed: int,
) -> np.ndarray:
    """Deep Image Prior on one photo under a progress bar (gray photos stay gray)."""
    from daguerre.upscale.dip import deep_image_prior

    with _steps("deep image prior") as progress:
        result = deep_image_prior(
            pixels,
            scale=scale,
            mask=holes,
            iterations=iterations,
            device=device,
            seed=seed,
            progress=progress,
        )
    return result.image


@contextmanager
def _steps(label: str, total: int | None = None) -> Iterator[Callable[..., None]]:
    """A bar of its own for the steps of one long job: an optimization or Deep Image Prior
    (under the batch's bar), an evaluation. Yields the ``progress(done, total)`` callback,
    which also takes a new ``description`` for the bar."""
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)

        def progress(done: int, total: int | None, description: str | None = None) -> None:
            bar.update(task, completed=done, total=total, description=description)

        yield progress


def _score_table(title: str, columns: Sequence[str], labels: int = 1) -> Table:
    """An evaluation's table: the first ``labels`` columns (what a row is) left-aligned, the
    scores right-aligned."""
    table = Table(title=title)
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index < labels else "right")
    return table


def _restore_pipeline(**options: object) -> RestorePipeline:
    """The restore pipeline for ``options``; an out-of-range option is an error, exit 2."""
    from daguerre.restore import RestorePipeline

    with _exit_2_on(ValueError):
        return RestorePipeline(**options)


@app.command()
def restore(
    inputs: Inputs,
    output: OutputDir,
    ext: Ext = "auto",
    suffix: Suffix = "",
    device: Device = "cpu",
    tile: TileSize = None,
    no_damage: Annotated[
        bool, typer.Option("--no-damage", help="Skip damage detection and inpainting.")
    ] = False,
    no_enhance: Annotated[
        bool, typer.Option("--no-enhance", help="Skip global restoration (noise, blur, fading).")
    ] = False,
    finish: Annotated[
        bool, typer.Option("--finish", help="Auto levels, white balance and gentle sharpening.")
    ] = False,
    mask: Annotated[
        Path | None, typer.Option(help="Damage mask to use instead of detection (white = damaged).")
    ] = None,
    save_mask: Annotated[
        bool, typer.Option("--save-mask", help="Also write the damage mask as NAME_mask.png.")
    ] = False,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help="Also write a before/after as NAME_compare.jpg"
            f" (at most {COMPARE_SIDE} px a side).",
        ),
    ] = False,
    monochrome: Annotated[
        Literal["auto", "yes", "no"],
        typer.Option(
            help="yes: neutral black and white; no: keep the colours (a pale colour photo taken "
            "for a toned print); auto: black-and-white and toned prints come back neutral."
        ),
    ] = "auto",
    recursive: Recursive = False,
    overwrite: Overwrite = False,
    workers: Workers = 1,
    report: Report = None,
    quality: Quality = 95,
    strip: StripMetadata = False,
    weights: WeightsDir = None,
    mask_threshold: MaskThreshold = 0.9,
    max_hole: MaxHole = 0.01,
    scale: ScaleOption = 1,
    method: Annotated[
        Literal["net", "dip"],
        typer.Option(
            help="net: the trained models; dip: Deep Image Prior, a network fitted to each photo "
            "(no training; minutes per photo): denoises, paints the detected or given mask and "
            "enlarges with --scale."
        ),
    ] = "net",
    iterations: Iterations = None,
    seed: DipSeed = 0,
    faces: FacesOption = "auto",
    face_strength: FaceStrength = 1.0,
    cluster: Annotated[
        str | None,
        typer.Option(
            help="Run on a Ray cluster (pip install 'daguerre\\[cluster]'): auto (the cluster this "
            "machine belongs to), local (a Ray started here) or ray://HOST:PORT. -o must be a "
            "folder every machine shares; --workers is not used.",
        ),
    ] = None,
) -> None:
    """Restore old photos: find and fill scratches, dust, cracks and tears, clean them, then
    restore the faces."""
    from daguerre.faces.stage import model_available

    shared = {
        "mask_threshold": mask_threshold,
        "max_hole": max_hole,
        "device": device,
        "tile": tile,
        "weights_dir": None if weights is None else str(weights),
    }
    if method == "dip":  # the models find damage only; the fitted network does the rest
        pipeline = {"inpaint": False, "enhance": False, **shared}
    else:
        pipeline = {
            "enhance": not no_enhance,
            "finish": finish,
            "monochrome": {"auto": None, "yes": True, "no": False}[monochrome],
            "scale": scale,
            "faces": faces == "on" or (faces == "auto" and model_available(weights)),
            "face_strength": face_strength,
            **shared,
        }
    pipeline["detect_damage"] = not no_damage or mask is not None
    writing = _Writing(quality, not strip)
    options = _BatchOptions(
        output,
        ext,
        suffix,
        recursive,
        overwrite,
        workers,
        report,
        writing,
        cluster,
        gpus=device.startswith("cuda"),
    )
    factory = functools.partial(
        _restore_job,
        pipeline=pipeline,
        mask=None if mask is None else str(mask),
        dip=None if method == "net" else {"iterations": iterations, "seed": seed, "scale": scale},
        compare=compare,
        save_mask=save_mask,
        writing=options.writing,
    )
    extras = {"mask": "_mask.png"} if save_mask else {}
    if compare:
        extras["compare"] = "_compare.jpg"
    _run_batch(inputs, options, factory, description="restoring", verb="restored", extras=extras)


def _restore_job(
    *,
    pipeline: dict[str, object],
    mask: str | None,
    dip: dict[str, int | None] | None,
    compare: bool,
    save_mask: bool,
    writing: _Writing,
) -> runner.Job:
    """The job of ``restore``: the pipeline (with a user mask, or Deep Image Prior's damage
    finder), then the result, its mask and a before / after sheet."""
    from daguerre import image
    from daguerre.color import preview
    from daguerre.restore import RestorePipeline

    user_mask = None if mask is None else image.read(mask).pixels.max(axis=-1)
    restorer = RestorePipeline(**pipeline, mask=user_mask)  # type: ignore[arg-type]

    def job(item: batch.BatchItem) -> list[Path]:
        picture = image.read(item.source)
        # a copy: a small photo's preview is the photo itself, which the pipeline may change
        before = preview(picture.pixels, COMPARE_SIDE).copy() if compare else None
        # the pixels are not needed again: the pipeline may work on them (one copy fewer)
        result = restorer(picture.pixels, overwrite=dip is None)
        if dip is not None:
            holes = None if result.mask is None else _dip_holes(result.mask, restorer)
            device = str(pipeline["device"])
            pixels = _dip(
                picture.pixels, dip["scale"], holes, dip["iterations"], device, dip["seed"]
            )
            result = type(result)(pixels, result.mask)
        written = [_write_like(item.target, picture, result.image, writing)]
        if save_mask and result.mask is not None:
            written.append(_write_mask(item, result.mask))
        if before is not None:
            sheet = _side_by_side(before, preview(result.image, COMPARE_SIDE))
            written.append(image.write(item.extras["compare"], sheet, protect=[item.source]))
        return written

    return job


evaluate_app = typer.Typer(help="Measure the bundled models on your own clean photos.")
app.add_typer(evaluate_app, name="eval")


@evaluate_app.command("restore")
def evaluate_restore(
    data: Annotated[Path, typer.Option(help="Folder of clean photos (they are aged here).")],
    preset: Annotated[
        str | None,
        typer.Option(
            help="An aging preset ("
            + ", ".join(name for name in AGING_PRESETS if name != "none")
            + "; moderate by default); with --damage heldout a level of the held-out renderer "
            "(heldout by default, mild, severe); none (clean photos); or all: none, every aging "
            "preset and the held-out renderer in one table (--damage is then not used)."
        ),
    ] = None,
    damage: Annotated[
        str,
        typer.Option(
            help="aging (the engine the models are trained on) or heldout (a renderer that "
            "training never sees)."
        ),
    ] = "aging",
    seed: Annotated[int, typer.Option(help="Aging seed (image i uses seed + i).")] = 0,
    limit: Annotated[int | None, typer.Option(help="Use at most this many photos.")] = None,
    sheet: Annotated[
        Path | None,
        typer.Option(
            help="Write a before / after / truth sheet (PNG) here; with --preset all one per "
            "preset, named STEM_PRESET.png."
        ),
    ] = None,
    no_damage: Annotated[
        bool, typer.Option("--no-damage", help="Evaluate without detection and inpainting.")
    ] = False,
    device: Device = "cpu",
    weights: WeightsDir = None,
    mask_threshold: MaskThreshold = 0.9,
    max_hole: MaxHole = 0.01,
) -> None:
    """Age clean photos with a fixed seed, restore them, and score input, classical and daguerre.

    Reports PSNR / SSIM of the aged input, of the classical baseline (OpenCV non-local means +
    Telea inpainting of detected thin defects), of the pipeline with and without finishing, the
    damage mask's precision / recall / IoU against the damage that shows (opacity > 0.25), and
    the share of pixels the mask flags (on clean photos, every one a false alarm).
    """
    from daguerre.hub import ModelError
    from daguerre.image import find_images
    from daguerre.restore.evaluate import (
        evaluate,
        evaluate_every,
        resolve_preset,
        write_sheet,
    )
    from daguerre.restore.finish import finish

    if preset != "all":
        with _exit_2_on(ValueError):
            preset = resolve_preset(preset, damage)
    pipeline = _restore_pipeline(
        device=device,
        detect_damage=not no_damage,
        weights_dir=weights,
        mask_threshold=mask_threshold,
        max_hole=max_hole,
    )
    options = {
        "seed": seed,
        "pipeline": pipeline,
        "extra": {"daguerre --finish": lambda aged, restored: finish(restored)},
    }
    with _exit_2_on(ImageError, ModelError, ValueError):
        photos = find_images([data])[:limit]
        with _steps("evaluating") as progress:

            def report(row: str, done: int, total: int) -> None:
                progress(done, total, description=row)

            if preset == "all":
                results = evaluate_every(photos, progress=report, **options)
            else:
                results = {
                    preset: evaluate(
                        photos,
                        preset=preset,
                        damage=damage,
                        progress=lambda done, total: report(preset, done, total),
                        **options,
                    )
                }
    if preset == "all":
        _print_every_preset(results, f"{escape(str(data))} (every preset, seed {seed})")
    else:
        renderer = "" if damage == "aging" else ", held-out renderer"
        _print_evaluation(results[preset], f"{escape(str(data))} ({preset}{renderer}, seed {seed})")
    if sheet is not None:
        for row, result in results.items():
            path = sheet.with_stem(f"{sheet.stem}_{row}") if preset == "all" else sheet
            with _exit_2_on(ImageError):
                write_sheet(result, path)
            console.print(f"sheet → {escape(str(path))}")


def _mask_line(result: Evaluation) -> str | None:
    """The damage mask's scores and the share of pixels it flags, or None without a mask."""
    summary, flagged = result.summary(), result.flagged_fraction()
    parts = [f"{key} {value:.3f}" for key, value in summary.get("mask", {}).items()]
    if flagged is not None:
        parts.append(f"flagged {100 * flagged:.2f} % of pixels")
        if "mask" not in summary:
            parts[-1] += " (no damage drawn)"
    return ", ".join(parts) or None


def _print_evaluation(result: Evaluation, about: str) -> None:
    """One preset: a row per method, then the damage mask's line."""
    title = f"restoration on {len(result.names)} photos of {about}"
    table = _score_table(title, ("method", "PSNR dB", "SSIM"))
    for method, scores in result.summary().items():
        if method != "mask":
            table.add_row(method, f"{scores['psnr']:.2f}", f"{scores['ssim']:.4f}")
    Console().print(table)
    line = _mask_line(result)
    if line is not None:
        Console().print(f"damage mask: {line}")


def _print_every_preset(results: dict[str, Evaluation], about: str) -> None:
    """Every preset: a row each, PSNR / SSIM per method and the mask's P / R / IoU."""
    first = next(iter(results.values()))
    methods = [method for method in first.summary() if method != "mask"]
    columns = ["preset", *(f"{method} PSNR / SSIM" for method in methods)]
    columns += ["mask P / R / IoU", "flagged %"]
    table = _score_table(f"restoration on {len(first.names)} photos of {about}", columns)
    for row, result in results.items():
        summary, flagged = result.summary(), result.flagged_fraction()
        cells = [f"{summary[m]['psnr']:.2f} / {summary[m]['ssim']:.4f}" for m in methods]
        mask = summary.get("mask")
        cells.append(
            "—"
            if mask is None
            else " / ".join(f"{mask[k]:.3f}" for k in ("precision", "recall", "iou"))
        )
        cells.append("—" if flagged is None else f"{100 * flagged:.2f}")
        table.add_row(row, *cells)
    out = Console()
    if not out.is_terminal:  # a log or a pipe: one line per row, however wide
        out = Console(width=max(out.width, 160))
    out.print(table)


@evaluate_app.command("upscale")
def evaluate_upscale(
    data: Annotated[Path, typer.Option(help="Folder of clean photos (their centre crops).")],
    scale: ScaleOption = 4,
    degrade: Annotated[
        Literal["clean", "real"],
        typer.Option(
            help="clean: an antialiased bicubic shrink; real: blur σ 1.2, shrink, noise σ 5/255 "
            "and JPEG 60."
        ),
    ] = "clean",
    model: Annotated[
        list[str] | None,
        typer.Option(
            help="A model name or .safetensors path (repeatable). Default: the scale's fidelity "
            "and GAN models, those installed."
        ),
    ] = None,
    weights: Annotated[
        Path | None,
        typer.Option(
            help="Folder of upscale-* models to use; a model it lacks is the bundled one."
        ),
    ] = None,
    crop: Annotated[int, typer.Option(min=192, help="Side of the centre crops (truth).")] = 512,
    limit: Annotated[int | None, typer.Option(help="Use at most this many photos.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the degradation (photo i: seed + i).")] = 0,
    device: Device = "cpu",
) -> None:
    """Shrink centre crops of clean photos, enlarge them back, and score every method.

    PSNR / SSIM against the truth (higher is closer) and NIQE (lower is more natural; the truth's
    own NIQE is printed below), beside bicubic and Lanczos, with seconds per output megapixel.
    """
    from daguerre.hub import ModelError
    from daguerre.image import find_images
    from daguerre.upscale import load_upscaler, model_names
    from daguerre.upscale.evaluate import evaluate
    from daguerre.upscale.upscaler import installed

    with _exit_2_on(ImageError, ModelError, ValueError):
        # by default the scale's models that are installed (the fidelity one at least)
        names = (
            model
            or [n for n in model_names(scale) if installed(n, weights)]
            or [model_names(scale)[0]]
        )
        nets = {}
        for name in names:  # a model name, or a weights file named after its model
            key = Path(name).name.removesuffix(".safetensors")
            source = None if key == name else name
            nets[key] = load_upscaler(key, source, weights_dir=weights, device=device)
        photos = find_images([data])[:limit]
        with _steps("upscaling", len(photos)) as progress:
            result = evaluate(
                photos,
                nets,
                scale=scale,
                degradation=degrade,
                crop=crop,
                seed=seed,
                device=device,
                progress=progress,
            )
    title = f"×{scale} upscaling of {len(photos)} {crop}² crops of {escape(str(data))} ({degrade})"
    table = _score_table(title, ("method", "PSNR dB", "SSIM", "NIQE", "s/MP"))
    for method, scores in result.summary().items():
        table.add_row(
            method,
            f"{scores['psnr']:.2f}",
            f"{scores['ssim']:.4f}",
            f"{scores['niqe']:.2f}",
            f"{scores['s_per_mp']:.3f}",
        )
    out = Console()
    out.print(table)
    out.print(f"truth NIQE {np.mean(result.truth_niqe):.2f}")


@evaluate_app.command("faces")
def evaluate_faces(
    data: Annotated[
        Path, typer.Option(help="Folder of aligned faces (FFHQ-aligned squares, e.g. faces/val).")
    ],
    preset: Annotated[
        str,
        typer.Option(
            help="Degradation: standard (blur σ 2–4, ×4 shrink, noise σ 10/255, JPEG 50), mild "
            "(σ 1–2, ×2, 5/255, JPEG 70) or severe (σ 4–6, ×8, 15/255, JPEG 30); sizes in pixels "
            "of a 512² face."
        ),
    ] = "standard",
    landmarks: Annotated[
        Literal["detected", "template"],
        typer.Option(
            help="detected: faces found as the stage finds them; template: the alignment's own "
            "landmarks (restoration measured apart from detection)."
        ),
    ] = "detected",
    face_strength: FaceStrength = 1.0,
    size: Annotated[int, typer.Option(min=64, help="Side the faces are scored at.")] = 512,
    seed: Annotated[int, typer.Option(help="Degradation seed (face i: seed + i).")] = 0,
    limit: Annotated[int | None, typer.Option(help="Use at most this many faces.")] = None,
    no_damage: Annotated[
        bool, typer.Option("--no-damage", help="Run the pipeline without damage detection.")
    ] = False,
    device: Device = "cpu",
    weights: WeightsDir = None,
) -> None:
    """Degrade aligned faces, restore them with and without the faces stage, and score both.

    PSNR / SSIM on the face region (brows to chin, cheek to cheek) of the degraded input, of
    the whole-image pipeline and of the pipeline with the faces stage, with the gains over the
    input, the faces found and the faces stage's seconds per face.
    """
    from daguerre.faces.evaluate import PRESETS, evaluate, summary_rows
    from daguerre.faces.landmarks import MODEL_NAME as LANDMARKS_MODEL
    from daguerre.faces.stage import MODEL_NAME
    from daguerre.hub import ModelError, load_network
    from daguerre.image import find_images

    if preset not in PRESETS:
        console.print(f"[red]error[/red] unknown preset {preset!r}; known: {', '.join(PRESETS)}")
        raise typer.Exit(2)
    pipeline = _restore_pipeline(
        device=device, detect_damage=not no_damage, weights_dir=weights, faces=False
    )
    with _exit_2_on(ImageError, ModelError, ValueError):
        net = load_network(MODEL_NAME, weights_dir=weights, device=device)
        landmark_net = load_network(LANDMARKS_MODEL, weights_dir=weights)
        faces = find_images([data])[:limit]
        with _steps("evaluating", len(faces)) as progress:
            result = evaluate(
                faces,
                pipeline,
                net,
                landmark_net,
                preset=preset,
                landmarks=landmarks,
                strength=face_strength,
                size=size,
                seed=seed,
                device=device,
                progress=progress,
            )
    table = _score_table(
        f"faces on {len(result.names)} aligned {size}² faces of {escape(str(data))} "
        f"({preset}, {landmarks} landmarks, seed {seed})",
        ("method", "PSNR dB", "SSIM", "PSNR gain", "SSIM gain"),
    )
    for method, row in summary_rows(result).items():
        table.add_row(
            method,
            f"{row['psnr']:.2f}",
            f"{row['ssim']:.4f}",
            f"{row['psnr_gain']:+.2f}",
            f"{row['ssim_gain']:+.4f}",
        )
    out = Console()
    out.print(table)
    found = sum(1 for count in result.found if count)
    per_face = result.seconds_per_face()
    speed = "no face found" if per_face is None else f"{per_face:.2f} s per face"
    out.print(f"faces found in {found} of {len(result.names)} photos; faces stage {speed}")


@evaluate_app.command("style")
def evaluate_style(
    data: Annotated[Path, typer.Option(help="Folder of photos to restyle.")],
    styles: Annotated[
        Path | None,
        typer.Option(
            help="Folder of the paintings: the file named in a model's card, else NAME.jpg for "
            "style-NAME (- read as _). Default: the project's ../shared/data/styles."
        ),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(help="A style model to evaluate (repeatable). Default: every bundled one."),
    ] = None,
    size: Annotated[int, typer.Option(min=16, help="Long side of the photos, in pixels.")] = 512,
    limit: Annotated[int | None, typer.Option(help="Use at most this many photos.")] = None,
    device: Device = "cpu",
) -> None:
    """Score each fast style, a colour transfer and the photo itself against the painting.

    style / texture: distance of the picture and of its fine detail to the painting (lower: closer).
    edge-SSIM: how much of the photo's drawing the picture keeps, higher keeps more.
    """
    from daguerre.hub import ModelError
    from daguerre.image import find_images
    from daguerre.style.evaluate import DEFAULT_STYLES, evaluate

    with _exit_2_on(ImageError, ModelError, OSError, ValueError):
        photos = find_images([data])[:limit]
        with _steps("styling") as progress:
            result = evaluate(
                photos,
                model or None,
                styles=styles or DEFAULT_STYLES,
                size=size,
                device=device,
                progress=progress,
            )
    table = _score_table(
        f"style on {len(photos)} photos of {escape(str(data))} at {size} px",
        ("model", "method", "style", "texture", "edge-SSIM", "s/MP"),
        labels=2,
    )
    for name, methods in result.summary().items():
        for method, scores in methods.items():
            speed = result.seconds_per_megapixel[name] if method == "fast model" else None
            table.add_row(
                name,
                method,
                f"{scores['style']:.4g}",
                f"{scores['texture']:.4g}",
                f"{scores['edge_ssim']:.3f}",
                "" if speed is None else f"{speed:.3f}",
            )
    Console().print(table)


@app.command()
def stylize(
    inputs: Inputs,
    output: OutputDir,
    style: Annotated[
        list[str],
        typer.Option(
            help="vintage, a bundled style, a painting (image file) or a MODEL.safetensors (a "
            "trained style, or a painting learnt by `daguerre style learn`); give it twice to "
            "mix two styles (see --mix).",
            show_default=False,
        ),
    ],
    method: Annotated[
        str | None,
        typer.Option(
            help="fast (a model, or any painting through the arbitrary-style network, seconds), "
            "optimize (a painting, minutes per megapixel on a CPU) or color (a painting's "
            "palette). Default: fast."
        ),
    ] = None,
    mix: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="With two --style: the second one's share (default 0.5). Two paintings mix "
            "inside the network (one style between them); other pairs mix their pictures.",
        ),
    ] = None,
    strength: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="0 keeps the photo, 1 applies the full style.")
    ] = 1.0,
    preserve_colors: Annotated[
        bool,
        typer.Option("--preserve-colors", help="Keep the photo's colours; restyle lightness only."),
    ] = False,
    face_strength: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="The style's strength on faces, as a fraction of --strength, so people stay "
            "recognisable (1: faces are not looked for).",
        ),
    ] = 0.5,
    size: Annotated[
        int | None,
        typer.Option(help="Resize to this long side (pixels) first; sets the brush-stroke scale."),
    ] = None,
    tile: TileSize = None,
    device: Device = "cpu",
    seed: Annotated[int, typer.Option(help="Seed of the vintage grain and the optimisation.")] = 0,
    ext: Ext = "auto",
    suffix: Suffix = "",
    recursive: Recursive = False,
    overwrite: Overwrite = False,
    workers: Workers = 1,
    report: Report = None,
    quality: Quality = 95,
    strip: StripMetadata = False,
) -> None:
    """Make photos look like a painting: a trained style, any painting, its colours, or vintage."""
    if len(style) > 2 or (mix is not None and len(style) != 2):
        console.print("[red]error[/red] give one --style, or two with an optional --mix")
        raise typer.Exit(2)
    options = _BatchOptions(
        output, ext, suffix, recursive, overwrite, workers, report, _Writing(quality, not strip)
    )
    style_options = {
        "method": method,
        "strength": strength,
        "preserve_colors": preserve_colors,
        "face_strength": face_strength if face_strength < 1.0 else None,
        "mix_with": style[1] if len(style) == 2 else None,
        "mix": 0.5 if mix is None else mix,
        "size": size,
        "tile": tile,
        "device": device,
        "seed": seed,
    }
    factory = functools.partial(
        _stylize_job, style=style[0], options=style_options, writing=options.writing
    )
    _run_batch(inputs, options, factory, description="styling", verb="stylized")


style_app = typer.Typer(help="Teach daguerre a painting of your own.")
app.add_typer(style_app, name="style")


@style_app.command("learn")
def style_learn(
    painting: Annotated[Path, typer.Argument(help="The painting, an image file.")],
    photos: Annotated[
        list[Path],
        typer.Option(
            help="Photos to learn on, files and/or folders (repeatable): a few dozen like the "
            "ones you will style.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="The model to write, NAME.safetensors (and its card NAME.json). Default: the "
            "painting's name in the current folder.",
        ),
    ] = None,
    minutes: Annotated[float, typer.Option(min=0.1, help="How long to learn (wall time).")] = 5.0,
    steps: Annotated[
        int | None, typer.Option(min=1, help="Learn exactly this many steps instead.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the crops drawn.")] = 0,
    recursive: Recursive = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a model already at --output.")
    ] = False,
    device: Device = "cpu",
) -> None:
    """Adapt the any-painting network to one painting (minutes): its strokes, not generic ones.

    Then style with it: daguerre stylize PHOTOS --style NAME.safetensors -o DIR.
    """
    from daguerre import hub, image
    from daguerre.style.learn import MAX_PHOTOS, PHOTO_SIDE, learn_style, save_learned
    from daguerre.style.pipeline import fit_long_side

    target, _ = hub.model_paths(output or Path(painting.stem))
    with _exit_2_on(ImageError, hub.ModelError, OSError, ValueError):
        if target.exists() and not overwrite:
            raise ValueError(f"{target}: already exists (--overwrite replaces it)")
        art = image.read(painting).pixels
        files = image.find_images(photos, recursive=recursive)
        if len(files) > MAX_PHOTOS:  # evenly spread over the folders given
            files = [files[i * len(files) // MAX_PHOTOS] for i in range(MAX_PHOTOS)]
        pictures = []
        for file in files:
            try:
                pictures.append(fit_long_side(image.read(file).pixels, PHOTO_SIDE))
            except ImageError as error:
                console.print(f"[yellow]skipped[/yellow] {escape(str(error))}")
        if not pictures:
            raise ValueError("no readable photos to learn on (--photos)")
        with _steps(f"learning {painting.name}") as progress:
            learned = learn_style(
                art,
                pictures,
                minutes=minutes,
                steps=steps,
                seed=seed,
                device=device,
                progress=progress,
            )
        command = "daguerre style learn " + " ".join(sys.argv[3:])
        saved = save_learned(
            learned,
            target,
            painting=painting.resolve(),
            photos=f"{len(pictures)} photos of {', '.join(str(p) for p in photos)}",
            command=command,
        )
    console.print(
        f"learnt {escape(painting.name)} in {learned.steps} steps "
        f"({learned.seconds / 60:.1f} min) → {escape(str(saved))}\n"
        f"style with it: daguerre stylize PHOTOS --style {escape(str(saved))} -o DIR"
    )


def _stylize_job(*, style: str, options: dict[str, object], writing: _Writing) -> runner.Job:
    """The job of ``stylize``: read, restyle, write."""
    from daguerre import image
    from daguerre.style import Stylizer

    stylizer = Stylizer(style, **options)  # type: ignore[arg-type]

    def job(item: batch.BatchItem) -> list[Path]:
        picture = image.read(item.source)
        if stylizer.method == "optimize":  # minutes a file: show its iterations
            with _steps("optimizing") as progress:
                pixels = stylizer(picture.pixels, progress)
        else:
            pixels = stylizer(picture.pixels)
        return [_write_like(item.target, picture, pixels, writing)]

    return job


@app.command()
def upscale(
    inputs: Inputs,
    output: OutputDir,
    scale: ScaleOption = 4,
    sharpness: Annotated[
        float,
        typer.Option(
            help="0: the fidelity model (closest to the photo), 1: the GAN model (draws "
            "texture: foliage, fur, hair); between: a blend of the two."
        ),
    ] = 0.0,
    method: Annotated[
        Literal["net", "dip"],
        typer.Option(
            help="net: the trained upscalers; dip: Deep Image Prior (no training, minutes per "
            "photo)."
        ),
    ] = "net",
    iterations: Iterations = None,
    seed: DipSeed = 0,
    weights: Annotated[
        Path | None,
        typer.Option(
            help="Folder of upscale-* models to use; a model it lacks is the bundled one."
        ),
    ] = None,
    device: Device = "cpu",
    tile: TileSize = None,
    ext: Ext = "auto",
    suffix: Suffix = "",
    recursive: Recursive = False,
    overwrite: Overwrite = False,
    workers: Workers = 1,
    report: Report = None,
    quality: Quality = 95,
    strip: StripMetadata = False,
) -> None:
    """Enlarge photos 2× or 4× with the trained upscalers (or Deep Image Prior)."""
    options = _BatchOptions(
        output, ext, suffix, recursive, overwrite, workers, report, _Writing(quality, not strip)
    )
    factory = functools.partial(
        _upscale_job,
        scale=scale,
        options={"sharpness": sharpness, "weights_dir": weights, "device": device, "tile": tile},
        dip=None if method == "net" else {"iterations": iterations, "seed": seed},
        writing=options.writing,
    )
    _run_batch(inputs, options, factory, description="upscaling", verb="upscaled")


def _upscale_job(
    *,
    scale: int,
    options: dict[str, object],
    dip: dict[str, int | None] | None,
    writing: _Writing,
) -> runner.Job:
    """The job of ``upscale``: the trained upscalers or Deep Image Prior; gray stays gray."""
    from daguerre import image
    from daguerre.color import to_gray, to_rgb
    from daguerre.upscale import Upscaler

    upscaler = Upscaler(scale, **options)  # type: ignore[arg-type]
    if dip is None:
        upscaler.network()  # a missing model fails here, before any file is read

    def job(item: batch.BatchItem) -> list[Path]:
        picture = image.read(item.source)
        gray = picture.pixels.shape[-1] == 1
        if dip is not None:
            device = str(options["device"])
            pixels = _dip(picture.pixels, scale, None, dip["iterations"], device, dip["seed"])
        else:
            rgb = to_rgb(picture.pixels)
            height, width = rgb.shape[:2]
            # the result is written once, into one array: half floats hold 8-bit output exactly
            # enough (their step below 1 is 1/2048) at half the size of float32
            kind = np.float32 if picture.bit_depth == 16 else np.float16
            pixels = upscaler(rgb, out=np.empty((height * scale, width * scale, 3), kind))
        if gray:
            pixels = to_gray(pixels)
        return [_write_like(item.target, picture, pixels, writing)]

    return job


@app.command()
def translate(
    inputs: Inputs,
    output: OutputDir,
    model: Annotated[
        str,
        typer.Option(
            help="A translation model: bundled name or MODEL.safetensors (daguerre train "
            "configs/cyclegan.yaml makes one).",
            show_default=False,
        ),
    ],
    tile: TileSize = None,
    device: Device = "cpu",
    ext: Ext = "auto",
    suffix: Suffix = "",
    recursive: Recursive = False,
    overwrite: Overwrite = False,
    workers: Workers = 1,
    report: Report = None,
    quality: Quality = 95,
    strip: StripMetadata = False,
) -> None:
    """Translate photos into another collection's look with a trained CycleGAN generator."""
    options = _BatchOptions(
        output, ext, suffix, recursive, overwrite, workers, report, _Writing(quality, not strip)
    )
    factory = functools.partial(
        _translate_job, model=model, device=device, tile=tile, writing=options.writing
    )
    _run_batch(inputs, options, factory, description="translating", verb="translated")


def _translate_job(*, model: str, device: str, tile: int | None, writing: _Writing) -> runner.Job:
    """The job of ``translate``: read, translate with the generator, write."""
    from daguerre import image
    from daguerre.style import Generator

    generator = Generator(model, device=device)

    def job(item: batch.BatchItem) -> list[Path]:
        picture = image.read(item.source)
        return [_write_like(item.target, picture, generator(picture.pixels, tile=tile), writing)]

    return job


@app.command()
def web(
    host: Annotated[
        str, typer.Option(help="Address to serve on; 127.0.0.1 keeps the page on this computer.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the page.")] = 7860,
    max_upload_mb: Annotated[
        int, typer.Option(min=1, help="Largest file the page accepts, in megabytes.")
    ] = 200,
) -> None:
    """Open a web page to restore, stylize and age photos (needs: pip install 'daguerre\\[web]')."""
    try:
        from daguerre.web import serve
    except ModuleNotFoundError as error:
        if error.name != "gradio":
            raise
        console.print("[red]error[/red] the web page needs Gradio: pip install 'daguerre\\[web]'")
        raise typer.Exit(2) from error
    serve(host, port, max_upload_mb)
