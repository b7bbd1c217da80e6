"""The evaluator: torchvision's ResNet-18, as in the paper's Table 5, trained on the
full real training split of the dataset (MNIST: all 60000 images) and cached.

Adaptation to 1 x 28 x 28 (or C x H x W) inputs: the 7x7 stride-2 stem and its max
pool are replaced by one 3x3 stride-2 convolution (28 -> 14 -> 7 -> 4 -> 2 through the
four stages), which trains at about 1.3x the speed of keeping the pool on this CPU.
Its penultimate (512-d, after global pooling) features feed FID and KID.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import torch
import torchvision
from torch import nn

from ..files import atomic_save
from ..data import ImageSet
from ..fit import normalise, train_classifier
from ..runtime import autocast_factory, pick_precision, user_cache_dir

ARCH = "resnet18-s2stem"


def build_resnet18(in_channels: int, num_classes: int) -> nn.Module:
    model = torchvision.models.resnet18(num_classes=num_classes)
    model.conv1 = nn.Conv2d(in_channels, 64, 3, 2, 1, bias=False)
    model.maxpool = nn.Identity()
    # channels_last: 1.62x faster inference on one thread of an AVX2 CPU in fp32
    # (benchmarks/evaluator_layout.py) and about 1.1x faster training; the same network,
    # so cached weights of either layout load into it.
    return model.to(memory_format=torch.channels_last)


class Evaluator(nn.Module):
    """A trained classifier with ``predict`` and ``features`` on uint8 images."""

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.net = build_resnet18(in_channels, num_classes)
        self.info: dict = {}

    def forward(self, x):
        return self.net(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        x = n.layer4(n.layer3(n.layer2(n.layer1(x))))
        return torch.flatten(n.avgpool(x), 1)

    @torch.no_grad()
    def run(self, images_uint8: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, penultimate features) of uint8 images, in one pass."""
        self.eval()
        device = next(self.parameters()).device
        autocast = autocast_factory(device, pick_precision("auto", device))
        logits, features = [], []
        for start in range(0, len(images_uint8), batch_size):
            x = normalise(images_uint8[start:start + batch_size].to(device))
            with autocast():
                f = self.features(x)
                out = self.net.fc(f)
            logits.append(out.float().cpu())
            features.append(f.float().cpu())
        if not logits:
            return torch.empty(0, self.net.fc.out_features), torch.empty(0, self.net.fc.in_features)
        return torch.cat(logits), torch.cat(features)

    def predict(self, images_uint8: torch.Tensor) -> torch.Tensor:
        return self.run(images_uint8)[0].argmax(1)


MIN_STEPS = 600  # a small user dataset still gets this many optimizer steps
IMBALANCED = 2.0  # largest / smallest class count above which the loss is class-weighted


def _training_plan(data: ImageSet, epochs: float, train_subset: int | None, batch_size: int = 128):
    """(epochs, class weights or None) actually used for this data.

    Users' data can be small and imbalanced: the evaluator then trains for at least
    MIN_STEPS steps, with a loss weighted by inverse class frequency (scikit-learn's
    "balanced" weights) so that it does not learn to ignore the rare class it is meant
    to judge. MNIST and other balanced sets are unaffected (the cache keys stay the same).
    """
    labels = data.train_labels[:train_subset] if train_subset else data.train_labels
    counts = torch.bincount(labels, minlength=data.num_classes).float()
    weights = None
    if counts.min() > 0 and counts.max() / counts.min() > IMBALANCED:
        weights = len(labels) / (data.num_classes * counts)
    if not train_subset:
        epochs = max(epochs, MIN_STEPS / max(1, len(labels) // batch_size))
    return epochs, weights


def evaluator_path(data: ImageSet, seed: int, epochs: float, train_subset: int | None) -> Path:
    md5 = hashlib.md5("".join(f["md5"] for f in data.files.values()).encode()).hexdigest()[:10]
    subset = f"-n{train_subset}" if train_subset else ""
    epochs, weights = _training_plan(data, epochs, train_subset)
    balanced = "-cw" if weights is not None else ""
    # users' data by content alone: the same bytes under another file or folder name reuse it
    name = data.name if data.name in ("mnist", "fashion-mnist", "cifar10") else "data"
    return user_cache_dir() / "evaluators" / f"{name}-{md5}-{ARCH}-e{epochs:g}{balanced}{subset}-s{seed}.pt"


def load_or_train_evaluator(data: ImageSet, seed: int = 0, epochs: float = 2,
                            train_subset: int | None = None, progress: bool = True) -> Evaluator:
    """The cached evaluator for this dataset, seed and architecture; trained if missing.

    ``train_subset`` trains on the first N training images only (quick tests).
    """
    path = evaluator_path(data, seed, epochs, train_subset)
    model = Evaluator(data.image_shape[0], data.num_classes)
    if path.is_file():
        saved = torch.load(path, map_location="cpu", weights_only=False)
        model.load_state_dict(saved["state_dict"])
        model.info = saved["info"]
        return model.eval()
    images, labels = data.train_images, data.train_labels
    if train_subset:
        images, labels = images[:train_subset], labels[:train_subset]
    epochs, weights = _training_plan(data, epochs, train_subset)
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    train_classifier(model, images, labels, epochs, seed, progress=progress, desc=f"evaluator ({ARCH})",
                     class_weights=weights, checkpoint=path.with_suffix(".partial.pt"))
    seconds = time.perf_counter() - started
    if len(data.test_labels) == 0:
        raise ValueError(f"{data.name} has no test images: the evaluator cannot be checked")
    correct = (model.predict(data.test_images) == data.test_labels).float()
    per_class = [correct[data.test_labels == c].mean().item() if (data.test_labels == c).any() else None
                 for c in range(data.num_classes)]
    model.info = {"arch": ARCH, "dataset": data.name, "seed": seed, "epochs": round(epochs, 3),
                  "class_weighted_loss": weights is not None,
                  "train_images": len(images), "train_seconds": round(seconds, 1),
                  "test_accuracy": correct.mean().item(), "test_images": len(correct),
                  "test_accuracy_per_class": dict(zip(data.class_names, per_class)), "path": str(path),
                  "data_md5": {k: v["md5"] for k, v in data.files.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_save({"state_dict": model.state_dict(), "info": model.info}, path)
    path.with_suffix(".json").write_text(json.dumps(model.info, indent=2))
    return model
