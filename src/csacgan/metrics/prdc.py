"""Fidelity and diversity apart: improved precision and recall (Kynkäänniemi et al. 2019)
and density and coverage (Naeem et al. 2020), on the evaluator's 512-d features, per
class and overall, computed by the ``prdc`` package (the reference implementation of
Naeem et al.; k = 5 nearest neighbours, as both papers use).

Precision and density: how many generated images lie where real ones do (fidelity).
Recall and coverage: how much of the real distribution the generated images reach
(diversity). Real features are the real test set's; "real" beside each score is the same
metric for a same-size sample of other real images, the value a perfect generator
would get (fid.reference_split).
"""
from __future__ import annotations

import contextlib
import io

import torch

from . import EvalContext, register
from .fid import reference_split, statistics_features

KEYS = ("precision", "recall", "density", "coverage")


def prdc_scores(real: torch.Tensor, fake: torch.Tensor, nearest_k: int = 5) -> dict:
    from prdc import compute_prdc
    if min(len(real), len(fake)) <= nearest_k:  # k neighbours need k + 1 points
        return {k: float("nan") for k in KEYS}
    with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the sample sizes
        out = compute_prdc(real.double().numpy(), fake.double().numpy(), nearest_k)
    return {k: float(out[k]) for k in KEYS}


@register("prdc")
def prdc(ctx: EvalContext, nearest_k: int = 5, max_real: int = 5000) -> dict:
    test_f, test_labels = statistics_features(ctx)
    fake_f = ctx.features("generated", ctx.images)
    ref = reference_split(ctx)
    ref_f, ref_labels = ctx.features("real_reference", ref.images), ref.labels
    g = torch.Generator().manual_seed(ctx.seed)
    pick = torch.randperm(len(test_f), generator=g)[:max_real]  # pairwise distances grow as n^2
    out = {"nearest_k": nearest_k, "overall": prdc_scores(test_f[pick], fake_f, nearest_k),
           "per_class": {}, "real": {"overall": prdc_scores(test_f[pick], ref_f, nearest_k), "per_class": {},
                                     "counts": {str(c): n for c, n in enumerate(ref.counts)}}}
    for c in range(ctx.num_classes):
        t = test_f[test_labels == c]
        out["per_class"][str(c)] = prdc_scores(t, fake_f[ctx.labels == c], nearest_k)
        out["real"]["per_class"][str(c)] = prdc_scores(t, ref_f[ref_labels == c], nearest_k)
    return out
