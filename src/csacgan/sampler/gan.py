"""Oversampling with a GAN trained on (X, y): ACGAN, CostSensitive-ACGAN or BAGAN.

    from csacgan.sampler import CostSensitiveACGANSampler
    X_res, y_res = CostSensitiveACGANSampler(epochs=3, random_state=0).fit_resample(X, y)

``from_run(RUN_DIR)`` samples a run trained before (``csacgan train``) instead of training
one: its classes must be those of y, in the same order.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from ..config import DEFAULT_RECIPE, TrainConfig
from ..data.arrays import image_set_from_arrays
from ..generate import sample
from .base import ImageOverSampler


class _GANSampler(ImageOverSampler):
    _method = "cs-acgan"
    _needs_network_size = True

    def __init__(self, sampling_strategy="auto", epochs=3, recipe=DEFAULT_RECIPE, batch_size=64,
                 random_state=None, device="auto", work_dir=None, max_steps=None,
                 g_channels=None, d_channels=None, progress=False, run_dir=None):
        self.sampling_strategy = sampling_strategy
        self.epochs = epochs
        self.recipe = recipe
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device
        self.work_dir = work_dir
        self.max_steps = max_steps
        self.g_channels = g_channels
        self.d_channels = d_channels
        self.progress = progress
        self.run_dir = run_dir

    @classmethod
    def from_run(cls, run_dir, **kwargs):
        """A sampler that draws from the generator of the trained run in ``run_dir``."""
        return cls(run_dir=str(run_dir), **kwargs)

    def _config(self, out: Path, seed: int) -> TrainConfig:
        return TrainConfig(out=str(out), method=self._method, recipe=self.recipe, dataset="arrays",
                           imbalance="none", imbalance_ratio=None, max_per_class=None, epochs=self.epochs,
                           max_steps=self.max_steps, batch_size=self.batch_size, seed=seed, device=self.device,
                           g_channels=self.g_channels, d_channels=self.d_channels, progress=self.progress,
                           method_options={"autoencoder_epochs": max(1, min(3, self.epochs))}
                           if self._method == "bagan" else {})

    def _generator(self, images, y, seed):
        from ..checkpoint import load_generator
        from ..train import train
        if self.run_dir is not None:
            generator, ckpt = load_generator(self.run_dir)
            if len(ckpt["class_names"]) != len(self.classes_):
                raise ValueError(f"{self.run_dir} was trained on {len(ckpt['class_names'])} classes, y has "
                                 f"{len(self.classes_)}")
            from ..run_folder import check_images
            check_images(self.run_dir, images, np.searchsorted(self.classes_, y))
            self.run_dir_ = str(self.run_dir)
            return generator
        data = image_set_from_arrays("arrays", images, y, test_fraction=0.0, classes=self.classes_)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(self.work_dir) if self.work_dir else Path(tmp) / "run"
            run = train(self._config(out, seed), data=data)
            generator, _ = load_generator(run)
            self.run_dir_ = str(run) if self.work_dir else None
        return generator

    def _new_images(self, images, y, wanted):
        seed = self._seed()
        self.generator_ = self._generator(images, y, seed)
        labels = [int(np.searchsorted(self.classes_, c)) for c, n in wanted.items() for _ in range(n)]
        new = sample(self.generator_, torch.tensor(labels, dtype=torch.long), seed=seed).numpy()
        codes = np.asarray(labels)
        return {c: new[codes == np.searchsorted(self.classes_, c)] for c in wanted}


class CostSensitiveACGANSampler(_GANSampler):
    """Oversampling with CostSensitive-ACGAN (``csacgan train --method cs-acgan``)."""
    _method = "cs-acgan"


class ACGANSampler(_GANSampler):
    """Oversampling with ACGAN (``--method acgan``)."""
    _method = "acgan"


class BAGANSampler(_GANSampler):
    """Oversampling with BAGAN (``--method bagan``)."""
    _method = "bagan"
