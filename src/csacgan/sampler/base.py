"""The image over-sampler base: imbalanced-learn's ``BaseOverSampler``, taught to take images.

imbalanced-learn's ``fit_resample`` checks the targets, resolves ``sampling_strategy``
(``check_sampling_strategy``) and calls ``_fit_resample``; only its input check
(``_check_X_y``) insists on a 2-D table, so that one method is replaced here by an image
check. A subclass implements :meth:`_new_images`, the images it adds per class; the base
puts the originals first, unchanged, then the new images in the caller's layout and dtype.
"""
from __future__ import annotations

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_target_type

from ..data.arrays import like_input, to_nchw_uint8


class ImageOverSampler(BaseOverSampler):
    """Base class: X is (N, H, W), (N, C, H, W) or (N, H, W, C), uint8 or floats in [0, 1]."""

    _needs_network_size = False  # GANs need square 28/32/64-pixel images; SMOTE takes any size
    _parameter_constraints: dict = {}  # arguments are checked where they are used

    def _check_X_y(self, X, y, accept_sparse=None):
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        X = np.asarray(X)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"X holds {len(X)} images but y has shape {y.shape}")
        self._images = to_nchw_uint8(X, "X", any_size=not self._needs_network_size)
        self.classes_ = np.unique(y)
        return X, y, binarize_y

    def _fit_resample(self, X, y):
        wanted = {c: n for c, n in self.sampling_strategy_.items() if n > 0}
        images, self._images = self._images, None
        new = self._new_images(images, y, wanted) if wanted else {}
        parts_x, parts_y = [X], [y]
        for c, n in wanted.items():
            got = np.asarray(new[c])
            if got.shape != (n,) + images.shape[1:] or got.dtype != np.uint8:
                raise RuntimeError(f"{type(self).__name__} made {got.shape} {got.dtype} images of class {c}, "
                                   f"not {n} uint8 images of shape {images.shape[1:]}")
            parts_x.append(like_input(got, X))
            parts_y.append(np.full(n, c, dtype=y.dtype))
        return np.concatenate(parts_x), np.concatenate(parts_y)

    def _new_images(self, images: np.ndarray, y: np.ndarray, wanted: dict) -> dict:
        """{class: uint8 (n, C, H, W) new images} for ``wanted`` = {class: n} (n > 0)."""
        raise NotImplementedError

    def class_weight(self, y) -> np.ndarray | None:
        """Per-class loss weights, in the order of ``np.unique(y)``, a classifier trained on the
        output should use (None: an unweighted loss)."""
        return None

    def _seed(self) -> int:
        from sklearn.utils import check_random_state
        state = self.random_state
        if isinstance(state, (int, np.integer)):
            return int(state)
        return int(check_random_state(state).randint(2**31 - 1))
