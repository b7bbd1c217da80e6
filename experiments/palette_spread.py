"""Do a generator's colours vary as the real ones do? For colour Fashion-MNIST
(make_colour_fashion.py: every garment a random bright colour on a random dark
background), the garment's colour of each image is the mean RGB of its brightest quarter
of pixels; a class's palette spread is the circular variance of those colours' hues
(1 - the length of the mean of exp(2 pi i hue): 0 when every image has one hue, near 1
for hues spread round the colour wheel). Real images of the folder beside every run's,
250 per class, and one grid of a class: a row of real images, then a row per run.

    python experiments/palette_spread.py runs/demo/colour-fashion runs/demo/cf-base runs/demo/cf-mbstd \\
        --figure docs/images/colour-fashion-palettes.png --show-class Coat
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch


def garment_colours(images: torch.Tensor) -> torch.Tensor:
    """(N, 3) mean RGB of each image's brightest quarter of pixels; images (N, 3, H, W) uint8."""
    x = images.float() / 255
    luminance = x.mean(dim=1).flatten(1)
    bright = luminance >= luminance.quantile(0.75, dim=1, keepdim=True)
    return (x.flatten(2) * bright[:, None]).sum(-1) / bright.sum(-1, keepdim=True)


def palette_spread(images: torch.Tensor) -> float:
    from matplotlib.colors import rgb_to_hsv
    hue = torch.from_numpy(rgb_to_hsv(garment_colours(images).numpy())[:, 0])
    angle = 2 * torch.pi * hue
    return float(1 - torch.hypot(angle.cos().mean(), angle.sin().mean()))


SUMMARY = [("accuracy", "classifier_accuracy", None), ("SSIM", "ssim_diversity", None), ("FID", "fid", None),
           ("precision", "prdc", "precision"), ("recall", "prdc", "recall"), ("coverage", "prdc", "coverage")]


def summary(means: dict, runs: list[str]) -> str:
    """One line per run: its mean palette spread (``means``, by run name and "real") beside
    the all-class evaluate metrics of its metrics.json, where it has one, and real data's."""
    import json

    def read(overall: dict, field: str | None) -> str:
        return f"{overall[field] if field else overall:.3g}"

    lines = ["| run | palette spread | " + " | ".join(h for h, _, _ in SUMMARY) + " |",
             "|" + " --- |" * (len(SUMMARY) + 2)]
    real = [""] * len(SUMMARY)
    for run in runs:
        path = Path(run) / "metrics.json"
        metrics = json.loads(path.read_text())["metrics"] if path.is_file() else {}
        cells = [read(metrics[key]["overall"], field) if key in metrics else "" for _, key, field in SUMMARY]
        real = [read(metrics[key]["real"]["overall"], field) if key in metrics else old
                for (_, key, field), old in zip(SUMMARY, real)]
        lines.append(f"| {Path(run).name} | {means[Path(run).name]:.3f} | " + " | ".join(cells) + " |")
    lines.append(f"| real | {means['real']:.3f} | " + " | ".join(real) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", help="the image folder the runs trained on")
    p.add_argument("runs", nargs="+")
    p.add_argument("--n-per-class", type=int, default=250)
    p.add_argument("--figure", help="PNG: real images of --show-class, then a row per run")
    p.add_argument("--show-class", default="Coat")
    args = p.parse_args()
    from torchvision.utils import save_image

    from csacgan.checkpoint import load_generator
    from csacgan.data import load_dataset
    from csacgan.generate import sample
    data = load_dataset("imagefolder", args.folder, image_size=32)
    names = data.class_names
    real = {c: data.train_images[data.train_labels == i][:args.n_per_class] for i, c in enumerate(names)}
    table = {"real": {c: palette_spread(real[c]) for c in names}}
    grids = [real[args.show_class][:12]]
    for run in args.runs:
        generator, _ = load_generator(run)
        fake = {c: sample(generator, torch.full((args.n_per_class,), i), seed=0) for i, c in enumerate(names)}
        table[Path(run).name] = {c: palette_spread(fake[c]) for c in names}
        grids.append(fake[args.show_class][:12])
    print("| images | " + " | ".join(names) + " | mean |")
    print("|" + " --- |" * (len(names) + 2))
    means = {row: sum(spreads.values()) / len(spreads) for row, spreads in table.items()}
    for row, spreads in table.items():
        print(f"| {row} | " + " | ".join(f"{spreads[c]:.3f}" for c in names) + f" | {means[row]:.3f} |")
    print()
    print(summary(means, args.runs))
    if args.figure:
        save_image(torch.cat(grids).float() / 255, args.figure, nrow=12, padding=2, pad_value=1.0)
        print(f"wrote {args.figure}: {args.show_class}, real first, then " + ", ".join(Path(r).name for r in args.runs))


if __name__ == "__main__":
    main()
