"""The class loss L_c of the ACGAN family, each a small object with the discriminator's
and the generator's side. Every one is a per-sample loss multiplied by a per-sample
weight (1 for ACGAN, K w_c for CostSensitive-ACGAN) and averaged, so the costs weigh
whichever class loss is in use, and uniform costs leave it unchanged.

* ``ce``: ACGAN's cross-entropy of the auxiliary classifier (the paper's eq. 2).
* ``tac``: TAC-GAN's twin auxiliary classifier (Gong et al., NeurIPS 2019). The
  auxiliary classifier rewards generated images that are easy to classify, which pulls
  each class towards the middle of its mode; a twin classifier, trained by D on
  generated images only, estimates how much class information G's images carry, and G
  is penalised by it: G's class loss is CE(classifier(fake)) - CE(twin(fake)), so G
  minimises the real-data classifier's cross-entropy while it maximises the twin's, and
  the class-conditional distribution of G's images is matched, not only its modes.
* ``d2d-ce``: ReACGAN's data-to-data cross-entropy (Kang et al., NeurIPS 2021, eq. 7):
  on unit-norm embeddings f and class proxies v, -log(exp(-a_i) / (exp(-a_i) +
  sum_{j: y_j != y_i} exp(b_ij))) with a_i = [m_p - f_i.v_{y_i}]_+ / T and b_ij =
  [f_i.f_j - m_n]_+ / T: images are pulled to their class proxy and pushed from images of
  other classes, and the margins stop easy samples from dominating the gradient.
  T = 0.5, m_p = 0.98, m_n = 0.02 (ReACGAN's CIFAR-10 setting).

What D needs beyond ACGAN's heads is named by ``head`` (nets/heads.py).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def weighted_mean(per_sample: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return (per_sample * weights).mean()


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.float(), labels, reduction="none")


class CrossEntropy:
    """ACGAN's L_c."""

    name, head = "ce", "linear"

    def discriminator(self, real, real_labels, real_weights, fake, fake_labels, fake_weights, fake_in_d: bool):
        loss = weighted_mean(cross_entropy(real.classes, real_labels), real_weights)
        if fake_in_d:
            loss = loss + weighted_mean(cross_entropy(fake.classes, fake_labels), fake_weights)
        return loss

    def generator(self, fake, fake_labels, fake_weights):
        return weighted_mean(cross_entropy(fake.classes, fake_labels), fake_weights)


class TwinClassifier(CrossEntropy):
    """TAC-GAN's L_c: D also trains the twin on generated images; G's term is the
    classifier's cross-entropy minus the twin's."""

    name, head = "tac", "twin"

    def discriminator(self, real, real_labels, real_weights, fake, fake_labels, fake_weights, fake_in_d: bool):
        loss = super().discriminator(real, real_labels, real_weights, fake, fake_labels, fake_weights, fake_in_d)
        return loss + weighted_mean(cross_entropy(fake.twin, fake_labels), fake_weights)

    def generator(self, fake, fake_labels, fake_weights):
        return weighted_mean(cross_entropy(fake.classes, fake_labels) - cross_entropy(fake.twin, fake_labels),
                             fake_weights)


def data_to_data_cross_entropy(embedding: torch.Tensor, proxies: torch.Tensor, labels: torch.Tensor,
                               temperature: float = 0.5, m_p: float = 0.98, m_n: float = 0.02) -> torch.Tensor:
    """Per-sample D2D-CE (Kang et al. 2021, eq. 7) of unit-norm ``embedding`` (N, d) and
    ``proxies`` (K, d); negatives are the other images of the batch with another label."""
    positive = F.relu(m_p - (embedding * proxies[labels]).sum(1)) / temperature
    negative = F.relu(embedding @ embedding.T - m_n) / temperature
    others = labels[:, None] != labels[None, :]  # never the image itself, nor one of its class
    negative = negative.masked_fill(~others, float("-inf"))
    return torch.logsumexp(torch.cat([-positive[:, None], negative], dim=1), dim=1) + positive


class DataToDataCrossEntropy:
    """ReACGAN's L_c on D's embeddings and class proxies."""

    name, head = "d2d-ce", "d2d"

    def __init__(self, temperature: float = 0.5, m_p: float = 0.98, m_n: float = 0.02):
        self.temperature, self.m_p, self.m_n = temperature, m_p, m_n

    def per_sample(self, out, labels):
        return data_to_data_cross_entropy(out.embedding, out.proxies, labels, self.temperature, self.m_p, self.m_n)

    def discriminator(self, real, real_labels, real_weights, fake, fake_labels, fake_weights, fake_in_d: bool):
        loss = weighted_mean(self.per_sample(real, real_labels), real_weights)
        if fake_in_d:
            loss = loss + weighted_mean(self.per_sample(fake, fake_labels), fake_weights)
        return loss

    def generator(self, fake, fake_labels, fake_weights):
        return weighted_mean(self.per_sample(fake, fake_labels), fake_weights)


CLASS_LOSSES = {"ce": CrossEntropy, "tac": TwinClassifier, "d2d-ce": DataToDataCrossEntropy}


def class_loss(name: str):
    if name not in CLASS_LOSSES:
        raise ValueError(f"unknown class loss {name!r}; choose one of {', '.join(CLASS_LOSSES)}")
    return CLASS_LOSSES[name]()
