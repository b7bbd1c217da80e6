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


from csacgan.metrics.hue_spread import foreground_colours as garment_colours  # noqa: E402
from csacgan.metrics.hue_spread import hue_spread_of as palette_spread  # noqa: E402


SUMMARY = [("accuracy", "classifier_accuracy", None), ("SSIM", "ssim_diversity", None), ("FID", "fid", None),
           ("precision", "prdc", "precision"), ("recall", "prdc", "recall"), ("coverage", "prdc", "coverage")]


def scores(run: str) -> tuple[dict, dict]:
    """The all-class evaluate metrics of the run's metrics.json, by SUMMARY's headers, and
    real data's ({} where the run has none)."""
    import json
    path = Path(run) / "metrics.json"
    metrics = json.loads(path.read_text())["metrics"] if path.is_file() else {}

    def read(overall: dict, field: str | None) -> float:
        return overall[field] if field else overall
    return ({h: read(metrics[key]["overall"], field) for h, key, field in SUMMARY if key in metrics},
            {h: read(metrics[key]["real"]["overall"], field) for h, key, field in SUMMARY if key in metrics})


def summary(means: dict, runs: list[str]) -> str:
    """One line per run: its mean palette spread (``means``, by run name and "real") beside
    the all-class evaluate metrics of its metrics.json, where it has one, and real data's."""
    lines = ["| run | palette spread | " + " | ".join(h for h, _, _ in SUMMARY) + " |",
             "|" + " --- |" * (len(SUMMARY) + 2)]
    real = {}
    for run in runs:
        run_scores, run_real = scores(run)
        real.update(run_real)
        lines.append(f"| {Path(run).name} | {means[Path(run).name]:.3f} | "
                     + " | ".join(f"{run_scores[h]:.3g}" if h in run_scores else "" for h, _, _ in SUMMARY) + " |")
    lines.append(f"| real | {means['real']:.3f} | "
                 + " | ".join(f"{real[h]:.3g}" if h in real else "" for h, _, _ in SUMMARY) + " |")
    return "\n".join(lines)


def seed_summary(means: dict, runs: list[str]) -> str:
    """Mean ± std over seeds of every setting trained on more than one: a run named NAME is
    seed 0 of NAME, NAME-sK seed K. Empty when no setting has two seeds."""
    import re

    from csacgan.experiments.stats import mean_std
    groups: dict[str, list[str]] = {}
    for run in runs:
        name = Path(run).name
        groups.setdefault(re.sub(r"-s\d+$", "", name), []).append(run)
    lines = []
    for name, members in groups.items():
        if len(members) < 2:
            continue
        values = [{"palette spread": means[Path(r).name], **scores(r)[0]} for r in members]
        cells = [mean_std([x[h] for x in values if h in x], "{:.1f}" if h == "FID" else "{:.3f}")
                 for h in ["palette spread"] + [h for h, _, _ in SUMMARY]]
        lines.append(f"| {name} | {len(members)} | " + " | ".join(cells) + " |")
    if not lines:
        return ""
    return "\n".join(["| setting | seeds | palette spread | " + " | ".join(h for h, _, _ in SUMMARY) + " |",
                      "|" + " --- |" * (len(SUMMARY) + 3)] + lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", help="the image folder the runs trained on")
    p.add_argument("runs", nargs="+")
    p.add_argument("--n-per-class", type=int, default=250)
    p.add_argument("--figure", help="PNG: real images of --show-class, then a row per run")
    p.add_argument("--show-class", default="Coat")
    p.add_argument("--figure-runs", nargs="+", metavar="NAME", help="the run folders' names drawn in the figure (default: every run's)")
    args = p.parse_args()
    from torchvision.utils import save_image

    from csacgan.checkpoint import load_generator
    from csacgan.data import load_dataset
    from csacgan.generate import sample
    data = load_dataset("imagefolder", args.folder, image_size=32)
    names = data.class_names
    real = {c: data.train_images[data.train_labels == i][:args.n_per_class] for i, c in enumerate(names)}
    table = {"real": {c: palette_spread(real[c]) for c in names}}
    grids, drawn = [real[args.show_class][:12]], []
    for run in args.runs:
        generator, _ = load_generator(run)
        fake = {c: sample(generator, torch.full((args.n_per_class,), i), seed=0) for i, c in enumerate(names)}
        table[Path(run).name] = {c: palette_spread(fake[c]) for c in names}
        if args.figure_runs is None or Path(run).name in args.figure_runs:
            grids.append(fake[args.show_class][:12])
            drawn.append(Path(run).name)
    print("| images | " + " | ".join(names) + " | mean |")
    print("|" + " --- |" * (len(names) + 2))
    means = {row: sum(spreads.values()) / len(spreads) for row, spreads in table.items()}
    for row, spreads in table.items():
        print(f"| {row} | " + " | ".join(f"{spreads[c]:.3f}" for c in names) + f" | {means[row]:.3f} |")
    print()
    print(summary(means, args.runs))
    seeds = seed_summary(means, args.runs)
    if seeds:
        print()
        print(seeds)
    if args.figure:
        save_image(torch.cat(grids).float() / 255, args.figure, nrow=12, padding=2, pad_value=1.0)
        print(f"wrote {args.figure}: {args.show_class}, real first, then " + ", ".join(drawn))


if __name__ == "__main__":
    main()
