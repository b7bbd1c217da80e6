"""CIFAR-10 (``--dataset cifar10``) from its standard python pickle batches.

The folder ``cifar-10-batches-py`` (``data_batch_1`` ... ``data_batch_5``,
``test_batch``, ``batches.meta``) is found in the order of ``search.py`` (in a folder
itself or in its sub-folder); otherwise torchvision downloads and md5-checks the
official archive into the cache.

The batches are read here rather than through ``torchvision.datasets.CIFAR10``
because that class refuses any copy whose md5 differs from the official one; we read
any well-formed copy and record, per file, whether its md5 is the official one.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from .arrays import resize_uint8
from .imageset import DataError, ImageSet, file_md5
from .search import find_dataset

FOLDER = "cifar-10-batches-py"
TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
TEST = ["test_batch"]


def _official_md5() -> dict[str, str]:
    from torchvision.datasets import CIFAR10
    return {name: md5 for name, md5 in CIFAR10.train_list + CIFAR10.test_list}


def _find(folder: Path) -> Path | None:
    for base in (folder, folder / FOLDER, folder / "cifar10" / FOLDER):
        if all((base / name).is_file() for name in TRAIN + TEST):
            return base
    return None


def locate_cifar10(data_dir: str | Path | None = None, download: bool = True) -> Path:
    def fetch(root: Path) -> None:
        from torchvision.datasets import CIFAR10
        CIFAR10(root=str(root), train=True, download=True)

    return find_dataset("CIFAR-10", data_dir, _find,
                        missing_here=f"CIFAR-10's python batches ({FOLDER}/data_batch_1..5 and test_batch)",
                        download=fetch if download else None,
                        by_hand="Download cifar-10-python.tar.gz by hand, unpack it, and pass the folder "
                                "with --data-dir.")


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
        data = np.asarray(entry["data"], dtype=np.uint8)
        labels = np.asarray(entry.get("labels", entry.get("fine_labels")), dtype=np.int64)
    except Exception as exc:
        raise DataError(f"{path}: not a CIFAR-10 python batch ({exc})") from exc
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise DataError(f"{path}: expected {len(labels)} rows of 3072 bytes, got data of shape {data.shape}")
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(data_dir: str | Path | None = None, download: bool = True,
                 image_size: int | None = None) -> ImageSet:
    import torch
    folder = locate_cifar10(data_dir, download)
    official = _official_md5()
    files, parts = {}, {"train": [], "test": []}
    for split, names in (("train", TRAIN), ("test", TEST)):
        for name in names:
            path = folder / name
            parts[split].append(_read_batch(path))
            md5 = file_md5(path)
            files[name] = {"path": str(path.resolve()), "md5": md5}
            if md5 != official.get(name):
                files[name]["note"] = f"md5 differs from the official {official.get(name)}"
    names = [str(c) for c in range(10)]
    meta = folder / "batches.meta"
    if meta.is_file():
        with open(meta, "rb") as f:
            names = list(pickle.load(f, encoding="latin1")["label_names"])
    (x, y), (tx, ty) = [(np.concatenate([d for d, _ in parts[s]]), np.concatenate([l for _, l in parts[s]]))
                        for s in ("train", "test")]
    if y.min() < 0 or y.max() >= len(names) or ty.min() < 0 or ty.max() >= len(names):
        raise DataError(f"{folder}: labels outside 0..{len(names) - 1}")
    images = {"train": torch.from_numpy(x), "test": torch.from_numpy(tx)}
    if image_size is not None and image_size != 32:
        images = {k: resize_uint8(v, image_size) for k, v in images.items()}
        files["resize"] = {"path": "", "md5": f"image_size={image_size}"}
    return ImageSet(name="cifar10", train_images=images["train"].contiguous(), train_labels=torch.from_numpy(y),
                    test_images=images["test"].contiguous(), test_labels=torch.from_numpy(ty),
                    class_names=tuple(names), files=files)
