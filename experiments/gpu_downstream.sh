#!/usr/bin/env bash
# csacgan downstream with ResNet-18 (DeepSMOTE's classifier) in one command on a GPU machine:
# a fresh machine holds no GANs, so the study trains them there (GPU
# minutes) and then every cell, for at most LIMIT seconds, DeepSMOTE's protocol first,
# then the paper protocol at rho 190; downstream.json and report.md of each come back
# under $OUT (a killed study keeps the cells it finished). First, here,
# `cp -r ../shared/data/mnist .mnist && echo /.mnist/ >> .git/info/exclude`, then run on the
# GPU machine (with .mnist copied beside the checkout):
#   bash experiments/gpu_downstream.sh [LIMIT]
# STUDY=long-tail runs the loss baselines (LDAM-DRW needs ResNet-32, a CPU job) and BAGAN's images on top of LOSS (default
# logit-adjusted) in the recipe forms instead (docs/results/downstream.md), in
# gpu-runs/long-tail-*-resnet18.
set -uo pipefail
LIMIT=${1:-540}
source "$(dirname "$0")/gpu_setup.sh"
end=$((SECONDS + LIMIT))
samplers=none,random,class-weight,smote,latent-smote,acgan,cs-acgan,bagan
prefix=
if [ "${STUDY:-published}" = long-tail ]; then
  b=bagan+${LOSS:-logit-adjusted}
  samplers=none,class-weight,none+drw,none+logit-adjusted,$b,$b@filter=0.9,$b@weight=0.5,$b@crt,$b@amount=2x
  prefix=long-tail-
fi
for study in "deepsmote" "paper --levels rho190"; do
  name=${study%% *}
  left=$((end - SECONDS)); [ "$left" -gt 30 ] || break
  run=$prefix$name-resnet18
  timeout "$left" csacgan downstream --protocol $study --classifier resnet18 --seeds 5 --samplers $samplers \
    --out "gpu-runs/$run" --no-progress > "$OUT/$run.log" 2>&1
  mkdir -p "$OUT/$run"
  cp gpu-runs/$run/downstream.json gpu-runs/$run/report.md "$OUT/$run/" 2>/dev/null
done
cat "$OUT"/*/report.md 2>/dev/null | grep -E "^\|" | head -40
