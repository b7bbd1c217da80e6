"""BAGAN's networks (Mariani et al. 2018, section 3): an encoder with the
discriminator's body, and a generator that draws its latent from a class-conditional
multivariate normal fitted to the encoder's codes.

The generator keeps the per-class means and Cholesky factors as buffers, so
``generator(z, labels)`` with z ~ N(0, I) behaves like every other generator here:
sampling, snapshots, ``generate`` and ``evaluate`` need no BAGAN-specific code, and a
checkpoint rebuilds it from its saved constructor arguments.
"""
from __future__ import annotations

import torch
from torch import nn

from .acgan_nets import Discriminator, Generator
from .fast_layers import LinearOnMaps
from .resnet_nets import ResNetEncoder, ResNetGenerator

DECODERS = {"acgan": Generator, "resnet": ResNetGenerator}


class Encoder(Discriminator):
    """The discriminator's convolutional body followed by a linear map to the latent code."""

    def __init__(self, latent_dim: int = 100, **body):
        super().__init__(num_classes=latent_dim, **body)

    def build_heads(self, in_features: int, latent_dim: int) -> nn.Module:
        LinearOnMaps(in_features, 1)  # drawn and dropped: the same seed initialises the same encoder as ever
        return LinearOnMaps(in_features, latent_dim)


def encoder_for(discriminator, latent_dim: int):
    """BAGAN's encoder with ``discriminator``'s body (either network family)."""
    body = {k: v for k, v in discriminator.config.items() if k != "num_classes"}
    if body.get("kind") == "resnet":
        return ResNetEncoder(latent_dim=latent_dim, **body)
    body = {k: v for k, v in body.items() if k not in ("class_head", "projection")}
    return Encoder(latent_dim=latent_dim, **body)


class ClassConditionalGenerator(nn.Module):
    """decoder(mu_c + L_c z): BAGAN's class-conditional latent generator.

    ``decoder`` is an unconditional :class:`Generator`; ``class_means`` (K, d) and
    ``class_scale_tril`` (K, d, d), with L_c L_c^T = Sigma_c, are set by
    :meth:`set_class_latent` after the autoencoder stage.
    """

    kind = "bagan"

    def __init__(self, num_classes: int = 10, latent_dim: int = 100, decoder_kind: str = "acgan", **decoder):
        super().__init__()
        kind = decoder.pop("kind", None)  # network_arguments' kind of generator: the decoder's
        if kind not in (None, self.kind):
            decoder_kind = kind
        if decoder_kind not in DECODERS:
            raise ValueError(f"unknown BAGAN decoder {decoder_kind!r}; choose one of {', '.join(DECODERS)}")
        decoder = {k: v for k, v in decoder.items() if k != "conditional"}
        self.decoder = DECODERS[decoder_kind](num_classes=num_classes, latent_dim=latent_dim, conditional=False,
                                              **decoder)
        self.config = {**{k: v for k, v in self.decoder.config.items() if k != "kind"}, "kind": self.kind}
        if decoder_kind != "acgan":  # older checkpoints, without the key, rebuild as they were
            self.config["decoder_kind"] = decoder_kind
        self.num_classes, self.latent_dim = num_classes, latent_dim
        self.register_buffer("class_means", torch.zeros(num_classes, latent_dim))
        self.register_buffer("class_scale_tril", torch.eye(latent_dim).repeat(num_classes, 1, 1))

    def set_class_latent(self, means: torch.Tensor, scale_tril: torch.Tensor) -> None:
        self.class_means.copy_(means)
        self.class_scale_tril.copy_(scale_tril)

    def latent(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        z = z.float()
        return self.class_means[labels] + torch.bmm(self.class_scale_tril[labels], z.unsqueeze(-1)).squeeze(-1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.latent(z, labels), labels)


def class_conditional_latent(codes: torch.Tensor, labels: torch.Tensor, num_classes: int,
                             jitter: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """Per class, the mean and a Cholesky factor of the covariance of the codes.

    A minority class with fewer codes than latent dimensions (26 zeros, 100 dims at
    rho 190) has a singular sample covariance; ``jitter`` times the mean code variance
    is added to the diagonal so the factor exists. A class with a single code gets
    that jitter alone as its covariance. Raises if a class has no code at all.
    """
    codes = codes.float()
    d = codes.shape[1]
    means = torch.zeros(num_classes, d)
    trils = torch.zeros(num_classes, d, d)
    scale = codes.var(0).mean().clamp_min(1e-8) if len(codes) > 1 else torch.tensor(1.0)
    for c in range(num_classes):
        x = codes[labels == c]
        if len(x) == 0:
            raise ValueError(f"class {c} has no images, so BAGAN cannot fit its latent distribution")
        means[c] = x.mean(0)
        cov = torch.cov(x.T) if len(x) > 1 else torch.zeros(d, d)
        cov = cov + jitter * scale * torch.eye(d)
        trils[c] = torch.linalg.cholesky(cov.double()).float()
    return means, trils
