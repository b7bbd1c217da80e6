"""LeCam regularisation (Tseng, Jiang, Liu, Yang and Yang 2021, "Regularizing Generative
Adversarial Networks under Limited Data", eq. 3), made for GANs trained on little data:

    R = E_x[(D(x) - a_F)^2] + E_z[(D(G(z)) - a_R)^2]

a_R and a_F are exponential moving averages (decay 0.99) of the discriminator's mean
source logit on real and on generated images. Pulling each side towards the other's
anchor keeps D's predictions from drifting apart as it memorises a small real set.
"""
from __future__ import annotations

import torch

from ..distributed import SINGLE


class LeCam:
    def __init__(self, weight: float, decay: float = 0.99):
        if weight < 0 or not 0 <= decay < 1:
            raise ValueError(f"LeCam needs weight >= 0 and decay in [0, 1), got {weight}, {decay}")
        self.weight, self.decay = weight, decay
        self.anchor_real, self.anchor_fake = None, None   # a_R, a_F

    def __call__(self, real_logits: torch.Tensor, fake_logits: torch.Tensor, world=SINGLE) -> torch.Tensor:
        """The penalty; the anchors follow the means over ``world``'s global batch."""
        real_logits, fake_logits = real_logits.float(), fake_logits.float()
        with torch.no_grad():
            r, f = world.mean(torch.stack([real_logits.mean(), fake_logits.mean()])).cpu()
            if self.anchor_real is None:
                self.anchor_real, self.anchor_fake = r, f
            else:
                self.anchor_real = self.decay * self.anchor_real + (1 - self.decay) * r
                self.anchor_fake = self.decay * self.anchor_fake + (1 - self.decay) * f
        a_r, a_f = self.anchor_real.to(real_logits.device), self.anchor_fake.to(real_logits.device)
        return self.weight * ((real_logits - a_f).pow(2).mean() + (fake_logits - a_r).pow(2).mean())

    def state_dict(self) -> dict:
        return {"anchor_real": self.anchor_real, "anchor_fake": self.anchor_fake}

    def load_state_dict(self, state: dict) -> None:
        self.anchor_real, self.anchor_fake = state["anchor_real"], state["anchor_fake"]


def mode_seeking_loss(fake: torch.Tensor, z: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """The mode-seeking term of MSGAN (Mao, Lee, Tseng, Ma and Yang 2019, "Mode Seeking
    Generative Adversarial Networks for Diverse Image Synthesis", eq. 3), for G to minimise:
    1 / (mean |G(z1) - G(z2)| / mean |z1 - z2| + eps), over the pairs (0, 1), (2, 3), ... of
    the batch, which the training loop draws with the same class. Two noises that give one
    image cost G; two noises that give two colour schemes do not. No maintained library
    has it; it is these few lines."""
    n = fake.shape[0] // 2 * 2
    images = fake[:n].float().flatten(1)
    noise = z[:n].float()
    ratio = (images[0::2] - images[1::2]).abs().mean() / (noise[0::2] - noise[1::2]).abs().mean()
    return 1 / (ratio + eps)


def group_spectral_norm(generator, groups: int = 16) -> torch.Tensor:
    """Group spectral regularisation, gSR (Rangwani, Mopuri and Babu 2022, "Improving GANs
    for Long-Tailed Data through Group Spectral Regularization", eq. 4), for G to minimise:
    for every class-conditional BatchNorm and class y, the class's gain offset (gamma_y - 1)
    and bias beta_y, each of C values, are reshaped into ``groups`` x C/groups matrices,
    and their largest singular values are summed over classes and layers (averaged over
    classes here, so that the weight does not scale with K). The spectral collapse of the
    tail classes' conditional parameters that the paper finds goes with their mode
    collapse; torch.linalg.matrix_norm(ord=2) computes the exact largest singular value of
    these small matrices (the paper estimates it by power iteration)."""
    total = 0.0
    for gains, biases in generator.class_parameters():  # gains as offsets from 1
        for param in (gains, biases):
            k, c = param.shape
            g = groups if c % groups == 0 else 1
            total = total + torch.linalg.matrix_norm(param.float().reshape(k, g, c // g), ord=2).mean()
    return total
