"""The architecture study: the network families crossed with the ACGAN family's class
losses (experiments/architecture_study.sh trains it), scored by ``csacgan evaluate`` and
tabulated for the rare class, each figure beside its real-against-real reference.

Run folders are OUT/PREFIX-ROW-sSEED. For every row: the seeds, the seconds of a training
epoch (median over the run's epochs, so a resumed epoch's restart does not count), then for
the rare class FID, precision, recall, coverage, hue spread and chroma, and FID over all
classes,
as mean ± std over seeds; "real" is the same statistic of real images against real ones on
as many images (metrics/fid.py's reference_split), and the paired difference of each row
from the baseline row on the seeds both hold.

    python -m csacgan.experiments.architecture_study ~/csacgan-runs/colour --prefix cf --rare Bag \\
        --baseline t2-ce --page docs/your-data.md --marker colour-study \\
        --figure docs/images/colour-study-bag.png --archive docs/results/colour-study.json
"""
from __future__ import annotations

import argparse
import re
import statistics
from pathlib import Path

from ..files import write_json
from ..run_folder import RunFolder
from . import measures
from .pages import write_between_markers
from .stats import mean_std, paired_difference

METRICS = ("classifier_accuracy", "fid", "prdc", "hue_spread")
# (key, measure (measures.py; its name heads the column), format, higher is better?)
COLUMNS = (
    ("fid", "FID", "{:.1f}", False),
    ("precision", "precision", "{:.3f}", True),
    ("recall", "recall", "{:.3f}", True),
    ("coverage", "coverage", "{:.3f}", True),
    ("hue", "hue spread", "{:.3f}", True),
    ("chroma", "chroma", "{:.3f}", True),
    ("fid_all", "FID-all", "{:.1f}", False),
)


def runs(out: Path, prefix: str) -> dict[str, dict[int, Path]]:
    """{row: {seed: run folder}} of the finished runs (a final sample grid) under ``out``."""
    found: dict[str, dict[int, Path]] = {}
    for folder in sorted(out.glob(f"{prefix}-*-s*")):
        m = re.fullmatch(re.escape(prefix) + r"-(.+)-s(\d+)", folder.name)
        if m and folder.is_dir() and RunFolder(folder).finished:
            found.setdefault(m.group(1), {})[int(m.group(2))] = folder
    return found


def score(found: dict, n_per_class: int, progress: bool) -> None:
    """``csacgan evaluate`` on every run whose metrics.json lacks one of METRICS."""
    from ..evaluate import evaluate
    for seeds in found.values():
        for run in seeds.values():
            report = RunFolder(run).metrics()
            have = report.get("metrics", {})
            missing = [m for m in METRICS if m not in have]
            if "hue_spread" in have and "chroma" not in have["hue_spread"]:  # scored before the chroma
                missing.append("hue_spread")
            if missing or (report and report.get("n_per_class") != n_per_class):
                evaluate(run, missing or list(METRICS), n_per_class=n_per_class, progress=progress)


def epoch_seconds(run: Path) -> float:
    """The median training epoch's seconds (BAGAN's autoencoder stage, epoch 0, apart)."""
    seconds = [s for epoch, s in RunFolder(run).epoch_seconds().items() if epoch > 0]
    return statistics.median(seconds) if seconds else float("nan")


def collect(found: dict, rare: str) -> dict:
    """Everything the table shows, by row and seed: the archive (it outlives the run folders)."""
    archive = {}
    for row, seeds in found.items():
        archive[row] = {}
        for seed, run in sorted(seeds.items()):
            report = RunFolder(run).metrics()
            m, c = report["metrics"], str(report["class_names"].index(rare))
            archive[row][str(seed)] = {
                "values": {key: measures.read(m, name, c) for key, name, _, _ in COLUMNS},
                "real": {key: measures.read(m, name, c, real=True) for key, name, _, _ in COLUMNS},
                "accuracy": measures.read(m, "accuracy", c),
                "reference_counts": m.get("fid", {}).get("real", {}).get("counts", {}),
                "epoch_seconds": epoch_seconds(run), "run": str(run), "n_per_class": report["n_per_class"]}
    return archive


def table(archive: dict, baseline: str, rows: list[str] | None = None) -> str:
    rows = rows or list(archive)
    head = ["row", "seeds", "s / epoch"] + [h for _, h, _, _ in COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    real = {}
    for row in rows:
        seeds = archive.get(row, {})
        if not seeds:
            continue
        cells = [row, str(len(seeds)), f"{statistics.median(s['epoch_seconds'] for s in seeds.values()):.0f}"]
        for key, _, fmt, _ in COLUMNS:
            cells.append(mean_std([s["values"][key] for s in seeds.values() if s["values"][key] is not None], fmt))
            for s in seeds.values():
                real.setdefault(key, s["real"].get(key))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("| real against real | | | " + " | ".join(
        fmt.format(real[key]) if real.get(key) is not None else "" for key, _, fmt, _ in COLUMNS) + " |")
    diffs = differences(archive, baseline, rows)
    if diffs:
        lines += ["", f"Paired differences from `{baseline}` (row - {baseline}, mean ± std over the seeds both hold; "
                      "wins: seeds where the row is better; p: paired t-test):", "",
                  "| row | " + " | ".join(h for _, h, _, _ in COLUMNS) + " |", "|" + " --- |" * (len(COLUMNS) + 1)]
        for row, cells in diffs.items():
            lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def differences(archive: dict, baseline: str, rows: list[str]) -> dict[str, list[str]]:
    base = archive.get(baseline, {})
    out = {}
    for row in rows:
        if row == baseline or row not in archive:
            continue
        shared = sorted(set(archive[row]) & set(base))
        if len(shared) < 2:
            continue
        cells = []
        for key, _, fmt, higher in COLUMNS:
            a = [archive[row][s]["values"].get(key) for s in shared]
            b = [base[s]["values"].get(key) for s in shared]
            if None in a or None in b:
                cells.append("")
                continue
            d = paired_difference(a, b)
            wins = d["wins"] if higher else sum(x < 0 for x in d["differences"])
            p = f", p {d['p']:.2g}" if d["p"] is not None else ""
            cells.append(f"{fmt.format(d['mean'])} ± {fmt.format(d['std'])} ({wins}/{d['n']}{p})")
        out[row] = cells
    return out


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
    p.add_argument("--prefix", default="cf")
    p.add_argument("--rare", default="Bag", help="the rare class's name")
    p.add_argument("--baseline", default="t2-ce")
    p.add_argument("--rows", nargs="+", help="rows in this order (default: every row found)")
    p.add_argument("--n-per-class", type=int, default=250)
    p.add_argument("--page", type=Path, help="write the table between <!-- MARKER --> markers of this page")
    p.add_argument("--marker", default="colour-study")
    p.add_argument("--figure", type=Path)
    p.add_argument("--archive", type=Path, help="JSON of every run's numbers")
    p.add_argument("--no-score", action="store_true", help="tabulate what is scored, evaluate nothing")
    args = p.parse_args(argv)
    found = runs(args.out, args.prefix)
    if not found:
        raise SystemExit(f"no finished {args.prefix}-ROW-sSEED runs in {args.out}")
    if not args.no_score:
        score(found, args.n_per_class, progress=False)
    archive = collect(found, args.rare)
    rows = args.rows or sorted(archive)
    text = table(archive, args.baseline, rows)
    print(text)
    if args.page:
        write_between_markers(args.page, args.marker, text)
    if args.archive:
        write_json(archive, args.archive)
    if args.figure:
        print(f"wrote {figure(found, args.rare, rows, args.figure)}")


if __name__ == "__main__":
    main()
