"""The statistics every study reports over seeds: mean ± std and paired differences with
a paired t-test (scipy). One module, so every table and claim computes them alike."""
from __future__ import annotations

import statistics

import numpy as np


def mean_std(values, fmt: str = "{:.3f}") -> str:
    """"mean ± std" of the values (over seeds), the value alone when there is one, "" for none."""
    values = list(values)
    if not values:
        return ""
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.mean(values))} ± {fmt.format(statistics.stdev(values))}"


def paired_difference(row, base) -> dict:
    """row - base, seed by seed (both in seed order): mean, std, wins (seeds where row is
    higher), a paired t-test's p, and the differences themselves."""
    d = np.array(row, dtype=float) - np.array(base, dtype=float)
    p = None
    if len(d) >= 2 and d.std() > 0:
        from scipy.stats import ttest_rel
        p = float(ttest_rel(row, base).pvalue)
    return {"mean": float(d.mean()), "std": float(d.std(ddof=1)) if len(d) > 1 else 0.0,
            "wins": int((d > 0).sum()), "n": len(d), "p": p, "differences": d.tolist()}
