#!/usr/bin/env bash
# What is left of the published studies, on a 2-core CPU, in the order a reader needs it;
# two processes of one thread each, niced, every step resumable (run the script again
# after a stop and finished work is reused):
#   1. the paper protocol's downstream cells at rho 20 and rho 40 (8 samplers x 5 seeds,
#      one process per level; the GANs and autoencoders are trained once per level);
#   2. the costs study at ACGAN's plateau: its `base` (ACGAN), `real` (the paper's rule) and
#      `classifier-tau0.25` rows at rho 190, seeds 0-2, resumed from epoch 6 to 20. The first
#      two are the converged grid's ACGAN and CostSensitive-ACGAN runs at ratio level 95 with
#      fewer epochs, so they live in the grid's folder (copied there once) and the study
#      reads them through links; the third is copied from the 6-epoch study's folder;
#   3. the costs study's one-seed screen at rho 20 (12 epochs, where the convergence study
#      finds both ACGANs' zeros at 0.99), then the levers study's one-seed screen (EMA of G,
#      spectral norm, LeCam, ADA, TTUR, minibatch std, mode seeking) and three seeds of its
#      leading rows, the adopted defaults on the colour folder, then the costs screens at rho 190 with class-balanced
#      real batches and with uniform generated labels (20 epochs), each row paired with
#      ACGAN of the same setting, then the levers' leading rows at rho 20 (one seed);
#   4. the converged grid (ratio protocol, then drop), seed 0 of every cell and the hardest
#      level's paired seeds first (the rho 20 screen's ACGAN and paper's-rule runs resumed);
#   5. a second GAN seed for ACGAN and CostSensitive-ACGAN at rho 190 in the downstream study
#      (classifier seeds 1 and 3 sample it), so that GAN-to-GAN variation enters the pairing.
#   bash experiments/cpu_queue.sh [RUNS_FOLDER]          (default ~/csacgan-runs)
set -euo pipefail
RUNS=${1:-$HOME/csacgan-runs}
source "$(dirname "$0")/cpu_env.sh"
run() { nice csacgan "$@" --no-progress; }
all=acgan,cs-acgan,bagan,none,random,class-weight,smote,latent-smote
study=$RUNS/downstream/paper-mnist
mkdir -p "$study"
# the rho 190 cells are published: start from them rather than train them again
[ -f "$study/downstream.json" ] || cp docs/results/downstream/paper/downstream.json "$study/"

run downstream --protocol paper --levels rho20 --out "$study" --samplers $all > "$study/rho20.log" 2>&1 &
run downstream --protocol paper --levels rho40 --out "$study" --samplers $all > "$study/rho40.log" 2>&1 &
wait
# resume_from SOURCE TARGET: a shorter-trained run of TARGET's configuration, copied to TARGET
# once (if SOURCE is given and exists) to be resumed there; its metrics.json scored an earlier
# epoch and is dropped, its curve.json's epochs are kept
resume_from() {
  if [ ! -e "$2" ] && [ -n "$1" ] && [ -d "$1" ]; then
    cp -r "$1" "$2" && rm -f "$2/metrics.json"
  fi
}
grid=$RUNS/converged-ratio
mkdir -p "$grid/runs"
for seed in 0 1 2; do
  for pair in "base acgan" "real cs-acgan"; do
    read -r row method <<< "$pair"
    # the longest-trained copy of the costs study's run, if any (costs-e12 holds seed 0 to epoch 12)
    source=$(ls -d "$RUNS"/costs-e12/r190-$row-s$seed "$RUNS"/costs-e6/r190-$row-s$seed 2>/dev/null | head -1 || true)
    resume_from "$source" "$grid/runs/$method-ratio95-s$seed"
  done
done
costs() { nice python3 experiments/ablation.py --study costs --recipe paper --jobs 2 "$@"; }
mkdir -p "$RUNS/costs-e20"
for seed in 0 1 2; do
  ln -sfn "$grid/runs/acgan-ratio95-s$seed" "$RUNS/costs-e20/r190-base-s$seed"
  ln -sfn "$grid/runs/cs-acgan-ratio95-s$seed" "$RUNS/costs-e20/r190-real-s$seed"
done
for seed in 0 1 2; do
  resume_from "$RUNS/costs-e6/r190-classifier-tau0.25-s$seed" "$RUNS/costs-e20/r190-classifier-tau0.25-s$seed"
done
costs --rho 190 --epochs 20 --seeds 3 --rows base real classifier-tau0.25 --jobs 3 --out "$RUNS/costs-e20" \
  --figure "$RUNS/costs-e20/costs.png" > "$RUNS/costs-e20.log" 2>&1
screen="base real classifier-tau0.25 fake-tau0.1"
costs --rho 20 --epochs 12 --seeds 1 --rows $screen --out "$RUNS/costs-rho20" --figure "$RUNS/costs-rho20/costs.png" \
  > "$RUNS/costs-rho20.log" 2>&1
# the levers for GANs on little data, one-seed screen on the main job (8 epochs, balanced recipe),
# then three seeds of the rows the screen found ahead of base (spectral norm, LeCam, EMA), of EMA
# with spectral norm, and of mode seeking at 0.5 (zeros as varied as real ones); base, spectral-norm
# and mode-seeking-0.5 are their EMA twins' runs scored from G's raw weights where not trained alone
levers() { nice python3 experiments/ablation.py --study levers --jobs 2 --out "$RUNS/levers" "$@"; }
levers --seeds 3 --rows base ema spectral-norm ema-spectral-norm lecam >> "$RUNS/levers.log" 2>&1
# the adopted defaults (recipe stable) on the colour Fashion-MNIST folder, 3 seeds, beside the
# rows trained with recipe balanced
bash experiments/colour_palettes.sh "$RUNS/demo" > "$RUNS/colour-palettes.log" 2>&1
levers --seeds 3 --rows mode-seeking-0.5 ema-mode-seeking-0.5 >> "$RUNS/levers.log" 2>&1
levers --seeds 1 >> "$RUNS/levers.log" 2>&1
costs --rho 190 --epochs 20 --seeds 1 --rows $screen --sampling class-balanced --out "$RUNS/costs-class-balanced" \
  --figure "$RUNS/costs-class-balanced/costs.png" > "$RUNS/costs-class-balanced.log" 2>&1
costs --rho 190 --epochs 20 --seeds 1 --rows $screen --fake-labels uniform --out "$RUNS/costs-uniform-labels" \
  --figure "$RUNS/costs-uniform-labels/costs.png" > "$RUNS/costs-uniform-labels.log" 2>&1
# the levers on 250 zeros (rho 20): the screen's leading rows and the adopted pair, one seed
# (base and spectral-norm scored from ema's and ema-spectral-norm's raw weights); then seeds
# 1 and 2 of every other row at rho 190
levers --rho 20 --seeds 1 --rows base ema spectral-norm ema-spectral-norm lecam >> "$RUNS/levers.log" 2>&1
levers --seeds 3 >> "$RUNS/levers.log" 2>&1

# the rho 20 screen's ACGAN and paper's-rule runs are the grid's level-60 seed-0 runs at 12 epochs:
# copied in (the screen keeps its own) and resumed to 20 by the grid
for pair in "base acgan" "real cs-acgan"; do
  read -r row method <<< "$pair"
  source=$RUNS/costs-rho20/r20-$row-s0
  [ ! -f "$source/metrics.json" ] || resume_from "$source" "$grid/runs/$method-ratio60-s0"  # screen finished
done
run reproduce --profile converged --protocol ratio --out "$grid" --jobs 2 > "$grid/reproduce.log" 2>&1
run reproduce --profile converged --protocol drop --out "$RUNS/converged-drop" --jobs 2 > "$RUNS/converged-drop.log" 2>&1
for m in acgan cs-acgan; do
  run downstream --protocol paper --levels rho190 --out "$study" --samplers $m --gan-seeds 2 > "$study/rho190-$m.log" 2>&1 &
done
wait
