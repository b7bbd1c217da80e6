"""Classification Accuracy Score (Ravuri and Vinyals 2019).

A classifier trained on generated images only (balanced: the same number per class)
is tested on the real test set. Beside it, the same classifier trained on as many
real training images per class: the score a perfect generator would reach.
"""
from __future__ import annotations

import torch

from . import EvalContext, register
from .fid import real_reference
from ..fit import fit_small_cnn, predict
from .small_classifier import scores


@register("cas")
def cas(ctx: EvalContext, steps: int = 800) -> dict:
    K, test = ctx.num_classes, ctx.data.test_images
    fake_model = fit_small_cnn(ctx.images, ctx.labels, K, steps, ctx.seed, ctx.progress, desc="CAS (generated)")
    fake_scores = scores(ctx.data.test_labels, predict(fake_model, test), K, ctx.minority)

    def real_side():
        ref_images, ref_labels = real_reference(ctx)
        real_model = fit_small_cnn(ref_images, ref_labels, K, steps, ctx.seed, ctx.progress, desc="CAS (real)")
        return scores(ctx.data.test_labels, predict(real_model, test), K, ctx.minority)
    counts = tuple(torch.bincount(ctx.labels, minlength=K).tolist())
    real_scores = ctx.shared(("cas_real", steps, ctx.seed, counts, tuple(ctx.minority)), real_side)
    return {"overall": fake_scores["accuracy"], "per_class": fake_scores["per_class_recall"],
            "real": {"overall": real_scores["accuracy"], "per_class": real_scores["per_class_recall"]},
            "steps": steps}
