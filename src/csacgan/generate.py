"""Drawing images from a trained run's generator."""
from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import torch
from torchvision.utils import save_image

from .checkpoint import load_generator
from .files import atomic_path
from .data.batches import to_uint8


@torch.no_grad()
def sample(generator, labels: torch.Tensor, seed: int = 0, batch_size: int = 500) -> torch.Tensor:
    """uint8 images (N, C, H, W) of the given classes, deterministic for a seed."""
    device = next(generator.parameters()).device
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(len(labels), generator.latent_dim, generator=g)
    out = []
    for start in range(0, len(labels), batch_size):
        out.append(to_uint8(generator(z[start:start + batch_size].to(device),
                                      labels[start:start + batch_size].to(device))).cpu())
    return torch.cat(out) if out else torch.empty(0, dtype=torch.uint8)


def user_labels(ckpt: dict) -> np.ndarray:
    """The label each class index stands for in the user's data: an .npz's own label values
    (its classes are its sorted unique labels), the class index for every other dataset
    (whose class names are written beside, in ``class_names``)."""
    names = list(ckpt["class_names"])
    if ckpt["config"].get("dataset") == "npz" and all(n.lstrip("-").isdigit() for n in names):
        return np.array([int(n) for n in names])
    return np.arange(len(names))


def generate(run_dir: str | Path, cls: int | str, n: int, out: str | Path,
             grid: str | Path | None = None, seed: int = 0, device="cpu") -> Path:
    """Write ``n`` images of one class (a class name, or an index, as ``--minority`` takes
    them) to an .npz: ``images`` uint8 N x H x W (x 3), ``labels`` in the user's labels,
    ``class_names``."""
    from .data.training_set import class_indices
    from .runtime import check_fits
    out = Path(out)
    if out.suffix != ".npz":
        raise ValueError(f"--out {out}: generate writes an .npz (images and labels); name it FILE.npz")
    if grid and Path(grid).suffix != ".png":
        raise ValueError(f"--grid {grid}: the grid is a PNG; name it FILE.png")
    if n < 1:
        raise ValueError(f"--n must be positive, got {n}")
    generator, ckpt = load_generator(run_dir, device)
    names = list(ckpt["class_names"])
    if isinstance(cls, int) and not 0 <= cls < len(names):
        raise ValueError(f"--class {cls} does not exist; this run has classes 0..{len(names) - 1} ({', '.join(names)})")
    index, = class_indices([cls], names)
    shape = ckpt.get("image_shape") or [1, 28, 28]
    check_fits(n * int(np.prod(shape)), f"--n {n} images of {'x'.join(map(str, shape))}")
    labels = torch.full((n,), index, dtype=torch.long)
    images = sample(generator, labels, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    stored = images[:, 0] if images.shape[1] == 1 else images.permute(0, 2, 3, 1)
    # the grid first: a grid that cannot be written leaves no .npz behind
    with atomic_path(out) as tmp, contextlib.ExitStack() as stack:
        if grid:
            grid_tmp = stack.enter_context(atomic_path(grid))
            save_image(images[:100].float() / 255, grid_tmp, nrow=10, padding=2, pad_value=1.0, format="png")
        with open(tmp, "wb") as f:  # a file object: savez adds no ".npz"
            np.savez_compressed(f, images=stored.numpy(), labels=np.full(n, user_labels(ckpt)[index]),
                                class_names=np.array([names[index]] * n))
    return out
