#!/usr/bin/env bash
# The faithful and the improved variants side by side at rho = 190 (MNIST, minority '0').
# Each run is 3 epochs; results: runs/<name>/curve.json (evaluator accuracy per class after
# each epoch) and runs/<name>/metrics.json. Usage: bash experiments/recipes_rho190.sh [EPOCHS]
set -euo pipefail
EPOCHS=${1:-3}
run() {
  local name=$1; shift
  [ -f "runs/$name/snapshots/generator_epoch_$(printf %03d "$EPOCHS").pt" ] || \
    csacgan train --imbalance-ratio 190 --epochs "$EPOCHS" --no-progress --out "runs/$name" "$@" \
      || csacgan train --resume "runs/$name" --epochs "$EPOCHS" --no-progress
  csacgan evaluate "runs/$name" --snapshots --n-per-class 500 --no-progress
  csacgan evaluate "runs/$name" --metrics classifier_accuracy ssim_diversity fid --no-progress
}
run cs-paper-tau1        --method cs-acgan --recipe paper
run cs-paper-tau0.1-m0.3 --method cs-acgan --recipe paper --tau 0.1 --cost-momentum 0.3
run acgan-balanced       --method acgan --recipe balanced
run cs-balanced          --method cs-acgan --recipe balanced
run cs-balanced-diffaug  --method cs-acgan --recipe balanced --diffaugment translation,cutout
run cs-balanced-nobn     --method cs-acgan --recipe balanced --no-g-batch-norm
run bagan-balanced       --method bagan --recipe balanced
run bagan-paper          --method bagan --recipe paper
run acgan-paper          --method acgan --recipe paper
