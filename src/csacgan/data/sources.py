"""Image sources: MNIST and Fashion-MNIST from their standard IDX files; ``load_dataset``
also dispatches to CIFAR-10 (``cifar.py``), users' folders (``folders.py``) and arrays
(``arrays.py``).

Where files are looked for, in order (see README, "Data"):
1. ``--data-dir`` (an explicit folder: if the files are not there, that is an error);
2. ``$CSACGAN_DATA_DIR``;
3. the user cache folder (``$XDG_CACHE_HOME/csacgan`` or ``~/.cache/csacgan``);
4. Debian's ``/usr/share/datasets/<name>`` (package ``dataset-fashion-mnist``);
5. otherwise downloaded into the cache from torchvision's mirrors, md5-verified.

Inside each folder the files may sit directly, or under ``<name>/``, or under
torchvision's ``MNIST/raw`` / ``FashionMNIST/raw`` layout, gzipped or not.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torchvision import datasets as tv_datasets

from .idx import DataError, file_md5, read_idx

_SPLITS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class IDXSource:
    name: str
    torchvision_class: type
    class_names: tuple[str, ...]

    @property
    def known_md5(self) -> dict[str, str]:
        """Official md5 of each .gz file, as torchvision lists them."""
        return {fname.removesuffix(".gz"): md5 for fname, md5 in self.torchvision_class.resources}

    def subfolders(self) -> list[str]:
        return ["", self.name, f"{self.torchvision_class.__name__}/raw"]


SOURCES = {
    "mnist": IDXSource("mnist", tv_datasets.MNIST, tuple(str(i) for i in range(10))),
    "fashion-mnist": IDXSource("fashion-mnist", tv_datasets.FashionMNIST, (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")),
}


@dataclass
class ImageSet:
    """A whole labelled image dataset held in memory as uint8 tensors (N, C, H, W)."""

    name: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    class_names: tuple[str, ...]
    files: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_images.shape[1:])


def user_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "csacgan"


def _find_in(folder: Path, source: IDXSource) -> dict[str, Path] | None:
    for sub in source.subfolders():
        base = folder / sub if sub else folder
        found = {}
        for key, stem in _SPLITS.items():
            for candidate in (base / f"{stem}.gz", base / stem):
                if candidate.is_file():
                    found[key] = candidate
                    break
        if len(found) == len(_SPLITS):
            return found
    return None


def _check_not_other_dataset(files: dict[str, Path], source: IDXSource) -> None:
    """The MNIST family shares file names: refuse files that are another dataset's."""
    for key, path in files.items():
        if path.suffix != ".gz":
            continue
        md5 = file_md5(path)
        for other in SOURCES.values():
            if other.name != source.name and md5 in other.known_md5.values():
                raise DataError(f"{path} is {other.name}, not {source.name}. Point --data-dir at "
                                f"a folder holding {source.name}, or put each dataset in a subfolder "
                                f"named after it.")


def locate(name: str, data_dir: str | Path | None = None, download: bool = True) -> dict[str, Path]:
    """Find the four IDX files of dataset ``name``, downloading them if allowed."""
    source = _source(name)
    if data_dir is not None:
        found = _find_in(Path(data_dir), source)
        if found is None:
            raise DataError(f"--data-dir {data_dir} does not hold the {name} IDX files "
                            f"({', '.join(s + '[.gz]' for s in _SPLITS.values())}), directly or in "
                            f"{' or '.join(s for s in source.subfolders() if s)}.")
        _check_not_other_dataset(found, source)
        return found
    candidates = []
    if os.environ.get("CSACGAN_DATA_DIR"):
        candidates.append(Path(os.environ["CSACGAN_DATA_DIR"]))
    candidates += [user_cache_dir(), Path("/usr/share/datasets")]
    for folder in candidates:
        found = _find_in(folder, source)
        if found is not None:
            try:
                _check_not_other_dataset(found, source)
            except DataError:
                continue  # e.g. $CSACGAN_DATA_DIR holds MNIST and we want Fashion-MNIST
            return found
    if not download:
        raise DataError(f"{name} not found in {', '.join(map(str, candidates))}, and download is off.")
    root = user_cache_dir()
    try:
        source.torchvision_class(root=str(root), train=True, download=True)
    except Exception as exc:  # network errors come in many types
        raise DataError(f"Could not download {name} into {root} ({exc}). Download the four IDX "
                        f".gz files by hand and pass their folder with --data-dir, or set "
                        f"CSACGAN_DATA_DIR.") from exc
    found = _find_in(root, source)
    if found is None:
        raise DataError(f"Downloaded {name} into {root}, but its IDX files are not where expected.")
    return found


def _source(name: str) -> IDXSource:
    if name not in SOURCES:
        raise DataError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")
    return SOURCES[name]


DATASETS = ("mnist", "fashion-mnist", "cifar10", "imagefolder", "npz")


def load_dataset(name: str, data_dir: str | Path | None = None, download: bool = True,
                 image_size: int | None = None, progress: bool = False) -> ImageSet:
    """Load a whole dataset as uint8 tensors, checking shapes and recording file md5s.

    ``image_size`` resizes (users' folders and arrays, CIFAR-10); MNIST and
    Fashion-MNIST stay 28 x 28 as in the paper.
    """
    if name == "npz":
        from .arrays import load_npz
        return load_npz(data_dir, image_size=image_size)
    if name == "imagefolder":
        from .folders import load_image_folder
        return load_image_folder(data_dir, image_size, progress=progress)
    if name == "cifar10":
        from .cifar import load_cifar10
        return load_cifar10(data_dir, download, image_size)
    if image_size not in (None, 28):
        raise DataError(f"{name} is 28x28; --image-size applies to imagefolder, npz and cifar10")
    source = _source(name)
    paths = locate(name, data_dir, download)
    tensors, files = {}, {}
    for key, path in paths.items():
        tensors[key] = read_idx(path, expected_ndim=3 if key.endswith("images") else 1)
        md5 = file_md5(path)
        files[key] = {"path": str(path.resolve()), "md5": md5}
        official = source.known_md5.get(path.name.removesuffix(".gz"))
        if path.suffix == ".gz" and official and md5 != official:
            files[key]["note"] = f"md5 differs from the official {official}"
    for split in ("train", "test"):
        images, labels = tensors[f"{split}_images"], tensors[f"{split}_labels"]
        if images.shape[0] != labels.shape[0]:
            raise DataError(f"{paths[split + '_images']} holds {images.shape[0]} images but "
                            f"{paths[split + '_labels']} holds {labels.shape[0]} labels.")
        if tuple(images.shape[1:]) != (28, 28):
            raise DataError(f"{paths[split + '_images']} holds images of shape "
                            f"{tuple(images.shape[1:])}, expected 28x28.")
        if int(labels.max()) >= len(source.class_names) or int(labels.min()) < 0:
            raise DataError(f"{paths[split + '_labels']} has labels outside 0..{len(source.class_names) - 1}.")
    return ImageSet(
        name=name,
        train_images=tensors["train_images"].unsqueeze(1).contiguous(),
        train_labels=tensors["train_labels"].long(),
        test_images=tensors["test_images"].unsqueeze(1).contiguous(),
        test_labels=tensors["test_labels"].long(),
        class_names=source.class_names,
        files=files,
    )
