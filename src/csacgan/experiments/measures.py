"""Where each measure lives in a run's metrics.json: the one table every report reads
(the claims, the ablations, the architecture study).

A measure is the metric's block (the metric's name, and a sub-block where the metric keeps
several: hue spread's chroma), then the keys below it; ``CLASS`` stands for the class, given
when the measure is read. The same statistic on real data lies under "real" in the block.
"""
from __future__ import annotations

CLASS = object()

# name: (block, keys below the block)
MEASURES = {
    "accuracy": (("classifier_accuracy",), ("per_class", CLASS)),
    "accuracy-all": (("classifier_accuracy",), ("overall",)),
    "SSIM": (("ssim_diversity",), ("per_class", CLASS)),
    "FID": (("fid",), ("per_class", CLASS)),
    "FID-all": (("fid",), ("overall",)),
    "CAS": (("cas",), ("per_class", CLASS)),
    "precision": (("prdc",), ("per_class", CLASS, "precision")),
    "recall": (("prdc",), ("per_class", CLASS, "recall")),
    "coverage": (("prdc",), ("per_class", CLASS, "coverage")),
    "hue spread": (("hue_spread",), ("per_class", CLASS)),
    "chroma": (("hue_spread", "chroma"), ("per_class", CLASS)),
}


def read(metrics: dict, name: str, cls: str | int = "0", real: bool = False):
    """Measure ``name`` of class ``cls`` from metrics.json's "metrics" (``real``: the real-data
    value beside it); None where the run has none."""
    block, keys = MEASURES[name]
    path = [*block, *(("real",) if real else ()), *(str(cls) if k is CLASS else k for k in keys)]
    value = metrics
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value
