"""``report.md`` and its figures, built only from the run folders of a grid.

Tables follow the paper's numbering (Table 3: the imbalance; Table 4: SSIM diversity
of generated '0's; Table 5: ResNet-18 accuracy on generated images), each with the
paper's published number beside ours, then the field's metrics and the paper's claims
as paired tests (claims.py). Figures: class distributions (the paper's Figures 4-7),
generated '0's per method and level (Figures 8-9), w_c over epochs, and loss curves.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from ..checkpoint import load_generator
from ..errors import CsacganError
from ..files import read_json
from .stats import mean_std
from ..generate import sample
from .claims import ALPHA, MARGIN, check_claims, measure
from .claims import metric as _metric

# The paper's Tables 4 and 5, keyed by level (% of '0' removed) and method.
PAPER_TABLE4_SSIM = {60: {"acgan": 0.4, "bagan": 0.3, "cs-acgan": 0.12},
                     80: {"acgan": 0.4, "bagan": 0.3, "cs-acgan": 0.12},
                     95: {"acgan": 0.42, "bagan": 0.35, "cs-acgan": 0.17}}
PAPER_TABLE5_ACCURACY = {60: {"acgan": 0.9925, "bagan": 0.9975, "cs-acgan": 0.98},
                         80: {"acgan": 0.9885, "bagan": 0.9895, "cs-acgan": 0.98},
                         95: {"acgan": 0.9775, "bagan": 0.98, "cs-acgan": 0.97}}
NAMES = {"acgan": "ACGAN", "bagan": "BAGAN", "cs-acgan": "CostSensitive-ACGAN"}
MINORITY = "0"


def read_runs(grid_dir: Path) -> tuple[dict, list[dict]]:
    if not (grid_dir / "grid.json").is_file():
        raise CsacganError(f"{grid_dir} holds no grid (no grid.json): run 'csacgan reproduce --out {grid_dir}' "
                           f"first, or point --out to a grid folder")
    grid = read_json(grid_dir / "grid.json")
    runs = []
    for run in grid["runs"]:
        folder = Path(run["config"]["out"])
        if not folder.is_absolute() and not folder.exists():
            folder = grid_dir / "runs" / run["name"]
        entry = {**run, "dir": folder, "planned": run["config"]}  # "config" becomes the run's config.json
        for name in ("config.json", "metrics.json", "reused.json"):
            path = folder / name
            entry[name.split(".")[0]] = json.loads(path.read_text()) if path.is_file() else None
        for name in ("log.jsonl", "stats.jsonl"):
            path = folder / name
            entry[name.split(".")[0]] = ([json.loads(line) for line in path.read_text().splitlines()]
                                         if path.is_file() else [])
        runs.append(entry)
    return grid, runs


def _stat(values) -> str:
    return mean_std(v for v in values if v is not None) or "missing"


def _gain(run, setup, key="balanced_accuracy"):
    return _metric(run, "augmentation_gain", "setups", setup, key, "mean")


def _tilde(text) -> str:
    """Paths under the home folder as ~/..., so a published report reads the same on any machine."""
    return str(text).replace(str(Path.home()) + "/", "~/")


def _table(header, rows) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
           ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def _seeds_sentence(planned: int, done: list, total: int, where: str = "every-cell") -> str:
    """How many seeds the cells average: the planned number, or fewer while the grid is unfinished."""
    seeds = sorted({r["seed"] for r in done})
    if len(done) == total and where == "hardest" and planned > 1:
        return (f"Seed 0 in every cell; at the hardest level, ACGAN's and CostSensitive-ACGAN's cells are "
                f"mean ± std over {planned} seeds.")
    if len(done) == total:
        return f"Cells are mean ± std over {planned} seed(s)."
    return (f"**Unfinished grid**: {planned} seed(s) planned; evaluated so far: seed(s) "
            f"{', '.join(map(str, seeds)) or 'none'}. Cells average the seeds evaluated for them "
            f"(no ± where only one).")


def write_report(grid_dir: str | Path) -> Path:
    """Write ``report.md`` and ``figures/*.png`` into the grid folder; returns the report path."""
    grid_dir = Path(grid_dir)
    grid, runs = read_runs(grid_dir)
    figures = grid_dir / "figures"
    figures.mkdir(exist_ok=True)
    methods = list(dict.fromkeys(r["method"] for r in runs))
    levels = sorted({r["level"] for r in runs})
    cell = {(m, lv): [r for r in runs if r["method"] == m and r["level"] == lv] for m in methods for lv in levels}
    done = [r for r in runs if r["metrics"]]
    protocol = grid["protocol"]
    lines = [f"# Reproduction of CostSensitive-ACGAN's Tables 3-5 (profile {grid['profile']}, "
             f"protocol {protocol}, recipe {grid['recipe']})", ""]
    lines += [f"Built by `csacgan reproduce` from the run folders in `{_tilde(grid_dir)}`; "
              f"{len(done)} of {len(runs)} runs evaluated.", ""]
    if grid.get("command"):
        lines += [f"Command: `{_tilde(grid['command'])}`", ""]
    seconds = sum(s.get("seconds", 0) for s in grid.get("sessions", []))
    trained = sum(rec.get("seconds", 0) for r in runs if not r["reused"] for rec in r["log"] if "epoch" in rec)
    lines += [f"Wall time of the grid (training and evaluation, all sessions; a session stopped before its "
              f"first run finished is not counted): {seconds / 60:.1f} min. Training time read from the "
              f"runs' logs, summed over the runs this grid trained (they train side by side, so the sum "
              f"exceeds the wall time): {trained / 60:.1f} min.", ""]
    reused = [r for r in runs if r["reused"]]
    if reused:
        sources = sorted({str(Path(r["reused"]["from"]).parent.parent) for r in reused})
        lines += [f"{len(reused)} run(s) trained by another grid on the same images with the same settings "
                  f"and copied in (`csacgan reproduce --reuse`; each folder's `reused.json` names its source, "
                  f"and its config.json what it was asked for there), so their training is not in the "
                  f"wall time above: {', '.join(r['name'] for r in reused)}, from {_tilde(', '.join(sources))}.", ""]
    env = next((r["config"]["environment"] for r in runs if r["config"]), {})
    if env:
        lines += ["Versions: " + ", ".join(f"{k} {env[k]}" for k in ("python", "torch", "torchvision", "csacgan")
                                             if k in env) + f"; {env.get('cpu') or env.get('processor', '')}, "
                  f"{env.get('threads', '?')} threads; device {runs[0]['config'].get('device', '?')}, "
                  f"precision {runs[0]['config'].get('precision', '?')}.", ""]
    settings = grid["profile_settings"]
    lines += [f"Per run: {settings['epochs']} epoch(s) of GAN training"
              + (f" (at most {settings['max_steps']} steps)" if settings.get("max_steps") else "")
              + f", batch {settings['batch_size']}, BAGAN autoencoder {settings['autoencoder_epochs']} epoch(s), "
              f"at most {settings['max_per_class']} images per class; metrics on {settings['n_per_class']} "
              f"generated images per class. "
              + _seeds_sentence(grid["seeds"], done, len(runs), grid.get("seeds_where", "every-cell")), ""]

    # Table 3 -----------------------------------------------------------------------
    lines += ["## Table 3: imbalance", ""]
    rows = []
    for lv in levels:
        run = next((r for r in runs if r["level"] == lv and r["config"]), None)
        if run is None:
            rows.append([f"{lv}%", "missing", "missing", "missing", "missing", "missing"])
            continue
        imb = run["config"]["imbalance"]
        counts = imb["counts"]
        # what this grid planned, which a run copied in from the other protocol's grid was not asked
        planned = run["planned"]
        asked = (f"rho {planned['imbalance_ratio']:g}" if planned.get("imbalance_ratio") is not None
                 else f"drop {planned['drop_fraction']:g}")
        rows.append([f"{lv}%", asked, counts[0], max(counts), f"{imb['imbalance_ratio']:.1f}",
                     f"{imb['minority_fraction']:.1f}"])
    lines += _table(["paper's level", "asked", "'0' kept", "largest class", "rho obtained", "mu"], rows) + [""]
    lines += [f"![class distributions](figures/{_plot_distributions(runs, levels, figures)})", ""]

    # Table 4 -----------------------------------------------------------------------
    lines += ["## Table 4: SSIM diversity of generated '0's (lower = more varied)", "",
              "Mean SSIM over random pairs of generated '0's; the real column is the same statistic "
              "on real test '0's. Paper: its published value.", ""]
    rows = []
    for lv in levels:
        row = [f"{lv}%"]
        for m in methods:
            row += [_stat([_metric(r, "ssim_diversity", "per_class", MINORITY) for r in cell[m, lv]]),
                    PAPER_TABLE4_SSIM[lv].get(m, "")]
        row.append(_stat([_metric(r, "ssim_diversity", "real", "per_class", MINORITY) for r in done
                          if r["level"] == lv][:1]))
        rows.append(row)
    header = ["level"] + [h for m in methods for h in (NAMES[m], "paper")] + ["real '0'"]
    lines += _table(header, rows) + [""]

    # Table 5 -----------------------------------------------------------------------
    lines += ["## Table 5: ResNet-18 accuracy on generated images", "",
              "The evaluator is a ResNet-18 trained on all real MNIST training images; it scores "
              "generated '0's ('0') and generated images of every class (all). The paper does not "
              "say which of the two its Table 5 holds.", ""]
    rows = []
    for lv in levels:
        row = [f"{lv}%"]
        for m in methods:
            row += [_stat([_metric(r, "classifier_accuracy", "per_class", MINORITY) for r in cell[m, lv]]),
                    _stat([_metric(r, "classifier_accuracy", "overall") for r in cell[m, lv]]),
                    PAPER_TABLE5_ACCURACY[lv].get(m, "")]
        rows.append(row)
    header = ["level"] + [h for m in methods for h in (f"{NAMES[m]} '0'", "all", "paper")]
    lines += _table(header, rows) + [""]
    real_acc = next((_metric(r, "classifier_accuracy", "real", "overall") for r in done), None)
    if real_acc is not None:
        lines += [f"Evaluator accuracy on real test images: {real_acc:.4f}.", ""]

    # The field's metrics -----------------------------------------------------------
    lines += ["## Beyond the paper: FID, precision / recall / coverage, CAS, augmentation gain", "",
              "FID on the evaluator's 512-d features against real test images (overall and for '0' "
              "alone); precision (fidelity), recall and coverage (diversity) of generated '0's against "
              "real test '0's on the same features (k = 5); CAS: recall on real test '0's of a small "
              "CNN trained on generated images only; "
              "gain: balanced accuracy of a small CNN trained on the imbalanced set plus generated "
              "'0's minus the same on the imbalanced set alone.", ""]
    rows = []
    for lv in levels:
        for m in methods:
            rs = cell[m, lv]
            rows.append([f"{lv}%", NAMES[m],
                         _stat([_metric(r, "fid", "overall") for r in rs]),
                         _stat([_metric(r, "fid", "per_class", MINORITY) for r in rs]),
                         *(_stat([_metric(r, "prdc", "per_class", MINORITY, k) for r in rs])
                           for k in ("precision", "recall", "coverage")),
                         _stat([_metric(r, "cas", "per_class", MINORITY) for r in rs]),
                         _stat([_metric(r, "cas", "overall") for r in rs]),
                         _stat([measure(r, "gain") for r in rs]),
                         _stat([_gain(r, "generated", "minority_recall") for r in rs])])
    lines += _table(["level", "method", "FID all", "FID '0'", "precision '0'", "recall '0'", "coverage '0'",
                     "CAS '0'", "CAS all", "gain (bal. acc.)", "'0' recall with generated"], rows) + [""]
    ref = next((r for r in done if _metric(r, "fid", "real", "overall") is not None), None)
    if ref:
        prdc_real = _metric(ref, "prdc", "real", "per_class", MINORITY) or {}
        lines += [f"Real-vs-real reference: FID all {_metric(ref, 'fid', 'real', 'overall'):.2f}, "
                  f"FID '0' {_metric(ref, 'fid', 'real', 'per_class', MINORITY):.2f}"
                  + "".join(f", {k} '0' {prdc_real[k]:.3f}" for k in ("precision", "recall", "coverage")
                            if k in prdc_real)
                  + (f", CAS '0' {_metric(ref, 'cas', 'real', 'per_class', MINORITY):.3f}"
                     if _metric(ref, "cas", "real") else "") + ".", ""]

    claims = check_claims(runs, levels)
    lines += _claims_section(claims)
    if claims:
        lines += [f"![paired differences](figures/{_plot_claims(claims, levels, figures)})", ""]

    # Figures -----------------------------------------------------------------------
    lines += ["## Generated '0's (Figures 8-9), seed 0", "",
              f"![generated zeros](figures/{_plot_zeros(runs, methods, levels, figures)})", "",
              "## Class costs w_c over epochs (CostSensitive-ACGAN)", "",
              f"![class costs](figures/{_plot_costs(runs, levels, figures)})", "",
              "## Loss curves, seed 0", "",
              f"![losses](figures/{_plot_losses(runs, methods, levels, figures)})", ""]
    path = grid_dir / "report.md"
    path.write_text("\n".join(lines))
    return path


CLAIMS_HEADER = ["claim", "against", "measure", "level", "CostSensitive-ACGAN", "baseline", "difference",
                 "better on", "p", "paper", "real", "verdict"]


def claim_row(c: dict) -> list[str]:
    """One row of the claims table (CLAIMS_HEADER) from a row of claims.check_claims."""
    paper = {"SSIM '0'": PAPER_TABLE4_SSIM, "'0' accuracy": PAPER_TABLE5_ACCURACY}
    d, n = c["difference"], len(c["seeds"])
    published = paper.get(c["measure"], {}).get(c["level"], {})
    fmt = "{:.1f}" if c["measure"].startswith("FID") else "{:.3f}"
    difference = fmt.replace(":", ":+").format(d["mean"]) + (f" ± {fmt.format(d['std'])}" if n > 1 else "")
    return [c["claim"], NAMES[c["baseline"]], c["measure"], f"{c['level']}%", mean_std(c["cs"], fmt),
            mean_std(c["other"], fmt), difference, f"{c['better']}/{n}", "" if d["p"] is None else f"{d['p']:.3f}",
            f"{published['cs-acgan']} vs {published[c['baseline']]}" if published else "",
            "" if c["real"] is None else fmt.format(c["real"]), f"**{c['verdict']}**"]


def _claims_section(claims: list[dict]) -> list[str]:
    rows = [claim_row(c) for c in claims]
    lines = ["## The paper's claims, CostSensitive-ACGAN against each baseline on paired seeds", "",
             f"Each row compares CostSensitive-ACGAN's cell with a baseline's on the seeds both hold "
             f"(difference: CostSensitive-ACGAN minus the baseline, seed by seed; better on: the seeds "
             f"where it is better in the claim's direction). A claim of being better holds when a "
             f"paired t-test gives p < {ALPHA} in its direction; 'as recognisable' holds when the "
             f"one-sided 95% lower bound of the difference in '0' accuracy lies above -{MARGIN} (the "
             f"paper's own largest gap in Table 5). One seed gives a hint, not a verdict. Paper: "
             f"CostSensitive-ACGAN's published value vs the baseline's; real: the same statistic on real "
             f"test zeros. An SSIM below real zeros' own is variety real zeros do not have, not a "
             f"better fit.", ""]
    if not rows:
        return lines + ["No cell of CostSensitive-ACGAN and a baseline is evaluated yet.", ""]
    return lines + _table(CLAIMS_HEADER, rows) + [""]


def _figure(rows, cols, size=(3.2, 2.6)):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)
    return plt, fig, axes


def _save(plt, fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path.name


def _plot_distributions(runs, levels, figures: Path) -> str:
    plt, fig, axes = _figure(1, len(levels))
    for ax, lv in zip(axes[0], levels):
        run = next((r for r in runs if r["level"] == lv and r["config"]), None)
        if run:
            counts = run["config"]["imbalance"]["counts"]
            ax.bar(range(len(counts)), counts, color=["C3"] + ["C0"] * (len(counts) - 1))
            ax.set_xticks(range(len(counts)))
            ax.set_title(f"{lv}%: rho {run['config']['imbalance']['imbalance_ratio']:.0f}")
        ax.set_xlabel("class")
    axes[0][0].set_ylabel("training images")
    return _save(plt, fig, figures / "class_distribution.png")


def _plot_zeros(runs, methods, levels, figures: Path) -> str:
    from torchvision.utils import make_grid
    plt, fig, axes = _figure(len(methods), len(levels), size=(2.6, 2.8))
    for i, m in enumerate(methods):
        for j, lv in enumerate(levels):
            ax = axes[i][j]
            ax.axis("off")
            run = next((r for r in runs if r["method"] == m and r["level"] == lv and r["seed"] == 0), None)
            if run is None or not run["metrics"] or not (run["dir"] / "checkpoint.pt").is_file():
                continue  # as in the tables: a run still training is not shown
            generator, _ = load_generator(run["dir"])
            zeros = sample(generator, torch.zeros(36, dtype=torch.long), seed=0)
            grid = make_grid(zeros.float() / 255, nrow=6, padding=1, pad_value=1.0)
            ax.imshow(grid.permute(1, 2, 0).numpy())
            ax.set_title(f"{NAMES[m]}, {lv}%", fontsize=9)
    return _save(plt, fig, figures / "generated_zeros.png")


def _plot_costs(runs, levels, figures: Path) -> str:
    plt, fig, axes = _figure(1, len(levels))
    for ax, lv in zip(axes[0], levels):
        for r in runs:
            if r["method"] != "cs-acgan" or r["level"] != lv:
                continue
            records = [rec for rec in r["log"] if "class_costs" in rec]
            if not records:
                continue
            K = len(records[0]["class_costs"])
            epochs = [0] + [rec["epoch"] for rec in records]
            w0 = [1 / K] + [rec["class_costs"][0] for rec in records]
            rest = [1 / K] + [max(rec["class_costs"][1:]) for rec in records]
            ax.plot(epochs, w0, "o-", color="C3", label="w_0" if r["seed"] == 0 else None)
            ax.plot(epochs, rest, "s--", color="C0", label="max other w_c" if r["seed"] == 0 else None)
        ax.set_title(f"{lv}%")
        ax.set_xlabel("epoch")
    axes[0][0].set_ylabel("w_c")
    if axes[0][0].get_legend_handles_labels()[0]:
        axes[0][0].legend(fontsize=8)
    return _save(plt, fig, figures / "class_costs.png")


def _plot_claims(claims: list[dict], levels, figures: Path) -> str:
    """CostSensitive-ACGAN minus each baseline, one dot per seed, one panel per measure."""
    measures = list(dict.fromkeys(c["measure"] for c in claims))
    plt, fig, axes = _figure(1, len(measures))
    for ax, name in zip(axes[0], measures):
        for k, baseline in enumerate(("acgan", "bagan")):
            label = f"minus {NAMES[baseline]}"
            for c in claims:
                if c["measure"] != name or c["baseline"] != baseline or c["claim"] == "better than ACGAN" \
                        and name == "'0' accuracy":  # the same pairs as 'as recognisable'
                    continue
                x = levels.index(c["level"]) + (k - 0.5) * 0.2
                ax.plot([x] * len(c["seeds"]), c["difference"]["differences"], "o", color=f"C{k}", alpha=0.7,
                        label=label)
                ax.plot([x - 0.08, x + 0.08], [c["difference"]["mean"]] * 2, color=f"C{k}")
                label = None
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xticks(range(len(levels)), [f"{lv}%" for lv in levels])
        direction = next(c["direction"] for c in claims if c["measure"] == name)
        ax.set_title(f"{name}: {'lower' if direction < 0 else 'higher'} is the claim", fontsize=9)
    axes[0][0].set_ylabel("CostSensitive-ACGAN - baseline")
    axes[0][0].legend(fontsize=7)
    return _save(plt, fig, figures / "claims.png")


def _plot_losses(runs, methods, levels, figures: Path) -> str:
    plt, fig, axes = _figure(1, len(levels))
    for ax, lv in zip(axes[0], levels):
        for k, m in enumerate(methods):
            run = next((r for r in runs if r["method"] == m and r["level"] == lv and r["seed"] == 0), None)
            if not run or not run["stats"]:
                continue
            steps = [s["step"] for s in run["stats"]]
            ax.plot(steps, [s["d_loss"] for s in run["stats"]], color=f"C{k}", label=f"{NAMES[m]} D")
            ax.plot(steps, [s["g_loss"] for s in run["stats"]], color=f"C{k}", ls="--", label=f"{NAMES[m]} G")
        ax.set_title(f"{lv}%")
        ax.set_xlabel("step")
    axes[0][0].set_ylabel("loss")
    if axes[0][0].get_legend_handles_labels()[0]:
        axes[0][0].legend(fontsize=6)
    return _save(plt, fig, figures / "losses.png")
