"""Drawing images from a trained run's generator."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torchvision.utils import save_image

from .checkpoint import atomic_path, load_generator
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


def generate(run_dir: str | Path, class_index: int, n: int, out: str | Path,
             grid: str | Path | None = None, seed: int = 0, device="cpu") -> Path:
    """Write ``n`` images of one class to an .npz (``images`` uint8 N x H x W, ``labels``)."""
    generator, ckpt = load_generator(run_dir, device)
    names = ckpt["class_names"]
    if not 0 <= class_index < len(names):
        raise ValueError(f"--class {class_index} does not exist; this run has classes 0..{len(names) - 1}")
    if n < 1:
        raise ValueError(f"--n must be positive, got {n}")
    labels = torch.full((n,), class_index, dtype=torch.long)
    images = sample(generator, labels, seed)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stored = images[:, 0] if images.shape[1] == 1 else images.permute(0, 2, 3, 1)
    with atomic_path(out) as tmp, open(tmp, "wb") as f:  # a file object: savez adds no ".npz"
        np.savez_compressed(f, images=stored.numpy(), labels=labels.numpy())
    if grid:
        with atomic_path(grid) as tmp:
            save_image(images[:100].float() / 255, tmp, nrow=10, padding=2, pad_value=1.0, format="png")
    return out
