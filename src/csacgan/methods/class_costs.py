"""The per-class costs w_c of CostSensitive-ACGAN (paper section 3.3, Algorithm 1).

w_c starts at 1/K. After every epoch the per-class classification error of the
updated discriminator's auxiliary classifier is measured, and w <- softmax(e / tau).
The paper uses tau = 1. Because errors lie in [0, 1], softmax(e) can make one class
at most e (about 2.72) times as costly as another; a smaller tau sharpens the
weights. ``momentum`` < 1 smooths them: w <- (1 - m) w_old + m softmax(e / tau);
m = 1 is the paper's rule.

The loss uses K * w_c per sample, so uniform costs (1/K each) multiply every
sample's cross-entropy by exactly 1 and reproduce ACGAN's losses bit for bit.
"""
from __future__ import annotations

import contextlib

import torch

from ..data.batches import to_unit_range
from ..distributed import SINGLE

ERROR_SOURCES = ("real", "fake", "both", "held-out", "classifier")


class ClassCosts:
    def __init__(self, num_classes: int, temperature: float = 1.0, momentum: float = 1.0):
        if temperature <= 0:
            raise ValueError(f"temperature (tau) must be > 0, got {temperature}")
        if not 0 < momentum <= 1:
            raise ValueError(f"momentum must be in (0, 1], got {momentum}")
        self.num_classes, self.temperature, self.momentum = num_classes, temperature, momentum
        self.costs = torch.full((num_classes,), 1.0 / num_classes)

    def sample_weights(self, labels: torch.Tensor) -> torch.Tensor:
        """K * w_c for each sample's class."""
        return (self.costs.to(labels.device) * self.num_classes)[labels]

    def update(self, errors: torch.Tensor) -> torch.Tensor:
        """Algorithm 1's last line: w <- softmax(errors / tau), optionally smoothed."""
        errors = torch.as_tensor(errors, dtype=torch.float32)
        if errors.shape != (self.num_classes,):
            raise ValueError(f"need one error per class ({self.num_classes}), got shape {tuple(errors.shape)}")
        target = torch.softmax(errors / self.temperature, dim=0)
        self.costs = (1 - self.momentum) * self.costs + self.momentum * target
        return self.costs

    def state_dict(self) -> dict:
        return {"costs": self.costs.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.costs = state["costs"].clone()


@torch.no_grad()
def real_class_errors(discriminator, images_uint8, labels, num_classes: int,
                      batch_size: int = 1024, autocast=None, world=SINGLE) -> torch.Tensor:
    """Fraction of each class's real images that the auxiliary classifier gets wrong
    (under torchrun each rank counts its share of the images; the counts are summed)."""
    autocast = autocast or contextlib.nullcontext
    images_uint8, labels = world.share(images_uint8), world.share(labels)
    wrong = torch.zeros(num_classes)
    total = torch.zeros(num_classes)
    for start in range(0, len(labels), batch_size):
        x = to_unit_range(images_uint8[start:start + batch_size])
        y = labels[start:start + batch_size]
        with autocast():
            _, logits = discriminator(x)
        miss = (logits.argmax(1) != y).float().cpu()
        wrong.index_add_(0, y.cpu(), miss)
        total.index_add_(0, y.cpu(), torch.ones_like(miss))
    return world.sum(wrong) / world.sum(total).clamp(min=1)


def _generated_class_errors(predict_classes, generator, num_classes: int, per_class: int, latent_dim: int,
                            device, noise_generator, autocast, world) -> torch.Tensor:
    """Fraction of ``per_class`` generated images of each class that ``predict_classes``
    (generated images in [-1, 1] -> classes) calls another class; under torchrun each rank
    generates its share of the same noise and the counts are summed."""
    autocast = autocast or contextlib.nullcontext
    wrong = torch.zeros(num_classes)
    for c in range(num_classes):
        z = world.share(torch.randn(per_class, latent_dim, generator=noise_generator)).to(device)
        y = torch.full((len(z),), c, dtype=torch.long, device=device)
        with autocast():
            predicted = predict_classes(generator(z, y))
        wrong[c] = (predicted.cpu() != c).float().sum()
    return world.sum(wrong) / per_class


@torch.no_grad()
def fake_class_errors(discriminator, generator, num_classes: int, per_class: int, latent_dim: int,
                      device, noise_generator: torch.Generator | None = None, autocast=None,
                      world=SINGLE) -> torch.Tensor:
    """Fraction of generated images of each class that the auxiliary classifier gets wrong."""
    return _generated_class_errors(lambda x: discriminator(x)[1].argmax(1), generator, num_classes, per_class,
                                   latent_dim, device, noise_generator, autocast, world)


@torch.no_grad()
def classifier_class_errors(classifier, generator, num_classes: int, per_class: int, latent_dim: int,
                            device, noise_generator: torch.Generator | None = None, autocast=None,
                            world=SINGLE) -> torch.Tensor:
    """Fraction of generated images of each class that a separate classifier (trained on
    the real training images only) calls another class."""
    from ..data.batches import to_uint8
    from ..fit import predict
    return _generated_class_errors(lambda x: predict(classifier, to_uint8(x).cpu()), generator, num_classes,
                                   per_class, latent_dim, device, noise_generator, autocast, world)
