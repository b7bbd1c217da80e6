"""The architecture study: the network families crossed with the ACGAN family's class
losses, two configurations of the study runner (study.py): ``colour`` (colour
Fashion-MNIST, 'Bag' rare at 1:50, 32x32; the data made by experiments/make_colour_fashion.py)
and ``mnist`` (MNIST with '0' at rho 190). Every row names its method, networks and class
loss (auto would pick them by the data); CostSensitive-ACGAN on the default recipe, 8 epochs.

Run folders are OUT/PREFIX-ROW-sSEED. For every row: the seeds, the seconds of a training
epoch (median over the run's epochs, so a resumed epoch's restart does not count), then for
the rare class FID, precision, recall, coverage, hue spread and chroma, and FID over all
classes,
as mean ± std over seeds; "real" is the same statistic of real images against real ones on
as many images (metrics/fid.py's reference_split), and the paired difference of each row
from the baseline row on the seeds both hold.

    python -m csacgan.experiments.architecture_study ~/csacgan-runs/colour --study colour --train --rows t2-ce
    python -m csacgan.experiments.architecture_study ~/csacgan-runs/colour --study colour \\
        --page docs/your-data.md --marker colour-study \\
        --figure docs/images/colour-study-bag.png --archive docs/results/colour-study/runs.json
"""
from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

from ..files import write_json
from .pages import write_between_markers
from .study import Study

ROWS = {
    "t2-ce": dict(method="cs-acgan", architecture="table2", class_loss="ce"),
    "t2-tac": dict(method="cs-acgan", architecture="table2", class_loss="tac"),
    "t2-d2d": dict(method="cs-acgan", architecture="table2", class_loss="d2d-ce"),
    "t2-bagan-ms0.5": dict(method="bagan", architecture="table2", mode_seeking=0.5),
    "rn-ce": dict(method="cs-acgan", architecture="resnet", class_loss="ce"),
    "rn-tac": dict(method="cs-acgan", architecture="resnet", class_loss="tac"),
    "rn-d2d": dict(method="cs-acgan", architecture="resnet", class_loss="d2d-ce"),
    "rn-gsr": dict(method="cs-acgan", architecture="resnet", class_loss="ce", gsr=0.5),
    "t2-tac-ms0.5": dict(method="cs-acgan", architecture="table2", class_loss="tac", mode_seeking=0.5),
    "rn-tac24": dict(method="cs-acgan", architecture="resnet", class_loss="tac", epochs=24),  # rn-tac, 3x longer
}
METRICS = ("classifier_accuracy", "fid", "prdc", "hue_spread")
COLOUR_DATA = os.environ.get("COLOUR_DATA", str(Path.home() / "csacgan-runs" / "colour-fashion"))
STUDIES = {
    "colour": Study("cf", ROWS, dict(dataset="imagefolder", data_dir=COLOUR_DATA, image_size=32, minority=["Bag"],
                                     epochs=8), rare="Bag", metrics=METRICS, n_per_class=250, baseline="t2-ce"),
    "mnist": Study("mn", ROWS, dict(dataset="mnist", imbalance_ratio=190.0, epochs=8), rare="0", metrics=METRICS,
                   n_per_class=1000, baseline="t2-ce"),
}


def figure(found: dict, rare: str, rows: list[str], path: Path, n: int = 12, seed: int = 0) -> Path:
    """Real images of the rare class, then ``n`` of each row's (its lowest seed), one row each."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch
    from torchvision.utils import make_grid

    from ..checkpoint import load_generator
    from ..config import TrainConfig
    from ..data.training_set import prepare_data
    from ..generate import sample
    rows = [r for r in rows if r in found]
    first = found[rows[0]][min(found[rows[0]])]
    generator, ckpt = load_generator(first)
    data, _, _ = prepare_data(TrainConfig.from_dict(ckpt["config"]).resolved())
    c = list(data.class_names).index(rare)
    strips = [("real", data.test_images[data.test_labels == c][:n])]
    for row in rows:
        generator, _ = load_generator(found[row][min(found[row])])
        strips.append((row, sample(generator, torch.full((n,), c), seed=seed)))
    fig, axes = plt.subplots(len(strips), 1, figsize=(n * 0.62, len(strips) * 0.75))
    for ax, (name, images) in zip(axes, strips):
        grid = make_grid(images.float() / 255, nrow=n, padding=1, pad_value=1.0)
        ax.imshow(grid.permute(1, 2, 0).numpy() if grid.shape[0] == 3 else grid[0].numpy(), cmap="gray")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path)
    p.add_argument("--study", choices=list(STUDIES), default="colour")
    p.add_argument("--train", action="store_true", help="train (or resume) the planned runs first")
    p.add_argument("--seeds", type=int, nargs="+", help="seeds to train (default 0 1 2)")
    p.add_argument("--prefix", help="run folders OUT/PREFIX-ROW-sSEED (default: the study's)")
    p.add_argument("--rare", help="the rare class's name (default: the study's)")
    p.add_argument("--baseline", help="the row the others are paired with (default t2-ce)")
    p.add_argument("--rows", nargs="+", help="rows in this order (default: every row found; with --train, every row)")
    p.add_argument("--n-per-class", type=int, help="generated images per class scored (default: the study's)")
    p.add_argument("--page", type=Path, help="write the table between <!-- MARKER --> markers of this page")
    p.add_argument("--marker", default="colour-study")
    p.add_argument("--figure", type=Path)
    p.add_argument("--archive", type=Path, help="JSON of every run's numbers")
    p.add_argument("--no-score", action="store_true", help="tabulate what is scored, evaluate nothing")
    args = p.parse_args(argv)
    study = STUDIES[args.study]
    study = replace(study, **{k: v for k, v in dict(prefix=args.prefix, rare=args.rare, baseline=args.baseline,
                                                      n_per_class=args.n_per_class).items() if v is not None})
    if args.train:
        study.train(args.out, args.rows, args.seeds)
    found = study.found(args.out)
    if not found:
        raise SystemExit(f"no finished {study.prefix}-ROW-sSEED runs in {args.out}")
    if not args.no_score:
        study.score(found)
    archive = study.collect(found)
    rows = args.rows or sorted(archive)
    text = study.table(archive, rows=rows)
    print(text)
    if args.page:
        write_between_markers(args.page, args.marker, text)
    if args.archive:
        write_json(archive, args.archive)
    if args.figure:
        print(f"wrote {figure(found, study.rare, rows, args.figure)}")


if __name__ == "__main__":
    main()
