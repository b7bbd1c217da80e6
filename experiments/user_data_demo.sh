#!/usr/bin/env bash
# The demonstrations of docs/your-data.md, with its commands:
#  1. an RGB image folder with a 1:50 rare class ("colour Fashion-MNIST", see
#     make_colour_fashion.py: no CIFAR-10 copy can be had on the build machine);
#  2. Fashion-MNIST (Debian package dataset-fashion-mnist) with 'Bag' made rare at rho 50.
# Each: train, evaluate, write a balanced copy; the RGB folder with the defaults (on colour
# images: the Table 2 networks with TAC-GAN's twin classifier), Fashion-MNIST with recipe
# balanced, as published. Outputs under runs/demo/.
set -euo pipefail
OUT=${OUT:-runs/demo}
EPOCHS=${EPOCHS:-8}
mkdir -p "$OUT"
[ -d "$OUT/colour-fashion" ] || python experiments/make_colour_fashion.py --out "$OUT/colour-fashion"

# 1. RGB folder
[ -f "$OUT/colour-fashion-run/samples/final.png" ] || csacgan train --dataset imagefolder --data-dir "$OUT/colour-fashion" \
    --image-size 32 --minority Bag --epochs "$EPOCHS" --out "$OUT/colour-fashion-run" --no-progress
csacgan evaluate "$OUT/colour-fashion-run" --metrics classifier_accuracy fid prdc hue_spread \
    --n-per-class 250 --no-progress | tee "$OUT/colour-fashion-evaluate.txt"
rm -rf "$OUT/colour-fashion-balanced"
csacgan augment --run "$OUT/colour-fashion-run" --out "$OUT/colour-fashion-balanced" | tee "$OUT/colour-fashion-augment.txt"

# 2. Fashion-MNIST, 'Bag' (class 8) rare at rho 50, 1000 images per class
[ -f "$OUT/fashion-run/samples/final.png" ] || csacgan train --dataset fashion-mnist --minority Bag --imbalance-ratio 50 \
    --max-per-class 1000 --recipe balanced --epochs "$EPOCHS" --out "$OUT/fashion-run" --no-progress
csacgan evaluate "$OUT/fashion-run" --metrics classifier_accuracy ssim_diversity fid \
    --n-per-class 500 --no-progress | tee "$OUT/fashion-evaluate.txt"
rm -rf "$OUT/fashion-balanced"
csacgan augment --run "$OUT/fashion-run" --out "$OUT/fashion-balanced" | tee "$OUT/fashion-augment.txt"
