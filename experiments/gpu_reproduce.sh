#!/usr/bin/env bash
# The converged reproduce profile in one command on a GPU machine: a fresh
# machine holds no run folders, so the grid trains from scratch into gpu-runs/ for at most
# LIMIT seconds, in the order a reader needs it: seed 0 of both readings of the paper's
# imbalance (ratio: rho 20/40/190; drop: 60/80/95% of the zeros removed; the drop grid
# copies the ratio grid's rho-20 runs, its 95% cells), then seeds 1-2 of the hardest level's
# ACGAN and CostSensitive-ACGAN. Every grid's
# report.md, grid.json and its runs' metrics.json and log.jsonl come back under $OUT; a
# run the time limit cut keeps its checkpoint on the GPU machine only. First, here,
# `cp -r ../shared/data/mnist .mnist && echo /.mnist/ >> .git/info/exclude`, then call
# on the GPU machine (with .mnist copied beside the checkout):
#   bash experiments/gpu_reproduce.sh [LIMIT] [PROFILE]
set -uo pipefail
LIMIT=${1:-540}
PROFILE=${2:-converged}
source "$(dirname "$0")/gpu_setup.sh"
end=$((SECONDS + LIMIT))
for seeds in 1 3; do
  for protocol in ratio drop; do
    left=$((end - SECONDS)); [ "$left" -gt 30 ] || break 2
    other=ratio; [ "$protocol" = ratio ] && other=drop
    reuse=(); [ -d "gpu-runs/$PROFILE-$other/runs" ] && reuse=(--reuse "gpu-runs/$PROFILE-$other")
    timeout "$left" csacgan reproduce --profile "$PROFILE" --protocol "$protocol" --seeds "$seeds" \
      --seeds-where hardest "${reuse[@]}" --out "gpu-runs/$PROFILE-$protocol" --no-progress \
      >> "$OUT/reproduce-$protocol.log" 2>&1
  done
done
for grid in gpu-runs/*/; do
  name=$(basename "$grid")
  csacgan reproduce --profile "$PROFILE" --protocol "${name##*-}" --out "$grid" --report-only > /dev/null 2>&1
  tar czf "$OUT/$name.tgz" "$grid"/report.md "$grid"/grid.json "$grid"/figures "$grid"/runs/*/metrics.json \
    "$grid"/runs/*/log.jsonl "$grid"/runs/*/config.json 2>/dev/null
done
grep -h -A12 "## Table 5" gpu-runs/*/report.md 2>/dev/null | head -40
