"""Fit NIQE's pristine model on clean photos and write ``metrics_data/niqe-pristine.json``.

Every photo of ``--photos`` is read at its own size (the data set's photos are at most 1024 px
long), turned into 8-bit Rec.601 luminance and cut into 96×96 patches; each photo contributes
its sharpest patches (mean local deviation above 0.75 of its sharpest patch's, as in the paper)
with their 36 features. The multivariate Gaussian (mean and covariance) of all of them is
written as JSON with its provenance: data, file count, command, patch size, patch count.

    python scripts/fit_niqe.py [--photos ../shared/data/photos/train]
        [--output src/daguerre/metrics_data/niqe-pristine.json]
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

from daguerre import image, niqe


def git_commit() -> str:
    """The checkout's HEAD commit, or "" outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return ""
    return result.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=Path("../shared/data/photos/train"))
    parser.add_argument("--output", type=Path, default=niqe.PRISTINE_PATH)
    args = parser.parse_args()

    rows, used, skipped = [], 0, []
    paths = image.find_images(args.photos)
    for number, path in enumerate(paths, 1):
        try:
            gray = niqe.gray_255(image.read(path).pixels)
        except (image.ImageError, ValueError) as error:
            skipped.append(f"{path.name}: {error}")
            continue
        feats, sharpness = niqe.features(gray)
        rows.append(niqe.sharp_patches(feats, sharpness))
        used += 1
        if number % 50 == 0:
            print(f"{number}/{len(paths)} photos, {sum(len(r) for r in rows)} patches")
    for line in skipped:
        print(f"skipped {line}")

    provenance = {
        "data": f"{args.photos.name} of daguerre's photo set ({args.photos.as_posix()})",
        "photos": used,
        "skipped": len(skipped),
        "luminance": "Rec.601, rounded to 8 bits, at each photo's own size",
        "patch": niqe.PATCH,
        "scales": 2,
        "sharpness_threshold": niqe.SHARPNESS_THRESHOLD,
        "command": shlex.join(["python", *sys.argv]),
        "git_commit": git_commit(),
    }
    model = niqe.PristineModel.fit(np.concatenate(rows), provenance)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.output.with_suffix(".tmp")
    temporary.write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
    temporary.replace(args.output)
    print(f"{model.provenance['patches']} patches of {used} photos -> {args.output}")


if __name__ == "__main__":
    main()
