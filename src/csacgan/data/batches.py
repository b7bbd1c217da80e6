"""Real training batches drawn by indexing one tensor that already lives on the device.

No DataLoader and no per-sample PIL work: the whole imbalanced training set is a
uint8 tensor, and a batch is ``images[idx]`` scaled to [-1, 1]. Which indices make
an epoch is a pure function of (seed, epoch), so a run resumed mid-epoch draws
exactly the batches the uninterrupted run would have drawn.
"""
from __future__ import annotations

import torch

SAMPLINGS = ("uniform", "class-balanced")
FAKE_LABELS = ("uniform", "class-prior")


def to_unit_range(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1], the generator's Tanh range."""
    return images_uint8.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255]."""
    return images.float().add(1.0).mul(127.5).round_().clamp_(0, 255).to(torch.uint8)


class RealBatches:
    """Batches of real images for the discriminator.

    Parameters
    ----------
    images : uint8 (N, C, H, W), labels : int64 (N,)
    sampling : "uniform" draws each image once per epoch, as the paper does;
        "class-balanced" draws a class uniformly for each slot, then an image of that
        class uniformly (with replacement), so every class is seen equally often.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, num_classes: int,
                 batch_size: int, sampling: str = "uniform", seed: int = 0, device="cpu"):
        if sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
        if len(images) < batch_size:
            raise ValueError(f"batch size {batch_size} is larger than the training set ({len(images)})")
        self.images = images.to(device)
        self.labels = labels.to(device)
        self.num_classes, self.batch_size = num_classes, batch_size
        self.sampling, self.seed, self.device = sampling, seed, device
        self.steps_per_epoch = len(images) // batch_size
        members = [torch.nonzero(labels == c).flatten() for c in range(num_classes)]
        self._members = [m.to(device) for m in members]
        self._cached_epoch, self._cached = None, None

    def _generator(self, epoch: int) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)

    def epoch_indices(self, epoch: int) -> torch.Tensor:
        """(steps_per_epoch, batch_size) indices drawn for ``epoch``."""
        if self._cached_epoch != epoch:
            g, n = self._generator(epoch), self.steps_per_epoch * self.batch_size
            if self.sampling == "uniform":
                idx = torch.randperm(len(self.labels), generator=g)[:n]
            else:
                present = [c for c in range(self.num_classes) if len(self._members[c])]
                cls = torch.tensor(present)[torch.randint(len(present), (n,), generator=g)]
                u = torch.rand(n, generator=g)
                idx = torch.empty(n, dtype=torch.long)
                for c in present:
                    sel = cls == c
                    pool = self._members[c].cpu()
                    idx[sel] = pool[(u[sel] * len(pool)).long().clamp_(max=len(pool) - 1)]
            self._cached_epoch = epoch
            self._cached = idx.view(self.steps_per_epoch, self.batch_size).to(self.device)
        return self._cached

    def batch(self, epoch: int, step: int, world=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch ``step`` of ``epoch``, or under torchrun ``world``'s share of it."""
        idx = self.epoch_indices(epoch)[step]
        if world is not None:
            idx = world.share(idx)
        return to_unit_range(self.images[idx]), self.labels[idx]


class GeneratedLabels:
    """The classes the generator is asked for during training.

    "class-prior" draws c ~ p_c, the training set's class distribution, as ACGAN
    (Odena et al. 2017) and the paper (section 3.2) do; "uniform" draws every class
    equally often. Under imbalance the choice decides who defines a rare class in D's
    class loss on generated images: with uniform labels at rho 20, D sees about twenty
    generated "zeros" for every real one (measured in docs/results/convergence.md).
    """

    def __init__(self, labels: torch.Tensor, num_classes: int, distribution: str = "uniform"):
        if distribution not in FAKE_LABELS:
            raise ValueError(f"fake_labels must be one of {FAKE_LABELS}, got {distribution!r}")
        self.num_classes, self.distribution = num_classes, distribution
        counts = torch.bincount(labels.cpu(), minlength=num_classes).double()
        self.probabilities = (counts / counts.sum() if distribution == "class-prior"
                              else torch.full((num_classes,), 1.0 / num_classes, dtype=torch.float64))

    def draw(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` class indices (int64, on the CPU)."""
        if self.distribution == "uniform":  # randint: the stream runs trained before this option used
            return torch.randint(self.num_classes, (n,), generator=generator)
        return torch.multinomial(self.probabilities, n, replacement=True, generator=generator)
