#!/usr/bin/env bash
# The convergence study (src/csacgan/experiments/convergence.py) in one command on a GPU machine:
# a fresh machine holds no earlier run folders, so it trains from scratch
# into gpu-runs/ for at most LIMIT seconds, one run at a time (the GPU is shared by every
# process on it), then writes figures, curves.json and every run's convergence.json and
# log.jsonl under $OUT. A GPU machine may have no network and no copy of ../shared:
# first, here, `cp -r ../shared/data/mnist .mnist && echo /.mnist/ >> .git/info/exclude`,
# then, on the GPU machine (with .mnist copied beside the checkout), run
#   bash experiments/gpu_convergence.sh [LIMIT]
set -uo pipefail
LIMIT=${1:-480}
source "$(dirname "$0")/gpu_setup.sh"
timeout "$LIMIT" python3 -m csacgan.experiments.convergence --out gpu-runs --jobs 1 > "$OUT/study.log" 2>&1
python3 -m csacgan.experiments.convergence --out gpu-runs --report "$OUT/convergence" > "$OUT/summary.txt" 2>&1
tar czf "$OUT/runs.tgz" gpu-runs/*/convergence.json gpu-runs/*/log.jsonl gpu-runs/*/config.json 2>/dev/null
cat "$OUT/summary.txt"
