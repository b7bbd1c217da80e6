#!/usr/bin/env bash
# The architecture study (src/csacgan/experiments/architecture_study.py: its rows and its
# two configurations) in two lanes of one thread each: seed 0 of every row first, then
# seeds 1 and 2; finished runs are skipped, stopped ones resumed. Then score and tabulate:
#   python -m csacgan.experiments.architecture_study OUT --study colour --page ... (see its docstring)
# STUDY=colour: colour Fashion-MNIST ('Bag' rare at 1:50, 32x32, every garment a random
# hue; made by make_colour_fashion.py); STUDY=mnist: MNIST with '0' at rho 190.
#   STUDY=colour bash experiments/architecture_study.sh [OUT] [SEEDS]   (default ~/csacgan-runs/colour, "0 1 2")
set -uo pipefail
STUDY=${STUDY:-colour}
OUT=${1:-$HOME/csacgan-runs/$STUDY}
SEEDS=${2:-0 1 2}
source "$(dirname "$0")/cpu_env.sh"
mkdir -p "$OUT"
if [ "$STUDY" = colour ]; then
  export COLOUR_DATA=${COLOUR_DATA:-$HOME/csacgan-runs/colour-fashion}
  [ -d "$COLOUR_DATA" ] || python experiments/make_colour_fashion.py --out "$COLOUR_DATA"
fi
# two lanes of about equal time a seed; LANE_A / LANE_B in the environment choose other rows
if [ "$STUDY" = mnist ]; then  # the Table 2 rows first: they are the paper's networks
  LANE_A=${LANE_A-t2-ce t2-d2d rn-tac}
  LANE_B=${LANE_B-t2-tac rn-ce rn-d2d}
else
  LANE_A=${LANE_A-rn-tac rn-ce rn-d2d}
  LANE_B=${LANE_B-t2-ce t2-tac t2-d2d t2-bagan-ms0.5 rn-gsr t2-tac-ms0.5}
fi
for lane in "$LANE_A" "$LANE_B"; do
  [ -n "$lane" ] || continue
  nice python -m csacgan.experiments.architecture_study "$OUT" --study "$STUDY" --train --no-score \
    --rows $lane --seeds $SEEDS >> "$OUT/lane-${lane%% *}.log" 2>&1 &
done
wait
