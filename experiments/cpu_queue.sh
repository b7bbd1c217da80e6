#!/usr/bin/env bash
# What is left of the published studies, on a 2-core CPU, in the order a reader needs it;
# two processes of one thread each, niced, every step resumable (run the script again
# after a stop and finished work is reused):
#   1. the paper protocol's downstream cells at rho 20 and rho 40 (8 samplers x 5 seeds,
#      one process per level; the GANs and autoencoders are trained once per level);
#   2. a second GAN seed for ACGAN and CostSensitive-ACGAN at rho 190 (classifier seeds 1
#      and 3 sample it), so that GAN-to-GAN variation enters the paired comparison;
#   3. the converged grid (ratio protocol), seed 0 of every cell and the hardest level's
#      paired seeds first. The costs study's `base` and `real` rows at rho 190 are that
#      grid's ACGAN and CostSensitive-ACGAN runs with fewer epochs: where they exist they
#      are copied into the grid and resumed to 20 epochs instead of trained again.
#   bash experiments/cpu_queue.sh [RUNS_FOLDER]          (default ~/csacgan-runs)
set -euo pipefail
RUNS=${1:-$HOME/csacgan-runs}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
run() { nice csacgan "$@" --no-progress; }
all=acgan,cs-acgan,bagan,none,random,class-weight,smote,latent-smote
study=$RUNS/downstream/paper-mnist
mkdir -p "$study"
# the rho 190 cells are published: start from them rather than train them again
[ -f "$study/downstream.json" ] || cp docs/results/downstream/paper/downstream.json "$study/"

run downstream --protocol paper --levels rho20 --out "$study" --samplers $all > "$study/rho20.log" 2>&1 &
run downstream --protocol paper --levels rho40 --out "$study" --samplers $all > "$study/rho40.log" 2>&1 &
wait
for m in acgan cs-acgan; do
  run downstream --protocol paper --levels rho190 --out "$study" --samplers $m --gan-seeds 2 > "$study/rho190-$m.log" 2>&1 &
done
wait

grid=$RUNS/converged-ratio
mkdir -p "$grid/runs"
for seed in 0 1 2; do
  for pair in "base acgan" "real cs-acgan"; do
    read -r row method <<< "$pair"
    target=$grid/runs/$method-ratio95-s$seed
    # the longest-trained copy of the costs study's run, if any (costs-e12 holds seed 0 to epoch 12)
    source=$(ls -d "$RUNS"/costs-e12/r190-$row-s$seed "$RUNS"/costs-e6/r190-$row-s$seed 2>/dev/null | head -1 || true)
    if [ ! -e "$target" ] && [ -n "$source" ]; then
      cp -r "$source" "$target" && rm -f "$target/metrics.json" "$target/curve.json"
    fi
  done
done
run reproduce --profile converged --protocol ratio --out "$grid" --jobs 2 > "$grid/reproduce.log" 2>&1
run reproduce --profile converged --protocol drop --out "$RUNS/converged-drop" --jobs 2 > "$RUNS/converged-drop.log" 2>&1
