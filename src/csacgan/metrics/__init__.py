"""Metrics, registered by name. Each module cites its paper in its header.

A metric is a function ``metric(ctx: EvalContext) -> dict`` returning plain numbers;
class-wise values sit under ``per_class`` keyed by class index (as strings, for
JSON), and the same statistic on real images under ``real`` where one makes sense.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

import torch

METRICS: dict[str, Callable] = {}

# Values that depend only on real data and the evaluator (the real test set's evaluator
# outputs, real-image SSIM, classifiers trained on real images), kept for the life of
# the process: evaluating the runs of a grid one after another computes each once.
_SHARED: dict = {}


def register(name: str):
    def wrap(fn):
        METRICS[name] = fn
        return fn
    return wrap


@dataclass
class EvalContext:
    """Everything a metric may look at."""
    data: object                    # csacgan.data.ImageSet (real train and test)
    evaluator: object               # csacgan.metrics.evaluator.Evaluator
    images: torch.Tensor            # generated, uint8 (N, C, H, W)
    labels: torch.Tensor            # their intended classes
    seed: int = 0
    train_indices: torch.Tensor | None = None   # the run's imbalanced training set
    minority: list[int] = field(default_factory=list)
    sampler: Callable | None = None  # sampler(labels, seed) -> uint8 images, for more fakes
    progress: bool = True
    cache: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return self.data.num_classes

    def outputs(self, key: str, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Evaluator (logits, features), computed once per image set and evaluation."""
        if key not in self.cache:
            if key == "test":
                self.cache[key] = self.shared(("test_outputs",), lambda: self.evaluator.run(images))
            else:
                self.cache[key] = self.evaluator.run(images)
        return self.cache[key]

    def shared(self, key: tuple, compute: Callable):
        """``compute()``, once per process for this dataset, evaluator and ``key``.

        Only for values that depend on real data alone: ``key`` must hold every other
        input (seed, image counts, steps)."""
        full = (self.data.name, json.dumps(getattr(self.evaluator, "info", {}), sort_keys=True), key)
        if full not in _SHARED:
            _SHARED[full] = compute()
        return _SHARED[full]

    def predictions(self, key: str, images: torch.Tensor) -> torch.Tensor:
        return self.outputs(key, images)[0].argmax(1)

    def features(self, key: str, images: torch.Tensor) -> torch.Tensor:
        return self.outputs(key, images)[1]


def per_class(values) -> dict[str, float]:
    return {str(c): float(v) for c, v in enumerate(values)}


# Importing the modules registers them.
from . import classifier_accuracy, ssim_diversity, fid, cas, augmentation_gain, prdc, hue_spread  # noqa: E402,F401

__all__ = ["METRICS", "EvalContext", "register", "per_class"]
