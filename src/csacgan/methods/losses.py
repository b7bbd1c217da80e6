"""Adversarial losses L_s, each a small object with the discriminator's and the
generator's side, written as losses to minimise on the source head's logits.

* ``bce``: the paper's (ACGAN's) binary cross-entropy, non-saturating for the generator;
* ``hinge``: Lim and Ye (2017);
* ``wgan-gp``: the Wasserstein loss with gradient penalty (Gulrajani et al. 2017,
  lambda 10, on random interpolates of real and generated images).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


class NonSaturatingBCE:
    name = "bce"

    def discriminator(self, real_logits, fake_logits, discriminator=None, real=None, fake=None):
        real_logits, fake_logits = real_logits.float(), fake_logits.float()
        return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))

    def generator(self, fake_logits):
        fake_logits = fake_logits.float()
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


class Hinge:
    name = "hinge"

    def discriminator(self, real_logits, fake_logits, discriminator=None, real=None, fake=None):
        return F.relu(1.0 - real_logits.float()).mean() + F.relu(1.0 + fake_logits.float()).mean()

    def generator(self, fake_logits):
        return -fake_logits.float().mean()


def gradient_penalty(discriminator, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's (||grad_x D_source(x)||_2 - 1)^2 at random interpolates (Gulrajani et al. eq. 3)."""
    alpha = torch.rand(len(real), 1, 1, 1, device=real.device)
    mixed = (alpha * real.float() + (1 - alpha) * fake.float()).requires_grad_(True)
    source, _ = discriminator(mixed)
    grad, = torch.autograd.grad(source.float().sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


class WassersteinGP:
    name = "wgan-gp"

    def __init__(self, penalty_weight: float = 10.0):
        self.penalty_weight = penalty_weight

    def discriminator(self, real_logits, fake_logits, discriminator=None, real=None, fake=None):
        loss = -real_logits.float().mean() + fake_logits.float().mean()
        return loss + self.penalty_weight * gradient_penalty(discriminator, real, fake)

    def generator(self, fake_logits):
        return -fake_logits.float().mean()


ADVERSARIAL_LOSSES = {"bce": NonSaturatingBCE, "hinge": Hinge, "wgan-gp": WassersteinGP}


def adversarial_loss(name: str):
    if name not in ADVERSARIAL_LOSSES:
        raise ValueError(f"unknown adversarial loss {name!r}; choose one of {', '.join(ADVERSARIAL_LOSSES)}")
    return ADVERSARIAL_LOSSES[name]()
