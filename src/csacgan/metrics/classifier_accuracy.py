"""Classifier accuracy on generated images: the paper's Table 5.

The evaluator (a ResNet-18 trained on real data) labels each generated image; a
sample counts as right when the label is the class it was generated for. The same
accuracy on the real test images is reported beside it as the ceiling.
"""
from __future__ import annotations

import torch

from . import EvalContext, per_class, register


def accuracy_by_class(predicted: torch.Tensor, labels: torch.Tensor, num_classes: int):
    right = torch.zeros(num_classes).index_add_(0, labels, (predicted == labels).float())
    total = torch.bincount(labels, minlength=num_classes).float()
    return right / total.clamp(min=1)


@register("classifier_accuracy")
def classifier_accuracy(ctx: EvalContext) -> dict:
    K = ctx.num_classes
    predicted = ctx.predictions("generated", ctx.images)
    real_predicted = ctx.predictions("test", ctx.data.test_images)
    return {
        "overall": float((predicted == ctx.labels).float().mean()),
        "per_class": per_class(accuracy_by_class(predicted, ctx.labels, K)),
        "real": {"overall": float((real_predicted == ctx.data.test_labels).float().mean()),
                 "per_class": per_class(accuracy_by_class(real_predicted, ctx.data.test_labels, K))},
    }
