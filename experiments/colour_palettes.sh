#!/usr/bin/env bash
# What keeps a generator's colours apart on an RGB folder? Colour Fashion-MNIST (every
# garment a random colour; 'Bag' rare at 1:50), CostSensitive-ACGAN with recipe balanced
# (8 epochs, seed 0) and one lever or method change per row, then the defaults (recipe
# stable: balanced, images drawn from an EMA of G) and BAGAN with mode seeking
# on them, each scored by `csacgan evaluate` and by experiments/palette_spread.py (the
# spread of the garments' hues). Two runs at a time, one thread each; finished rows are
# skipped. Every row but the stable ones names its recipe (balanced), as it was trained.
#   bash experiments/colour_palettes.sh [OUT]          (default ~/csacgan-runs/demo)
set -uo pipefail
OUT=${1:-$HOME/csacgan-runs/demo}
source "$(dirname "$0")/cpu_env.sh"
mkdir -p "$OUT"
[ -d "$OUT/colour-fashion" ] || python experiments/make_colour_fashion.py --out "$OUT/colour-fashion"
row() {
  name=$1; shift
  if [ -f "$OUT/cf-$name/checkpoint.pt" ] && [ ! -f "$OUT/cf-$name/samples/final.png" ]; then  # stopped: go on
    nice csacgan train --resume "$OUT/cf-$name" --no-progress >> "$OUT/cf-$name.log" 2>&1
  fi
  [ -f "$OUT/cf-$name/samples/final.png" ] || nice csacgan train --dataset imagefolder --data-dir "$OUT/colour-fashion" \
    --image-size 32 --minority Bag --epochs 8 --recipe $recipe --out "$OUT/cf-$name" --no-progress "$@" > "$OUT/cf-$name.log" 2>&1
  [ -f "$OUT/cf-$name/metrics.json" ] || nice csacgan evaluate "$OUT/cf-$name" --n-per-class 250 --no-progress \
    --metrics classifier_accuracy ssim_diversity fid prdc > "$OUT/cf-$name-evaluate.txt" 2>&1
}
recipe=balanced
row base  # trains the folder's evaluator (cached) before the others
(row ema --g-ema 0.999; row ttur --lr-d 4e-4 --lr-g 1e-4; row d-dropout0 --d-dropout 0; row bagan --method bagan
 row bagan-ms0.5 --method bagan --mode-seeking 0.5) &
(row mbstd --d-minibatch-std 4; row ms0.2 --mode-seeking 0.2; row ms0.5 --mode-seeking 0.5; row ms1 --mode-seeking 1
 row sn-ms1 --d-spectral-norm true --mode-seeking 1) &
wait
# seeds 1 and 2 of the defaults and of the two cures (mode seeking 1; BAGAN + mode seeking 0.5)
for seed in 1 2; do
  row base-s$seed --seed $seed; row ms1-s$seed --mode-seeking 1 --seed $seed
  row bagan-ms0.5-s$seed --method bagan --mode-seeking 0.5 --seed $seed
done
# the defaults, and BAGAN with mode seeking 0.5 on them, seeds 0-2
recipe=stable
for seed in 0 1 2; do
  suffix=$([ $seed = 0 ] || echo "-s$seed")
  row stable$suffix --seed $seed &
  row bagan-ms0.5-stable$suffix --method bagan --mode-seeking 0.5 --seed $seed
  wait
done
# CostSensitive-ACGAN with mode seeking 0.5 on the defaults: does the EMA keep its FID?
row ms0.5-stable --mode-seeking 0.5 & row ms0.5-stable-s1 --mode-seeking 0.5 --seed 1; wait
row ms0.5-stable-s2 --mode-seeking 0.5 --seed 2
rows="base ema ttur d-dropout0 mbstd ms0.2 ms0.5 ms1 sn-ms1 bagan bagan-ms0.5 stable bagan-ms0.5-stable ms0.5-stable"
seeds="base-s1 base-s2 ms1-s1 ms1-s2 bagan-ms0.5-s1 bagan-ms0.5-s2 stable-s1 stable-s2 bagan-ms0.5-stable-s1
       bagan-ms0.5-stable-s2 ms0.5-stable-s1 ms0.5-stable-s2"
nice python experiments/palette_spread.py "$OUT/colour-fashion" $(for r in $rows $seeds; do echo "$OUT/cf-$r"; done) \
  --show-class Bag --figure docs/images/colour-fashion-palettes.png --figure-runs $(for r in $rows; do echo "cf-$r"; done) | tee "$OUT/palettes.md"
