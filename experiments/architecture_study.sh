#!/usr/bin/env bash
# The architecture study: the two network families (Table 2, residual) crossed with the
# ACGAN family's class losses (cross-entropy, TAC-GAN's twin classifier, ReACGAN's D2D-CE)
# and gSR, CostSensitive-ACGAN on the default recipe (stable), 8 epochs, seed 0 of every
# row first, then seeds 1 and 2, in two lanes of one thread each; finished runs are
# skipped, stopped ones resumed. Training only; then score and tabulate with
#   python -m csacgan.experiments.architecture_study OUT --prefix cf --rare Bag ...   (colour)
#   python -m csacgan.experiments.architecture_study OUT --prefix mn --rare 0 ...     (mnist)
# STUDY=colour: colour Fashion-MNIST ('Bag' rare at 1:50, 32x32, every garment a random
# hue; made by make_colour_fashion.py), plus BAGAN with mode seeking 0.5, the best Table 2
# setting before; STUDY=mnist: MNIST with '0' at rho 190, the paper's hardest setting.
#   STUDY=colour bash experiments/architecture_study.sh [OUT] [SEEDS]   (default ~/csacgan-runs/colour, "0 1 2")
set -uo pipefail
STUDY=${STUDY:-colour}
OUT=${1:-$HOME/csacgan-runs/$STUDY}
SEEDS=${2:-0 1 2}
source "$(dirname "$0")/cpu_env.sh"
mkdir -p "$OUT"
if [ "$STUDY" = colour ]; then
  DATA=${COLOUR_DATA:-$HOME/csacgan-runs/colour-fashion}
  [ -d "$DATA" ] || python experiments/make_colour_fashion.py --out "$DATA"
  PREFIX=cf
  TRAIN="--dataset imagefolder --data-dir $DATA --image-size 32 --minority Bag"
else
  PREFIX=mn
  TRAIN="--dataset mnist --imbalance-ratio 190"
fi
declare -A ROWS=(  # every row names its method, networks and class loss: auto would pick them by the data
  [t2-ce]="--method cs-acgan --architecture table2 --class-loss ce"
  [t2-tac]="--method cs-acgan --architecture table2 --class-loss tac"
  [t2-d2d]="--method cs-acgan --architecture table2 --class-loss d2d-ce"
  [t2-bagan-ms0.5]="--architecture table2 --method bagan --mode-seeking 0.5"
  [rn-ce]="--method cs-acgan --architecture resnet --class-loss ce"
  [rn-tac]="--method cs-acgan --architecture resnet --class-loss tac"
  [rn-d2d]="--method cs-acgan --architecture resnet --class-loss d2d-ce"
  [rn-gsr]="--method cs-acgan --architecture resnet --class-loss ce --gsr 0.5"
  [t2-tac-ms0.5]="--method cs-acgan --architecture table2 --class-loss tac --mode-seeking 0.5"
)
# two lanes of about equal time a seed; LANE_A / LANE_B in the environment choose other rows
if [ "$STUDY" = mnist ]; then  # the Table 2 rows first: they are the paper's networks
  LANE_A=${LANE_A-t2-ce t2-d2d rn-tac}
  LANE_B=${LANE_B-t2-tac rn-ce rn-d2d}
else
  LANE_A=${LANE_A-rn-tac rn-ce rn-d2d}
  LANE_B=${LANE_B-t2-ce t2-tac t2-d2d t2-bagan-ms0.5 rn-gsr t2-tac-ms0.5}
fi
row() {  # row NAME SEED
  local run="$OUT/$PREFIX-$1-s$2"
  if [ -f "$run/checkpoint.pt" ] && [ ! -f "$run/samples/final.png" ]; then
    nice csacgan train --resume "$run" --no-progress >> "$run.log" 2>&1
  fi
  [ -f "$run/samples/final.png" ] || nice csacgan train $TRAIN --epochs 8 --seed "$2" --out "$run" --no-progress \
    ${ROWS[$1]} > "$run.log" 2>&1
}
(for seed in $SEEDS; do for r in $LANE_A; do row "$r" "$seed"; done; done) &
(for seed in $SEEDS; do for r in $LANE_B; do row "$r" "$seed"; done; done) &
wait
