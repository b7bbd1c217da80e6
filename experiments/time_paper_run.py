"""Time one run of `csacgan reproduce --profile paper` with the current code: training,
then a cold evaluation (the first in a process also computes the real-data side).

    python experiments/time_paper_run.py [--run cs-acgan-ratio95-s0] [--out runs/paper-profile-timing]

Uses the grid's own plan, configuration and metric settings, so the run is the one the
grid would make; prints training and evaluation seconds and the per-epoch seconds.
"""
import argparse
import json
import shutil
import time
from pathlib import Path

from csacgan.config import TrainConfig
from csacgan.evaluate import evaluate
from csacgan.experiments.grid import get_profile, plan
from csacgan.train import train

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--run", default="cs-acgan-ratio95-s0")
parser.add_argument("--out", default="runs/paper-profile-timing")
args = parser.parse_args()
out = Path(args.out)
shutil.rmtree(out, ignore_errors=True)
profile = get_profile("paper", None)
cfg = TrainConfig.from_dict({r.name: r for r in plan("paper", "ratio", "paper", None, out=out)}[args.run].config)
started = time.perf_counter()
train(cfg)
trained = time.perf_counter()
evaluate(Path(cfg.out), profile.metrics, profile.n_per_class, seed=0, evaluator_epochs=profile.evaluator_epochs,
         evaluator_subset=profile.evaluator_subset, progress=False, metric_options=profile.metric_options)
print(json.dumps({"train_s": round(trained - started, 1), "evaluate_cold_s": round(time.perf_counter() - trained, 1),
                  "epochs": [json.loads(line).get("seconds") for line in open(Path(cfg.out) / "log.jsonl")]}))
