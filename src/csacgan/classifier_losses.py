"""Long-tailed recognition's losses for the downstream classifiers, each a small object
``loss(logits, labels, step)`` built from the training set's class counts:

* ``ce``: plain cross-entropy;
* ``class-weight``: cross-entropy weighted by scikit-learn's "balanced" weights n / (K n_c)
  from the first step;
* ``drw``: deferred re-weighting (Cao et al. 2019, section 3.3): plain cross-entropy until
  ``defer`` of the training steps, then weights from the effective number of samples,
  (1 - beta) / (1 - beta^n_c) with beta 0.9999 (Cui et al. 2019), normalised to sum to K;
* ``ldam-drw``: the label-distribution-aware margin loss with DRW (Cao et al. 2019, eq. 13):
  the true class's logit is lowered by m_c = C / n_c^(1/4), with C so that the largest margin
  is 0.5, and the logits, cosines of a normalised head (``normed_head``), are scaled by s = 30;
* ``logit-adjusted``: the logit-adjusted loss (Menon et al. 2021, eq. 11): cross-entropy of
  logits + tau log pi_c, tau 1, pi the training set's class priors;
* ``balanced-softmax``: Ren et al. 2020, eq. 4: cross-entropy of logits + log n_c. The same
  loss as ``logit-adjusted`` at tau 1 (log n_c and log pi_c differ by log n, which softmax
  ignores), kept under its own name because both are reported in the field.

Predictions are the plain logits' argmax for every loss: the adjustments act in training
only, as in each paper.

These few lines are written here because no maintained PyTorch library packages these
losses with a step-dependent schedule (torch gives the cross-entropy they wrap).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


class CrossEntropy:
    name, normed_head, defer = "ce", False, 0.0

    def __init__(self, class_counts, total_steps: int):
        self.counts = torch.as_tensor(class_counts, dtype=torch.float32).clamp(min=1)
        self.total_steps = total_steps

    @property
    def defer_step(self) -> int:
        """The step from which the loss is in its final form (early stopping waits for it)."""
        return int(round(self.defer * self.total_steps))

    def weights(self, step: int) -> torch.Tensor | None:
        return None

    def adjusted(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return logits

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor, step: int,
                 sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        """The batch's loss; ``sample_weight``: each image's weight (generated images down-
        weighted), normalised as cross-entropy normalises its class weights."""
        weight = self.weights(step)
        weight = None if weight is None else weight.to(logits.device)
        adjusted = self.adjusted(logits.float(), labels)
        if sample_weight is None:
            return F.cross_entropy(adjusted, labels, weight=weight)
        per_sample = F.cross_entropy(adjusted, labels, reduction="none")
        w = sample_weight.float() * (weight[labels] if weight is not None else 1.0)
        return (per_sample * w).sum() / w.sum().clamp(min=1e-12)


def balanced_weights(counts: torch.Tensor) -> torch.Tensor:
    """scikit-learn's "balanced" class weights, n / (K n_c)."""
    return counts.sum() / (len(counts) * counts)


def effective_number_weights(counts: torch.Tensor, beta: float = 0.9999) -> torch.Tensor:
    """Cui et al. 2019's class-balanced weights, (1 - beta) / (1 - beta^n_c), summing to K."""
    w = (1 - beta) / (1 - torch.pow(torch.tensor(beta, dtype=torch.float64), counts.double()))
    return (w / w.sum() * len(counts)).float()


class ClassWeighted(CrossEntropy):
    name = "class-weight"

    def weights(self, step: int) -> torch.Tensor:
        return balanced_weights(self.counts)


class DeferredReweighting(CrossEntropy):
    name, defer = "drw", 0.8  # Cao et al.: epoch 160 of 200

    def weights(self, step: int) -> torch.Tensor | None:
        return effective_number_weights(self.counts) if step >= self.defer_step else None


class LDAMDeferredReweighting(DeferredReweighting):
    name, normed_head = "ldam-drw", True
    max_margin, scale = 0.5, 30.0

    def adjusted(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        margins = self.counts.pow(-0.25)
        margins = (margins * (self.max_margin / margins.max())).to(logits.device)
        return self.scale * (logits - F.one_hot(labels, len(self.counts)) * margins[labels, None])


class LogitAdjusted(CrossEntropy):
    name, tau = "logit-adjusted", 1.0

    def adjusted(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return logits + self.tau * torch.log(self.counts / self.counts.sum()).to(logits.device)


class BalancedSoftmax(CrossEntropy):
    name = "balanced-softmax"

    def adjusted(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return logits + torch.log(self.counts).to(logits.device)


CLASSIFIER_LOSSES = {cls.name: cls for cls in (CrossEntropy, ClassWeighted, DeferredReweighting,
                                               LDAMDeferredReweighting, LogitAdjusted, BalancedSoftmax)}


def classifier_loss(name: str, class_counts, total_steps: int) -> CrossEntropy:
    if name not in CLASSIFIER_LOSSES:
        raise ValueError(f"unknown classifier loss {name!r}; choose one of {', '.join(CLASSIFIER_LOSSES)}")
    return CLASSIFIER_LOSSES[name](class_counts, total_steps)
