#!/usr/bin/env bash
# Train every restoration model of this wave on one lent GPU, in one call of under 9 minutes,
# and bring back only the exported fp16 weights and their cards.
#
# Here, before the call (the data must travel inside the checkout, at most 64 MiB):
#   bash scripts/train_gpu.sh pack          # writes data/photos/{train,val} at 512 px (ignored)
# On the device (the `device` tool's run, carry: ["data", ".venv"] or a fresh install):
#   bash scripts/train_gpu.sh train         # writes $OUT/weights/*.safetensors + *.json
#   bash scripts/train_gpu.sh upscale       # the four upscalers, a call of its own (7.5 min)
#   bash scripts/train_gpu.sh faces         # the face restorer, a call of its own (7.5 min);
#                                           # first, here: bash scripts/train_gpu.sh pack_faces
# A second call (with runs/ carried back) resumes a run that was cut off at its last checkpoint
# and skips the runs already exported. The minutes add up to 7.5, leaving time to start.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DAGUERRE=${DAGUERRE:-.venv/bin/daguerre}
DATA=data/photos

pack() {
  "$PY" - <<'EOF'
from pathlib import Path
import cv2
for split in ("train", "val"):
    out = Path("data/photos") / split
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path("../shared/data/photos", split).iterdir()):
        image = cv2.imread(str(path))
        scale = 512 / max(image.shape[:2])
        if scale < 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(out / (path.stem + ".jpg")), image, [cv2.IMWRITE_JPEG_QUALITY, 93])
EOF
  du -sh data
}

# the aligned faces as they are (512² JPEGs, 21 MB) into the ignored data/faces/{train,val}
pack_faces() {
  for split in train val; do
    mkdir -p "data/faces/$split"
    cp ../shared/data/faces/"$split"/* "data/faces/$split/"
  done
  du -sh data/faces
}

# name, config, minutes, overrides: a run in runs/gpu-NAME, exported into $OUT/weights
run() {
  local name=$1 config=$2 minutes=$3
  shift 3
  local folder=runs/gpu-$name
  if [[ -f "$folder/exported" ]]; then return; fi
  if [[ -d "$folder" ]]; then
    "$DAGUERRE" train --resume "$folder" --device cuda
  else
    "$DAGUERRE" train "$config" --run-dir "$folder" --device cuda \
      --data "$DATA/train" --data "val=$DATA/val" --set train.max_minutes="$minutes" \
      --set export.dir="$OUT/weights" --set data.workers=6 "$@"
  fi
  touch "$folder/exported"
}

train() {
  : "${OUT:?OUT must name the folder that comes back}"
  mkdir -p "$OUT/weights"
  run restore-damage configs/restore-damage.yaml 2.5 --set train.init=restore-damage \
    --set 'data.preset=[varied, varied, none, none, light, moderate]' --set model.pos_weight=1.0 \
    --set model.hard_negatives=0.01 --set model.hard_from=clean --set model.weights.hard=0.5 \
    --set train.steps=6000 --set data.batch_size=32
  run restore-tone configs/restore-tone.yaml 1.5 --set train.init=restore-enhance \
    --set 'data.preset=[none, light, moderate, heavy, bopbtl, enlarged, compressed]' \
    --set train.steps=4000
  run restore-enhance configs/restore-enhance.yaml 3.5 \
    --set train.init="$OUT/weights/restore-enhance.safetensors" --set 'train.freeze=[tone]' \
    --set 'data.preset=[none, light, moderate, heavy, bopbtl, bopbtl, enlarged, enlarged, compressed]' \
    --set model.weights.tone=0 \
    --set model.weights.psnr=0.05 --set model.weights.ssim=0.2 --set train.steps=8000
}

# the upscalers (issue 17): each fidelity model (L1 only) first, then the GAN model of its scale
# fine-tuned from it, as Real-ESRGAN's ESRGAN starts from its ESRNet; 7.5 minutes in all
upscale() {
  : "${OUT:?OUT must name the folder that comes back}"
  mkdir -p "$OUT/weights"
  run upscale-x2-fidelity configs/upscale-x2-fidelity.yaml 1.5 --set train.steps=4000 \
    --set data.batch_size=32
  run upscale-x4-fidelity configs/upscale-x4-fidelity.yaml 1.5 --set train.steps=4000 \
    --set data.batch_size=32 --set data.clean_p=0.75 --set data.strength=0.5
  run upscale-x2 configs/upscale-x2.yaml 2.25 --set train.steps=4000 --set data.batch_size=32 \
    --set train.init="$OUT/weights/upscale-x2-fidelity.safetensors"
  run upscale-x4 configs/upscale-x4.yaml 2.25 --set train.steps=4000 --set data.batch_size=32 \
    --set train.init="$OUT/weights/upscale-x4-fidelity.safetensors"
}

# the face restorer (issue 16): restore-faces on the 239 aligned faces of data/faces/train,
# validated on the 18 of data/faces/val: the fidelity phase (L1 + fft, no discriminator) for
# 2.5 minutes, then the GAN phase started from it for 5. The step counts are guesses at what
# the minutes allow; each run stops at its minutes whatever the steps, and exports what it has
faces() {
  : "${OUT:?OUT must name the folder that comes back}"
  mkdir -p "$OUT/weights"
  DATA=data/faces run restore-faces-fidelity configs/faces-fidelity.yaml 2.5 \
    --set train.steps=4000 --set data.batch_size=32 --set data.patch=0 \
    --set export.name=restore-faces-fidelity
  DATA=data/faces run restore-faces configs/faces.yaml 5 --set train.steps=4000 \
    --set data.batch_size=32 --set train.val_every=1000 \
    --set train.init="$OUT/weights/restore-faces-fidelity.safetensors"
}

"${1:?usage: train_gpu.sh pack|pack_faces|train|upscale|faces}"
