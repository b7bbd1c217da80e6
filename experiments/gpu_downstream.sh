#!/usr/bin/env bash
# csacgan downstream with ResNet-18 (DeepSMOTE's classifier) in one command on a GPU machine:
# a fresh machine holds no GANs, so the study trains them there (GPU
# minutes) and then every cell, for at most LIMIT seconds, DeepSMOTE's protocol first,
# then the paper protocol at rho 190; downstream.json and report.md of each come back
# under $OUT (a killed study keeps the cells it finished). First, here,
# `cp -r ../shared/data/mnist .mnist && echo /.mnist/ >> .git/info/exclude`, then run on the
# GPU machine (with .mnist copied beside the checkout):
#   bash experiments/gpu_downstream.sh [LIMIT]
set -uo pipefail
LIMIT=${1:-540}
source "$(dirname "$0")/gpu_setup.sh"
end=$((SECONDS + LIMIT))
for study in "deepsmote" "paper --levels rho190"; do
  name=${study%% *}
  left=$((end - SECONDS)); [ "$left" -gt 30 ] || break
  timeout "$left" csacgan downstream --protocol $study --classifier resnet18 --seeds 5 \
    --out "gpu-runs/$name-resnet18" --no-progress > "$OUT/$name.log" 2>&1
  mkdir -p "$OUT/$name-resnet18"
  cp gpu-runs/$name-resnet18/downstream.json gpu-runs/$name-resnet18/report.md "$OUT/$name-resnet18/" 2>/dev/null
done
cat "$OUT"/*/report.md 2>/dev/null | grep -E "^\|" | head -40
