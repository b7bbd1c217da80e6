"""Ablations on MNIST with '0' as the minority, several paired seeds per row:

- ``--study levers``: the levers for GANs on little data (EMA of G, spectral norm, LeCam,
  ADA, TTUR, D's minibatch standard deviation, MSGAN's mode-seeking term), each alone on
  top of the main job's defaults (CostSensitive-ACGAN, recipe ``balanced``), and the
  combination;
- ``--study costs``: where CostSensitive-ACGAN's costs come from (D's error on real,
  generated or held-out images, a separate classifier's error on generated images, an
  online update) against ACGAN, the paired baseline, under the paper's recipe (uniform
  real batches, generated labels c ~ p_c) or, with ``--recipe balanced``, ours.

Every run is ``csacgan train --dataset mnist --imbalance-ratio RHO`` with one row's method
and options, then ``csacgan evaluate`` with the main job's metrics on 1000 images per
class (evaluator accuracy, SSIM, FID, precision/recall/density/coverage; CAS and the
augmentation gain are left to the downstream study). Runs are resumable and trained
``--jobs`` at a time in processes of one thread each, seed 0 of every row first, so a
stopped ablation is a one-seed screen rather than all seeds of a few rows. Seed s is the
same data, initialisation and batch order for every row: differences are paired. A row
that is another row without ``g_ema`` (the levers' ``base`` beside ``ema``) is not trained
again: --g-ema changes nothing in training, so its run is the EMA row's scored from G's raw
weights (``csacgan evaluate --weights raw``), unless its folder holds a run of its own.
``--sampling`` and ``--fake-labels`` change the recipe's real batches and generated labels
for every row, ACGAN's included, so the costs can be compared with ACGAN under each; a run
folder trained with other settings is refused, not resumed.

    python -m csacgan.experiments.ablation --study levers --seeds 1                      # screen
    python -m csacgan.experiments.ablation --study levers --seeds 3 --rows base ema combined
    python -m csacgan.experiments.ablation --study levers --report docs/results/levers.md \
        --archive docs/results/levers/runs.json   # the runs' records: the table outlives their folders
    python -m csacgan.experiments.ablation --study costs --rho 20 --sampling class-balanced --seeds 1
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import time
from pathlib import Path

from csacgan.experiments import measures
from csacgan.experiments.study import Study
from csacgan.run_folder import RunFolder

CS = "cs-acgan"
STUDIES = {  # study: {row: (method, options)}; "base" is the row every other is paired with
    "levers": {
        "base": (CS, {}),
        "ema": (CS, {"g_ema": 0.999}),
        "spectral-norm": (CS, {"d_spectral_norm": True}),
        "lecam": (CS, {"lecam": 0.3}),
        "ada": (CS, {"ada_target": 0.6}),
        "ttur": (CS, {"lr_d": 4e-4, "lr_g": 1e-4}),
        "minibatch-std": (CS, {"d_minibatch_std": 4}),
        "mode-seeking": (CS, {"mode_seeking": 1.0}),  # MSGAN's own weight
        "mode-seeking-0.5": (CS, {"mode_seeking": 0.5}),  # at 1 the zeros are more varied than real ones
        "ema-mode-seeking-0.5": (CS, {"g_ema": 0.999, "mode_seeking": 0.5}),
        "ema-spectral-norm": (CS, {"g_ema": 0.999, "d_spectral_norm": True}),  # the two leaders together
        "ema-ada": (CS, {"g_ema": 0.999, "ada_target": 0.6}),  # ADA's zeros more varied than the EMA's, 3/3
        "combined": (CS, {"g_ema": 0.999, "lecam": 0.3, "ada_target": 0.6}),
    },
    "costs": {
        "base": ("acgan", {}),
        "real": (CS, {}),
        "fake": (CS, {"method_options": {"error_source": "fake"}}),
        "held-out": (CS, {"method_options": {"error_source": "held-out"}}),
        "classifier": (CS, {"method_options": {"error_source": "classifier"}}),
        "fake-online": (CS, {"method_options": {"error_source": "fake", "update_every": 100, "momentum": 0.9}}),
        "fake-in-g": (CS, {"method_options": {"error_source": "fake", "costs_in": "g"}}),
        # softmax of errors in [0, 1] at tau 1 weighs a class at most e times another; tau 0.1, e^10
        "fake-tau0.1": (CS, {"method_options": {"error_source": "fake", "temperature": 0.1}}),
        # an error of 1 on one class against 0.05 elsewhere gives it K w_c = 8.3 at tau 0.25 (2.2 at tau 1)
        "classifier-tau0.25": (CS, {"method_options": {"error_source": "classifier", "temperature": 0.25}}),
    },
}
RECIPE = {"levers": "balanced", "costs": "paper"}
METRICS = ("classifier_accuracy", "ssim_diversity", "fid", "prdc")
N_PER_CLASS = 1000
def _read(measure: str, real: bool = False):
    """How to read a measure of class '0' from metrics.json's "metrics" (csacgan.experiments.measures)."""
    return lambda m: measures.read(m, measure, "0", real)


COLUMNS = {  # key: (header, how to read it from metrics.json, format)
    "fid_0": ("FID '0'", _read("FID"), "{:.1f}"),
    "fid_all": ("FID-all", _read("FID-all"), "{:.1f}"),
    "ssim_0": ("SSIM '0'", _read("SSIM"), "{:.3f}"),
    "acc_0": ("'0' accuracy", _read("accuracy"), "{:.3f}"),
    "precision_0": ("precision '0'", _read("precision"), "{:.3f}"),
    "recall_0": ("recall '0'", _read("recall"), "{:.3f}"),
    "coverage_0": ("coverage '0'", _read("coverage"), "{:.3f}"),
}
PER_SEED = ("fid_0", "fid_all", "ssim_0", "recall_0", "coverage_0")  # the per-seed table's columns
REAL = {"fid_0": _read("FID", real=True), "fid_all": _read("FID-all", real=True), "ssim_0": _read("SSIM", real=True),
        "recall_0": _read("recall", real=True), "precision_0": _read("precision", real=True),
        "coverage_0": _read("coverage", real=True)}


def study(rows: dict, recipe: str, rho: float, epochs: int, data_dir: str | None, max_steps: int | None = None,
          n_per_class: int = N_PER_CLASS, setting: dict | None = None) -> Study:
    """The ablation at one rho as a configuration of the study runner: every row is
    (method, options) on the recipe; ``setting``: options every row shares (``sampling``,
    ``fake_labels``), on top of the recipe's."""
    return Study(prefix(rho), {row: {"method": method, **options} for row, (method, options) in rows.items()},
                 dict(recipe=recipe, imbalance_ratio=rho, epochs=epochs, max_steps=max_steps, data_dir=data_dir,
                      **(setting or {})), rare="0", metrics=METRICS, n_per_class=n_per_class)


def prefix(rho: float) -> str:
    """The run folders' prefix at rho: runs are PREFIX-ROW-sSEED (the study runner's names)."""
    return f"r{rho:g}"


def run_name(rho: float, row: str, seed: int) -> str:
    return f"{prefix(rho)}-{row}-s{seed}"


def run_seed(name: str, rho: float, row: str) -> int | None:
    """The seed of the row's run at rho named ``name``, None if it is not one: exactly the
    row's (``r190-ema-spectral-norm-s0`` is not a run of ``ema``)."""
    m = re.fullmatch(re.escape(f"{prefix(rho)}-{row}-s") + r"(\d+)", name)
    return int(m.group(1)) if m else None


def row_runs(out: Path, rho: float, row: str) -> list[Path]:
    """The row's run folders at rho, by seed; exactly the row's (a glob for ``r190-ema-s*``
    would also take ``r190-ema-spectral-norm-s0``)."""
    runs = [(seed, p) for p in out.glob(f"{prefix(rho)}-{row}-s*") if (seed := run_seed(p.name, rho, row)) is not None]
    return [p for _, p in sorted(runs)]


def raw_sources(rows: dict) -> dict:
    """{row: source}: rows whose runs are the source row's without the EMA of G. --g-ema
    changes nothing in training, so such a row's run is not trained again: it is the source
    run scored from its raw weights (a folder holding the source's config.json and
    log.jsonl beside that metrics.json)."""
    out = {}
    for source, (source_method, source_options) in rows.items():
        if "g_ema" in source_options:
            twin = {k: v for k, v in source_options.items() if k != "g_ema"}
            out.update({row: source for row, (method, options) in rows.items()
                        if (method, options) == (source_method, twin)})
    return out


def _own_run(run_dir: Path) -> bool:
    """Whether the folder holds a run trained there (a checkpoint), not one scored from another's."""
    from csacgan.checkpoint import CHECKPOINT
    return (run_dir / CHECKPOINT).is_file()


def work(out: str, rows: dict, recipe: str, rho: float, row: str, seed: int, epochs: int,
         data_dir: str | None, max_steps: int | None = None, n_per_class: int = N_PER_CLASS,
         setting: dict | None = None, raw_to: str | None = None) -> str:
    """Train (or resume) one run (the study runner's rules), then evaluate it; returns its
    folder. ``raw_to``: a row of raw_sources whose run of this seed is this one's raw weights."""
    from csacgan.evaluate import evaluate
    run_dir = study(rows, recipe, rho, epochs, data_dir, max_steps, n_per_class, setting).train_one(Path(out), row, seed)
    if not _done(run_dir, epochs, max_steps):  # also when metrics.json scored an earlier epoch
        evaluate(run_dir, METRICS, n_per_class=n_per_class, data_dir=data_dir, progress=False)
    target = Path(out) / run_name(rho, raw_to, seed) if raw_to else None
    if target is not None and not _own_run(target) and not _done(target, epochs, max_steps):
        target.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "log.jsonl"):
            shutil.copy2(run_dir / name, target / name)
        evaluate(run_dir, METRICS, n_per_class=n_per_class, data_dir=data_dir, progress=False, weights="raw",
                 output=target / "metrics.json")
    return str(run_dir)


def _done(run_dir: Path, epochs: int, max_steps: int | None) -> bool:
    path = run_dir / "metrics.json"
    if not path.is_file():
        return False
    report = json.loads(path.read_text())
    trained = report.get("epoch", 0) >= epochs or (max_steps is not None and report.get("step", 0) >= max_steps)
    return trained and not set(METRICS) - set(report.get("metrics", {}))


def plan(out: Path, rows: dict, rhos, seeds: int, epochs: int, max_steps: int | None = None) -> list[tuple]:
    """(rho, row, seed, raw_to) of the runs left to train or score, seed-major (seed 0 of
    every row first, so a stopped ablation is a one-seed screen). A row of raw_sources is
    scored by its source's task (raw_to names it there) unless trained in its own folder."""
    sources = raw_sources(rows)
    raw_to = {source: row for row, source in sources.items()}

    def scored_by_source(rho, row, s) -> bool:
        return row in sources and not _own_run(out / run_name(rho, row, s))

    def left(rho, row, s) -> bool:
        return not _done(out / run_name(rho, row, s), epochs, max_steps)
    return [(rho, row, s, raw_to.get(row)) for s in range(seeds) for rho in rhos for row in rows
            if not scored_by_source(rho, row, s) and (left(rho, row, s) or (
                row in raw_to and scored_by_source(rho, raw_to[row], s) and left(rho, raw_to[row], s)))]


def run_ablation(out: Path, rows: dict, recipe: str, rhos, seeds: int, epochs: int, jobs: int, data_dir,
                 max_steps: int | None = None, n_per_class: int = N_PER_CLASS, setting: dict | None = None) -> None:
    from concurrent.futures import as_completed

    from csacgan.data import load_dataset
    from csacgan.experiments.grid import process_pool
    from csacgan.metrics.evaluator import load_or_train_evaluator
    todo = plan(out, rows, rhos, seeds, epochs, max_steps)
    if not todo:
        return
    load_or_train_evaluator(load_dataset("mnist", data_dir), 0, 2, None, True)  # once, before the workers
    pool, _ = process_pool(jobs, threads=1)
    with pool:
        futures = {pool.submit(work, str(out), rows, recipe, rho, row, s, epochs, data_dir, max_steps,
                               n_per_class, setting, raw_to): (rho, row, s)
                   for rho, row, s, raw_to in todo}
        for future in as_completed(futures):
            print(f"{time.strftime('%H:%M:%S')} done {Path(future.result()).name}", flush=True)


DIFF_KEYS = ("acc_0", "fid_0", "fid_all", "ssim_0", "recall_0", "coverage_0")


def _setting(run_dir: Path) -> tuple:
    """The run's real-batch sampling and generated-label distribution as it trained
    (the recipe's where the option was left unset); (None, None) without a config.json."""
    if not (run_dir / "config.json").is_file():
        return None, None
    from csacgan.config import TrainConfig
    cfg = TrainConfig.from_dict(RunFolder(run_dir).config).resolved()
    return cfg.sampling, cfg.fake_labels


def _machine(run_dir: Path) -> str | None:
    """The processor (or accelerator) the run trained on, as its config.json recorded it."""
    if not (run_dir / "config.json").is_file():
        return None
    saved = RunFolder(run_dir).record
    environment = saved.get("environment", {})
    return environment.get("gpu") if str(saved.get("device", "")).startswith("cuda") else environment.get("cpu")


def _format_difference(d: dict) -> str:
    p = "" if d["p"] is None else f", p {d['p']:.2g}"
    return f"{d['mean']:+.3f} ± {d['std']:.3f} ({d['wins']}/{d['n']} above{p})"


def scored_runs(out: Path, rho: float, row: str):
    """(run folder, metrics.json) of the row's runs at rho that every metric of the study scored."""
    for run_dir in row_runs(out, rho, row):
        path = run_dir / "metrics.json"
        saved = json.loads(path.read_text()) if path.is_file() else {}
        if not set(METRICS) - set(saved.get("metrics", {})):
            yield run_dir, saved


def run_record(run_dir: Path, saved: dict) -> dict:
    """What the table and the figure read of one scored run: its metrics and real data's,
    training minutes, the epoch scored, its setting, w_0 after each epoch and the late '0'
    accuracy of its snapshots. Small enough to keep beside the published page, so that the
    page can be regenerated once the run folders are gone."""
    log = RunFolder(run_dir).log()
    return {"values": {k: get(saved["metrics"]) for k, (_, get, _) in COLUMNS.items()},
            "real": {k: get(saved["metrics"]) for k, get in REAL.items()},
            "minutes": sum(r["seconds"] for r in log) / 60, "epoch": saved["epoch"],
            "setting": list(_setting(run_dir)), "machine": _machine(run_dir),
            "evaluator_accuracy": saved.get("evaluator", {}).get("test_accuracy"),
            "w0": [r["class_costs"][0] for r in log if "class_costs" in r], "late_acc_0": late_accuracy(run_dir)}


def row_records(out: Path, rho: float, row: str, archive: dict | None = None) -> dict[int, dict]:
    """{seed: run_record} of the row's scored runs at rho: those on disk (copied into
    ``archive``, a {run name: record} dict, when one is given), then the archive's records
    of runs no longer on disk."""
    records = {}
    for run_dir, saved in scored_runs(out, rho, row):
        records[run_seed(run_dir.name, rho, row)] = record = run_record(run_dir, saved)
        if archive is not None:
            archive[run_dir.name] = record
    for key, record in (archive or {}).items():
        if (seed := run_seed(key, rho, row)) is not None and seed not in records:
            records[seed] = record
    return dict(sorted(records.items()))


def load_archive(path: Path | None) -> dict | None:
    return None if path is None else json.loads(path.read_text()) if path.is_file() else {}


def save_archive(path: Path | None, archive: dict | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(sorted(archive.items())), indent=1) + "\n")


def _differences(runs: dict, baseline: str, skip: set) -> list[str]:
    """One line per row (not in ``skip``) run on at least 2 of the baseline's seeds: its
    paired differences from the baseline, seed by seed."""
    from csacgan.experiments.stats import paired_difference
    base, diffs = runs.get(baseline, {}), []
    for row, by_seed in runs.items():
        paired = sorted(set(base) & set(by_seed))
        if row in skip or len(paired) < 2:
            continue
        parts = []
        for k in DIFF_KEYS:
            d = paired_difference([by_seed[s][k] for s in paired], [base[s][k] for s in paired])
            parts.append(f"{COLUMNS[k][0]} {_format_difference(d)}")
        diffs.append(f"- {row} - {baseline} ({len(paired)} paired seeds): " + "; ".join(parts))
        window = [(by_seed[s]["late"], base[s]["late"]) for s in paired]
        if None not in (x for pair in window for x in pair):
            d = paired_difference([a for a, _ in window], [b for _, b in window])
            diffs.append(f"  - '0' accuracy over the last {LATE_EPOCHS} epochs' snapshots ({CURVE_PER_CLASS} images "
                         f"per class each): {_format_difference(d)}")
    return diffs


def report(out: Path, rows: dict, rhos, page: Path | None, archive: dict | None = None,
           baselines=("base",), marker: str = "table", details: Path | None = None) -> str:
    """The ablation table (mean ± std over the seeds done; every row's paired differences
    from each of ``baselines`` but the baselines before it), from the runs on disk and, for
    runs no longer there, ``archive``'s records; written into ``page`` between its
    ``<!-- MARKER -->`` and ``<!-- /MARKER -->`` lines. ``details``: the per-seed table and
    every paired difference go to that file instead, and the page links it."""
    from csacgan.experiments.stats import mean_std
    lines, detail_lines = [], []
    for rho in rhos:
        runs, setups, epochs, real, machines, evaluators = {}, set(), set(), {}, set(), set()
        for row in rows:
            for seed, record in row_records(out, rho, row, archive).items():
                runs.setdefault(row, {})[seed] = dict(
                    record["values"], minutes=record["minutes"], epoch=record["epoch"],
                    late=record["late_acc_0"], w0=" / ".join(f"{c:.2f}" for c in record["w0"][-8:]))
                real = record["real"]
                setups.add(tuple(record["setting"]))
                epochs.add(record["epoch"])
                machines.add(record.get("machine"))
                evaluators.add(record.get("evaluator_accuracy"))
        if not runs:
            continue
        lines += [f"### rho {rho:g}", ""]
        if machines - {None}:  # the evaluator is trained where it is first needed: its weights differ too
            lines += ["Trained on: " + "; ".join(sorted(machines - {None})) + "; the evaluator's real test accuracy "
                      + " / ".join(f"{a:.2%}" for a in sorted(evaluators - {None})) + ".", ""]
        if len(setups) == 1 and None not in next(iter(setups)):
            sampling, fake_labels = next(iter(setups))
            lines += [f"Real batches {sampling}, generated labels {fake_labels}; scored after epoch "
                      + "/".join(str(e) for e in sorted(epochs)) + ".", ""]
        # w_0 where the rows compare how the costs are made (the costs study), not where every row is
        # CostSensitive-ACGAN with the paper's costs (the levers study, where w_0 stays at 1/K)
        costs = any(method != CS or "method_options" in options for method, options in rows.values())
        lines += ["| row | options | seeds | " + " | ".join(h for h, _, _ in COLUMNS.values())
                  + " | training minutes |" + (" w_0 of seed 0, last epochs |" if costs else ""),
                  "|" + " --- |" * (len(COLUMNS) + 4 + costs)]
        for row, by_seed in runs.items():
            cells = [mean_std([r[k] for r in by_seed.values()], fmt) for k, (_, _, fmt) in COLUMNS.items()]
            method, options = rows[row]
            flat = {**{k: v for k, v in options.items() if k != "method_options"}, **options.get("method_options", {})}
            options = ", ".join([method] + [f"{k}={v}" for k, v in flat.items()])
            lines.append(f"| {row} | {options} | {len(by_seed)} | " + " | ".join(cells)
                         + f" | {mean_std([r['minutes'] for r in by_seed.values()], '{:.1f}')} |"
                         + (f" {by_seed.get(0, {}).get('w0', '')} |" if costs else ""))
        lines.append("| real data | | | " + " | ".join(
            COLUMNS[k][2].format(real[k]) if k in real else "" for k in COLUMNS) + " | |" + (" |" if costs else ""))
        lines.append("")
        several = {row: by_seed for row, by_seed in runs.items() if len(by_seed) > 1}
        start = len(lines)
        if several:  # a mean ± std hides whether one seed made it: every seed's value
            lines += ["Per seed:", "", "| row | seeds | " + " | ".join(COLUMNS[k][0] for k in PER_SEED) + " |",
                      "|" + " --- |" * (len(PER_SEED) + 2)]
            lines += [f"| {row} | " + " / ".join(map(str, sorted(by_seed))) + " | " + " | ".join(
                " / ".join(COLUMNS[k][2].format(by_seed[s][k]) for s in sorted(by_seed)) for k in PER_SEED) + " |"
                for row, by_seed in several.items()]
            lines.append("")
        diffs = []
        for i, baseline in enumerate(baselines):
            diffs += _differences(runs, baseline, set(baselines[:i + 1]))
        lines += diffs + ([""] if diffs else [])
        if details is not None and len(lines) > start:
            detail_lines += [f"## rho {rho:g}", ""] + lines[start:]
            del lines[start:]
    if details is not None and detail_lines:
        details.parent.mkdir(parents=True, exist_ok=True)
        details.write_text("# Every seed and every paired difference\n\n" + "\n".join(detail_lines))
        link = os.path.relpath(details, page.parent) if page is not None else str(details)
        lines += [f"Every seed and every paired difference: [{details.name}]({link}).", ""]
    text = "\n".join(lines)
    if page is not None and not text:  # no run on disk or in the archive: the published table stays
        print(f"no scored run in {out}: {page} left as it is")
    elif page is not None:
        from csacgan.experiments.pages import write_between_markers
        write_between_markers(page, marker, text)
    return text


CURVE_PER_CLASS = 200  # generated images per class scored in each epoch's snapshot
LATE_EPOCHS = 3  # '0' accuracy swings from one epoch to the next; its mean over these is steadier


def late_accuracy(run_dir: Path) -> float | None:
    """Mean '0' accuracy of the last LATE_EPOCHS snapshots in the run's curve.json, if scored."""
    path = run_dir / "curve.json"
    if not path.is_file():
        return None
    curve = json.loads(path.read_text())
    last = max(c["epoch"] for c in curve)
    return statistics.mean(c["per_class"][0] for c in curve if c["epoch"] > last - LATE_EPOCHS)


def score_curves(out: Path, rows: dict, rhos, data_dir, jobs: int = 1) -> None:
    """The evaluator's accuracy per class on every run's per-epoch generator snapshots
    (the run's curve.json), for the runs whose curve lacks an epoch (only those epochs are
    scored), ``jobs`` runs at a time."""
    from csacgan.checkpoint import snapshot_paths
    from csacgan.evaluate import snapshot_curve
    from csacgan.experiments.grid import process_pool
    todo = []
    for rho in rhos:
        for row in rows:
            for run_dir in row_runs(out, rho, row):
                snaps = snapshot_paths(run_dir)
                curve = run_dir / "curve.json"
                if snaps and (not curve.is_file() or len(json.loads(curve.read_text())) < len(snaps)):
                    todo.append(run_dir)
    if len(todo) < 2 or jobs < 2:
        for run_dir in todo:
            snapshot_curve(run_dir, CURVE_PER_CLASS, data_dir=data_dir, progress=False)
        return
    pool, _ = process_pool(min(jobs, len(todo)))
    with pool:
        for future in [pool.submit(snapshot_curve, run_dir, CURVE_PER_CLASS, data_dir=data_dir, progress=False)
                       for run_dir in todo]:
            future.result()


def figure(out: Path, rows: dict, rhos, path: Path) -> None:
    """Per rho: '0' accuracy of each epoch's generator and w_0 after each epoch, a line per run."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    fig, axes = plt.subplots(len(rhos), 2, figsize=(11, 3.8 * len(rhos)), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (acc_ax, w_ax), rho in zip(axes, rhos):
        w_ax.axhline(0.1, color="grey", lw=0.8, ls=":", label="uniform (1/K)")
        for j, row in enumerate(rows):
            colour, labelled = colours[j % len(colours)], False
            for run_dir in row_runs(out, rho, row):
                label = None if labelled else f"{row} ({rows[row][0]})"
                if (run_dir / "curve.json").is_file():
                    curve = json.loads((run_dir / "curve.json").read_text())
                    acc_ax.plot([c["epoch"] for c in curve], [c["per_class"][0] for c in curve], "-o", ms=3,
                                color=colour, alpha=0.8, label=label)
                    labelled = True
                w0 = [(r["epoch"], r["class_costs"][0]) for r in RunFolder(run_dir).log() if "class_costs" in r]
                if w0:
                    w_ax.plot(*zip(*w0), "-o", ms=3, color=colour, alpha=0.8, label=label)
        acc_ax.set(title=f"rho {rho:g}: generated '0's the evaluator calls '0' (one line per seed)",
                   xlabel="epoch", ylabel="'0' accuracy", ylim=(-0.02, 1.02))
        w_ax.set(title=f"rho {rho:g}: cost of '0' set after each epoch", xlabel="epoch", ylabel="w_0")
        for ax in (acc_ax, w_ax):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


FIGURE_KEYS = ("fid_0", "ssim_0", "recall_0", "coverage_0", "fid_all", "precision_0")


def metrics_figure(out: Path, rows: dict, rhos, path: Path, archive: dict | None = None) -> None:
    """Per rho, a panel per metric: every seed's value of every row (a dot each, the mean
    a bar across) beside real data's value (dashed): where the levers move the minority's
    fidelity and diversity, and how far each row is from real."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(rhos), len(FIGURE_KEYS), figsize=(3.1 * len(FIGURE_KEYS), 3.6 * len(rhos)),
                             squeeze=False)
    for panels, rho in zip(axes, rhos):
        for ax, key in zip(panels, FIGURE_KEYS):
            header, get, _ = COLUMNS[key]
            real = None
            for i, row in enumerate(rows):
                values = []
                for record in row_records(out, rho, row, archive).values():
                    values.append(record["values"][key])
                    real = record["real"].get(key, real)
                if values:
                    ax.plot(i, statistics.mean(values), "_", color="steelblue", ms=20, mew=2.5)
                    ax.plot([i] * len(values), values, "o", color="navy", ms=4)
            if real is not None:
                ax.axhline(real, color="black", ls="--", lw=1, label="real data")
                ax.legend(fontsize=7)
            ax.set_xticks(range(len(rows)), list(rows), rotation=60, ha="right", fontsize=8)
            ax.set_xlim(-0.6, len(rows) - 0.4)
            ax.set_title(f"rho {rho:g}: {header}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--study", choices=list(STUDIES), required=True)
    p.add_argument("--out", type=Path, help="default ~/csacgan-runs/ablation-STUDY-RECIPE")
    p.add_argument("--recipe", choices=["paper", "balanced"], help="default: the study's (levers: balanced, costs: paper)")
    p.add_argument("--rho", type=float, nargs="+", default=[190.0])
    p.add_argument("--rows", nargs="+", help="default: all the study's rows")
    p.add_argument("--sampling", choices=["uniform", "class-balanced"],
                   help="real batches of every row, ACGAN's included (default: the recipe's)")
    p.add_argument("--fake-labels", choices=["uniform", "class-prior"],
                   help="classes asked of G in training, every row (default: the recipe's)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--max-steps", type=int, help="stop every run after this many steps (smoke tests)")
    p.add_argument("--n-per-class", type=int, default=N_PER_CLASS, help="generated images per class scored")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--data-dir", default=os.environ.get("CSACGAN_DATA_DIR"))
    p.add_argument("--report", type=Path, metavar="PAGE", nargs="?", const=Path("-"),
                   help="only print the table (and write it between PAGE's table markers)")
    p.add_argument("--baseline", nargs="+", default=["base"], metavar="ROW",
                   help="the rows every other row is paired with in the report, seed by seed")
    p.add_argument("--marker", default="table", help="PAGE's table lies between <!-- MARKER --> and <!-- /MARKER -->")
    p.add_argument("--details", type=Path, metavar="MD", help="write the per-seed table and every paired "
                   "difference to this file instead of the page, which links it")
    p.add_argument("--archive", type=Path, metavar="JSON",
                   help="the scored runs' records kept beside the page: the runs on disk are added to it, and "
                        "the table and the levers figure also read its runs that are no longer on disk")
    p.add_argument("--figure", type=Path, metavar="PNG",
                   help="costs: also score every run's per-epoch snapshots and draw '0' accuracy and w_0 per "
                        "epoch; levers: draw each row's metrics beside real data's")
    args = p.parse_args()
    recipe = args.recipe or RECIPE[args.study]
    setting = {k: v for k, v in (("sampling", args.sampling), ("fake_labels", args.fake_labels)) if v}
    out = args.out or Path.home() / "csacgan-runs" / "-".join(
        ["ablation", args.study, recipe] + [f"{k.replace('_', '-')}-{v}" for k, v in setting.items()])
    unknown = set(args.rows or []) - set(STUDIES[args.study])
    if unknown:
        p.error(f"unknown rows {sorted(unknown)}; the {args.study} study has {', '.join(STUDIES[args.study])}")
    rows = {r: STUDIES[args.study][r] for r in (args.rows or STUDIES[args.study])}
    if args.report is None:
        run_ablation(out, rows, recipe, args.rho, args.seeds, args.epochs, args.jobs, args.data_dir,
                     args.max_steps, args.n_per_class, setting)
    archive = load_archive(args.archive)
    if args.figure is not None and args.study == "levers":  # every row draws '0's at 0.99 or more
        metrics_figure(out, rows, args.rho, args.figure, archive)
    elif args.figure is not None:
        score_curves(out, rows, args.rho, args.data_dir, args.jobs)
        figure(out, rows, args.rho, args.figure)
    print(report(out, rows, args.rho, None if args.report in (None, Path("-")) else args.report, archive,
                 args.baseline, args.marker, args.details))
    save_archive(args.archive, archive)


if __name__ == "__main__":
    main()
