"""The CIFAR ResNet-32 of He et al. 2016 (section 4.2: 3 stages of 5 basic blocks, 16, 32
and 64 channels, global average pooling), the classifier of the long-tailed recognition
papers on 32x32 images (LDAM-DRW, Cao et al. 2019, whose code it follows: identity
shortcuts that subsample and zero-pad the channels, "option A"). 0.46 M parameters, so a
2-core CPU trains it, unlike the ResNet-18 of the paper's evaluator. 28x28 images work as
they are (global pooling).

``normed_head=True`` gives the cosine classifier LDAM uses: the features and each class's
weight vector are normalised, so the logits are cosines in [-1, 1].

torchvision ships the ImageNet ResNets only, hence this file.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.pad = out_channels - in_channels if (stride != 1 or in_channels != out_channels) else 0
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        shortcut = x[:, :, ::self.stride, ::self.stride] if self.stride != 1 else x
        if self.pad:
            shortcut = F.pad(shortcut, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return F.relu(h + shortcut)


class NormedLinear(nn.Module):
    """Cosine similarity of the normalised features to each class's normalised weight."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features).uniform_(-1, 1).renorm_(2, 1, 1e-5).mul_(1e5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=1) @ F.normalize(self.weight, dim=0)


class ResNet32(nn.Module):
    def __init__(self, in_channels: int = 3, num_classes: int = 10, normed_head: bool = False, blocks: int = 5):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        layers, width = [], 16
        for stage, out in enumerate((16, 32, 64)):
            for b in range(blocks):
                layers.append(BasicBlock(width, out, 2 if stage and b == 0 else 1))
                width = out
        self.blocks = nn.Sequential(*layers)
        self.head = NormedLinear(64, num_classes) if normed_head else nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 64-d globally pooled features the head reads."""
        return self.blocks(self.stem(x)).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
