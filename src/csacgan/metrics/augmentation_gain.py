"""Downstream gain from augmentation: does adding generated minority images help a
classifier trained on the imbalanced set? (The question of Mariani et al. 2018's
BAGAN evaluation and of Buda et al. 2018's comparison of remedies.)

The same small CNN, with the same number of steps, is trained on
  (a) ``imbalanced``: the run's imbalanced real training set;
  (b) ``oversampled``: that set with every class randomly oversampled to the largest
      (imbalanced-learn's RandomOverSampler);
  (c) ``class_weighted``: that set with a class-weighted loss (scikit-learn's
      "balanced" weights);
  (d) ``generated``: that set plus generated images of each smaller class up to the
      largest class's count;
and tested on the real test set: balanced accuracy, minority recall and macro-F1, as
mean and std over seeds.
"""
from __future__ import annotations

import hashlib

import numpy as np
import torch
from imblearn.over_sampling import RandomOverSampler
from sklearn.utils.class_weight import compute_class_weight

from . import EvalContext, register
from ..fit import fit_small_cnn, predict
from .small_classifier import scores

SETUPS = ("imbalanced", "oversampled", "class_weighted", "generated")
REPORTED = ("balanced_accuracy", "minority_recall", "macro_f1")


def training_sets(ctx: EvalContext, seed: int):
    """(name, images, labels, class weights) of each setup; the first three use real data only."""
    images = ctx.data.train_images[ctx.train_indices]
    labels = ctx.data.train_labels[ctx.train_indices]
    K = ctx.num_classes
    counts = torch.bincount(labels, minlength=K)
    yield "imbalanced", images, labels, None
    ros = RandomOverSampler(random_state=seed)
    picked, _ = ros.fit_resample(np.arange(len(labels)).reshape(-1, 1), labels.numpy())
    picked = torch.from_numpy(picked[:, 0])
    yield "oversampled", images[picked], labels[picked], None
    weights = compute_class_weight("balanced", classes=np.arange(K), y=labels.numpy())
    yield "class_weighted", images, labels, torch.tensor(weights, dtype=torch.float32)
    missing = (counts.max() - counts).clamp(min=0)
    extra_labels = torch.arange(K).repeat_interleave(missing)
    extra = ctx.sampler(extra_labels, seed + 10_000)
    yield "generated", torch.cat([images, extra]), torch.cat([labels, extra_labels]), None


def _indices_key(indices: torch.Tensor) -> str:
    return hashlib.md5(indices.numpy().tobytes()).hexdigest()


@register("augmentation_gain")
def augmentation_gain(ctx: EvalContext, seeds: int = 3, steps: int | None = None) -> dict:
    if ctx.train_indices is None or ctx.sampler is None:
        raise ValueError("augmentation_gain needs the run's training set and generator")
    K = ctx.num_classes
    steps = steps or max(200, len(ctx.train_indices) // 128)  # one pass over the imbalanced set
    results = {name: {m: [] for m in REPORTED} for name in SETUPS}
    for s in range(seeds):
        for name, images, labels, weights in training_sets(ctx, ctx.seed + s):
            def fit_and_score():
                model = fit_small_cnn(images, labels, K, steps, ctx.seed + s, ctx.progress,
                                      class_weights=weights, desc=f"augmentation gain: {name}, seed {s}")
                return scores(ctx.data.test_labels, predict(model, ctx.data.test_images), K, ctx.minority)
            if name == "generated":
                got = fit_and_score()
            else:  # real data only: shared by every run trained on the same imbalanced set
                key = ("augmentation_gain", name, _indices_key(ctx.train_indices), ctx.seed + s, steps,
                       tuple(ctx.minority))
                got = ctx.shared(key, fit_and_score)
            for m in REPORTED:
                results[name][m].append(got[m])
    summary = {name: {m: {"mean": float(np.mean(v)), "std": float(np.std(v)), "values": v}
                      for m, v in per.items()} for name, per in results.items()}
    base = summary["imbalanced"]["balanced_accuracy"]["mean"]
    return {"setups": summary, "seeds": seeds, "steps": steps,
            "overall": summary["generated"]["balanced_accuracy"]["mean"] - base}
