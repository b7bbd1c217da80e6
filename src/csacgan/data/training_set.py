"""The training set of a run: the dataset (loaded unless given) made imbalanced as the
config asks, with the kept indices and their summary."""
from __future__ import annotations

import torch

from . import load_dataset
from .imbalance import make_imbalance


def class_indices(classes, class_names) -> list[int]:
    """Class indices from indices or class names (``--minority 0`` or ``--minority defect``)."""
    out = []
    for c in classes:
        if isinstance(c, str) and c in class_names:
            out.append(list(class_names).index(c))
        elif isinstance(c, int) or (isinstance(c, str) and c.lstrip("-").isdigit()):
            out.append(int(c))
        else:
            raise ValueError(f"class {c!r} does not exist; classes are {list(class_names)} "
                             f"(give names or indices 0..{len(class_names) - 1})")
    return out


def prepare_data(cfg, data=None):
    """(dataset, kept indices as a tensor, imbalance summary) for a TrainConfig ``cfg``."""
    data_seed = cfg.seed if cfg.data_seed is None else cfg.data_seed
    data = data if data is not None else load_dataset(cfg.dataset, cfg.data_dir, image_size=cfg.image_size,
                                                      progress=cfg.progress)
    minority = class_indices(cfg.minority, data.class_names)
    bad = [c for c in minority if not 0 <= c < data.num_classes]
    if bad:  # every imbalance kind, "none" included
        raise ValueError(f"minority class(es) {bad} do not exist; classes are {list(data.class_names)} "
                         f"(give names or indices 0..{data.num_classes - 1})")
    indices, summary = make_imbalance(
        data.train_labels, num_classes=data.num_classes,
        minority_classes=minority,
        imbalance_ratio=cfg.imbalance_ratio, drop_fraction=cfg.drop_fraction,
        max_per_class=cfg.max_per_class, kind=cfg.imbalance, seed=data_seed,
        counts=cfg.class_counts)
    indices = torch.from_numpy(indices)
    if cfg.validation_fraction:
        indices, _ = validation_split(indices, data.train_labels, cfg.validation_fraction, data_seed)
        summary.counts = torch.bincount(data.train_labels[indices], minlength=data.num_classes).tolist()
    return data, indices, summary


def validation_split(indices: torch.Tensor, labels: torch.Tensor, fraction: float, seed: int):
    """(training indices, validation indices) of an imbalanced set: ``hold_out`` with a seed
    of its own, so that it never coincides with CostSensitive-ACGAN's held-out cost split."""
    return hold_out(indices, labels, fraction, seed + 1_000_003)


def hold_out(indices: torch.Tensor, labels: torch.Tensor, fraction: float, seed: int):
    """(training indices, held-out indices): a stratified ``fraction`` of each class, at
    least one image of every class with two or more and never its last one, drawn with
    ``seed``; the training set keeps its order. At rho 190 (26 zeros) 0.1 holds out 3
    zeros, so the held-out error of class '0' moves in steps of 1/3."""
    g = torch.Generator().manual_seed(seed * 7_919 + 17)
    held = []
    for c in torch.unique(labels[indices]).tolist():
        members = indices[labels[indices] == c]
        n = min(len(members) - 1, max(1, round(fraction * len(members)))) if len(members) >= 2 else 0
        held.append(members[torch.randperm(len(members), generator=g)[:n]])
    held = torch.sort(torch.cat(held)).values if held else indices[:0]
    keep = ~torch.isin(indices, held)
    return indices[keep], held
