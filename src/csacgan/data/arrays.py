"""Image datasets from NumPy arrays: an ``.npz`` file (``--dataset npz``) or the arrays
handed to a ``fit_resample`` sampler.

Images may be (N, H, W), (N, C, H, W) or (N, H, W, C) with C = 1 or 3, uint8 in
[0, 255] or floating point in [0, 1]; they are stored as uint8 (N, C, H, W). Labels
may be any integers or strings; classes are their sorted unique values, numbered 0..K-1.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .imageset import DataError, ImageSet, file_md5

SIZES = (28, 32, 64)


def resize_uint8(images: torch.Tensor, size) -> torch.Tensor:
    """uint8 (N, C, H, W) images resized to size x size, or to (H, W) (bilinear,
    antialiased), in chunks."""
    import torch.nn.functional as F
    size = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
    out = []
    for start in range(0, len(images), 4096):
        x = images[start:start + 4096].float()
        x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
        out.append(x.round_().clamp_(0, 255).to(torch.uint8))
    return torch.cat(out) if out else images.new_zeros((0, images.shape[1]) + size)


def to_nchw_uint8(images, where: str = "images", image_size: int | None = None,
                  any_size: bool = False) -> np.ndarray:
    """Validated uint8 (N, C, H, W) from any of the accepted layouts and dtypes; resized
    to ``image_size`` (28, 32 or 64) when given, else already square of one of those sizes
    (any size with ``any_size``: the samplers that need no network)."""
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4:
        if x.shape[1] not in (1, 3) and x.shape[-1] in (1, 3):
            x = np.moveaxis(x, -1, 1)
    else:
        raise DataError(f"{where}: expected images of shape (N, H, W), (N, C, H, W) or (N, H, W, C), "
                        f"got {x.shape}")
    if x.shape[1] not in (1, 3):
        raise DataError(f"{where}: expected 1 (grayscale) or 3 (RGB) channels, got shape {x.shape}")
    if image_size is not None:
        if image_size not in SIZES:
            raise DataError(f"--image-size must be one of {', '.join(map(str, SIZES))}, got {image_size}")
        if x.shape[2:] != (image_size, image_size):
            x = resize_uint8(torch.from_numpy(to_nchw_uint8_any(x, where)), image_size).numpy()
    if not any_size and (x.shape[2] != x.shape[3] or x.shape[2] not in SIZES):
        raise DataError(f"{where}: images must be square and {', '.join(map(str, SIZES))} pixels wide, "
                        f"got {x.shape[2]}x{x.shape[3]}; resize them first (or pass --image-size)")
    return to_nchw_uint8_any(x, where)


def to_nchw_uint8_any(x: np.ndarray, where: str) -> np.ndarray:
    """uint8 from uint8 or [0, 1] floats, any size."""
    if x.dtype == np.uint8:
        return np.ascontiguousarray(x)
    if np.issubdtype(x.dtype, np.floating):
        if x.size and (np.nanmin(x) < 0 or np.nanmax(x) > 1 or np.isnan(x).any()):
            raise DataError(f"{where}: floating-point images must lie in [0, 1]")
        return np.ascontiguousarray(np.round(x * 255).astype(np.uint8))
    raise DataError(f"{where}: images must be uint8 or floating point, got {x.dtype}")


def image_set_from_arrays(name: str, images, labels, test_images=None, test_labels=None,
                          test_fraction: float = 0.2, seed: int = 0, files=None,
                          classes=None, class_names=None, image_size: int | None = None) -> ImageSet:
    """An :class:`ImageSet`; without a test split, a stratified ``test_fraction`` is held out.

    ``classes``: the label values, in class order (default: the sorted unique labels);
    ``class_names``: their names (default: the values as text)."""
    x = to_nchw_uint8(images, f"{name}: images", image_size)
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"{name}: {len(x)} images but labels of shape {y.shape}; need one label per image")
    classes = np.unique(y) if classes is None else np.asarray(classes)
    if len(classes) < 2:
        raise DataError(f"{name}: at least two classes are needed, found {len(classes)}")
    codes = np.searchsorted(classes, y)
    if test_images is None:
        if test_fraction > 0:
            from sklearn.model_selection import train_test_split
            counts = np.bincount(codes, minlength=len(classes))
            # A class with a single image keeps it for training (a test image alone tells
            # nothing); the rest is split, stratified when the split has room for every class.
            single = counts[codes] == 1
            idx, rest = np.arange(len(y))[~single], codes[~single]
            n_test, present = int(np.ceil(test_fraction * len(rest))), len(np.unique(rest))
            stratify = rest if present <= min(n_test, len(rest) - n_test) else None
            train_idx, test_idx = train_test_split(idx, test_size=test_fraction, random_state=seed,
                                                   stratify=stratify)
            if single.any():
                train_idx = np.concatenate([train_idx, np.nonzero(single)[0]])
        else:
            train_idx, test_idx = np.arange(len(y)), np.arange(0)
        tx, ty = x[test_idx], codes[test_idx]
        x, codes = x[train_idx], codes[train_idx]
    else:
        tx = to_nchw_uint8(test_images, f"{name}: test_images", image_size or x.shape[-1])
        ty_raw = np.asarray(test_labels)
        if len(ty_raw) != len(tx):
            raise DataError(f"{name}: {len(tx)} test images but {len(ty_raw)} test labels")
        unknown = set(np.unique(ty_raw).tolist()) - set(classes.tolist())
        if unknown:
            raise DataError(f"{name}: test labels {sorted(unknown)} are not among the training classes")
        if tx.shape[1:] != x.shape[1:]:
            raise DataError(f"{name}: test images are {tx.shape[1:]}, training images {x.shape[1:]}")
        ty = np.searchsorted(classes, ty_raw)
    return ImageSet(name=name, train_images=torch.from_numpy(x), train_labels=torch.from_numpy(codes).long(),
                    test_images=torch.from_numpy(np.ascontiguousarray(tx)),
                    test_labels=torch.from_numpy(np.asarray(ty)).long(),
                    class_names=tuple(class_names or (str(c) for c in classes.tolist())), files=files or {})


def load_npz(path: str | Path, seed: int = 0, image_size: int | None = None) -> ImageSet:
    """``--dataset npz --data-dir FILE.npz``: arrays ``images`` and ``labels``, and
    optionally ``test_images`` and ``test_labels``."""
    if path is None:
        raise DataError("--dataset npz needs --data-dir FILE.npz")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file (--dataset npz needs --data-dir FILE.npz)")
    try:
        arrays = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from exc
    if not isinstance(arrays, np.lib.npyio.NpzFile):
        raise DataError(f"{path}: a single array (.npy), not an .npz archive; write one with "
                        f"numpy.savez(path, images=..., labels=...)")
    missing = [k for k in ("images", "labels") if k not in arrays.files]
    if missing:
        raise DataError(f"{path}: missing array(s) {missing}; found {arrays.files}")
    test = ("test_images" in arrays.files) and ("test_labels" in arrays.files)
    if ("test_images" in arrays.files) != ("test_labels" in arrays.files):
        have, lack = ("test_images", "test_labels") if "test_images" in arrays.files else ("test_labels", "test_images")
        raise DataError(f"{path}: has {have} but no {lack}; give both, or neither (then 20% of the "
                        f"images are held out as the test split)")
    return image_set_from_arrays(
        str(path.name), arrays["images"], arrays["labels"],
        arrays["test_images"] if test else None, arrays["test_labels"] if test else None,
        seed=seed, image_size=image_size,
        files={"npz": {"path": str(path.resolve()), "md5": file_md5(path) + (f"-s{image_size}" if image_size else "")}})


def like_input(new_nchw_uint8: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Generated uint8 (N, C, H, W) images in the layout and dtype of the caller's ``X``."""
    out = new_nchw_uint8
    if X.ndim == 3:
        out = out[:, 0]
    elif X.shape[1] not in (1, 3) and X.shape[-1] in (1, 3):
        out = np.moveaxis(out, 1, -1)
    if np.issubdtype(X.dtype, np.floating):
        return (out.astype(np.float64) / 255).astype(X.dtype)
    return out.astype(X.dtype)
