"""Side by side: real and synthetic images of one class in a folder written by
``csacgan augment`` (its manifest.csv says which is which).

    python experiments/real_vs_synthetic.py runs/demo/colour-fashion-balanced Bag out.png
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.utils import save_image


def main(folder: str, class_name: str, out: str, n: int = 20) -> None:
    folder = Path(folder)
    rows = [r for r in csv.DictReader(open(folder / "manifest.csv")) if r["class"] == class_name]
    real = [r["file"] for r in rows if r["synthetic"] == "0"][:n]
    fake = [r["file"] for r in rows if r["synthetic"] == "1"][:n]
    size = Image.open(folder / fake[0]).size if fake else Image.open(folder / real[0]).size

    def load(name):
        image = Image.open(folder / name).convert("RGB").resize(size)
        return torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255

    images = [load(f) for f in real] + [torch.ones(3, *size[::-1])] * (n - len(real)) + [load(f) for f in fake]
    save_image(torch.stack(images), out, nrow=n // 2 if n > 10 else n, padding=2, pad_value=1.0)
    print(f"wrote {out}: first {len(real)} real, then {len(fake)} synthetic '{class_name}'")


if __name__ == "__main__":
    main(*sys.argv[1:4])
