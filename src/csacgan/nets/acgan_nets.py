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

So D judges every image on its own and cannot see that a batch of fakes shares one
colour scheme; ``minibatch_std`` (ProGAN's minibatch standard deviation) gives it that
view, one extra feature map before its last convolution.

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

import re

import torch
from torch import nn
import torch.nn.functional as F

from .fast_layers import LeakyReLUDropout, TwoHeads
from .heads import DiscriminatorHeads, head_outputs, plain_heads


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
        self.memory_format = torch.contiguous_format  # see fast_layers.set_channels_last

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.conditional:
            z = torch.cat([z, F.one_hot(labels, self.num_classes).to(z.dtype)], dim=1)
        h = F.relu(self.fc_norm(self.fc(z)))
        h = h.view(len(z), -1, self.start, self.start).contiguous(memory_format=self.memory_format)
        return torch.tanh(self.body(h))


class MinibatchStd(nn.Module):
    """ProGAN's minibatch standard deviation (Karras et al. 2018, section 3): one more
    feature map, constant over each image, holding the standard deviation of every
    feature over a group of ``group_size`` images, averaged. Images that all look alike
    (one palette for a whole batch) then give D a value real batches never do.

    Groups are contiguous runs of images that never straddle the two halves of the
    [real; fake] batch D is given (their size divides half the batch; a group of 1 gives
    a constant). Torch and torchvision have no such layer, hence these lines."""

    def __init__(self, group_size: int = 4):
        super().__init__()
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        half = n // 2 if n % 2 == 0 else n
        g = max(d for d in range(1, min(self.group_size, half) + 1) if half % d == 0)
        groups = x.float().reshape(n // g, g, *x.shape[1:])
        std = groups.var(dim=1, unbiased=False).add(1e-8).sqrt().mean(dim=(1, 2, 3))
        feature = std.repeat_interleave(g).to(x.dtype).view(n, 1, 1, 1).expand(n, 1, h, w)
        return torch.cat([x, feature], dim=1)


class Discriminator(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 1, image_size: int = 28,
                 channels=(32, 64, 128, 128), strides=(2, 1, 2, 1), dropout: float = 0.3,
                 pad_to: int = 32, spectral_norm: bool = False, minibatch_std: int = 0,
                 class_head: str = "linear", projection: bool = False):
        super().__init__()
        self.config = dict(num_classes=num_classes, in_channels=in_channels, image_size=image_size,
                           channels=list(channels), strides=list(strides), dropout=dropout, pad_to=pad_to,
                           spectral_norm=spectral_norm)
        if minibatch_std:  # only when asked, so that older cache keys (BAGAN's autoencoder) stay the same
            self.config["minibatch_std"] = minibatch_std
        if class_head != "linear":  # so are the heads beyond ACGAN's (nets/heads.py)
            self.config["class_head"] = class_head
        if projection:
            self.config["projection"] = projection
        self.class_head, self.projection = class_head, projection
        self.pad = max(0, pad_to - image_size)
        kernels = (5, 3, 5, 3)
        layers, width, size = [], in_channels, image_size + self.pad
        for i, (k, s, out) in enumerate(zip(kernels, strides, channels)):
            if minibatch_std and i == len(kernels) - 1:
                layers.append(MinibatchStd(minibatch_std))
                width += 1
            layers += [nn.Conv2d(width, out, k, s, padding=k // 2), LeakyReLUDropout(0.2, dropout)]
            width, size = out, (size + 2 * (k // 2) - k) // s + 1
        self.body = nn.Sequential(*layers)
        self.feature_dim = width * size * size
        self.heads = self.build_heads(self.feature_dim, num_classes)
        self.memory_format = torch.contiguous_format  # see fast_layers.set_channels_last
        if spectral_norm:  # every layer's weight divided by its largest singular value (Miyato et al. 2018)
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.utils.parametrizations.spectral_norm(m)
        self.register_load_state_dict_pre_hook(_rename_old_keys)

    def build_heads(self, in_features: int, num_classes: int) -> nn.Module:
        return plain_heads(in_features, num_classes, self.class_head, self.projection)

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        """The last convolution's output, (N, C, H, W) in the networks' memory format."""
        if self.pad:
            lo = self.pad // 2
            x = F.pad(x, (lo, self.pad - lo, lo, self.pad - lo), value=-1.0)  # -1 is black in [-1, 1]
        return self.body(x.contiguous(memory_format=self.memory_format))

    def outputs(self, x: torch.Tensor, labels: torch.Tensor | None = None):
        """Every head's output (nets/heads.py's DiscriminatorOutput); ``labels`` for the projection term."""
        return head_outputs(self.heads, self.feature_maps(x), labels)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (source logit (N,), class logits (N, K))."""
        if isinstance(self.heads, DiscriminatorHeads):
            out = self.outputs(x, labels)
            return out.source, out.classes
        return self.heads(self.feature_maps(x))  # TwoHeads; BAGAN's encoder: its code


# Checkpoints written before the activation and the heads became modules of their own:
# body held (conv, LeakyReLU, Dropout) triples and the heads were source_head / class_head.
_OLD_HEADS = {"source_head.": "heads.source.", "class_head.": "heads.classes."}


def _rename_old_keys(module, state_dict, prefix, *_):
    heads = _OLD_HEADS if isinstance(module.heads, TwoHeads) else {"class_head.": "heads."}  # the encoder's one head
    if not any(k.startswith(prefix + old) for k in state_dict for old in heads):
        return
    for key in list(state_dict):
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix):]
        new = re.sub(r"^body\.(\d+)\.", lambda m: f"body.{int(m[1]) // 3 * 2}.", rest)
        for old, renamed in heads.items():
            if new.startswith(old):
                new = renamed + new[len(old):]
        state_dict[prefix + new] = state_dict.pop(key)


def network_arguments(num_classes: int, image_shape, g_channels=None, d_channels=None,
                      d_strides=None, latent_dim: int = 100, g_batch_norm: bool = True,
                      d_spectral_norm: bool = False, d_dropout: float = 0.3, d_minibatch_std: int = 0):
    """Constructor arguments of the generator and discriminator for this data shape."""
    c, h, w = image_shape
    if h != w or h not in (28, 32, 64):
        raise ValueError(f"images must be 28x28, 32x32 or 64x64, got {h}x{w}")
    g_kwargs = dict(num_classes=num_classes, latent_dim=latent_dim, out_channels=c, image_size=h,
                    batch_norm=g_batch_norm)
    d_kwargs = dict(num_classes=num_classes, in_channels=c, image_size=h, pad_to=32 if h == 28 else h,
                    spectral_norm=d_spectral_norm, dropout=d_dropout, minibatch_std=d_minibatch_std)
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
