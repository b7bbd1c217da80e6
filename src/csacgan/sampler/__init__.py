"""Image over-samplers in imbalanced-learn's style, every one with ``fit_resample(X, y)``:

    from csacgan.sampler import SAMPLERS
    X_res, y_res = SAMPLERS["latent-smote"](random_state=0).fit_resample(X, y)

As in imbalanced-learn (``imblearn.over_sampling.base.BaseOverSampler`` is their base),
``__init__`` only stores its arguments, ``get_params`` and ``set_params`` work, learned
attributes end in ``_``, and ``sampling_strategy`` means what it means there ("auto",
"minority", "not majority", "not minority", "all", a float, a dict {class: target count}
or a callable), resolved by ``imblearn.utils.check_sampling_strategy``. X is images,
(N, H, W), (N, C, H, W) or (N, H, W, C), uint8 or floats in [0, 1]; the originals come
first in the output, unchanged, followed by the new images in X's layout and dtype.
``class_weight(y)`` tells a classifier trained on the output which loss weights to use
(only ``class-weight`` asks for any).
"""
from __future__ import annotations

from .base import ImageOverSampler
from .gan import ACGANSampler, BAGANSampler, CostSensitiveACGANSampler
from .latent_smote import Autoencoder, LatentSMOTE
from .simple import ClassWeightedLoss, NoOversampling, PixelSMOTE, RandomImageOverSampler

SAMPLERS = {
    "none": NoOversampling,
    "random": RandomImageOverSampler,
    "class-weight": ClassWeightedLoss,
    "smote": PixelSMOTE,
    "latent-smote": LatentSMOTE,
    "acgan": ACGANSampler,
    "cs-acgan": CostSensitiveACGANSampler,
    "bagan": BAGANSampler,
}
GAN_SAMPLERS = ("acgan", "cs-acgan", "bagan")

__all__ = ["SAMPLERS", "GAN_SAMPLERS", "ImageOverSampler", "NoOversampling", "RandomImageOverSampler",
           "ClassWeightedLoss", "PixelSMOTE", "LatentSMOTE", "Autoencoder", "ACGANSampler", "BAGANSampler",
           "CostSensitiveACGANSampler"]
