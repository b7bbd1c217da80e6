"""The networks' layers written for speed on the CPU, behind the small modules the
networks are built from, so that acgan_nets.py reads like the paper's Table 2.

* :class:`LeakyReLUDropout`: LeakyReLU then dropout; the fused C++ loop
  (:mod:`csacgan.nets.fused`) where it applies, :class:`Dropout` after LeakyReLU elsewhere;
* :class:`Dropout`: inverted dropout with masks from random 16-bit integers;
* :class:`LinearOnMaps` and :class:`TwoHeads`: linear heads that read convolutional maps
  in NCHW feature order without copying channels_last maps;
* :func:`set_channels_last`: weights and activations in NHWC.

Every choice below was measured on the training step (2-core Xeon, bf16, batch 64,
``benchmarks/bench.py``, which puts each one back for its ablation rows).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from . import fused


def set_channels_last(module: nn.Module, on: bool = True) -> nn.Module:
    """Weights and activations of ``module`` (a generator, discriminator or encoder from
    this package) in channels_last (NHWC) or the default (NCHW) layout.

    With NCHW tensors oneDNN reorders every convolution's input and output to NHWC and
    back; end to end, channels_last made the bf16 training step 1.14x faster.
    """
    fmt = torch.channels_last if on else torch.contiguous_format
    module.to(memory_format=fmt)
    for m in module.modules():
        if hasattr(m, "memory_format"):
            m.memory_format = fmt
    return module


def random_words(n: int, device: torch.device) -> torch.Tensor:
    """``n`` random int64 words whose low 63 bits are fair coins, seeded from torch's
    default generator of ``device``, so seeding, checkpoints and resumed runs see the
    same words.

    On the CPU torch's generator (mt19937) yields one word at a time, so the words come
    from numpy's SFC64 (64 bits per draw, expected period about 2^255) seeded with one
    63-bit draw of torch's generator through numpy's SeedSequence hash, so nearby seeds
    give unrelated streams: 1.6x faster at the masks' sizes. Elsewhere torch's ``random_``.
    """
    if device.type != "cpu":
        return torch.empty(n, dtype=torch.int64, device=device).random_()
    seed = torch.empty((), dtype=torch.int64).random_().item()
    return torch.from_numpy(np.random.SFC64(seed).random_raw(n).view(np.int64))


class Dropout(nn.Module):
    """Inverted dropout whose mask comes from random 16-bit integers.

    Same scaling as ``nn.Dropout``; the drop probability is rounded to a multiple of
    2^-16 (0.3 becomes 0.300003); under bf16 autocast the mask, scale included, is bf16
    (1/0.7 becomes 1.4297, 0.08% high, below bf16's own rounding). Written by hand
    because the usual ways are slow on the CPU: ``bernoulli_`` took 36% of a training
    step, and boolean masks run 5-10x slower than arithmetic on the same elements. So
    each random 64-bit word gives four signed 16-bit draws, a draw d is kept when d >= T,
    and clamp(d, T - 1, T) - (T - 1) is that 0/1, made with integer arithmetic.
    """

    def __init__(self, p: float):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.drops = min(round(p * 65536), 65535)  # of the 65536 values a draw takes
        self.threshold = self.drops - 32768          # T: signed draws >= T are kept
        self.scale = 1.0 / (1.0 - p)
        self.scale_bits = {dtype: torch.tensor(self.scale, dtype=dtype).view(torch.int16).item()
                           for dtype in (torch.bfloat16, torch.float16)}  # the scale's 16 bits per 16-bit dtype
        self.bf16_scale = torch.tensor(self.scale, dtype=torch.bfloat16).item()  # the scale a bf16 mask holds

    def draws_masks(self) -> bool:
        """Whether ``forward`` draws a mask now (training, p > 0, not being compiled)."""
        return self.training and self.drops > 0 and not torch.compiler.is_compiling()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.drops == 0:
            return x
        if torch.compiler.is_compiling():  # inductor draws its own random numbers inside fused kernels
            return F.dropout(x, self.p, training=True)
        n = x.numel()
        if not fused.dense(x):
            x = x.contiguous()
        words = random_words((n + 3) // 4, x.device)
        # the mask takes x's strides, so a channels_last x stays channels_last
        draws = words.view(torch.int16)[:n].as_strided(x.shape, x.stride())  # uniform in [-2^15, 2^15)
        keep = draws.clamp_(self.threshold - 1, self.threshold).sub_(self.threshold - 1)  # 1 where draw >= T, else 0
        bits = self.scale_bits.get(x.dtype)
        if bits is not None:
            # 0/1 times the 16 bits of the scale, read as x's dtype: 0.0 or the scale with
            # no conversion pass (4x faster than converting and scaling the mask)
            return x * keep.mul_(bits).view(x.dtype)
        return x * keep.to(x.dtype).mul_(self.scale)


class LeakyReLUDropout(nn.Module):
    """``Dropout(p)(F.leaky_relu(x, negative_slope))``: the discriminator's activation.

    In bf16 training on the CPU both run as one fused loop (nets/fused.py: the same values
    and gradients for the same mask, its own random numbers; the training step 1.18x
    faster); on other devices, in fp32, in evaluation mode or without the kernel, as the
    two operations."""

    def __init__(self, negative_slope: float, p: float):
        super().__init__()
        self.negative_slope = negative_slope
        self.dropout = Dropout(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if fused.usable(x, self.dropout):
            return fused.leaky_relu_dropout(x, self.negative_slope, self.dropout)
        return self.dropout(F.leaky_relu(x, self.negative_slope, inplace=True))


def linear_on_maps(maps: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.linear(maps.flatten(1), weight, bias)``, the features read in NCHW order, without
    copying channels_last maps: there the maps are flattened in their memory order (a
    view) and the weight's columns are permuted to match (a copy of the 11 x 8192 weight
    instead of the 128 x 8192 maps, forward and backward)."""
    if maps.dim() == 2:  # pooled features
        return F.linear(maps, weight, bias)
    n, c, h, w = maps.shape
    if maps.is_contiguous() or not maps.is_contiguous(memory_format=torch.channels_last):
        return F.linear(maps.reshape(n, -1), weight, bias)
    weight = weight.view(-1, c, h, w).permute(0, 2, 3, 1).reshape(len(weight), -1)
    return F.linear(maps.permute(0, 2, 3, 1).reshape(n, -1), weight, bias)


class LinearOnMaps(nn.Linear):
    """``nn.Linear`` on (N, C, H, W) maps flattened in NCHW order, in either layout."""

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        return linear_on_maps(maps, self.weight, self.bias)


class TwoHeads(nn.Module):
    """The discriminator's source head (one real/fake logit) and class head (K logits) on
    the same maps, run as one matrix product of their concatenated weights."""

    def __init__(self, in_features: int, num_classes: int):
        super().__init__()
        self.source = LinearOnMaps(in_features, 1)
        self.classes = LinearOnMaps(in_features, num_classes)

    def forward(self, maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(source logit (N,), class logits (N, K))."""
        weight = torch.cat([self.source.weight, self.classes.weight])
        bias = torch.cat([self.source.bias, self.classes.bias])
        out = linear_on_maps(maps, weight, bias)
        return out[:, 0], out[:, 1:]
