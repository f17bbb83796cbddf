#!/usr/bin/env bash
# Style v2 on a CPU: fine-tune each bundled fast style so the photo survives, and export it over
# the bundled model (the card records the run; v1 stays in git history).
#
#   bash scripts/train_styles.sh [NAME[:EDGES[:INIT]] ...]   # default: the eight bundled styles
#
# Each run starts from the bundled style-NAME (train.init: the card keeps its description,
# licences and training under training.init) and trains it on photos/train with the
# v2 balance of configs/style.yaml: the edges term (1 - SSIM of edge maps against the photo) and
# the luminance structure weigh more, the painting's statistics less, and no discriminator (the
# v1 network already learnt the brushwork; without D a step costs half). About 15 minutes a style
# on two busy cores. Paintings are read from ../shared/data/styles. EDGES overrides the edges
# weight (20) for paintings whose balance measured otherwise (docs/style.md); INIT starts from
# another model than the bundled style-NAME. The bundled v2 styles started from v1's weights:
#   git show 4c230cf:src/daguerre/weights/style-NAME.safetensors > v1/style-NAME.safetensors
# (and the .json beside it), then NAME:EDGES:v1/style-NAME.safetensors.
set -euo pipefail
cd "$(dirname "$0")/.."
DAGUERRE=${DAGUERRE:-.venv/bin/daguerre}
STEPS=${STEPS:-160}
names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  # the edges weight chosen per painting by measurement (docs/style.md)
  names=(contrast-of-forms:20 etretat-monet:6 mondrian:55 shipwreck:8 starry-night:11
    the-scream:20 udnie:13 woman-with-hat:20)
fi
for entry in "${names[@]}"; do
  IFS=: read -r name edges init <<<"$entry"
  "$DAGUERRE" train configs/style.yaml --data ../shared/data/photos/train \
    --data "style=../shared/data/styles/${name//-/_}.jpg" \
    --set "name=style-$name" --set "export.name=style-$name" --set "train.init=${init:-style-$name}" \
    --set train.steps="$STEPS" --set data.crop=160 --set data.workers=1 \
    --set train.ema=0.98 --set optim.lr=1.0e-4 --set train.val_every=0 \
    --set train.ckpt_every=40 --set train.log_every=20 --set train.progress=false \
    --set model.weights.adv=0 --set "model.weights.edges=${edges:-20}" \
    --set 'export.description=""' --device cpu
done
