"""Users' image folders (``--dataset imagefolder --data-dir DIR``), in torchvision's
ImageFolder layout: one sub-folder per class, its name the class name.

    DIR/defect/img001.png            DIR/train/defect/...   (optional split layout:
    DIR/ok/img002.jpg                DIR/test/defect/...     train/ and test/ each
                                                             holding class folders)

Without ``train/`` and ``test/``, a stratified 20% is held out as the test split
(the evaluator is trained on the rest and its accuracy measured there).

Images are grayscale (1 channel) when every file is grayscale (PIL modes 1, L, LA, I,
I;16, F), else RGB. With ``--image-size S`` (32 or 64; 28 also works) each image's
shorter side is resized to S (antialiased) and the centre S x S cropped; without it,
every image must already be square and of one of those sizes. Unreadable files, class
folders with no images and mixed sizes are errors that name the file or folder.

Class discovery and the accepted extensions are torchvision's (``find_classes``,
``IMG_EXTENSIONS``); decoding is PIL's. The loading loop is ours because
``ImageFolder`` decodes lazily per item and reports a bad file only when a training
step reaches it, and an empty class folder as one message for all classes.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .arrays import image_set_from_arrays
from .imageset import DataError, ImageSet

GRAYSCALE_MODES = {"1", "L", "LA", "I", "I;16", "F"}


def _has_class_folders(path: Path) -> bool:
    return path.is_dir() and any(p.is_dir() for p in path.iterdir())


def split_layout(root: Path) -> bool:
    """True when ``root`` holds ``train/`` and ``test/`` class-folder trees."""
    return _has_class_folders(root / "train") and _has_class_folders(root / "test")


def scan_image_folder(root: str | Path, classes: list[str] | None = None) -> tuple[list[str], list[tuple[Path, int]]]:
    """(class names, [(file, class index)]) of one ImageFolder tree, sorted by path."""
    from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"--data-dir {root}: no such folder (--dataset imagefolder needs a folder "
                        f"with one sub-folder of images per class)")
    try:
        found, _ = find_classes(str(root))
    except FileNotFoundError as exc:
        raise DataError(f"{root}: no class folders inside; expected one sub-folder of images per "
                        f"class, e.g. {root}/defect/*.png and {root}/ok/*.png") from exc
    if classes is not None and found != list(classes):
        raise DataError(f"{root}: class folders {found} differ from the training classes {list(classes)}")
    items = []
    for index, name in enumerate(found):
        files = sorted(p for p in (root / name).rglob("*")
                       if p.is_file() and p.suffix.lower() in IMG_EXTENSIONS)
        if not files:
            raise DataError(f"{root / name}: class folder with no images (extensions read: "
                            f"{', '.join(IMG_EXTENSIONS)})")
        items += [(p, index) for p in files]
    if len(found) < 2:
        raise DataError(f"{root}: found {len(found)} class folder(s); at least two classes are needed")
    return found, items


def _read(path: Path, digest) -> "Image.Image":
    """Decode one file, feeding its bytes to ``digest`` (each file is read once)."""
    import io

    from PIL import Image
    raw = path.read_bytes()
    digest.update(hashlib.md5(raw).digest())
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            return image.copy()
    except Exception as exc:  # PIL raises several types for bad files
        raise DataError(f"{path}: unreadable image ({exc})") from exc


def read_images(items: list[tuple[Path, int]], image_size: int | None, progress: bool = False):
    """uint8 (N, C, H, W) array of the files, and a digest of their bytes and the settings."""
    from torchvision.transforms import functional as TF
    from tqdm.auto import tqdm
    digest = hashlib.md5()
    for path, label in items:
        digest.update(f"{label}:{path.name};".encode())
    pictures = [_read(path, digest) for path, _ in tqdm(items, desc="reading images", unit="img",
                                                          disable=not progress or len(items) < 2000, leave=False)]
    gray = all(p.mode in GRAYSCALE_MODES for p in pictures)
    if image_size is None:
        first = pictures[0].size
        for (path, _), p in zip(items, pictures):
            if p.size != first:
                raise DataError(f"mixed image sizes: {items[0][0]} is {first[0]}x{first[1]} but {path} is "
                                f"{p.size[0]}x{p.size[1]}; pass --image-size 32 or 64 to resize them all")
        if first[0] != first[1] or first[0] not in (28, 32, 64):
            raise DataError(f"{items[0][0]}: images are {first[0]}x{first[1]}; pass --image-size 32 or 64 "
                            f"to resize (shorter side) and centre-crop them")
    elif image_size not in (28, 32, 64):
        raise DataError(f"--image-size must be 28, 32 or 64, got {image_size}")
    mode = "L" if gray else "RGB"
    arrays = []
    for p in pictures:
        p = p.convert(mode)
        if image_size is not None and p.size != (image_size, image_size):
            p = TF.center_crop(TF.resize(p, image_size, antialias=True), [image_size, image_size])
        a = np.asarray(p, dtype=np.uint8)
        arrays.append(a[None] if gray else a.transpose(2, 0, 1))
    digest.update(f"size={image_size};mode={mode}".encode())
    return np.stack(arrays), digest.hexdigest()


def load_image_folder(root: str | Path, image_size: int | None = None, seed: int = 0,
                      progress: bool = False) -> ImageSet:
    """``--dataset imagefolder``: the whole folder in memory as an :class:`ImageSet`."""
    if root is None:
        raise DataError("--dataset imagefolder needs --data-dir DIR (one sub-folder of images per class)")
    root = Path(root)
    if split_layout(root):
        classes, train_items = scan_image_folder(root / "train")
        _, test_items = scan_image_folder(root / "test", classes)
        x, md5_train = read_images(train_items, image_size, progress)
        tx, md5_test = read_images(test_items, image_size or x.shape[-1], progress)
        if tx.shape[1] != x.shape[1]:
            raise DataError(f"{root}: train/ images have {x.shape[1]} channel(s), test/ images {tx.shape[1]}")
        files = {"train": {"path": str((root / 'train').resolve()), "md5": md5_train, "images": len(x)},
                 "test": {"path": str((root / 'test').resolve()), "md5": md5_test, "images": len(tx)}}
        return image_set_from_arrays(root.name, x, [c for _, c in train_items], tx,
                                     [c for _, c in test_items], files=files,
                                     classes=np.arange(len(classes)), class_names=classes)
    classes, items = scan_image_folder(root)
    x, md5 = read_images(items, image_size, progress)
    files = {"folder": {"path": str(root.resolve()), "md5": md5, "images": len(x)}}
    return image_set_from_arrays(root.name, x, [c for _, c in items], seed=seed, files=files,
                                 classes=np.arange(len(classes)), class_names=classes)
