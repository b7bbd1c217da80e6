"""Data: every source returns an :class:`ImageSet`; ``training_set`` makes it imbalanced.

``load_dataset(name, ...)`` is the one way in, for the built-in datasets (found in the
order of ``search.py``) and users' folders and arrays.
"""
from __future__ import annotations

from pathlib import Path

from .arrays import load_npz
from .cifar import load_cifar10
from .folders import load_image_folder
from .imageset import DataError, ImageSet
from .mnist import SOURCES as MNIST_FAMILY
from .mnist import load_mnist_family

# Every --dataset name. "arrays" is what the fit_resample samplers hand to train().
DATASETS = ("mnist", "fashion-mnist", "cifar10", "imagefolder", "npz")


def load_dataset(name: str, data_dir: str | Path | None = None, download: bool = True,
                 image_size: int | None = None, progress: bool = False) -> ImageSet:
    """A whole dataset as uint8 tensors, shapes checked and file md5s recorded.

    ``image_size`` resizes users' folders and arrays and CIFAR-10; MNIST and
    Fashion-MNIST stay 28 x 28 as in the paper."""
    if name == "npz":
        return load_npz(data_dir, image_size=image_size)
    if name == "imagefolder":
        return load_image_folder(data_dir, image_size, progress=progress)
    if name == "cifar10":
        return load_cifar10(data_dir, download, image_size)
    if name in MNIST_FAMILY:
        return load_mnist_family(name, data_dir, download, image_size)
    raise DataError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")


__all__ = ["DATASETS", "DataError", "ImageSet", "load_dataset"]
