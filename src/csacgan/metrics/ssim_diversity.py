"""SSIM diversity: the paper's Table 4.

Mean SSIM (Wang et al. 2004) over random pairs of distinct images of one class;
lower means more varied. SSIM uses torchmetrics' defaults (11x11 Gaussian window,
sigma 1.5, data range 1). The same statistic on real test images of the class is
the reference: real digits are varied, but not noise.

MS-SSIM (Wang et al. 2003) needs images larger than (kernel - 1) * 2^(scales - 1):
at 28 x 28 we use a 3x3 window and the first three of the standard five scale
weights (0.0448, 0.2856, 0.3001, renormalised), i.e. scales 28, 14 and 7 pixels.
"""
from __future__ import annotations

import torch
from torchmetrics.functional.image import (multiscale_structural_similarity_index_measure,
                                           structural_similarity_index_measure)

from . import EvalContext, register

_BETAS = (0.0448, 0.2856, 0.3001)
MS_SSIM_BETAS = tuple(b / sum(_BETAS) for b in _BETAS)


def random_pairs(n: int, pairs: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of ``pairs`` random pairs (i, j) with i != j."""
    i = torch.randint(n, (pairs,), generator=generator)
    j = (i + torch.randint(1, n, (pairs,), generator=generator)) % n
    return i, j


def pair_similarity(images_uint8: torch.Tensor, pairs: int, seed: int) -> tuple[float, float]:
    """(mean SSIM, mean MS-SSIM) over random distinct pairs of the images."""
    if len(images_uint8) < 2:
        return float("nan"), float("nan")
    g = torch.Generator().manual_seed(seed)
    i, j = random_pairs(len(images_uint8), pairs, g)
    x = images_uint8.float() / 255
    ssim = structural_similarity_index_measure(x[i], x[j], data_range=1.0, reduction="none")
    ms = float("nan")
    if min(x.shape[-2:]) > 2 * (len(MS_SSIM_BETAS) ** 2 - 1):
        ms = multiscale_structural_similarity_index_measure(
            x[i], x[j], data_range=1.0, kernel_size=3, betas=MS_SSIM_BETAS, reduction="none").mean().item()
    return ssim.mean().item(), ms


@register("ssim_diversity")
def ssim_diversity(ctx: EvalContext, pairs: int = 1000) -> dict:
    out = {"per_class": {}, "real": {"per_class": {}}, "ms_ssim": {"per_class": {}},
           "ms_ssim_real": {"per_class": {}}, "pairs_per_class": pairs}
    for c in range(ctx.num_classes):
        fake = ctx.images[ctx.labels == c]
        real = ctx.data.test_images[ctx.data.test_labels == c]
        s, m = pair_similarity(fake, pairs, ctx.seed + c)
        rs, rm = ctx.shared(("ssim_real", c, pairs, ctx.seed), lambda: pair_similarity(real, pairs, ctx.seed + c))
        out["per_class"][str(c)], out["ms_ssim"]["per_class"][str(c)] = s, m
        out["real"]["per_class"][str(c)], out["ms_ssim_real"]["per_class"][str(c)] = rs, rm
    for block in (out, out["real"], out["ms_ssim"], out["ms_ssim_real"]):
        block["overall"] = sum(block["per_class"].values()) / ctx.num_classes
    return out
