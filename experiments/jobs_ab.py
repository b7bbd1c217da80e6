"""A/B of `csacgan reproduce --jobs`: the same paper-profile runs trained and evaluated
one after another in one process (all threads), then at once in separate 1-thread
processes, timed in one invocation on the same machine.

    python experiments/jobs_ab.py [--runs acgan-ratio95-s0 cs-acgan-ratio95-s0] [--out runs/jobs-ab]

Uses the grid's own plan and run function, so each run is the one `csacgan reproduce
--profile paper` makes. Prints the wall time of each mode and their ratio. The
evaluator must already be cached (run any evaluation first), so both modes time the
same work.
"""
import argparse
import json
import shutil
import time
from pathlib import Path

import torch

from csacgan.experiments.grid import _do_run, get_profile, plan, process_pool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", default=["acgan-ratio95-s0", "cs-acgan-ratio95-s0"])
    parser.add_argument("--out", default="runs/jobs-ab")
    parser.add_argument("--modes", nargs="+", default=["one process", "parallel processes"])
    args = parser.parse_args()
    profile = get_profile("paper")
    result = {"threads": torch.get_num_threads()}
    for mode in args.modes:
        out = Path(args.out) / mode.replace(" ", "-")
        shutil.rmtree(out, ignore_errors=True)
        runs = [r for r in plan("paper", out=out) if r.name in args.runs]
        started = time.perf_counter()
        if mode == "one process":
            seconds = [_do_run(run, profile)[1] for run in runs]
        else:
            pool, _ = process_pool(len(runs))
            with pool:
                seconds = [s for _, s in pool.map(_do_run, runs, [profile] * len(runs))]
        result[mode] = {"wall_s": round(time.perf_counter() - started, 1), "run_s": seconds}
        print(json.dumps({mode: result[mode]}), flush=True)
    if len(args.modes) == 2:
        result["speedup"] = round(result["one process"]["wall_s"] / result["parallel processes"]["wall_s"], 2)
    print(json.dumps(result))


if __name__ == "__main__":  # spawned workers import this file: only the parent runs the A/B
    main()
