"""The simple alternatives to generated images, with the same ``fit_resample``:
nothing, random oversampling, a class-weighted loss, and SMOTE on pixels."""
from __future__ import annotations

import numpy as np
from imblearn.over_sampling import SMOTE, RandomOverSampler
from sklearn.utils.class_weight import compute_class_weight

from .base import ImageOverSampler


class NoOversampling(ImageOverSampler):
    """The imbalanced set as it is (the baseline every sampler must beat)."""

    def __init__(self, sampling_strategy="auto", random_state=None):
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state

    def _fit_resample(self, X, y):
        return X.copy(), y.copy()


class ClassWeightedLoss(NoOversampling):
    """No new images; the classifier's loss weights class c by n / (K n_c) (scikit-learn's
    "balanced" class weights)."""

    def class_weight(self, y) -> np.ndarray:
        y = np.asarray(y)
        return compute_class_weight("balanced", classes=np.unique(y), y=y)


class RandomImageOverSampler(ImageOverSampler):
    """Copies of randomly chosen originals of each class (imbalanced-learn's RandomOverSampler)."""

    def __init__(self, sampling_strategy="auto", random_state=None):
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state

    def _new_images(self, images, y, wanted):
        index = np.arange(len(y)).reshape(-1, 1)
        ros = RandomOverSampler(sampling_strategy=targets(y, wanted), random_state=self._seed())
        picked, picked_y = ros.fit_resample(index, y)
        picked, picked_y = picked[len(y):, 0], picked_y[len(y):]  # imbalanced-learn puts the originals first
        return {c: images[picked[picked_y == c]] for c in wanted}


def targets(y, wanted: dict) -> dict:
    """imbalanced-learn's dict strategy for over-sampling is the count wanted *after*
    resampling; ``wanted`` (as in ``sampling_strategy_``) is the number of images to add."""
    counts = dict(zip(*np.unique(y, return_counts=True)))
    return {c: int(counts[c]) + int(n) for c, n in wanted.items()}


def smote_neighbours(counts: dict, k_neighbors: int, wanted) -> int:
    """SMOTE's k, lowered to fit the smallest class asked for (a class of n images has n - 1 neighbours)."""
    smallest = min(counts[c] for c in wanted)
    if smallest < 2:
        raise ValueError(f"SMOTE needs at least two images of every class it oversamples; a class asked for "
                         f"has {smallest}")
    return max(1, min(k_neighbors, smallest - 1))


class PixelSMOTE(ImageOverSampler):
    """SMOTE (Chawla et al. 2002, imbalanced-learn's) on the flattened pixels: each new image is
    a blend of an original and one of its ``k_neighbors`` nearest same-class originals."""

    def __init__(self, sampling_strategy="auto", k_neighbors=5, random_state=None):
        self.sampling_strategy = sampling_strategy
        self.k_neighbors = k_neighbors
        self.random_state = random_state

    def _new_images(self, images, y, wanted):
        counts = dict(zip(*np.unique(y, return_counts=True)))
        k = smote_neighbours(counts, self.k_neighbors, wanted)
        flat = images.reshape(len(images), -1).astype(np.float32)
        smote = SMOTE(sampling_strategy=targets(y, wanted), k_neighbors=k, random_state=self._seed())
        new, new_y = smote.fit_resample(flat, y)
        new, new_y = new[len(y):], new_y[len(y):]
        new = np.clip(np.rint(new), 0, 255).astype(np.uint8).reshape((-1,) + images.shape[1:])
        return {c: new[new_y == c] for c in wanted}
