"""Convergence study of the paper's recipe: how many epochs until ACGAN, CostSensitive-ACGAN
and BAGAN stop improving, with generated labels drawn from the class distribution (p_c,
the paper's) and, at rho 20, uniformly beside it.

Every run is MNIST, ``--recipe paper``, seed 0, at most 5000 images per class, the
Table 2 networks. Runs are trained two epochs at a time, the run with the fewest epochs
first, in ``--jobs`` processes of one thread each; after every chunk the generator saved
after each new epoch (``snapshots/``) is scored on 500 images per class with the project's
evaluator: '0' and all-class accuracy, FID '0' and FID-all, SSIM '0' (with the real
reference), and w_c from the run's log. A run stops at ``--max-epochs`` or at its plateau:

    plateau at epoch e (e >= MIN_EPOCHS): the median FID-all of epochs e-4..e is no more
    than 10% below the median of the five epochs before, and the mean '0' accuracy of
    epochs e-4..e differs by less than 0.03 from the mean of the five epochs before.

Medians, not the best epoch of each window: FID-all swings by up to 2x from one epoch to
the next, so the best of a window keeps falling with the noise alone.

Everything resumes: run the same command again and it continues where it stopped.

    python -m csacgan.experiments.convergence --out ~/csacgan-runs/convergence          # train + score
    python -m csacgan.experiments.convergence --out ~/csacgan-runs/convergence --reuse ~/csacgan-runs/converged-ratio
    python -m csacgan.experiments.convergence --out ~/csacgan-runs/convergence --report docs/results/convergence
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from csacgan.run_folder import RunFolder

RUNS = {
    "acgan-r20-prior": dict(method="acgan", imbalance_ratio=20.0),
    "cs-acgan-r20-prior": dict(method="cs-acgan", imbalance_ratio=20.0),
    "cs-acgan-r20-uniform": dict(method="cs-acgan", imbalance_ratio=20.0, fake_labels="uniform"),
    "acgan-r190-prior": dict(method="acgan", imbalance_ratio=190.0),
    "cs-acgan-r190-prior": dict(method="cs-acgan", imbalance_ratio=190.0),
    "bagan-r190-prior": dict(method="bagan", imbalance_ratio=190.0),
}
COLORS = {name: f"C{i}" for i, name in enumerate(RUNS)}  # one colour per run in every panel
CHUNK, MIN_EPOCHS, WINDOW = 2, 10, 5
N_PER_CLASS = 500


def config(name: str, out: Path, max_epochs: int, data_dir: str | None):
    from csacgan.config import TrainConfig
    # BAGAN's autoencoder gets the converged profile's 2 epochs, so that profile's rho-190 BAGAN run
    # is this study's too (--reuse)
    options = {"autoencoder_epochs": 2} if RUNS[name]["method"] == "bagan" else {}
    return TrainConfig(out=str(out / name), recipe="paper", seed=0, max_per_class=5000, epochs=max_epochs,
                       method_options=options, data_dir=data_dir, progress=False, **RUNS[name])


def next_step(scored: int, trained: int, target: int) -> str:
    """What :func:`work` will do for a run with ``scored`` epochs in its curve and ``trained``
    snapshots on disk when asked for ``target`` epochs: a run copied in by --reuse holds
    epochs that are scored, not trained again."""
    steps = [f"scoring epochs {scored + 1}-{trained}"] if trained > scored else []
    if target > trained:
        steps.append(f"training to epoch {target}")
    return ", then ".join(steps) or f"scoring epoch {target}"


def plateau_epoch(curve: list[dict]) -> int | None:
    """The first epoch at which the plateau rule above holds, or None."""
    for k in range(len(curve)):
        e = curve[k]["epoch"]
        if e < MIN_EPOCHS or k + 1 < 2 * WINDOW:
            continue
        recent, previous = curve[k + 1 - WINDOW:k + 1], curve[k + 1 - 2 * WINDOW:k + 1 - WINDOW]
        fid = lambda ps: statistics.median(p["fid_all"] for p in ps)  # noqa: E731
        acc = lambda ps: statistics.mean(p["acc_0"] for p in ps)  # noqa: E731
        if fid(recent) >= 0.9 * fid(previous) and abs(acc(recent) - acc(previous)) < 0.03:
            return e
    return None


def score_snapshots(run_dir: Path) -> list[dict]:
    """Score every snapshot not yet in RUN_DIR/convergence.json; returns the whole curve."""
    import torch

    from csacgan.checkpoint import build_generator, snapshot_paths
    from csacgan.files import write_json
    from csacgan.config import TrainConfig
    from csacgan.generate import sample
    from csacgan.metrics import METRICS, EvalContext
    from csacgan.metrics.evaluator import load_or_train_evaluator
    from csacgan.data.training_set import prepare_data
    path = run_dir / "convergence.json"
    curve = json.loads(path.read_text()) if path.is_file() else []
    done = {p["epoch"] for p in curve}
    snaps = [p for p in snapshot_paths(run_dir)
             if int(p.stem.rsplit("_", 1)[1]) not in done]
    if not snaps:
        return curve
    folder = RunFolder(run_dir)
    cfg = TrainConfig.from_dict(folder.config).resolved()
    data, indices, summary = prepare_data(cfg)
    evaluator = load_or_train_evaluator(data, 0, 2, None, False)
    seconds, costs = {}, {}
    for r in folder.log():
        seconds[r["epoch"]] = seconds.get(r["epoch"], 0.0) + r["seconds"]
        if "class_costs" in r:
            costs[r["epoch"]] = r["class_costs"]
    K = data.num_classes
    labels = torch.arange(K).repeat_interleave(N_PER_CLASS)
    for snap_path in snaps:
        started = time.perf_counter()
        snap = torch.load(snap_path, map_location="cpu", weights_only=False)
        generator = build_generator(snap)
        ctx = EvalContext(data=data, evaluator=evaluator, images=sample(generator, labels, 0), labels=labels,
                          seed=0, train_indices=indices, minority=summary.minority_classes, progress=False)
        acc, fid = METRICS["classifier_accuracy"](ctx), METRICS["fid"](ctx)
        ssim = METRICS["ssim_diversity"](ctx, pairs=500)
        e = snap["epoch"]
        curve.append({
            "epoch": e, "step": snap["global_step"],
            "train_seconds": round(sum(v for k, v in seconds.items() if k <= e), 1),
            "acc_0": acc["per_class"]["0"], "acc_all": acc["overall"],
            "fid_0": fid["per_class"]["0"], "fid_all": fid["overall"],
            "ssim_0": ssim["per_class"]["0"], "ssim_0_real": ssim["real"]["per_class"]["0"],
            "fid_0_real": fid["real"]["per_class"]["0"], "fid_all_real": fid["real"]["overall"],
            "class_costs": costs.get(e), "score_seconds": round(time.perf_counter() - started, 1)})
    curve.sort(key=lambda p: p["epoch"])
    write_json(curve, path)
    return curve


def work(name: str, out: str, target: int, max_epochs: int, data_dir: str | None) -> tuple[str, int, list]:
    """Train run ``name`` up to ``target`` epochs (resuming it), then score its snapshots."""
    from csacgan.checkpoint import CHECKPOINT
    from csacgan.train import resume, train
    cfg = config(name, Path(out), max_epochs, data_dir)
    run_dir = Path(cfg.out)
    if (run_dir / CHECKPOINT).is_file():  # a run copied in by --reuse may hold more epochs than scored
        from csacgan.checkpoint import load_checkpoint
        resume(run_dir, epochs=max(target, load_checkpoint(run_dir)["epoch"]), progress=False)
    else:
        cfg.epochs = target
        train(cfg)
    curve = score_snapshots(run_dir)
    return name, curve[-1]["epoch"] if curve else 0, curve


def status(out: Path, max_epochs: int) -> dict:
    """{name: (epochs scored, finished?)} from the run folders."""
    result = {}
    for name in RUNS:
        path = out / name / "convergence.json"
        curve = json.loads(path.read_text()) if path.is_file() else []
        epochs = curve[-1]["epoch"] if curve else 0
        result[name] = (epochs, epochs >= max_epochs or plateau_epoch(curve) is not None)
    return result


def reuse(out: Path, sources: list[Path], max_epochs: int, data_dir: str | None, only=None) -> list[str]:
    """Copy in the finished runs of other grids or studies that are this study's runs with
    fewer epochs (a `csacgan reproduce --profile converged` grid's rho-20 and rho-190 ACGAN
    and CostSensitive-ACGAN, seed 0, are: the same recipe, data and kept images); the study
    resumes them from there, so their first epochs are not trained twice."""
    from csacgan.experiments.grid import GridRun, reuse_trained
    runs = [GridRun(name, RUNS[name]["method"], 0, 0, config(name, out, max_epochs, data_dir).to_dict())
            for name in RUNS if not only or name in only]
    return reuse_trained(runs, sources, data_dir, shorter=True)


def run_study(out: Path, max_epochs: int, jobs: int, data_dir: str | None, only=None) -> None:
    from concurrent.futures import FIRST_COMPLETED, wait

    from csacgan.checkpoint import snapshot_paths
    from csacgan.experiments.grid import process_pool
    from csacgan.data import load_dataset
    from csacgan.metrics.evaluator import load_or_train_evaluator
    names = [n for n in RUNS if not only or n in only]
    state = status(out, max_epochs)
    # Once, here, rather than in both workers at once (cached for later runs).
    load_or_train_evaluator(load_dataset("mnist", data_dir), 0, 2, None, True)
    pool, _ = process_pool(jobs, threads=1)
    in_flight = {}

    def submit_next() -> bool:
        todo = sorted((state[n][0], n) for n in names if not state[n][1] and n not in in_flight.values())
        if not todo:
            return False
        epochs, name = todo[0]
        target = min(max_epochs, epochs + CHUNK)
        in_flight[pool.submit(work, name, str(out), target, max_epochs, data_dir)] = name
        trained = len(snapshot_paths(out / name))
        print(f"{time.strftime('%H:%M:%S')} {name}: {next_step(epochs, trained, target)}", flush=True)
        return True

    try:
        while len(in_flight) < jobs and submit_next():
            pass
        while in_flight:
            finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in finished:
                name = in_flight.pop(future)
                _, epochs, curve = future.result()
                p = plateau_epoch(curve)
                state[name] = (epochs, epochs >= max_epochs or p is not None)
                last = curve[-1]
                print(f"{time.strftime('%H:%M:%S')} {name}: epoch {epochs}, acc0 {last['acc_0']:.3f}, "
                      f"acc {last['acc_all']:.3f}, FID0 {last['fid_0']:.1f}, FID {last['fid_all']:.1f}, "
                      f"SSIM0 {last['ssim_0']:.3f}" + (f"; plateau at epoch {p}" if p else ""), flush=True)
                submit_next()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


LABELS = {"acc_0": "'0' evaluator accuracy", "acc_all": "all-class accuracy", "fid_0": "FID '0'",
          "fid_all": "FID, all classes", "ssim_0": "SSIM '0' (lower = more varied)"}
REAL = {"acc_0": None, "acc_all": None, "fid_0": "fid_0_real", "fid_all": "fid_all_real", "ssim_0": "ssim_0_real"}


def _trained_on(run_dir: Path) -> dict:
    """The machine, precision and versions a run was trained with, from its config.json."""
    record = RunFolder(run_dir).record
    env = record["environment"]
    return {"cpu": env.get("cpu") or env.get("processor"), "precision": record.get("precision"),
            "threads": env.get("threads"), "torch": env.get("torch"), "csacgan_commit": env.get("csacgan_commit")}


def report(out: Path, folder: Path) -> None:
    """Figures (metric against epochs and against CPU minutes) and curves.json into ``folder``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    folder.mkdir(parents=True, exist_ok=True)
    # A run's curve from its folder in OUT, or, for a run trained fewer epochs there (or not at all),
    # the longer curve FOLDER/curves.json already holds, so a study restarted on a new machine does
    # not shorten the published curves. Curves of one seed differ between machines, precisions and
    # code versions, so each keeps the record of what trained it ("trained_on").
    previous = json.loads((folder / "curves.json").read_text()) if (folder / "curves.json").is_file() else {}
    published, old_summary = previous.get("curves", {}), previous.get("summary", {})
    curves = {}
    for name in RUNS:
        path = out / name / "convergence.json"
        fresh = json.loads(path.read_text()) if path.is_file() else []
        old = published.get(name, [])
        if fresh or old:
            curves[name] = fresh if len(fresh) >= len(old) else old
    summary = {n: {"epochs": c[-1]["epoch"], "plateau_epoch": plateau_epoch(c),
                   "cpu_minutes": round(c[-1]["train_seconds"] / 60, 1), "last": c[-1],
                   "trained_on": _trained_on(out / n) if c is not published.get(n)
                   else old_summary.get(n, {}).get("trained_on")} for n, c in curves.items()}
    (folder / "curves.json").write_text(json.dumps({"curves": curves, "summary": summary}, indent=1))
    for x_key, x_label, stem in (("epoch", "epoch", "by_epoch"), ("train_seconds", "training minutes (one 1-thread process, wall clock)", "by_minutes")):
        fig, axes = plt.subplots(2, 3, figsize=(15, 8))
        scale = 60 if x_key == "train_seconds" else 1
        for ax, key in zip(axes.flat, LABELS):
            for name, curve in curves.items():
                xs = [p[x_key] / scale for p in curve]
                ax.plot(xs, [p[key] for p in curve], marker=".", label=name, color=COLORS[name],
                        linestyle="--" if "uniform" in name else "-")
                stop = summary[name]["plateau_epoch"]
                if stop is not None:  # a ring on the epoch at which the plateau rule first held
                    at = next(p for p in curve if p["epoch"] == stop)
                    ax.plot([at[x_key] / scale], [at[key]], marker="o",
                            markersize=9, markerfacecolor="none", color=COLORS[name])
                if REAL[key]:
                    ax.axhline(curve[-1][REAL[key]], color="grey", linewidth=0.6)
            ax.set_title(LABELS[key] + ("  (grey: real)" if REAL[key] else "") + "; ring: plateau")
            ax.set_xlabel(x_label)
            if key.startswith("fid"):
                ax.set_yscale("log")
        ax = axes.flat[5]
        for name, curve in curves.items():
            pts = [(p[x_key] / scale, p["class_costs"][0])
                   for p in curve if p.get("class_costs")]
            if pts:
                ax.plot(*zip(*pts), marker=".", label=name, color=COLORS[name],
                        linestyle="--" if "uniform" in name else "-")
        ax.axhline(0.1, color="grey", linewidth=0.6)
        ax.set_title("w_0, the cost of class '0' (grey: uniform 1/K)")
        ax.set_xlabel(x_label)
        axes.flat[0].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(folder / f"convergence_{stem}.png", dpi=90)
        plt.close(fig)
    page = folder.parent / "convergence.md"
    if page.is_file():  # the page's table, between its markers, from these curves
        if "<!-- table -->" in page.read_text():
            rows = ["| run | epochs | '0' accuracy | all-class accuracy | FID '0' | FID-all | SSIM '0' | w_0 |",
                    "| --- | --- | --- | --- | --- | --- | --- | --- |"]
            for name, curve in curves.items():
                col = lambda key, fmt: " / ".join(fmt.format(p[key]) for p in curve)  # noqa: E731
                w0 = " / ".join(f"{p['class_costs'][0]:.3f}" for p in curve if p.get("class_costs"))
                rows.append(f"| {name} | 1-{curve[-1]['epoch']} | {col('acc_0', '{:.2f}')} | "
                            f"{col('acc_all', '{:.2f}')} | {col('fid_0', '{:.0f}')} | {col('fid_all', '{:.1f}')} | "
                            f"{col('ssim_0', '{:.3f}')} | {w0} |")
            from csacgan.experiments.pages import write_between_markers
            write_between_markers(page, "table", "\n".join(rows))
    for name, s in summary.items():
        last = s["last"]
        print(f"{name:22s} epochs {s['epochs']:3d}  plateau {s['plateau_epoch']}  {s['cpu_minutes']:6.1f} min  "
              f"acc0 {last['acc_0']:.3f} acc {last['acc_all']:.3f} FID0 {last['fid_0']:.1f} "
              f"FID {last['fid_all']:.1f} SSIM0 {last['ssim_0']:.3f} ({last['ssim_0_real']:.3f})  "
              f"{(s['trained_on'] or {}).get('precision')} on {(s['trained_on'] or {}).get('cpu')}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path.home() / "csacgan-runs" / "convergence")
    p.add_argument("--max-epochs", type=int, default=30)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--data-dir", default=os.environ.get("CSACGAN_DATA_DIR"))
    p.add_argument("--runs", nargs="+", choices=list(RUNS), help="default: all")
    p.add_argument("--reuse", type=Path, nargs="+", default=[], metavar="GRID",
                   help="grids or folders of run folders whose finished runs that are this study's (with "
                        "fewer epochs) are copied in and resumed")
    p.add_argument("--report", type=Path, metavar="FOLDER", help="only write figures and curves.json")
    args = p.parse_args()
    if args.report:
        report(args.out, args.report)
    else:
        if args.reuse:
            copied = reuse(args.out, args.reuse, args.max_epochs, args.data_dir, args.runs)
            print(f"copied in from {', '.join(map(str, args.reuse))}: {', '.join(copied) or 'none'}", flush=True)
        run_study(args.out, args.max_epochs, args.jobs, args.data_dir, args.runs)


if __name__ == "__main__":
    main()
