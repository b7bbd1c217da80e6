"""MNIST and Fashion-MNIST from their standard IDX files, found in the order of
``search.py``. Inside each folder the files may sit directly, or under ``<name>/``, or
under torchvision's ``MNIST/raw`` / ``FashionMNIST/raw`` layout, gzipped or not.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torchvision import datasets as tv_datasets

from .idx import read_idx
from .imageset import DataError, ImageSet, file_md5
from .search import find_dataset

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

    def find(folder: Path):
        found = _find_in(folder, source)
        if found is not None:
            _check_not_other_dataset(found, source)
        return found

    return find_dataset(
        name, data_dir, find,
        missing_here=(f"the {name} IDX files ({', '.join(s + '[.gz]' for s in _SPLITS.values())}), directly "
                      f"or in {' or '.join(s for s in source.subfolders() if s)}."),
        download=(lambda root: source.torchvision_class(root=str(root), train=True, download=True))
        if download else None,
        by_hand="Download the four IDX .gz files by hand and pass their folder with --data-dir, or set "
                "CSACGAN_DATA_DIR.")


def _source(name: str) -> IDXSource:
    if name not in SOURCES:
        raise DataError(f"Unknown dataset {name!r}; choose one of {', '.join(SOURCES)}.")
    return SOURCES[name]


def load_mnist_family(name: str, data_dir: str | Path | None = None, download: bool = True,
                      image_size: int | None = None) -> ImageSet:
    """MNIST or Fashion-MNIST as uint8 tensors, shapes checked, file md5s recorded; 28 x 28
    as in the paper."""
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
