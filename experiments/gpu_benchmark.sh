#!/usr/bin/env bash
# GPU numbers in one command on a GPU machine: images/s of every method on one GPU (200
# training steps each, batch 64 and 256), the time of one paper-profile run (MNIST rho 190,
# 8 epochs), and torchrun across every GPU the machine has against one of them. Prepare
# MNIST as for gpu_convergence.sh (carry [".mnist"]), then run
#   bash experiments/gpu_benchmark.sh
# Writes $OUT/benchmark.txt (one line per measurement, with the command behind it) and
# every run's config.json and log.jsonl.
set -uo pipefail
source "$(dirname "$0")/gpu_setup.sh"
GPUS=$(python3 -c "import torch; print(torch.cuda.device_count())")
ips() { python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1]+'/log.jsonl') if 'images_per_s' in l]; print(r[-1]['images_per_s'])" "$1"; }
run() {  # name, launcher..., -- train options
    local name=$1; shift
    local start=$(date +%s.%N)
    "$@" --out "gpu-runs/$name" --no-progress > "$OUT/$name.log" 2>&1
    local rc=$?
    local secs=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
    echo "$name rc=$rc seconds=$secs images_per_s=$(ips gpu-runs/$name 2>/dev/null) :: $*" | tee -a "$OUT/benchmark.txt"
}
for m in acgan cs-acgan bagan; do
  for b in 64 256; do
    run "$m-b$b" python3 -m csacgan train --method $m --dataset mnist --imbalance-ratio 190 --device cuda \
        --batch-size $b --max-steps 200 --epochs 1
  done
done
run paper-rho190 python3 -m csacgan train --method cs-acgan --recipe paper --dataset mnist --imbalance-ratio 190 \
    --max-per-class 5000 --device cuda --epochs 8
if [ "$GPUS" -gt 1 ]; then
  run "ddp-$GPUS" torchrun --standalone --nproc_per_node "$GPUS" -m csacgan train --method cs-acgan --dataset mnist \
      --imbalance-ratio 190 --batch-size 256 --max-steps 200 --epochs 1
fi
run ddp-1 torchrun --standalone --nproc_per_node 1 -m csacgan train --method cs-acgan --dataset mnist \
    --imbalance-ratio 190 --batch-size 256 --max-steps 200 --epochs 1
tar czf "$OUT/runs.tgz" gpu-runs/*/config.json gpu-runs/*/log.jsonl 2>/dev/null
cat "$OUT/benchmark.txt"
