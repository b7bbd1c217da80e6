"""Compare two `csacgan reproduce` folders run by run (same run names: same method,
level and seed), e.g. the same grid before and after a change to the training code.

    python experiments/compare_grids.py OLD_GRID NEW_GRID [--seed 0]

Prints a markdown table of the evaluator's '0' and all-class accuracy and FID (all
classes) per run, and their means over the runs both folders hold.
"""
import argparse
import json
from pathlib import Path
from statistics import mean


def scores(grid: Path, seed: int) -> dict:
    out = {}
    for path in sorted(grid.glob(f"runs/*-s{seed}/metrics.json")):
        metrics = json.loads(path.read_text())["metrics"]
        accuracy = metrics["classifier_accuracy"]
        out[path.parent.name] = (accuracy["per_class"]["0"], accuracy["overall"], metrics["fid"]["overall"])
    return out


parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("old", type=Path)
parser.add_argument("new", type=Path)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
old, new = scores(args.old, args.seed), scores(args.new, args.seed)
common = [name for name in old if name in new]
if not common:
    raise SystemExit(f"no run of seed {args.seed} is in both {args.old} and {args.new}")
print(f"| run | '0' accuracy old / new | all-class accuracy old / new | FID all old / new |")
print("|---|---|---|---|")
for name in common:
    (z0, a0, f0), (z1, a1, f1) = old[name], new[name]
    print(f"| {name} | {z0:.3f} / {z1:.3f} | {a0:.3f} / {a1:.3f} | {f0:.1f} / {f1:.1f} |")
means = [(mean(old[n][i] for n in common), mean(new[n][i] for n in common)) for i in range(3)]
print(f"| mean of {len(common)} | {means[0][0]:.3f} / {means[0][1]:.3f} | {means[1][0]:.3f} / {means[1][1]:.3f} "
      f"| {means[2][0]:.1f} / {means[2][1]:.1f} |")
