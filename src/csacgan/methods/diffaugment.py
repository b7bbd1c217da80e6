"""Differentiable augmentation of every discriminator input, real and generated
(DiffAugment, Zhao et al. 2020), for classes with very few real images.

Augmenting only the real images would teach the generator to draw augmented
images; applying the same random, differentiable transforms to both sides lets the
discriminator see more varied minority images without that leak. Written here
because torchvision's transforms apply one random draw per call, not per sample,
and are not meant to be differentiated through.

Policies: ``translation`` shifts each image by up to 1/8 of its size, filling with
the background (-1); ``cutout`` blanks a random square of half the image size.
``probability`` p < 1 applies each transform to each image with probability p, as
adaptive discriminator augmentation does (methods/ada.py sets p during training).
"""
from __future__ import annotations

import torch

POLICIES = ("translation", "cutout")


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
    rows = (torch.arange(h, device=x.device).view(1, h, 1) + dy + 1).clamp(0, h + 1)
    cols = (torch.arange(w, device=x.device).view(1, 1, w) + dx + 1).clamp(0, w + 1)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), value=-1.0)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    return padded[batch, :, rows, cols].permute(0, 3, 1, 2)  # (n, h, w, c) -> (n, c, h, w)


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(-(ch // 2), h - ch // 2, (n, 1, 1), device=x.device)
    left = torch.randint(-(cw // 2), w - cw // 2, (n, 1, 1), device=x.device)
    r = torch.arange(h, device=x.device).view(1, h, 1)
    c = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (r >= top) & (r < top + ch) & (c >= left) & (c < left + cw)
    return torch.where(inside.unsqueeze(1), torch.full_like(x, -1.0), x)


class DiffAugment:
    def __init__(self, policy: str | list[str] | None = None, probability: float = 1.0):
        names = policy.split(",") if isinstance(policy, str) else list(policy or [])
        names = [p.strip() for p in names if p.strip()]
        unknown = [p for p in names if p not in POLICIES]
        if unknown:
            raise ValueError(f"unknown DiffAugment policy {unknown}; choose from {', '.join(POLICIES)}")
        self.policy, self.probability = names, probability

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        p = self.probability
        if p <= 0:
            return x
        for name in self.policy:
            y = translation(x) if name == "translation" else cutout(x)
            if p < 1:  # each image on its own draw
                chosen = torch.rand(len(x), 1, 1, 1, device=x.device) < p
                y = torch.where(chosen, y, x)
            x = y
        return x

    def __bool__(self) -> bool:
        return bool(self.policy)
