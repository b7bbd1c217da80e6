#!/usr/bin/env bash
# What is left of the architecture study (experiments/architecture_study.sh) on a GPU machine,
# in one command: both studies (colour Fashion-MNIST and MNIST rho 190),
# every row and seed, both at once (two lanes each, four runs on the GPU), for at most
# LIMIT seconds; then each run is scored and both tables are written to $OUT, and every
# run's metrics.json, log.jsonl, config.json and final sample grid come back in
# $OUT/architecture-*.tgz. Finished runs are skipped here too, so a folder carried with
# its runs continues. First, here:
#   cp -r ../shared/data/mnist .mnist && cp -r ~/csacgan-runs/colour-fashion .colour-fashion
#   printf '/.mnist/\n/.colour-fashion/\n' >> .git/info/exclude
# then, on the GPU machine (with .mnist and .colour-fashion copied beside the checkout), run
#   bash experiments/gpu_architecture_study.sh [LIMIT]
set -uo pipefail
LIMIT=${1:-540}
source "$(dirname "$0")/gpu_setup.sh"
export COLOUR_DATA=$PWD/.colour-fashion
for study in colour mnist; do
  STUDY=$study timeout "$LIMIT" bash experiments/architecture_study.sh "$OUT/$study" > "$OUT/$study.log" 2>&1 &
done
wait
python3 -m csacgan.experiments.architecture_study "$OUT/colour" --study colour \
  --archive "$OUT/colour-runs.json" > "$OUT/architecture-colour.md" 2>&1
python3 -m csacgan.experiments.architecture_study "$OUT/mnist" --study mnist \
  --archive "$OUT/mnist-runs.json" > "$OUT/architecture-mnist.md" 2>&1
for study in colour mnist; do
  (cd "$OUT/$study" && tar czf "../architecture-$study.tgz" */metrics.json */log.jsonl */config.json \
    */samples/final.png 2>/dev/null)
done
