"""Oversamplers in imbalanced-learn's style: a GAN trained on (X, y) draws the images
that rebalance it.

    from csacgan.sampler import CostSensitiveACGANSampler
    X_res, y_res = CostSensitiveACGANSampler(epochs=3, random_state=0).fit_resample(X, y)

As in imbalanced-learn, ``__init__`` only stores its arguments, ``get_params`` and
``set_params`` work (scikit-learn's ``BaseEstimator``), learned attributes end in
``_``, and ``sampling_strategy`` means what it means there ("auto", "minority",
"not majority", "not minority", "all", a float, a dict {class: target count} or a
callable); it is resolved by ``imblearn.utils.check_sampling_strategy``. The originals
come first in the output, unchanged, followed by the generated images.

imbalanced-learn's ``BaseOverSampler.fit_resample`` validates X as a 2-D table, which
images are not, so the validation here is our own (``csacgan.data.arrays``).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator

from .config import TrainConfig
from .data.arrays import image_set_from_arrays, like_input, to_nchw_uint8
from .generate import sample


class _GANSampler(BaseEstimator):
    _method = "cs-acgan"
    _sampling_type = "over-sampling"

    def __init__(self, sampling_strategy="auto", epochs=3, recipe="balanced", batch_size=64,
                 random_state=None, device="auto", work_dir=None, max_steps=None,
                 g_channels=None, d_channels=None, progress=False):
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

    def _config(self, out: Path, seed: int) -> TrainConfig:
        return TrainConfig(out=str(out), method=self._method, recipe=self.recipe, dataset="arrays",
                           imbalance="none", imbalance_ratio=None, max_per_class=None, epochs=self.epochs,
                           max_steps=self.max_steps, batch_size=self.batch_size, seed=seed, device=self.device,
                           g_channels=self.g_channels, d_channels=self.d_channels, progress=self.progress,
                           method_options={"autoencoder_epochs": max(1, min(3, self.epochs))}
                           if self._method == "bagan" else {})

    def fit_resample(self, X, y):
        """Train the GAN on (X, y), then return (X_resampled, y_resampled).

        X : images, (N, H, W), (N, C, H, W) or (N, H, W, C); uint8, or float in [0, 1].
        y : (N,) class labels.
        """
        from imblearn.utils import check_sampling_strategy

        from .checkpoint import load_generator
        from .train import train
        X_in = np.asarray(X)
        y = np.asarray(y)
        images = to_nchw_uint8(X_in, "X")
        if y.ndim != 1 or len(y) != len(images):
            raise ValueError(f"X holds {len(images)} images but y has shape {y.shape}")
        self.sampling_strategy_ = check_sampling_strategy(self.sampling_strategy, y, self._sampling_type)
        self.classes_ = np.unique(y)
        seed = (self.random_state if isinstance(self.random_state, (int, np.integer))
                else int(np.random.default_rng(self.random_state).integers(2**31)))
        data = image_set_from_arrays("arrays", images, y, test_fraction=0.0, classes=self.classes_)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(self.work_dir) if self.work_dir else Path(tmp) / "run"
            run = train(self._config(out, seed), data=data)
            self.generator_, _ = load_generator(run)
            self.run_dir_ = str(run) if self.work_dir else None
        labels = [np.searchsorted(self.classes_, c) for c, n in self.sampling_strategy_.items() for _ in range(n)]
        if not labels:
            return X_in.copy(), y.copy()
        new = sample(self.generator_, torch.tensor(labels, dtype=torch.long), seed=seed).numpy()
        new = like_input(new, X_in)
        y_new = self.classes_[np.asarray(labels)]
        return np.concatenate([X_in, new]), np.concatenate([y, y_new])


class CostSensitiveACGANSampler(_GANSampler):
    """Oversampling with CostSensitive-ACGAN (``csacgan train --method cs-acgan``)."""
    _method = "cs-acgan"


class ACGANSampler(_GANSampler):
    """Oversampling with ACGAN (``--method acgan``)."""
    _method = "acgan"


class BAGANSampler(_GANSampler):
    """Oversampling with BAGAN (``--method bagan``)."""
    _method = "bagan"


__all__ = ["ACGANSampler", "BAGANSampler", "CostSensitiveACGANSampler"]
