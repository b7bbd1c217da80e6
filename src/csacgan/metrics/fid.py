"""FID (Heusel et al. 2017) and KID (Binkowski et al. 2018) on the evaluator's
features, overall and per class (intra-class FID, as in Miyato and Koyama 2018).

torchmetrics computes both. Its feature extractor here is a pass-through: the
evaluator's 512-d penultimate features are computed once per image set and fed as
the "images", so per-class scores do not run the network again. Real statistics come
from the real test set; "real" beside each score is the same metric for a same-size
sample of other real images, the floor a perfect generator would reach
(:func:`reference_split`).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from . import EvalContext, per_class, register


class PassThrough(nn.Module):
    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, features):
        return features


def frechet_distance(real_features: torch.Tensor, fake_features: torch.Tensor) -> float:
    fid = FrechetInceptionDistance(feature=PassThrough(real_features.shape[1]))
    fid.update(real_features, real=True)
    fid.update(fake_features, real=False)
    return float(fid.compute())


def kernel_distance(real_features: torch.Tensor, fake_features: torch.Tensor, seed: int) -> float:
    size = min(len(real_features), len(fake_features), 1000)
    torch.manual_seed(seed)  # KID draws its subsets from the global RNG
    kid = KernelInceptionDistance(feature=PassThrough(real_features.shape[1]), subsets=50, subset_size=size)
    kid.update(real_features, real=True)
    kid.update(fake_features, real=False)
    return float(kid.compute()[0])


def real_reference(ctx: EvalContext) -> tuple[torch.Tensor, torch.Tensor]:
    """As many real training images per class as were generated (fewer where the training
    set has fewer), drawn with the seed."""
    g = torch.Generator().manual_seed(ctx.seed)
    picks, labels = [], []
    for c in range(ctx.num_classes):
        n = int((ctx.labels == c).sum())
        members = torch.nonzero(ctx.data.train_labels == c).flatten()
        picks.append(members[torch.randperm(len(members), generator=g)[:n]])
        labels.append(torch.full((min(n, len(members)),), c))
    return ctx.data.train_images[torch.cat(picks)], torch.cat(labels)


@dataclass
class Reference:
    """The real-against-real reference of the feature metrics. ``statistics``: the test
    images (indices) every score, generated or real, is measured against; ``images`` /
    ``labels``: the real images scored like generated ones; ``counts``: how many of each
    class."""
    statistics: torch.Tensor
    images: torch.Tensor
    labels: torch.Tensor
    counts: list[int]


def reference_split(ctx: EvalContext) -> Reference:
    """Per class c with n generated images: n real training images when the training set
    has them (MNIST: 60,000 to draw from), and the whole test split of c as statistics.
    Where it has fewer (a rare class of a user's folder, whose training images are all the
    real ones), the real images are split instead: half of c's test images (at most n)
    become the reference, the other half the statistics, so that the reference always
    counts as many images as the generated side where the data allow, and never scores a
    real image against itself."""
    if "reference" in ctx.cache:
        return ctx.cache["reference"]
    g = torch.Generator().manual_seed(ctx.seed)
    data, keep = ctx.data, torch.ones(len(ctx.data.test_labels), dtype=torch.bool)
    images, labels, counts = [], [], []
    for c in range(ctx.num_classes):
        n = int((ctx.labels == c).sum())
        train = torch.nonzero(data.train_labels == c).flatten()
        if len(train) >= n:
            picked = data.train_images[train[torch.randperm(len(train), generator=g)[:n]]]
        else:
            test = torch.nonzero(data.test_labels == c).flatten()
            test = test[torch.randperm(len(test), generator=g)][:min(n, len(test) // 2)]
            keep[test] = False
            picked = data.test_images[test]
        images.append(picked)
        labels.append(torch.full((len(picked),), c))
        counts.append(len(picked))
    ctx.cache["reference"] = Reference(torch.nonzero(keep).flatten(), torch.cat(images), torch.cat(labels), counts)
    return ctx.cache["reference"]


def statistics_features(ctx: EvalContext) -> tuple[torch.Tensor, torch.Tensor]:
    """(features, labels) of the test images the scores are measured against."""
    ref = reference_split(ctx)
    return ctx.features("test", ctx.data.test_images)[ref.statistics], ctx.data.test_labels[ref.statistics]


def _scores(ctx: EvalContext, distance, name: str) -> dict:
    test_f, test_labels = statistics_features(ctx)
    fake_f = ctx.features("generated", ctx.images)

    def guarded(real, fake):  # a rare class may have a single test image: no covariance, NaN
        return distance(real, fake) if min(len(real), len(fake)) >= 2 else float("nan")

    def real_scores() -> dict:  # real data alone: the same for every run a process evaluates
        ref = reference_split(ctx)
        ref_f = ctx.features("real_reference", ref.images)
        return {"overall": distance(test_f, ref_f), "per_class": per_class(
            guarded(test_f[test_labels == c], ref_f[ref.labels == c]) for c in range(ctx.num_classes)),
            "counts": per_class(ref.counts)}

    counts = tuple(int((ctx.labels == c).sum()) for c in range(ctx.num_classes))
    out = {"overall": distance(test_f, fake_f), "per_class": per_class(
        guarded(test_f[test_labels == c], fake_f[ctx.labels == c]) for c in range(ctx.num_classes))}
    out["real"] = copy.deepcopy(ctx.shared((name + "_real_reference", ctx.seed, counts), real_scores))
    return out


@register("fid")
def fid(ctx: EvalContext) -> dict:
    return _scores(ctx, frechet_distance, "fid")


@register("kid")
def kid(ctx: EvalContext) -> dict:
    return _scores(ctx, lambda r, f: kernel_distance(r, f, ctx.seed), "kid")
