#!/usr/bin/env bash
# The downstream studies published in docs/results/downstream.md, on a 2-core CPU: two
# processes of one thread each (a second process on the same --out merges its cells).
# Resumable: run it again and finished cells and GANs are reused.
#   bash experiments/downstream.sh [RUNS_FOLDER]
set -euo pipefail
RUNS=${1:-$HOME/csacgan-runs/downstream}
source "$(dirname "$0")/cpu_env.sh"
simple=none,random,class-weight,smote,latent-smote
gans=acgan,cs-acgan,bagan
(
  csacgan downstream --protocol deepsmote --out "$RUNS/deepsmote-mnist" --samplers $simple --no-progress
  csacgan downstream --protocol deepsmote --out "$RUNS/deepsmote-mnist" --samplers $gans --no-progress
  # a second GAN seed for the two ACGANs: seeds 1 and 3 sample GAN 1
  csacgan downstream --protocol deepsmote --out "$RUNS/deepsmote-mnist" --samplers acgan,cs-acgan --gan-seeds 2 --no-progress
  for level in rho190 rho20 rho40; do
    csacgan downstream --protocol paper --levels $level --out "$RUNS/paper-mnist" --samplers $simple --no-progress
  done
) &
for level in rho190 rho20 rho40; do
  csacgan downstream --protocol paper --levels $level --out "$RUNS/paper-mnist" --samplers $gans --no-progress
done
wait
cp "$RUNS"/deepsmote-mnist/{downstream.json,report.md,recall-deepsmote.png} docs/results/downstream/deepsmote/
cp "$RUNS"/paper-mnist/{downstream.json,report.md} "$RUNS"/paper-mnist/recall-*.png docs/results/downstream/paper/
