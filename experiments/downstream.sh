#!/usr/bin/env bash
# The downstream studies published in docs/results/downstream.md, on a 2-core CPU: two
# processes of one thread each (a second process on the same --out merges its cells).
# Resumable: run it again and finished cells and GANs are reused.
#   bash experiments/downstream.sh [RUNS_FOLDER]
# STUDY=long-tail runs the loss baselines and the ways of using generated images on top of
# the strongest of them, logit adjustment on DeepSMOTE's MNIST protocol, instead
# (docs/results/long-tail.md): DeepSMOTE's protocol on MNIST and on Fashion-MNIST and rho
# 190, small CNN and ResNet-32, 5 seeds. Balanced softmax is logit adjustment at tau 1.
set -euo pipefail
RUNS=${1:-$HOME/csacgan-runs/downstream}
source "$(dirname "$0")/cpu_env.sh"
simple=none,random,class-weight,smote,latent-smote
gans=acgan,cs-acgan,bagan
if [ "${STUDY:-published}" = long-tail ]; then
  losses=none,class-weight,none+drw,none+logit-adjusted
  b=bagan+logit-adjusted
  on_top=$b,$b@filter=0.9,$b@weight=0.5,$b@amount=0.5,$b@crt,$b@amount=2x
  for classifier in small-cnn resnet32; do
    extra=$([ $classifier = resnet32 ] && echo ",none+ldam-drw" || true)
    for dataset in mnist fashion-mnist; do
      csacgan downstream --protocol deepsmote --dataset $dataset --classifier $classifier \
        --out "$RUNS/long-tail-deepsmote-$dataset-$classifier" --samplers $losses$extra,$on_top --no-progress &
    done
    wait
    csacgan downstream --protocol paper --levels rho190 --classifier $classifier \
      --out "$RUNS/long-tail-rho190-$classifier" --samplers $losses$extra,$on_top --no-progress
  done
  exit 0
fi
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
