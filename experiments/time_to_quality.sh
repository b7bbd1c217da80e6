#!/usr/bin/env bash
# Time to quality with the current code: cs-acgan at rho = 190 (MNIST, 26 real
# zeros), the balanced recipe with and without DiffAugment, 3 epochs, the generator
# scored after every epoch (runs/ttq-*/curve.json) and at the end (metrics.json).
# Nothing else should run meanwhile: the minutes are wall-clock training time.
#   bash experiments/time_to_quality.sh [EPOCHS]      then
#   python benchmarks/bench.py --runs runs/ttq-cs-balanced runs/ttq-cs-balanced-diffaug ...
set -euo pipefail
EPOCHS=${1:-3}
run() {
  local name=$1; shift
  [ -f "runs/$name/snapshots/generator_epoch_$(printf %03d "$EPOCHS").pt" ] || \
    csacgan train --imbalance-ratio 190 --epochs "$EPOCHS" --no-progress --out "runs/$name" "$@"
  csacgan evaluate "runs/$name" --snapshots --n-per-class 500 --no-progress
  csacgan evaluate "runs/$name" --metrics classifier_accuracy ssim_diversity fid --no-progress
}
run ttq-cs-balanced-diffaug --method cs-acgan --recipe balanced --diffaugment translation,cutout
run ttq-cs-balanced         --method cs-acgan --recipe balanced
