"""The paper's three claims, each tested as a paired comparison of CostSensitive-ACGAN with
a baseline on the seeds both cells of a grid hold, and given a verdict by a stated rule.

1. Its generated '0's are more varied than ACGAN's and BAGAN's: lower SSIM '0' (Table 4),
   and, as the field would check it, higher coverage '0' (Naeem et al. 2020: how much of
   the real zeros' feature distribution the generated ones reach; SSIM alone also rewards
   malformed images, as the paper itself notes).
2. They are as recognisable: ResNet-18 '0' accuracy no more than ``MARGIN`` below the
   baseline's (Table 5; the margin is the paper's own largest gap there, 0.9975 - 0.98).
3. It does better than ACGAN under strong imbalance: FID '0', '0' accuracy, CAS '0' and the
   augmentation gain at every level, the hardest one being the claim's.

Rules: with two or more paired seeds, a difference "holds" when a paired t-test (scipy's)
gives p < ``ALPHA`` in the claimed direction, "the opposite holds" when it does in the other,
and is "within seed noise" otherwise; claim 2 is a non-inferiority test, so it holds when
the one-sided 95% lower bound of the paired difference lies above ``-MARGIN`` and fails when
the upper bound lies below it. One seed gives a "hint", never a verdict.
"""
from __future__ import annotations

import math

from . import measures
from .stats import paired_difference

ALPHA = 0.05
MARGIN = 0.02
CS = "cs-acgan"


# The claims' measures of class '0' (measures.py says where each lives in metrics.json);
# "gain" is computed from the augmentation gain's two setups.
MEASURES = {"SSIM '0'": "SSIM", "'0' accuracy": "accuracy", "FID '0'": "FID", "CAS '0'": "CAS",
            "coverage '0'": "coverage"}


# claim, baseline, measure, direction (+1: higher is CostSensitive-ACGAN's claim), test
CLAIMS = [("more varied '0's", "acgan", "SSIM '0'", -1, "superiority"),
          ("more varied '0's", "bagan", "SSIM '0'", -1, "superiority"),
          ("more varied '0's", "acgan", "coverage '0'", +1, "superiority"),
          ("more varied '0's", "bagan", "coverage '0'", +1, "superiority"),
          ("as recognisable '0's", "acgan", "'0' accuracy", +1, "non-inferiority"),
          ("as recognisable '0's", "bagan", "'0' accuracy", +1, "non-inferiority"),
          ("better than ACGAN", "acgan", "FID '0'", -1, "superiority"),
          ("better than ACGAN", "acgan", "'0' accuracy", +1, "superiority"),
          ("better than ACGAN", "acgan", "CAS '0'", +1, "superiority"),
          ("better than ACGAN", "acgan", "gain", +1, "superiority")]


def metric(run, *path):
    """The value at ``path`` in a run's metrics (metrics.json's "metrics"), None where it has none."""
    value = (run.get("metrics") or {}).get("metrics")
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def measure(run, name, real: bool = False):
    """A run's value of one of the claims' measures (``real``: the same statistic on real
    images, which the run's metrics record beside it), None when it has none."""
    if name == "gain":  # no real-data value: real images are what the gain adds to
        if real:
            return None
        generated, imbalanced = (metric(run, "augmentation_gain", "setups", setup, "balanced_accuracy", "mean")
                                 for setup in ("generated", "imbalanced"))
        return None if generated is None or imbalanced is None else generated - imbalanced
    return measures.read((run.get("metrics") or {}).get("metrics") or {}, MEASURES[name], "0", real)


def verdict(d: dict, direction: int, test: str) -> str:
    """The rule of the module docstring, applied to ``paired_difference(cs, baseline)``."""
    if d["n"] < 2:
        if test == "non-inferiority":
            return "hint: " + ("not worse" if d["mean"] > -MARGIN else "worse")
        return "hint: " + ("ahead" if direction * d["mean"] > 0 else "behind")
    if test == "non-inferiority":
        from scipy.stats import t
        half = t.ppf(0.95, d["n"] - 1) * d["std"] / math.sqrt(d["n"])
        if d["mean"] - half > -MARGIN:
            return "holds"
        if d["mean"] + half < -MARGIN:
            return "does not hold"
        return "undecided"
    if d["p"] is None or d["p"] >= ALPHA:
        return "within seed noise"
    return "holds" if direction * d["mean"] > 0 else "the opposite holds"


def check_claims(runs: list[dict], levels: list) -> list[dict]:
    """One row per claim, baseline, measure and level of the grid where both cells have values."""
    rows = []
    for claim, baseline, name, direction, test in CLAIMS:
        for level in levels:
            by_seed = {m: {r["seed"]: measure(r, name) for r in runs if r["method"] == m and r["level"] == level}
                       for m in (CS, baseline)}
            seeds = sorted(s for s, v in by_seed[CS].items() if v is not None and by_seed[baseline].get(s) is not None)
            if not seeds:
                continue
            real = next((v for v in (measure(r, name, real=True) for r in runs if r["level"] == level)
                         if v is not None), None)
            d = paired_difference([by_seed[CS][s] for s in seeds], [by_seed[baseline][s] for s in seeds])
            better = sum(direction * x > 0 for x in d["differences"])
            rows.append({"claim": claim, "baseline": baseline, "measure": name, "level": level, "seeds": seeds,
                         "cs": [by_seed[CS][s] for s in seeds], "other": [by_seed[baseline][s] for s in seeds],
                         "real": real, "difference": d, "direction": direction, "better": better, "verdict": verdict(d, direction, test)})
    return rows
