"""The discriminator's heads on its features, shared by both network families.

Every discriminator here returns a source logit (real or fake) and K class logits, the
auxiliary classifier of ACGAN; ``DiscriminatorOutput`` also carries what the other class
losses (methods/class_losses.py) read:

* ``class_head="linear"``: K logits from a linear layer (ACGAN, the paper);
* ``class_head="twin"``: the same, plus TAC-GAN's twin classifier (Gong et al. 2019), a
  second linear layer of K logits that D trains on generated images only;
* ``class_head="d2d"``: ReACGAN's (Kang et al. 2021) normalised embedding of each image and
  one normalised proxy per class; the class logits are the cosine similarities to the
  proxies, so that argmax and CostSensitive-ACGAN's error counts still apply.

``projection=True`` adds the projection discriminator's term (Miyato and Koyama 2018) to
the source logit: the inner product of a class embedding of the image's label with its
features, for the labels D is given (none given: no term).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from .fast_layers import LinearOnMaps, TwoHeads

CLASS_HEADS = ("linear", "twin", "d2d")


@dataclass
class DiscriminatorOutput:
    source: torch.Tensor                  # (N,) real-or-fake logit
    classes: torch.Tensor                 # (N, K) class logits (d2d: cosine similarity to each proxy)
    twin: torch.Tensor | None = None      # (N, K) TAC-GAN's twin classifier on generated images
    embedding: torch.Tensor | None = None  # (N, d) d2d: unit-norm image embedding
    proxies: torch.Tensor | None = None   # (K, d) d2d: unit-norm class proxies


class DiscriminatorHeads(TwoHeads):
    """Source and class heads on features ((N, C, H, W) maps or (N, F) vectors)."""

    def __init__(self, in_features: int, num_classes: int, class_head: str = "linear",
                 projection: bool = False, embedding_dim: int = 256):
        if class_head not in CLASS_HEADS:
            raise ValueError(f"class_head must be one of {CLASS_HEADS}, got {class_head!r}")
        super().__init__(in_features, num_classes)
        self.class_head = class_head
        self.twin = LinearOnMaps(in_features, num_classes) if class_head == "twin" else None
        if class_head == "d2d":
            self.embedding = LinearOnMaps(in_features, embedding_dim)
            self.proxies = nn.Embedding(num_classes, embedding_dim)
        self.projection = nn.Embedding(num_classes, in_features) if projection else None

    def outputs(self, features: torch.Tensor, labels: torch.Tensor | None = None) -> DiscriminatorOutput:
        source, classes = super().forward(features)
        out = DiscriminatorOutput(source, classes)
        if self.twin is not None:
            out.twin = self.twin(features)
        if self.class_head == "d2d":
            out.embedding = F.normalize(self.embedding(features).float(), dim=1)
            out.proxies = F.normalize(self.proxies.weight.float(), dim=1)
            out.classes = out.embedding @ out.proxies.T
        if self.projection is not None and labels is not None:
            flat = features.flatten(1)  # NCHW order in either memory layout
            out.source = out.source + (flat * self.projection(labels).to(flat.dtype)).sum(1)
        return out


def plain_heads(in_features: int, num_classes: int, class_head: str = "linear", projection: bool = False):
    """TwoHeads where nothing beyond ACGAN's heads is asked (older checkpoints load as
    they were), DiscriminatorHeads otherwise."""
    if class_head == "linear" and not projection:
        return TwoHeads(in_features, num_classes)
    return DiscriminatorHeads(in_features, num_classes, class_head, projection)


def head_outputs(heads: nn.Module, features: torch.Tensor, labels=None) -> DiscriminatorOutput:
    if isinstance(heads, DiscriminatorHeads):
        return heads.outputs(features, labels)
    return DiscriminatorOutput(*heads(features))


__all__ = ["CLASS_HEADS", "DiscriminatorHeads", "DiscriminatorOutput", "head_outputs", "plain_heads"]
