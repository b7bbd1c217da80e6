"""Artificial class imbalance, after Buda, Maki and Mazurowski (2018).

Step imbalance (the paper's section 4.1): every class is first subsampled to at
most ``max_per_class`` images (the paper's section 3.1 uses 5000); the minority
classes then keep either ``max majority count / imbalance_ratio`` images
(``imbalance_ratio`` is rho, eq. 4) or ``(1 - drop_fraction)`` of their capped
count (the paper's "60/80/95% of class 0 removed" reading). The two readings
disagree: with a 5000 cap, dropping 95% of '0' leaves 250 images, rho = 20, while
rho = 190 leaves 26. Both are supported and every summary says which was used.

Linear imbalance: class counts fall linearly from the largest to
``largest / imbalance_ratio``, the listed minority classes smallest.

Exponential (long-tailed) imbalance, as in CIFAR-10-LT (Cao et al. 2019): the class of
rank r (0 = largest) keeps ``largest * rho^(-r / (K - 1))``. Ranks: the listed minority
classes smallest (the first listed the smallest of all), the others by decreasing index
above them, so ``--minority 9`` gives Cao et al.'s order (class 0 largest, 9 smallest).

Explicit counts: class c keeps ``counts[c]`` images, as in DeepSMOTE's protocol
(Dablain, Krawczyk and Chawla 2022: MNIST and Fashion-MNIST with 4000, 2000, 1000, 750,
500, 350, 200, 100, 60, 40 images of classes 0..9, see ``DEEPSMOTE_COUNTS``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch


DEEPSMOTE_COUNTS = (4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40)


class ImbalanceError(ValueError):
    """An imbalance that cannot be built from the data at hand."""


@dataclass
class ImbalanceSummary:
    kind: str
    protocol: str                  # "ratio" or "drop"
    requested: float               # rho or the drop fraction, as asked
    minority_classes: list[int]
    max_per_class: int | None
    counts: list[int]              # kept images per class
    imbalance_ratio: float         # rho actually obtained: max count / min count (eq. 4)
    minority_fraction: float       # mu: fraction of classes that are minority (eq. 3)

    def to_dict(self) -> dict:
        return asdict(self)


def make_imbalance(labels: torch.Tensor | np.ndarray, *, num_classes: int | None = None,
                   minority_classes=(0,), imbalance_ratio: float | None = None,
                   drop_fraction: float | None = None, max_per_class: int | None = 5000,
                   kind: str = "step", seed: int = 0,
                   counts=None) -> tuple[np.ndarray, ImbalanceSummary]:
    """Choose which images to keep so that the classes are imbalanced.

    Parameters
    ----------
    labels : (N,) integer labels of the full, balanced training set.
    minority_classes : classes made rare.
    imbalance_ratio : rho = max count / min count. Exactly one of this and
        ``drop_fraction`` must be given (``drop_fraction`` only with ``kind="step"``).
    drop_fraction : fraction of each minority class's (capped) images removed.
    max_per_class : cap applied to every class first; None for no cap.
    kind : "step", "linear", "exponential", or "none": the data as given (a user's own imbalanced set),
        only capped by ``max_per_class``; its minority classes are those with at most
        half the largest class's count (at least the smallest class); "counts": class c keeps
        ``counts[c]`` images (``minority_classes``, ``imbalance_ratio``, ``drop_fraction`` and
        ``max_per_class`` are not used).
    counts : per-class counts, one per class, for ``kind="counts"``.
    seed : the subsampling is deterministic for a seed.

    Returns
    -------
    indices : sorted int64 indices into ``labels`` of the kept images.
    summary : counts per class, rho and mu obtained.
    """
    labels = np.asarray(labels).astype(np.int64)
    num_classes = int(num_classes or labels.max() + 1)
    if kind == "none":
        return _as_given(labels, num_classes, imbalance_ratio, drop_fraction, max_per_class, seed)
    if kind == "counts":
        return _explicit_counts(labels, num_classes, counts, seed)
    if counts is not None:
        raise ImbalanceError(f"per-class counts are given with imbalance {kind!r}: use kind 'counts'")
    listed = list(dict.fromkeys(int(c) for c in minority_classes))  # order kept, duplicates dropped
    minority = sorted(listed)
    if (imbalance_ratio is None) == (drop_fraction is None):
        raise ImbalanceError("give exactly one of imbalance_ratio (rho) and drop_fraction")
    if kind not in ("step", "linear", "exponential"):
        raise ImbalanceError(f"unknown imbalance kind {kind!r}: use 'step', 'linear', 'exponential', "
                             "'counts' or 'none'")
    if not minority:
        raise ImbalanceError("at least one minority class is needed")
    bad = [c for c in minority if not 0 <= c < num_classes]
    if bad:
        raise ImbalanceError(f"minority class(es) {bad} do not exist; classes are 0..{num_classes - 1}")
    if len(minority) == num_classes:
        raise ImbalanceError("every class is a minority: leave at least one majority class")
    if imbalance_ratio is not None and not imbalance_ratio >= 1:
        raise ImbalanceError(f"imbalance_ratio (rho) must be >= 1, got {imbalance_ratio}")
    if drop_fraction is not None:
        if kind != "step":
            raise ImbalanceError("drop_fraction is defined for step imbalance only")
        if not 0 <= drop_fraction < 1:
            raise ImbalanceError(f"drop_fraction must be in [0, 1), got {drop_fraction}")
    if max_per_class is not None and max_per_class < 1:
        raise ImbalanceError(f"max_per_class must be positive, got {max_per_class}")

    available = np.bincount(labels, minlength=num_classes)
    capped = available if max_per_class is None else np.minimum(available, max_per_class)
    majority = [c for c in range(num_classes) if c not in minority]
    largest = int(capped[majority].max())
    target = capped.copy()
    if kind == "step":
        for c in minority:
            if imbalance_ratio is not None:
                target[c] = min(int(round(largest / imbalance_ratio)), capped[c])
            else:
                target[c] = int(round(capped[c] * (1 - drop_fraction)))
    elif kind == "linear":
        order = minority + majority  # smallest first
        smallest = largest / imbalance_ratio
        for rank, c in enumerate(order):
            wanted = smallest + (largest - smallest) * rank / (num_classes - 1)
            target[c] = min(int(round(wanted)), capped[c])
    else:
        order = majority + listed[::-1]  # largest first
        for rank, c in enumerate(order):
            wanted = largest * imbalance_ratio ** (-rank / (num_classes - 1))
            target[c] = min(int(wanted), capped[c])  # floored, as Cao et al.'s code does
    empty = [c for c in range(num_classes) if target[c] < 1]
    if empty:
        raise ImbalanceError(f"class(es) {empty} would keep no image (largest class {largest}, "
                             f"requested {imbalance_ratio or drop_fraction}); ask for less imbalance")

    indices = _draw(labels, target, seed)
    counts = np.bincount(labels[indices], minlength=num_classes)
    summary = ImbalanceSummary(
        kind=kind, protocol="ratio" if imbalance_ratio is not None else "drop",
        requested=float(imbalance_ratio if imbalance_ratio is not None else drop_fraction),
        minority_classes=minority, max_per_class=max_per_class, counts=counts.tolist(),
        imbalance_ratio=float(counts.max() / counts.min()),
        minority_fraction=float(np.mean(counts < counts.max())) if kind == "step"
        else len(minority) / num_classes,
    )
    return indices, summary


def _as_given(labels, num_classes, imbalance_ratio, drop_fraction, max_per_class, seed):
    if imbalance_ratio is not None or drop_fraction is not None:
        raise ImbalanceError("imbalance 'none' keeps the data as given: leave out imbalance_ratio and drop_fraction")
    counts = np.bincount(labels, minlength=num_classes)
    empty = [c for c in range(num_classes) if counts[c] == 0]
    if empty:
        raise ImbalanceError(f"class(es) {empty} have no images")
    rng = np.random.default_rng(seed)
    kept = []
    for c in range(num_classes):
        members = np.flatnonzero(labels == c)
        if max_per_class is not None and len(members) > max_per_class:
            members = rng.choice(members, size=max_per_class, replace=False)
        kept.append(members)
    indices = np.sort(np.concatenate(kept))
    counts = np.bincount(labels[indices], minlength=num_classes)
    minority = sorted({int(c) for c in np.flatnonzero(counts <= counts.max() / 2)} | {int(counts.argmin())})
    summary = ImbalanceSummary(kind="none", protocol="as-given", requested=float(counts.max() / counts.min()),
                               minority_classes=minority, max_per_class=max_per_class, counts=counts.tolist(),
                               imbalance_ratio=float(counts.max() / counts.min()),
                               minority_fraction=len(minority) / num_classes)
    return indices, summary


def _draw(labels: np.ndarray, target, seed: int) -> np.ndarray:
    """Sorted indices of ``target[c]`` images of each class c, drawn without replacement."""
    rng = np.random.default_rng(seed)
    kept = [rng.choice(np.flatnonzero(labels == c), size=int(n), replace=False) for c, n in enumerate(target)]
    return np.sort(np.concatenate(kept))


def _explicit_counts(labels, num_classes, counts, seed):
    if counts is None:
        raise ImbalanceError("imbalance 'counts' needs one count per class")
    counts = [int(n) for n in counts]
    if len(counts) != num_classes:
        raise ImbalanceError(f"{len(counts)} per-class counts given for {num_classes} classes")
    if min(counts) < 1:
        raise ImbalanceError(f"every class must keep at least one image, got counts {counts}")
    available = np.bincount(labels, minlength=num_classes)
    short = [c for c in range(num_classes) if counts[c] > available[c]]
    if short:
        raise ImbalanceError("; ".join(f"class {c} has {available[c]} images, {counts[c]} asked" for c in short))
    indices = _draw(labels, counts, seed)
    largest = max(counts)
    summary = ImbalanceSummary(kind="counts", protocol="counts", requested=float(largest / min(counts)),
                               minority_classes=[c for c in range(num_classes) if counts[c] < largest],
                               max_per_class=None, counts=counts, imbalance_ratio=float(largest / min(counts)),
                               minority_fraction=float(np.mean(np.array(counts) < largest)))
    return indices, summary
