#!/usr/bin/env bash
# Rebuild the converged grids' reports from their run folders and copy what the docs show
# into docs/results/paper/{ratio,drop}/: report.md, figures/ and grid.json (every run's
# configuration), then the claims of both readings into docs/results/paper.md (between its
# <!-- claims --> markers). The run folders themselves (checkpoints, snapshots) stay where they are.
#   bash experiments/publish_paper_grids.sh [RUNS_FOLDER]     (default ~/csacgan-runs)
set -euo pipefail
RUNS=${1:-$HOME/csacgan-runs}
cd "$(dirname "$0")/.."
for protocol in ratio drop; do
  grid=$RUNS/converged-$protocol
  [ -f "$grid/grid.json" ] || { echo "no grid at $grid: skipped" >&2; continue; }
  csacgan reproduce --out "$grid" --report-only > /dev/null
  dest=docs/results/paper/$protocol
  rm -rf "$dest" && mkdir -p "$dest"
  cp -r "$grid/report.md" "$grid/grid.json" "$grid/figures" "$dest/"
  echo "$dest: $(grep -m1 -o '[0-9]* of [0-9]* runs evaluated' "$dest/report.md")"
done
# the claims of both readings in one table, on the page that gives the verdicts
grids=(); for protocol in ratio drop; do [ -f "$RUNS/converged-$protocol/grid.json" ] && grids+=("$RUNS/converged-$protocol"); done
[ ${#grids[@]} -gt 0 ] && python -m csacgan.experiments.paper_claims "${grids[@]}" --page docs/results/paper.md > /dev/null
echo "docs/results/paper.md: claims table rewritten"
