#!/usr/bin/env bash
# Both ablations of src/csacgan/experiments/ablation.py in one command on a GPU machine:
# the costs study (rho 190, 20 epochs, the convergence study's plateau; paper recipe) and
# the levers study (rho 190, 8 epochs, the main job's default), 3 paired seeds each,
# seed-major, so a cut-short call still brings back the one-seed screen of every row.
# Both studies run at once, JOBS runs each (one GPU, one CPU thread per run), for at most
# LIMIT seconds; every run's metrics.json, log.jsonl and config.json come back in
# $OUT/ablation-*.tgz (with each run's per-epoch curve.json) and the tables and figures in
# $OUT/ablation-*.md and .png, and every scored run's record in $OUT/ablation-*-runs.json
# (what --archive reads: the page's table regenerates from it). First, here,
# `cp -r ../shared/data/mnist .mnist && echo /.mnist/ >> .git/info/exclude`, then call
# on the GPU machine (with .mnist copied beside the checkout):
#   bash experiments/gpu_ablation.sh [LIMIT] [JOBS]
set -uo pipefail
LIMIT=${1:-540}
JOBS=${2:-6}
source "$(dirname "$0")/gpu_setup.sh"
# the evaluator once, before both studies' workers look for it
python3 -c "from csacgan.data import load_dataset; from csacgan.metrics.evaluator import load_or_train_evaluator as f; f(load_dataset('mnist'), 0, 2, None, False)" \
  > "$OUT/evaluator.log" 2>&1
left=$((LIMIT - SECONDS - 40))
timeout "$left" python3 -m csacgan.experiments.ablation --study costs --epochs 20 --seeds 3 --jobs "$JOBS" \
  --out gpu-runs/ablation-costs > "$OUT/ablation-costs.log" 2>&1 &
timeout "$left" python3 -m csacgan.experiments.ablation --study levers --epochs 8 --seeds 3 --jobs "$JOBS" \
  --out gpu-runs/ablation-levers > "$OUT/ablation-levers.log" 2>&1 &
wait
for study in costs levers; do
  python3 -m csacgan.experiments.ablation --study "$study" --out "gpu-runs/ablation-$study" --report \
    --archive "$OUT/ablation-$study-runs.json" --figure "$OUT/ablation-$study.png" > "$OUT/ablation-$study.md" 2>&1
  tar czf "$OUT/ablation-$study.tgz" gpu-runs/ablation-$study/*/metrics.json gpu-runs/ablation-$study/*/log.jsonl \
    gpu-runs/ablation-$study/*/config.json gpu-runs/ablation-$study/*/curve.json 2>/dev/null
done
cat "$OUT"/ablation-*.md
