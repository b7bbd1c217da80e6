#!/usr/bin/env bash
# Is the faster training step (dropout masks from integer arithmetic on four
# draws per int64 random word; D frozen during G's backward) as good as the old one?
# CostSensitive-ACGAN, recipe balanced, MNIST rho 190, 1 epoch (703 steps), bf16, seeds
# 0-2 with the new step, seeds 1-2 with the old int16 dropout masks put back (D frozen in
# both, which changes no gradient G receives); fp32 seed 0 with the new step. Then the
# same metrics on 1000 images per class. Table: python experiments/summarise_precision.py RUN ...
set -euo pipefail
OUT=${OUT:-runs/precision-newstep}
OLD_DROPOUT='import sys; sys.path.insert(0, "benchmarks"); from bench import int16_dropout
from csacgan.nets import acgan_nets; acgan_nets.Dropout.forward = int16_dropout
from csacgan.cli import main; main(sys.argv[1:])'
common=(--method cs-acgan --recipe balanced --imbalance-ratio 190 --epochs 1 --no-progress)
run_one() {  # name, trainer..., then train options
  local run="$OUT/$1"; shift
  [ -f "$run/samples/final.png" ] || "$@" --out "$run"
  csacgan evaluate "$run" --metrics classifier_accuracy ssim_diversity fid --n-per-class 1000 --no-progress
}
run_one cs-balanced-r190-fp32 csacgan train "${common[@]}" --precision fp32 --seed 0
run_one cs-balanced-r190-bf16 csacgan train "${common[@]}" --precision bf16 --seed 0
for seed in 1 2; do
  run_one "cs-balanced-r190-bf16-seed$seed" csacgan train "${common[@]}" --precision bf16 --seed "$seed"
  run_one "olddropout-freeze-bf16-seed$seed" python -c "$OLD_DROPOUT" train "${common[@]}" --precision bf16 --seed "$seed"
done
