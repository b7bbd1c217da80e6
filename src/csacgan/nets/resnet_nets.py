"""Residual networks for colour images (``--architecture resnet``), after the CIFAR
networks of SNGAN (Miyato et al. 2018, appendix B.4) and the projection discriminator
(Miyato and Koyama 2018), sized for CPU training.

Generator: noise -> Linear to W x s x s (s = 4 for 32 and 64, 7 for 28) -> residual up
blocks (BatchNorm, ReLU, nearest 2x upsampling, 3x3 convolution, twice; a 1x1 convolution
on the upsampled input as shortcut) until the image size -> BatchNorm, ReLU, 3x3
convolution to the image's channels, Tanh. With ``conditional=True`` every BatchNorm is
class-conditional (its gain and bias looked up per class: de Vries et al. 2017, as in
SNGAN's and BigGAN's conditional generators); ``conditional=False`` is BAGAN's decoder,
whose class enters only through the latent.

Discriminator: residual down blocks (ReLU, 3x3 convolution, twice, 2x2 average pooling;
the first block without the leading ReLU) down to 8x8, two more blocks at 8x8, ReLU,
sum over positions -> the heads of nets/heads.py (source logit and the auxiliary
classifier's K logits, optionally TAC's twin, ReACGAN's embedding or the projection
term). Spectral normalisation on every layer by default. 28x28 images are zero-padded
to 32x32 (with -1, black), as the Table 2 discriminator does.

Upsampling by nearest neighbour and a 3x3 convolution, rather than the Table 2
generator's 5x5 transposed convolutions of stride 2, is what keeps these images free of
checkerboard artefacts (Odena et al. 2016, "Deconvolution and checkerboard artifacts").
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from .heads import head_outputs, plain_heads

SIZES = (28, 32, 64)


class ClassBatchNorm2d(nn.Module):
    """BatchNorm whose gain and bias depend on the condition: looked up per class
    (``num_classes`` > 0: SNGAN's conditional BatchNorm), or linear maps of a condition
    vector (``condition_dim`` > 0: BigGAN's, the vector being a shared class embedding and a
    chunk of the noise), or shared by all images (neither)."""

    def __init__(self, channels: int, num_classes: int = 0, condition_dim: int = 0):
        super().__init__()
        self.conditional = num_classes > 0 or condition_dim > 0
        self.norm = nn.BatchNorm2d(channels, affine=not self.conditional)
        if condition_dim:
            self.gain, self.bias = nn.Linear(condition_dim, channels), nn.Linear(condition_dim, channels)
            for layer in (self.gain, self.bias):
                nn.init.zeros_(layer.bias)
        elif num_classes:
            self.gain = nn.Embedding(num_classes, channels)
            self.bias = nn.Embedding(num_classes, channels)
            nn.init.zeros_(self.gain.weight)
            nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """``condition``: class labels (per-class lookup) or condition vectors (linear)."""
        h = self.norm(x)
        if not self.conditional:
            return h
        gain, bias = self.gain(condition), self.bias(condition)
        return h * (1 + gain[:, :, None, None].to(h.dtype)) + bias[:, :, None, None].to(h.dtype)


class UpBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, num_classes: int = 0, condition_dim: int = 0):
        super().__init__()
        self.bn1 = ClassBatchNorm2d(in_channels, num_classes, condition_dim)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.bn2 = ClassBatchNorm2d(out_channels, num_classes, condition_dim)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x, labels)), scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), labels)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))


def _start_and_blocks(image_size: int) -> tuple[int, int]:
    if image_size not in SIZES:
        raise ValueError(f"the resnet networks take 28x28, 32x32 or 64x64 images, got {image_size}x{image_size}")
    return {28: (7, 2), 32: (4, 3), 64: (4, 4)}[image_size]


CONDITIONINGS = ("shared", "embedding")


class ResNetGenerator(nn.Module):
    """``conditioning="shared"`` (the default): BigGAN's shared class embedding and
    hierarchical noise (Brock et al. 2019, section 3): the noise is cut into one chunk for
    the first linear layer and one per block, and every block's BatchNorm gain and bias
    are linear maps of [class embedding, its noise chunk], so the noise acts at every
    scale. "embedding": SNGAN's per-class gains and biases, the noise entering only the
    first layer; on colour Fashion-MNIST that generator drew one image per class whatever
    the noise (docs/your-data.md)."""

    kind = "resnet"

    def __init__(self, num_classes: int = 10, latent_dim: int = 100, out_channels: int = 3,
                 image_size: int = 32, channels: int = 64, conditional: bool = True,
                 conditioning: str = "shared", embedding_dim: int = 64):
        super().__init__()
        if conditioning not in CONDITIONINGS:
            raise ValueError(f"conditioning must be one of {CONDITIONINGS}, got {conditioning!r}")
        self.start, blocks = _start_and_blocks(image_size)
        self.config = dict(num_classes=num_classes, latent_dim=latent_dim, out_channels=out_channels,
                           image_size=image_size, channels=channels, conditional=conditional, kind=self.kind)
        self.shared = conditional and conditioning == "shared"
        if conditional:
            self.config["conditioning"] = conditioning
        if self.shared:
            self.config["embedding_dim"] = embedding_dim
        self.num_classes, self.latent_dim, self.conditional = num_classes, latent_dim, conditional
        # the noise chunks: the first layer's, then one per block (the first takes what is left over)
        chunk = latent_dim // (blocks + 1) if self.shared else 0
        self.chunks = [latent_dim - chunk * blocks] + [chunk] * blocks if self.shared else [latent_dim]
        self.embedding = nn.Embedding(num_classes, embedding_dim) if self.shared else None
        per_class = num_classes if conditional and not self.shared else 0
        condition = embedding_dim + chunk if self.shared else 0
        self.fc = nn.Linear(self.chunks[0], channels * self.start ** 2)
        self.blocks = nn.ModuleList(UpBlock(channels, channels, per_class, condition) for _ in range(blocks))
        self.out_norm = ClassBatchNorm2d(channels, 0 if self.shared else per_class)
        self.out = nn.Conv2d(channels, out_channels, 3, padding=1)
        self.memory_format = torch.contiguous_format  # see fast_layers.set_channels_last

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        parts = torch.split(z, self.chunks, dim=1)
        h = self.fc(parts[0]).view(len(z), -1, self.start, self.start).contiguous(memory_format=self.memory_format)
        if self.shared:
            e = self.embedding(labels).to(z.dtype)
            conditions = [torch.cat([e, part], dim=1) for part in parts[1:]]
        else:
            conditions = [labels] * len(self.blocks)
        for block, condition in zip(self.blocks, conditions):
            h = block(h, condition)
        return torch.tanh(self.out(F.relu(self.out_norm(h, labels))))

    def class_parameters(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(gain offsets, biases), each (K, C), of every class-conditional BatchNorm: what gSR
        regularises. Under shared conditioning, the part each class's embedding gives (the
        noise's part is the same for every class)."""
        out = []
        for m in self.modules():
            if isinstance(m, ClassBatchNorm2d) and m.conditional:
                if isinstance(m.gain, nn.Embedding):
                    out.append((m.gain.weight, m.bias.weight))
                else:
                    d = self.embedding.embedding_dim
                    e = self.embedding.weight
                    out.append((e @ m.gain.weight[:, :d].T, e @ m.bias.weight[:, :d].T))
        return out


class DownBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, down: bool, first: bool = False):
        super().__init__()
        self.first, self.down = first, down
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1) if (in_channels != out_channels or down) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
        s = x
        if self.first:  # SNGAN's optimised first block: pool, then the 1x1 convolution
            s = self.shortcut(F.avg_pool2d(s, 2))
            return F.avg_pool2d(h, 2) + s
        if self.shortcut is not None:
            s = self.shortcut(s)
        if self.down:
            h, s = F.avg_pool2d(h, 2), F.avg_pool2d(s, 2)
        return h + s


class ResNetDiscriminator(nn.Module):
    kind = "resnet"

    def __init__(self, num_classes: int = 10, in_channels: int = 3, image_size: int = 32, channels: int = 128,
                 spectral_norm: bool = True, class_head: str = "linear", projection: bool = False):
        super().__init__()
        _start_and_blocks(image_size)
        self.config = dict(num_classes=num_classes, in_channels=in_channels, image_size=image_size,
                           channels=channels, spectral_norm=spectral_norm, kind=self.kind)
        if class_head != "linear":
            self.config["class_head"] = class_head
        if projection:
            self.config["projection"] = projection
        self.pad = 32 - image_size if image_size == 28 else 0
        layers = [DownBlock(in_channels, channels, down=True, first=True)]
        size = (image_size + self.pad) // 2
        while size > 8:
            layers.append(DownBlock(channels, channels, down=True))
            size //= 2
        layers += [DownBlock(channels, channels, down=False), DownBlock(channels, channels, down=False)]
        self.body = nn.Sequential(*layers)
        self.feature_dim = channels
        self.heads = self.build_heads(channels, num_classes, class_head, projection)
        self.memory_format = torch.contiguous_format  # see fast_layers.set_channels_last
        if spectral_norm:
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
                    nn.utils.parametrizations.spectral_norm(m)

    def build_heads(self, in_features: int, num_classes: int, class_head: str, projection: bool) -> nn.Module:
        return plain_heads(in_features, num_classes, class_head, projection)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C): the last block's maps after ReLU, summed over positions."""
        if self.pad:
            lo = self.pad // 2
            x = F.pad(x, (lo, self.pad - lo, lo, self.pad - lo), value=-1.0)
        return F.relu(self.body(x.contiguous(memory_format=self.memory_format))).sum(dim=(2, 3))

    def outputs(self, x: torch.Tensor, labels: torch.Tensor | None = None):
        return head_outputs(self.heads, self.features(x), labels)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.outputs(x, labels)
        return out.source, out.classes


class ResNetEncoder(ResNetDiscriminator):
    """BAGAN's encoder on the residual discriminator's body: features -> latent code."""

    def __init__(self, latent_dim: int = 100, **body):
        body = {k: v for k, v in body.items() if k not in ("kind", "class_head", "projection")}
        super().__init__(num_classes=latent_dim, **body)

    def build_heads(self, in_features: int, latent_dim: int, class_head: str, projection: bool) -> nn.Module:
        return nn.Linear(in_features, latent_dim)

    def forward(self, x: torch.Tensor, labels=None) -> torch.Tensor:
        return self.heads(self.features(x))


__all__ = ["ClassBatchNorm2d", "ResNetDiscriminator", "ResNetEncoder", "ResNetGenerator"]
