"""Generator and discriminator after the paper's Table 2 (section 3.4).

Generator: [100-d noise, 10-d one-hot class] (110-d) -> Linear -> 5 transposed
convolutions, 5x5, strides 2, 2, 1, 1, 1 -> 28x28, ReLU inside, Tanh last.
Discriminator: 28x28 input zero-padded to 32x32 -> 4 convolutions (5x5, 3x3, 5x5,
3x3), dropout 0.3, LeakyReLU(0.2) -> a source head (real/fake logit) and a class
head (K logits).

Choices the paper leaves open, all configurable:
- channel widths (the paper gives none): generator 128-64-32-32-16 after a Linear to
  128x7x7, discriminator 32-64-128-128;
- discriminator strides 2, 1, 2, 1 (32 -> 16 -> 16 -> 8 -> 8). Table 2 lists stride 1
  for every convolution, which keeps all four layers at 32x32 and costs about 9x the
  compute for a 32x larger linear head; ``d_strides=(1, 1, 1, 1)`` gives that literal
  reading. ACGAN's own discriminator (Odena et al. 2017), which the paper says it
  started from, alternates strides 2 and 1;
- BatchNorm in the generator (as in ACGAN and DCGAN), none in the discriminator.

Other shapes (users' data, ``network_arguments``), 1 or 3 channels, any class count:

| input       | generator: Linear to       | G strides       | D input | D strides  | D features |
|-------------|----------------------------|-----------------|---------|------------|------------|
| C x 28 x 28 | 128 x 7 x 7                | 2, 2, 1, 1, 1   | 32x32   | 2, 1, 2, 1 | 128 x 8 x 8 |
| C x 32 x 32 | 128 x 8 x 8                | 2, 2, 1, 1, 1   | 32x32   | 2, 1, 2, 1 | 128 x 8 x 8 |
| C x 64 x 64 | 128 x 8 x 8                | 2, 2, 2, 1, 1   | 64x64   | 2, 2, 2, 1 | 128 x 8 x 8 |

At 64 x 64 one stride-1 layer of each network becomes stride 2, so both work at the
same feature-map sizes as at 32 x 32 (rather than 4x the compute at full resolution).
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
    back; measured on the training step (2-core Xeon, bf16), those reorders were 16% of
    oneDNN's time and end-to-end channels_last was 1.14x faster (benchmarks/bench.py:
    2.63x against 2.31x the plain reference).
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

    On the CPU torch's generator (mt19937) yields one word at a time; the words come
    instead from numpy's SFC64 (Doty-Humphrey's Small Fast Chaotic generator, 64 bits per
    draw, expected period about 2^255 per numpy's documentation) seeded with one 63-bit
    draw of torch's generator through numpy's SeedSequence hash, so nearby seeds give
    unrelated streams: 1.6x faster at the dropout masks' sizes (0.73 against 1.18 ms for
    262144 words, 2-core Xeon; the masks' words were 12 ms of a ~160 ms training step).
    On other devices torch's own ``random_``, which is fast there.
    """
    if device.type != "cpu":
        return torch.empty(n, dtype=torch.int64, device=device).random_()
    seed = torch.empty((), dtype=torch.int64).random_().item()
    return torch.from_numpy(np.random.SFC64(seed).random_raw(n).view(np.int64))


class Dropout(nn.Module):
    """Inverted dropout whose mask comes from random 16-bit integers.

    Same scaling as ``nn.Dropout``; the drop probability is rounded to a multiple of
    2^-16 (0.3 becomes 0.300003); under bf16 autocast the mask, scale included, is bf16
    (1/0.7 becomes 1.4297, 0.08% high, below bf16's own rounding), built from the
    scale's bit pattern. Written by hand because on the CPU the usual ways are
    slow (profiled on the training step): ``bernoulli_`` took 36% of a whole step,
    ``torch.rand`` 17%, and any boolean mask (``masked_fill``, ``where``, bool to float)
    runs 5-10x slower than arithmetic on the same number of elements. So: each random
    64-bit integer gives four signed 16-bit draws (its 16-bit chunks; ``random_`` on
    int64 for a quarter of the units is about 5x faster than on int16 for all of them;
    on the CPU the words come from numpy's SFC64, see :func:`random_words`), and the
    0/1 mask is made with integer arithmetic, not comparisons: a draw d is kept when
    d >= T, and clamp(d, T - 1, T) - (T - 1) is that 0/1 (two passes over the int16
    draws; the 15-bit draws used before needed a third, masking off the top bit).

    In the discriminator's training passes in bf16 on the CPU, LeakyReLU and this dropout
    run as one fused operation instead (:mod:`csacgan.nets.fused`, same mask rule and
    scale, its own random numbers); this module is the path everywhere else.
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
        self.random_words = random_words  # (n, device) -> int64 words; benchmarks swap in torch's

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
        words = self.random_words((n + 3) // 4, x.device)
        # the mask takes x's strides, so a channels_last x stays channels_last (a mask
        # in the other layout made the multiply, and oneDNN's next layer, reorder)
        draws = words.view(torch.int16)[:n].as_strided(x.shape, x.stride())  # uniform in [-2^15, 2^15)
        keep = draws.clamp_(self.threshold - 1, self.threshold).sub_(self.threshold - 1)  # 1 where draw >= T, else 0
        bits = self.scale_bits.get(x.dtype)
        if bits is not None:
            # 0/1 times the 16 bits of the scale, read as x's dtype: 0.0 or the scale, with
            # no conversion pass (int16 -> bf16 conversion and scaling of a channels_last
            # 128x64x16x16 mask took 5.2 ms against 1.2 ms this way, the same mask)
            return x * keep.mul_(bits).view(x.dtype)
        return x * keep.to(x.dtype).mul_(self.scale)


class _FlattenKeepLayout(torch.autograd.Function):
    """x.flatten(1) in NCHW feature order whatever x's layout, whose gradient comes back
    in x's layout. Autograd's own flatten of a channels_last x returns an NCHW gradient,
    and every elementwise backward op that then meets it with a channels_last operand
    (the dropout mask, LeakyReLU's saved output) takes a strided slow path: measured on
    the discriminator's last layer, leaky_relu_backward with mixed layouts ran 18x
    slower than with matching ones (5.1 against 0.27 ms, 128x128x8x8 bf16)."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        ctx.channels_last = x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(
            memory_format=torch.channels_last)
        return x.reshape(len(x), -1)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.reshape(ctx.shape)
        return grad.contiguous(memory_format=torch.channels_last) if ctx.channels_last else grad


class Flatten(nn.Module):
    """``nn.Flatten()`` (same features, same order) with the gradient in the input's layout."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _FlattenKeepLayout.apply(x)


class Generator(nn.Module):
    def __init__(self, num_classes: int = 10, latent_dim: int = 100, out_channels: int = 1,
                 image_size: int = 28, channels=(128, 64, 32, 32, 16), batch_norm: bool = True,
                 conditional: bool = True, strides=(2, 2, 1, 1, 1)):
        super().__init__()
        upscale = 1
        for s in strides:
            upscale *= s
        if image_size % upscale or len(strides) != 5 or any(s not in (1, 2) for s in strides):
            raise ValueError(f"image_size {image_size} with generator strides {list(strides)}: need 5 "
                             f"strides of 1 or 2 whose product divides the image size")
        self.config = dict(num_classes=num_classes, latent_dim=latent_dim, out_channels=out_channels,
                           image_size=image_size, channels=list(channels), batch_norm=batch_norm,
                           conditional=conditional, strides=list(strides))
        self.num_classes, self.latent_dim, self.conditional = num_classes, latent_dim, conditional
        c = list(channels)
        self.start = image_size // upscale
        # conditional=False is BAGAN's decoder: the class enters only through the latent.
        self.fc = nn.Linear(latent_dim + (num_classes if conditional else 0), c[0] * self.start ** 2)
        self.fc_norm = nn.BatchNorm1d(c[0] * self.start ** 2) if batch_norm else nn.Identity()
        layers = []
        widths = c + [out_channels]
        for i, stride in enumerate(strides):
            last = i == len(strides) - 1
            layers.append(nn.ConvTranspose2d(widths[i], widths[i + 1], 5, stride, padding=2,
                                             output_padding=stride - 1, bias=last or not batch_norm))
            if not last:
                if batch_norm:
                    layers.append(nn.BatchNorm2d(widths[i + 1]))
                layers.append(nn.ReLU(inplace=True))
        self.body = nn.Sequential(*layers)
        self.memory_format = torch.contiguous_format  # see set_channels_last

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.conditional:
            z = torch.cat([z, F.one_hot(labels, self.num_classes).to(z.dtype)], dim=1)
        h = F.relu(self.fc_norm(self.fc(z)))
        h = h.view(len(z), -1, self.start, self.start).contiguous(memory_format=self.memory_format)
        return torch.tanh(self.body(h))


class Discriminator(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 1, image_size: int = 28,
                 channels=(32, 64, 128, 128), strides=(2, 1, 2, 1), dropout: float = 0.3,
                 pad_to: int = 32, spectral_norm: bool = False):
        super().__init__()
        self.config = dict(num_classes=num_classes, in_channels=in_channels, image_size=image_size,
                           channels=list(channels), strides=list(strides), dropout=dropout, pad_to=pad_to,
                           spectral_norm=spectral_norm)
        self.pad = max(0, pad_to - image_size)
        kernels = (5, 3, 5, 3)
        layers, width, size = [], in_channels, image_size + self.pad
        for k, s, out in zip(kernels, strides, channels):
            layers += [nn.Conv2d(width, out, k, s, padding=k // 2), nn.LeakyReLU(0.2, inplace=True),
                       Dropout(dropout)]
            width, size = out, (size + 2 * (k // 2) - k) // s + 1
        self.body = nn.Sequential(*layers)
        self.feature_dim = width * size * size
        self.source_head = nn.Linear(self.feature_dim, 1)
        self.class_head = nn.Linear(self.feature_dim, num_classes)
        self.memory_format = torch.contiguous_format  # see set_channels_last
        self.fused_activation = True  # LeakyReLU + dropout as one operation where it applies (nets/fused.py)
        if spectral_norm:  # every layer's weight divided by its largest singular value (Miyato et al. 2018)
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.utils.parametrizations.spectral_norm(m)

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        """The last convolution's output, (N, C, H, W) in the networks' memory format."""
        if self.pad:
            lo = self.pad // 2
            x = F.pad(x, (lo, self.pad - lo, lo, self.pad - lo), value=-1.0)  # -1 is black in [-1, 1]
        h = x.contiguous(memory_format=self.memory_format)
        layers = list(self.body)
        for conv, act, drop in zip(layers[0::3], layers[1::3], layers[2::3]):  # built as such triples
            h = conv(h)
            if self.fused_activation and fused.usable(h, drop):
                h = fused.leaky_relu_dropout(h, act.negative_slope, drop)
            else:
                h = drop(act(h))
        return h

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Flattened features, (N, C*H*W) in NCHW order whatever the layout."""
        return _FlattenKeepLayout.apply(self.feature_maps(x))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (source logit (N,), class logits (N, K))."""
        weight = torch.cat([self.source_head.weight, self.class_head.weight])
        bias = torch.cat([self.source_head.bias, self.class_head.bias])
        out = linear_on_maps(self.feature_maps(x), weight, bias)
        return out[:, 0], out[:, 1:]


def linear_on_maps(maps: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.linear(maps.flatten(1), weight, bias)``, the features read in NCHW order, without
    copying channels_last maps: there the maps are flattened in their memory order (a
    view) and the weight's columns are permuted to match (a copy of the weight, 11 x 8192,
    instead of the maps, 128 x 8192, forward and backward). Measured on the training
    step: the flatten's two copies of the maps cost about 2 ms of ~170 (2-core Xeon, bf16).
    Callers concatenate heads that read the same maps into one weight: one matrix
    product instead of one per head."""
    n, c, h, w = maps.shape
    if maps.is_contiguous() or not maps.is_contiguous(memory_format=torch.channels_last):
        return F.linear(maps.reshape(n, -1), weight, bias)
    weight = weight.view(-1, c, h, w).permute(0, 2, 3, 1).reshape(len(weight), -1)
    return F.linear(maps.permute(0, 2, 3, 1).reshape(n, -1), weight, bias)


def network_arguments(num_classes: int, image_shape, g_channels=None, d_channels=None,
                      d_strides=None, latent_dim: int = 100, g_batch_norm: bool = True,
                      d_spectral_norm: bool = False):
    """Constructor arguments of the generator and discriminator for this data shape."""
    c, h, w = image_shape
    if h != w or h not in (28, 32, 64):
        raise ValueError(f"images must be 28x28, 32x32 or 64x64, got {h}x{w}")
    g_kwargs = dict(num_classes=num_classes, latent_dim=latent_dim, out_channels=c, image_size=h,
                    batch_norm=g_batch_norm)
    d_kwargs = dict(num_classes=num_classes, in_channels=c, image_size=h, pad_to=32 if h == 28 else h,
                    spectral_norm=d_spectral_norm)
    if h == 64:  # see the table in the module docstring
        g_kwargs["strides"], d_kwargs["strides"] = (2, 2, 2, 1, 1), (2, 2, 2, 1)
    if g_channels:
        g_kwargs["channels"] = tuple(g_channels)
    if d_channels:
        d_kwargs["channels"] = tuple(d_channels)
    if d_strides:
        d_kwargs["strides"] = tuple(d_strides)
    return g_kwargs, d_kwargs


def build_networks(*args, **kwargs):
    g_kwargs, d_kwargs = network_arguments(*args, **kwargs)
    return Generator(**g_kwargs), Discriminator(**d_kwargs)
