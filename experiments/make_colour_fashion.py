"""Write "colour Fashion-MNIST", an RGB image folder with one rare class, as a user's
data would look: one sub-folder of PNGs per class.

No CIFAR-10 copy can be had on our build machine (no internet; no Debian or PyPI package
ships its images), so the RGB demonstration of docs/your-data.md uses this derived set: every
Fashion-MNIST garment (28x28) is padded to 32x32 and coloured, pixel = background x (1 - a)
+ foreground x a with a the grey level, foreground a random bright colour and background
a random dark colour per image. Each class keeps N images, the rare class N / RATIO, in
OUT/train; OUT/test holds --test-per-class images of every class from Fashion-MNIST's
test set, coloured the same way, so that the rare class is scored on as many real images
as the others (0: no test/, and csacgan holds out 20% of the training images).

    python experiments/make_colour_fashion.py --out data/colour-fashion --per-class 1250 \
        --rare Bag --ratio 50 --test-per-class 500
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from csacgan.data import load_dataset


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--per-class", type=int, default=1250)
    p.add_argument("--rare", default="Bag", help="class name made rare")
    p.add_argument("--ratio", type=float, default=50.0)
    p.add_argument("--test-per-class", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", help="Fashion-MNIST IDX folder (default: the usual search)")
    args = p.parse_args()
    out = Path(args.out)
    if out.exists():
        raise SystemExit(f"{out} exists; choose another --out")
    data = load_dataset("fashion-mnist", args.data_dir)
    if args.rare not in data.class_names:
        raise SystemExit(f"--rare {args.rare!r}: classes are {data.class_names}")
    rng = np.random.default_rng(args.seed)
    splits = [("train", data.train_images, data.train_labels, None)]
    if args.test_per_class:
        splits.append(("test", data.test_images, data.test_labels, args.test_per_class))
    for split, images, labels, per_class in splits:
        images, labels = images[:, 0].numpy(), labels.numpy()
        for c, name in enumerate(data.class_names):
            n = per_class or (args.per_class if name != args.rare else int(round(args.per_class / args.ratio)))
            folder = (out / split if args.test_per_class else out) / name.replace("/", "_")
            folder.mkdir(parents=True)
            for index in rng.choice(np.flatnonzero(labels == c), n, replace=False):
                alpha = np.pad(images[index], 2)[..., None].astype(np.float32) / 255
                foreground = rng.uniform(0.5, 1.0, 3) * 255
                background = rng.uniform(0.0, 0.3, 3) * 255
                rgb = background * (1 - alpha) + foreground * alpha
                Image.fromarray(np.round(rgb).astype(np.uint8)).save(folder / f"{index:05d}.png")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
