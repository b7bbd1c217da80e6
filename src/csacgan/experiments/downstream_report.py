"""The report of ``csacgan downstream``, read back from ``OUT/downstream.json`` alone:
per-sampler means over seeds, paired differences between samplers on the same seeds
(with a paired t-test, scipy's), the Markdown table and the figures."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .stats import paired_difference

# What downstream.json holds: cells keyed LEVEL/SAMPLER/SEED, each with these test scores;
# the validation split, the GANs' training data and latent SMOTE's autoencoder use split seed 0.
METRICS = ("acsa", "gm", "macro_f1", "minority_recall")
SPLIT_SEED = 0


def cell_key(level: str, sampler: str, seed: int) -> str:
    return f"{level}/{sampler}/{seed}"


# DeepSMOTE's MNIST table (Dablain, Krawczyk and Chawla 2022, Table 3, ResNet-18), in %,
# as commonly transcribed; these four ACSA values are the ones quoted, the rest are not.
DEEPSMOTE_PUBLISHED_ACSA = {"smote": 81.48, "bagan": 92.56, "gamo": 95.45, "deepsmote": 96.16}


def paired(state: dict, level: str, sampler: str, baseline: str, metric: str = "acsa") -> dict | None:
    """Per-seed difference sampler - baseline on the seeds both have: mean, std, wins, t-test p,
    and the differences themselves."""
    cells = state["cells"]
    seeds = sorted({c["seed"] for c in cells.values() if c["level"] == level})
    pairs = [(cells[cell_key(level, sampler, k)][metric], cells[cell_key(level, baseline, k)][metric])
             for k in seeds if cell_key(level, sampler, k) in cells and cell_key(level, baseline, k) in cells]
    if not pairs:
        return None
    return paired_difference([a for a, _ in pairs], [b for _, b in pairs])


def sampler_order(names) -> list[str]:
    """The plain samplers in SAMPLERS' order, then the recipes (SAMPLER+LOSS@OPTIONS) in
    their sampler's order, the losses alone (none+LOSS) first, each group as given."""
    from ..sampler import SAMPLERS
    base, names = list(SAMPLERS), list(dict.fromkeys(names))
    plain = [n for n in base if n in names]
    sampler = lambda n: n.split("@")[0].partition("+")[0]  # noqa: E731
    recipes = sorted((n for n in names if n not in plain),
                     key=lambda n: (base.index(sampler(n)) if sampler(n) in base else len(base), names.index(n)))
    return plain + recipes


def loss_only(name: str) -> bool:
    """A row that changes only the classifier's loss: none, class-weight, none+LOSS."""
    return name in ("none", "class-weight") or (name.startswith("none+") and "@" not in name)


def alone(name: str) -> str | None:
    """The loss-only row a recipe with generated images stands on: bagan+drw@crt -> none+drw."""
    sampler, _, loss = name.split("@")[0].partition("+")
    if sampler in ("none", "class-weight") or not loss:
        return None
    return "class-weight" if loss == "class-weight" else "none" if loss == "ce" else f"none+{loss}"


def best_loss_only(table: dict) -> str | None:
    """The loss-only row with the highest mean ACSA at one level."""
    rows = [n for n in table if loss_only(n)]
    return max(rows, key=lambda n: table[n]["acsa"][0]) if rows else None


def summary(state: dict) -> dict:
    """{level: {sampler: {metric: (mean, std, n)}}} over seeds."""
    table: dict = {}
    for c in state["cells"].values():
        per = table.setdefault(c["level"], {}).setdefault(c["sampler"], {m: [] for m in METRICS})
        for m in METRICS:
            per[m].append(c[m])
    return {level: {name: {m: (float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, len(v))
                           for m, v in per.items()} for name, per in rows.items()}
            for level, rows in table.items()}


def write_report(state: dict, path: Path) -> None:
    s = state["settings"]
    table = summary(state)
    lines = [f"# Downstream: {s['protocol']} protocol, {s['dataset']}, {s['classifier']}", "",
             f"Classifier: {s['classifier']}, trained until its validation balanced accuracy stopped improving "
             f"({s['patience']} checks of {s['check_every']} steps, at most {s['max_steps']} steps of 128 images; "
             f"random shifts of up to 2 pixels); GANs trained {s['gan_epochs']} epochs on split seed {SPLIT_SEED}. "
             f"Mean +- std over seeds; the paired difference in ACSA against `none` (no oversampling) "
             f"on the same seeds, with wins out of n and a paired t-test p.", ""]
    order = sampler_order(c["sampler"] for c in state["cells"].values())  # every invocation's
    for level in [x for x in state["levels"] if x in table]:
        info = state["levels"].get(level, {})
        lines += [f"## {level}", "", f"Training counts per class: {info.get('train_counts')}; validation "
                  f"{info.get('validation_counts')}.", "",
                  "| sampler | ACSA | GM | macro-F1 | minority recall | ACSA - none | wins | p | seeds |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name in [n for n in order if n in table[level]]:
            row = table[level][name]
            # one seed has no spread to show
            cells = [f"{100 * row[m][0]:.2f}" + (f" +- {100 * row[m][1]:.2f}" if row[m][2] > 1 else "") for m in METRICS]
            d = paired(state, level, name, "none") if name != "none" else None
            diff = (f"{100 * d['mean']:+.2f}" + (f" +- {100 * d['std']:.2f}" if d["n"] > 1 else ""), f"{d['wins']}/{d['n']}",
                    "" if d["p"] is None else f"{d['p']:.3f}") if d else ("", "", "")
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {' | '.join(diff)} | {row['acsa'][2]} |")
        pairs = [(a, b) for a, b in (("cs-acgan", "acgan"), ("cs-acgan", "bagan"), ("random", "class-weight"),
                                     ("smote", "random"), ("latent-smote", "smote"))
                 if a in table[level] and b in table[level]]
        if pairs:
            lines += ["", "Paired ACSA differences on the same seeds (mean +- std, wins / n, paired t-test p):", ""]
            for a, b in pairs:
                d = paired(state, level, a, b)
                p = "" if d["p"] is None else f", p {d['p']:.3f}"
                lines.append(f"- {a} - {b}: {100 * d['mean']:+.2f} +- {100 * d['std']:.2f} points, "
                             f"{d['wins']}/{d['n']}{p}")
        lines += on_top_lines(state, level, table[level], order)
        lines.append("")
    if s["protocol"] == "deepsmote" and s["dataset"] == "mnist":  # their other tables are not quoted
        lines += ["DeepSMOTE's published MNIST ACSA (ResNet-18, their protocol), as commonly transcribed: "
                  + ", ".join(f"{k} {v:.2f}" for k, v in DEEPSMOTE_PUBLISHED_ACSA.items()) + ".", ""]
    path.write_text("\n".join(lines))


def on_top_lines(state: dict, level: str, table: dict, order: list[str]) -> list[str]:
    """Generated images used with a loss, against that loss alone and against the best
    loss-only row: the question whether generating is worth it once the loss is strong."""
    best = best_loss_only(table)
    lines = []
    for name in [n for n in order if n in table and alone(n)]:
        parts = []
        for baseline in dict.fromkeys(b for b in (alone(name), best) if b in table):
            d = paired(state, level, name, baseline)
            if d:
                p = "" if d["p"] is None else f", p {d['p']:.3f}"
                spread = f" +- {100 * d['std']:.2f}" if d["n"] > 1 else ""
                parts.append(f"against {baseline} {100 * d['mean']:+.2f}{spread} ({d['wins']}/{d['n']}{p})")
        if parts:
            lines.append(f"- {name}: " + "; ".join(parts))
    if lines:
        lines = ["", f"Generated images with a loss, against the loss alone and the best loss-only row "
                 f"(`{best}`), paired ACSA points (mean +- std, wins / n, p):", ""] + lines
    return lines


def write_figures(state: dict, out: Path) -> list[Path]:
    """OUT/recall-LEVEL.png: each sampler's test recall per class (mean over seeds), the
    classes ordered by their training count, smallest on the right."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for level, info in state["levels"].items():
        cells = [c for c in state["cells"].values() if c["level"] == level]
        if not cells:
            continue
        counts = info["train_counts"]
        order = sorted(range(len(counts)), key=lambda c: -counts[c])
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for i, name in enumerate(sampler_order(c["sampler"] for c in cells)):
            recall = np.mean([c["recall"] for c in cells if c["sampler"] == name], axis=0)
            ax.plot(range(len(order)), recall[order], marker="o", ms=4, color=f"C{i}", label=name,
                    ls="--" if name in ("none", "class-weight", "random") else "-")
        ax.set_xticks(range(len(order)), [f"{c}\n({counts[c]})" for c in order])
        ax.set_xlabel("class (training images)")
        ax.set_ylabel("test recall, mean over seeds")
        ax.set_title(f"{state['settings']['protocol']} protocol, {level}: recall per class")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, ncol=2)
        fig.tight_layout()
        path = out / f"recall-{level}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    gain = write_gain_figure(state, out / "gain.png")
    return paths + ([gain] if gain else [])


def write_gain_figure(state: dict, path: Path) -> Path | None:
    """PATH: every sampler's paired ACSA gain over ``none``, in points, one group of
    markers per level: each seed's difference as a dot, the mean with its std as a bar.
    None when no level has a sampler beside ``none``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = state["cells"].values()
    levels = [lv for lv in state["levels"] if any(c["level"] == lv and c["sampler"] == "none" for c in cells)]
    names = [n for n in sampler_order(c["sampler"] for c in cells if c["level"] in levels) if n != "none"]
    if not names:
        return None
    fig, ax = plt.subplots(figsize=(1.1 * len(names) + 2, 4))
    width = 0.8 / len(levels)
    for j, level in enumerate(levels):
        for i, name in enumerate(names):
            d = paired(state, level, name, "none")
            if d is None:
                continue
            x = i - 0.4 + width * (j + 0.5)
            ax.scatter([x] * d["n"], [100 * v for v in d["differences"]], s=10, color=f"C{j}", alpha=0.5, zorder=3)
            ax.errorbar(x, 100 * d["mean"], yerr=100 * d["std"], fmt="_", ms=14, capsize=3, color=f"C{j}",
                        label=level if i == 0 else None, zorder=4)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(range(len(names)), names, rotation=20)
    ax.set_ylabel("ACSA - none (points), paired seeds")
    ax.set_title(f"{state['settings']['protocol']} protocol, {state['settings']['dataset']}: "
                 "gain over no resampling (mean +- std, dots: seeds)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, title="level")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
