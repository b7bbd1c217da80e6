"""``csacgan augment``: a rebalanced copy of the run's dataset, in the layout it came in.

- ``--dataset imagefolder``: an ImageFolder tree: every original file copied byte for
  byte (same relative path), plus PNGs named ``synthetic-<run>-<class>-<n>.png`` in each
  class folder; with a ``train/``/``test/`` layout, ``test/`` is copied unchanged and only
  ``train/`` is rebalanced.
- ``--dataset npz``: ``<name>-rebalanced.npz`` with the original arrays first, unchanged,
  then the generated ones (resized to the originals' size if the run trained at another
  ``--image-size``), a boolean ``synthetic`` array, and the test arrays passed through.
- MNIST, Fashion-MNIST, CIFAR-10: the run's (imbalanced) training images, as an .npz
  (default) or an ImageFolder of PNGs (``--format imagefolder``).

Every output holds ``manifest.csv`` (one row per image: file or array index, class,
synthetic or not, the original's path, run, seed) and ``augment.json`` (strategy,
counts before and after, versions). The output is written to a temporary folder beside
``--out`` and renamed when complete, so a killed command leaves no half-written copy;
an existing ``--out`` is never overwritten, and the sources are only read.

``--strategy`` means what imbalanced-learn's ``sampling_strategy`` means for
over-sampling: "auto" (= "not majority"), "minority", "not minority", "all", a float
(desired minority / majority ratio, one minority class only), or a JSON object
{class name: target count}; resolved by ``imblearn.utils.check_sampling_strategy``.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from .checkpoint import load_generator
from .files import FolderLock, write_json
from .run_folder import check_data
from .config import TrainConfig
from .data import DataError
from .data.arrays import like_input, resize_uint8
from .data.training_set import prepare_data
from .generate import sample

FORMATS = ("auto", "imagefolder", "npz")


def parse_strategy(text, class_names):
    """A --strategy string as imbalanced-learn's ``sampling_strategy`` (dict keys: class names)."""
    if not isinstance(text, str):
        return text
    if text in ("auto", "minority", "not minority", "not majority", "all"):
        return text
    try:
        return float(text)
    except ValueError:
        pass
    try:
        wanted = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--strategy {text!r}: use auto, minority, not minority, not majority, all, a "
                         f"float, or a JSON object such as '{{\"{class_names[0]}\": 500}}'") from exc
    if not isinstance(wanted, dict):
        raise ValueError(f"--strategy {text!r}: a JSON strategy must be an object {{class: target count}}")
    resolved = {}
    for key, count in wanted.items():
        name = str(key)
        if name not in class_names and name.isdigit() and int(name) < len(class_names):
            name = class_names[int(name)]
        if name not in class_names:
            raise ValueError(f"--strategy: class {key!r} does not exist; classes are {list(class_names)}")
        if not isinstance(count, int) or count < 0:
            raise ValueError(f"--strategy: the target count of {key!r} must be a non-negative integer")
        resolved[name] = count
    return resolved


def _originals(cfg: TrainConfig, data_dir):
    """(kind, payload, class names, label of each original as class index)."""
    if cfg.dataset == "imagefolder":
        from .data.folders import scan_image_folder, split_layout
        root = Path(data_dir or cfg.data_dir)
        train_root = root / "train" if split_layout(root) else root
        classes, items = scan_image_folder(train_root)
        return "imagefolder", (root, train_root, items), classes, np.array([c for _, c in items])
    if cfg.dataset == "npz":
        path = Path(data_dir or cfg.data_dir)
        if not path.is_file():
            raise DataError(f"{path}: the run's .npz is not there any more; pass --data-dir FILE.npz")
        arrays = dict(np.load(path, allow_pickle=False))
        classes = np.unique(arrays["labels"])
        codes = np.searchsorted(classes, arrays["labels"])
        return "npz", (path, arrays), [str(c) for c in classes.tolist()], codes
    if cfg.dataset == "arrays":
        raise ValueError("this run was trained by fit_resample on arrays in memory; use the sampler's output")
    if data_dir is not None:
        cfg.data_dir = data_dir
    data, indices, _ = prepare_data(cfg)
    images = data.train_images[indices]
    return "builtin", (data.name, images), list(data.class_names), data.train_labels[indices].numpy()


def augment(run_dir: str | Path, out: str | Path, strategy="auto", fmt: str = "auto", seed: int = 0,
            data_dir: str | None = None, sampler=None) -> dict:
    """Write the rebalanced copy; returns the summary written to ``augment.json``.

    ``sampler``: instead of the run's generator, an over-sampler with imbalanced-learn's
    ``fit_resample`` (any of :mod:`csacgan.sampler`'s) fitted on the run's training images
    as the run saw them; its new images are the ones written."""
    run_dir, out = Path(run_dir), Path(out)
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}")
    # one augment at a time to this --out (its partial folder is its own); .NAME.lock beside it
    with FolderLock(out.parent / f".{out.name}.lock", "augment"):
        return _augment(run_dir, out, strategy, fmt, seed, data_dir, sampler)


def _check_originals(run_dir: Path, cfg: TrainConfig, data_dir) -> None:
    """The run's data as it trained on it (the md5s in its config.json), or one line. The
    files are read once more for it (an image folder's every image): the copy is written
    only from data that passed."""
    from .data import load_dataset
    if cfg.dataset != "arrays":  # arrays in memory: _originals refuses them
        data = load_dataset(cfg.dataset, data_dir or cfg.data_dir, image_size=cfg.image_size, progress=False)
        check_data(run_dir, data.files, where=data_dir or cfg.data_dir)


def _augment(run_dir: Path, out: Path, strategy, fmt: str, seed: int, data_dir, sampler) -> dict:
    from imblearn.utils import check_sampling_strategy

    from .runtime import check_fits, environment
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not empty; choose another --out")
    generator, ckpt = load_generator(run_dir)
    cfg = TrainConfig.from_dict(ckpt["config"]).resolved()
    _check_originals(run_dir, cfg, data_dir)
    kind, payload, classes, codes = _originals(cfg, data_dir)
    if list(classes) != list(ckpt["class_names"]):
        raise DataError(f"the data's classes {list(classes)} differ from the run's {list(ckpt['class_names'])}")
    for source in _source_paths(kind, payload):
        if out.resolve() == source.resolve() or source.resolve() in out.resolve().parents:
            raise ValueError(f"--out {out} is inside the original data {source}; write the copy elsewhere")
    if fmt == "auto":
        fmt = "imagefolder" if kind == "imagefolder" else "npz"
    if kind == "imagefolder" and fmt != "imagefolder":
        raise ValueError("an image-folder dataset is written back as an image folder (--format imagefolder)")
    if kind == "npz" and fmt != "npz":
        raise ValueError("an .npz dataset is written back as an .npz (--format npz)")
    names = np.array(classes, dtype=object)[codes].astype(str)
    wanted = check_sampling_strategy(parse_strategy(strategy, list(classes)), names, "over-sampling")
    check_fits(sum(wanted.values()) * int(np.prod(ckpt.get("image_shape") or [1, 28, 28])),
               f"--strategy's {sum(wanted.values())} new images")
    labels = torch.tensor([classes.index(c) for c, n in wanted.items() for _ in range(n)], dtype=torch.long)
    if sampler is not None:
        generated, weights = _from_sampler(sampler, cfg, labels)
    else:
        generated, weights = (sample(generator, labels, seed=seed).numpy() if len(labels) else None), None
    run_name = run_dir.resolve().name
    source = cfg.method if sampler is None else _sampler_name(sampler)
    meta = dict(run=str(run_dir.resolve()), seed=seed, method=source, step=ckpt["global_step"])

    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in out.parent.glob(f".{out.name}.partial-*"):  # left by a killed augment to this --out
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's 0700 would stay the copy's: a folder as mkdir makes it
    try:
        if fmt == "imagefolder":
            rows = _write_folder(tmp, kind, payload, classes, codes, generated, labels.numpy(), run_name, meta)
        else:
            rows = _write_npz(tmp, kind, payload, classes, codes, generated, labels.numpy(), meta)
        with open(tmp / "manifest.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["file", "class", "class_index", "synthetic", "source",
                                                   "run", "seed", "method", "step"])
            writer.writeheader()
            writer.writerows(rows)
        before = np.bincount(codes, minlength=len(classes))
        added = np.bincount(labels.numpy(), minlength=len(classes))
        summary = {"run": meta["run"], "method": source, "step": ckpt["global_step"], "seed": seed,
                   "strategy": strategy if isinstance(strategy, (str, float, int)) else dict(strategy),
                   "format": fmt, "source": [str(p) for p in _source_paths(kind, payload)],
                   "counts_before": dict(zip(classes, before.tolist())),
                   "generated": dict(zip(classes, added.tolist())),
                   "counts_after": dict(zip(classes, (before + added).tolist())),
                   "class_weight": None if weights is None else dict(zip(classes, map(float, weights))),
                   "environment": environment()}
        write_json(summary, tmp / "augment.json")
        if out.exists():
            out.rmdir()  # empty (checked above)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


def _sampler_name(sampler) -> str:
    return f"{type(sampler).__name__}({sampler.get_params()})" if hasattr(sampler, "get_params") \
        else type(sampler).__name__


def _from_sampler(sampler, cfg: TrainConfig, labels: torch.Tensor):
    """(uint8 new images in ``labels``' order or None, the sampler's class weights) of a
    sampler fitted on the run's training images (class indices as labels)."""
    data, indices, _ = prepare_data(cfg)
    images, y = data.train_images[indices].numpy(), data.train_labels[indices].numpy()
    counts = np.bincount(y, minlength=data.num_classes)
    added = np.bincount(labels.numpy(), minlength=data.num_classes)
    sampler.set_params(sampling_strategy={c: int(counts[c] + added[c]) for c in range(data.num_classes)
                                          if added[c] > 0 and counts[c] > 0})
    X_res, y_res = sampler.fit_resample(images, y)
    new, new_y = X_res[len(y):], y_res[len(y):]
    weights = sampler.class_weight(y) if hasattr(sampler, "class_weight") else None
    if not len(labels):
        return None, weights
    if np.bincount(new_y, minlength=data.num_classes).tolist() != added.tolist():
        raise ValueError(f"{type(sampler).__name__} cannot make the images asked for (it adds none)")
    order = np.concatenate([np.flatnonzero(new_y == c) for c in dict.fromkeys(labels.tolist())])
    return new[order], weights


def _source_paths(kind, payload) -> list[Path]:
    """The user's folder or file (built-in datasets are read from their IDX/pickle files)."""
    return [payload[0]] if kind in ("imagefolder", "npz") else []


def _png(array_chw: np.ndarray, path: Path) -> None:
    from PIL import Image
    image = array_chw[0] if array_chw.shape[0] == 1 else array_chw.transpose(1, 2, 0)
    Image.fromarray(np.ascontiguousarray(image)).save(path)


def _write_folder(tmp, kind, payload, classes, codes, generated, gen_labels, run_name, meta) -> list[dict]:
    rows = []
    if kind == "imagefolder":
        root, train_root, items = payload
        base = tmp / "train" if train_root != root else tmp
        for path, label in items:
            target = base / path.relative_to(train_root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            rows.append(dict(file=str(target.relative_to(tmp)), **{"class": classes[label]}, class_index=label,
                             synthetic=0, source=str(path.resolve()), **meta))
        if train_root != root:  # the test split, copied unchanged and listed
            shutil.copytree(root / "test", tmp / "test")
            from .data.folders import scan_image_folder
            _, test_items = scan_image_folder(root / "test", classes)
            for path, label in test_items:
                target = tmp / "test" / path.relative_to(root / "test")
                rows.append(dict(file=str(target.relative_to(tmp)), **{"class": classes[label]}, class_index=label,
                                 synthetic=0, source=str(path.resolve()), **meta))
    else:  # a built-in dataset's training images, as PNGs
        name, images = payload
        base = tmp
        for i, (image, label) in enumerate(zip(images.numpy(), codes)):
            target = base / _folder_name(classes[label]) / f"{name}-{i:06d}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            _png(image, target)
            rows.append(dict(file=str(target.relative_to(tmp)), **{"class": classes[label]},
                             class_index=int(label), synthetic=0, source=f"{name} train index", **meta))
    counters = {}
    for image, label in zip(generated if generated is not None else [], gen_labels):
        n = counters[label] = counters.get(label, -1) + 1
        folder = base / (classes[label] if kind == "imagefolder" else _folder_name(classes[label]))
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"synthetic-{run_name}-{_folder_name(classes[label])}-{n:05d}.png"
        _png(image, target)
        rows.append(dict(file=str(target.relative_to(tmp)), **{"class": classes[label]}, class_index=int(label),
                         synthetic=1, source="", **meta))
    return rows


def _folder_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name))


def _write_npz(tmp, kind, payload, classes, codes, generated, gen_labels, meta) -> list[dict]:
    if kind == "npz":
        path, arrays = payload
        x, y = arrays["images"], arrays["labels"]
        out_name = f"{path.stem}-rebalanced.npz"
        class_values = np.unique(y)
    else:
        name, images = payload
        x = images.numpy()
        x = x[:, 0] if x.shape[1] == 1 else x.transpose(0, 2, 3, 1)  # (N, H, W) or (N, H, W, C)
        y = np.asarray(codes)
        out_name = f"{name}-rebalanced.npz"
        class_values = np.arange(len(classes))
    new_x = np.zeros((0,) + x.shape[1:], x.dtype)
    new_y = np.zeros(0, y.dtype)
    if generated is not None:
        size = _spatial_size(x)
        if generated.shape[-2:] != size:
            generated = resize_uint8(torch.from_numpy(generated), size).numpy()
        new_x = like_input(generated, x)
        new_y = class_values[gen_labels]
    result = {"images": np.concatenate([x, new_x]), "labels": np.concatenate([y, new_y]),
              "synthetic": np.concatenate([np.zeros(len(x), bool), np.ones(len(new_x), bool)])}
    if kind == "npz":
        for key in ("test_images", "test_labels"):
            if key in arrays:
                result[key] = arrays[key]
    np.savez_compressed(tmp / out_name, **result)
    rows = []
    for i, (label, synthetic) in enumerate(zip(result["labels"], result["synthetic"])):
        index = int(np.searchsorted(class_values, label))
        rows.append(dict(file=f"{out_name}[{i}]", **{"class": classes[index]}, class_index=index,
                         synthetic=int(synthetic), source="" if synthetic else f"original index {i}", **meta))
    return rows


def _spatial_size(x: np.ndarray) -> tuple[int, int]:
    """(H, W) of the original images, read with ``to_nchw_uint8``'s layout rule."""
    if x.ndim == 3 or (x.shape[1] not in (1, 3) and x.shape[-1] in (1, 3)):
        return tuple(x.shape[1:3])
    return tuple(x.shape[2:4])
