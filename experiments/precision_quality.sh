#!/usr/bin/env bash
# Is bf16 autocast as good as fp32 for the same seed and step budget?
# CostSensitive-ACGAN, recipe balanced, MNIST rho 190, seed 0, EPOCHS epochs, each precision;
# then the same metrics on 1000 images per class.
set -euo pipefail
OUT=${OUT:-runs/precision}
EPOCHS=${EPOCHS:-1}
for precision in fp32 bf16; do
  run="$OUT/cs-balanced-r190-$precision"
  [ -f "$run/samples/final.png" ] || csacgan train --method cs-acgan --recipe balanced --imbalance-ratio 190 \
      --epochs "$EPOCHS" --precision "$precision" --seed 0 --out "$run" --no-progress
  csacgan evaluate "$run" --metrics classifier_accuracy ssim_diversity fid --n-per-class 1000 \
      --no-progress | tee "$run/evaluate.txt"
done
