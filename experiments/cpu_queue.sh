#!/usr/bin/env bash
# What is left of the studies, on a 2-core CPU, in the order the open questions need it;
# two processes of one thread each, niced, every step resumable (run the script again after
# a stop and finished work is reused). Published studies are not trained again: their
# pages keep their numbers and, where an --archive is named, every scored run's record.
# A machine may come back without the run folders: each step then starts from scratch.
#   1. the levers' mode seeking at 0.5 with and without the EMA of G, beside base and ema,
#      on 3 seeds (4 rows from 2 trained runs per seed: base and mode-seeking-0.5 are ema's
#      and ema-mode-seeking-0.5's raw weights);
#   2. the costs screens at rho 190 with class-balanced real batches and with uniform
#      generated labels (20 epochs, one seed), each row paired with ACGAN of the same setting,
#      the levers' leading rows at rho 20 (seed 0 between the two screens, seeds 1-2 after
#      them), the costs screen with uniform generated labels at rho 20 (12 epochs), then
#      seeds 0-2 of the levers rows at rho 190 (EMA, spectral norm, LeCam, ADA, TTUR and the
#      combination; minibatch-std and mode seeking at 1 on seed 0, their seeds 1-2 last);
#   3. the converged grid: seed 0 of every cell of both protocols, then the convergence
#      study's runs short of 30 epochs or of their plateau, then seeds 1-2 of ACGAN and
#      CostSensitive-ACGAN at the hardest level (each grid copies in the other's runs that
#      are its own: rho 20 and a 95% drop keep the same 250 zeros);
#   4. a second GAN seed for ACGAN and CostSensitive-ACGAN at rho 190 in the downstream study.
#   bash experiments/cpu_queue.sh [RUNS_FOLDER]          (default ~/csacgan-runs)
set -euo pipefail
RUNS=${1:-$HOME/csacgan-runs}
cd "$(dirname "$0")/.."
source experiments/cpu_env.sh
mkdir -p "$RUNS"
levers() {
  nice python3 experiments/ablation.py --study levers --jobs 2 --out "$RUNS/levers" "$@" >> "$RUNS/levers.log" 2>&1
}
levers --seeds 3 --rows base ema mode-seeking-0.5 ema-mode-seeking-0.5
costs() { nice python3 experiments/ablation.py --study costs --recipe paper --jobs 2 "$@"; }
screen="base real classifier-tau0.25 fake-tau0.1"
screens() {  # the screen under one setting: NAME RHO EPOCHS OPTIONS...
  local name=$1 rho=$2 epochs=$3; shift 3
  costs --rho "$rho" --epochs "$epochs" --seeds 1 --rows $screen "$@" --out "$RUNS/costs-$name" \
    --archive "docs/results/costs/runs-$name.json" --figure "$RUNS/costs-$name/costs.png" > "$RUNS/costs-$name.log" 2>&1
}
screens class-balanced 190 20 --sampling class-balanced
levers --rho 20 --seeds 1 --rows base ema spectral-norm ema-spectral-norm lecam
screens uniform-labels 190 20 --fake-labels uniform
levers --rho 20 --seeds 3 --rows base ema spectral-norm ema-spectral-norm lecam
screens r20-uniform-labels 20 12 --fake-labels uniform
levers --seeds 3 --rows base ema spectral-norm ema-spectral-norm lecam ada ttur combined
levers --seeds 3 --rows base ema ada ema-ada
levers --seeds 1  # minibatch-std and mode seeking at 1: seed 0 now, seeds 1-2 after the grid
run() { nice csacgan "$@" --no-progress; }
grid() {  # PROTOCOL SEEDS OPTIONS...: the drop grid copies the ratio grid's rho-20 runs (its 95% cells)
  local protocol=$1 seeds=$2 other=ratio; shift 2
  [ "$protocol" = ratio ] && other=drop
  local reuse=(); [ -d "$RUNS/converged-$other/runs" ] && reuse=(--reuse "$RUNS/converged-$other")
  run reproduce --profile converged --protocol "$protocol" --seeds "$seeds" "${reuse[@]}" "$@" \
    --out "$RUNS/converged-$protocol" --jobs 2 >> "$RUNS/converged-$protocol.log" 2>&1
}
grid ratio 1; grid drop 1                                          # every cell, seed 0
# the convergence study's runs that are short of 30 epochs and of its plateau: the rho-20
# p_c runs and BAGAN's start from the converged grid's (the same runs at 20 epochs), the
# uniform-label run from the costs screen's (CostSensitive-ACGAN, uniform labels, 12 epochs);
# the rho-190 ACGAN and CostSensitive-ACGAN runs reached their plateau and are kept
nice python3 experiments/convergence.py --out "$RUNS/convergence" \
  --reuse "$RUNS/converged-ratio" "$RUNS/costs-r20-uniform-labels" \
  --runs acgan-r20-prior cs-acgan-r20-prior cs-acgan-r20-uniform bagan-r190-prior >> "$RUNS/convergence.log" 2>&1
grid ratio 3 --seeds-where hardest; grid drop 3 --seeds-where hardest   # ACGAN and CS-ACGAN's paired seeds
levers --seeds 3
study=$RUNS/downstream/paper-mnist
mkdir -p "$study"
# the published cells are kept: only the second GAN seed is trained
[ -f "$study/downstream.json" ] || cp docs/results/downstream/paper/downstream.json "$study/"
for m in acgan cs-acgan; do
  run downstream --protocol paper --levels rho190 --out "$study" --samplers $m --gan-seeds 2 > "$study/rho190-$m.log" 2>&1 &
done
wait
