"""``csacgan evaluate``: every registered metric on a run's generator, written to
``metrics.json`` in the run folder and printed as a table."""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from .checkpoint import build_generator, load_generator, snapshot_paths
from .files import read_json, write_json
from .run_folder import RunFolder, check_data, lock_run, recorded
from .config import TrainConfig
from .data.training_set import prepare_data
from .generate import sample
from .metrics import METRICS, EvalContext
from .metrics.evaluator import load_or_train_evaluator
from .runtime import environment

DEFAULT_METRICS = ("classifier_accuracy", "ssim_diversity", "fid", "kid", "prdc", "cas", "augmentation_gain")


def metrics_path(run_dir: str | Path, weights: str, ckpt: dict) -> Path:
    """Where evaluate writes by default: RUN_DIR/metrics.json, or RUN_DIR/metrics-raw.json
    for the raw weights of a run that kept an EMA of them (its metrics.json is the EMA's)."""
    return Path(run_dir) / ("metrics-raw.json" if weights == "raw" and "generator_ema" in ckpt else "metrics.json")


def evaluate(run_dir: str | Path, metrics=None, n_per_class: int = 1000, seed: int = 0,
             data_dir: str | None = None, evaluator_seed: int = 0, evaluator_epochs: float = 2,
             evaluator_subset: int | None = None, progress: bool = True, metric_options=None,
             weights: str = "sampling", output: str | Path | None = None) -> dict:
    """Compute ``metrics`` (default: all) for the run's generator (``weights``: see
    checkpoint.build_generator) and write them to ``output``: by default RUN_DIR/metrics.json,
    RUN_DIR/metrics-raw.json for the raw weights of a run that kept an EMA."""
    run_dir = Path(run_dir)
    defaulted, metrics = not metrics, list(metrics or DEFAULT_METRICS)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {', '.join(METRICS)}")
    if n_per_class < 2:
        raise ValueError(f"--n-per-class must be at least 2, got {n_per_class}")
    with lock_run(run_dir, "evaluate"):  # nothing writes the run while it is scored
        return _evaluate(run_dir, metrics, defaulted, n_per_class, seed, data_dir, evaluator_seed, evaluator_epochs,
                         evaluator_subset, progress, metric_options, weights, output)


def _evaluate(run_dir, metrics, defaulted, n_per_class, seed, data_dir, evaluator_seed, evaluator_epochs,
              evaluator_subset, progress, metric_options, weights, output) -> dict:
    generator, ckpt = load_generator(run_dir, weights=weights)
    sampling = "ema" if "generator_ema" in ckpt else "raw"  # the weights a sampler draws from
    drawn_from = sampling if weights == "sampling" else "raw"
    cfg = TrainConfig.from_dict(ckpt["config"]).resolved()
    if data_dir is not None:
        cfg.data_dir = data_dir
    data, indices, summary = prepare_data(cfg)
    check_data(run_dir, data.files, where=cfg.data_dir)
    if defaulted and data.image_shape[0] == 3:  # colour: whether each class keeps its palettes
        metrics.append("hue_spread")
    K = data.num_classes
    labels = torch.arange(K).repeat_interleave(n_per_class)
    images = sample(generator, labels, seed)
    evaluator = load_or_train_evaluator(data, evaluator_seed, evaluator_epochs, evaluator_subset, progress)
    ctx = EvalContext(data=data, evaluator=evaluator, images=images, labels=labels, seed=seed,
                      train_indices=indices, minority=summary.minority_classes,
                      sampler=lambda lab, s: sample(generator, lab, s), progress=progress)
    path = Path(output) if output is not None else metrics_path(run_dir, weights, ckpt)
    return _score(ctx, path, metrics, metric_options, n_per_class, seed, drawn_from, sampling,
                  dict(run=str(run_dir), step=ckpt["global_step"], epoch=ckpt["epoch"], method=cfg.method,
                       recipe=cfg.recipe), data, summary, evaluator)


def settings_key(n_per_class: int, seed: int, weights: str) -> str:
    return f"n{n_per_class}-seed{seed}-{weights}"


def _score(ctx, path, metrics, metric_options, n_per_class, seed, drawn_from, sampling, about, data, summary,
           evaluator) -> dict:
    """Compute the metrics into the report at ``path``, merged: metrics already there for
    the same settings (images per class, seed, weights) are kept beside the new ones, and
    a report of other settings is kept whole under ``other_settings``."""
    K = data.num_classes
    report = read_json(path) if path.exists() else {}
    scored = report.get("weights", sampling)  # older reports scored the sampling weights
    if report and (report.get("n_per_class"), report.get("seed"), scored) != (n_per_class, seed, drawn_from):
        others = report.pop("other_settings", {})
        others[settings_key(report.get("n_per_class"), report.get("seed"), scored)] = report
        here = others.pop(settings_key(n_per_class, seed, drawn_from), {})
        report = {**here, "other_settings": others}
    report.update({**about, "weights": drawn_from, "n_per_class": n_per_class, "seed": seed,
                   "class_names": list(data.class_names),
                   "test_images_per_class": dict(zip(data.class_names, torch.bincount(
                       data.test_labels, minlength=K).tolist())),
                   "imbalance": summary.to_dict(), "evaluator": evaluator.info, "environment": environment()})
    report.setdefault("metrics", {})
    report.setdefault("seconds", {})
    for name in metrics:
        started = time.perf_counter()
        report["metrics"][name] = METRICS[name](ctx, **(metric_options or {}).get(name, {}))
        report["seconds"][name] = round(time.perf_counter() - started, 2)
        write_json(report, path)  # nothing lost if a later metric is interrupted
    return report


def snapshot_curve(run_dir: str | Path, n_per_class: int = 200, seed: int = 0, data_dir=None,
                   evaluator_epochs: float = 2, progress: bool = True,
                   evaluator_subset: int | None = None) -> list[dict]:
    """Evaluator accuracy per class of the generator saved after each epoch
    (``snapshots/``), with the training seconds spent until then; writes ``curve.json``.

    A snapshot already in ``curve.json`` with the same step, number of images, seed and
    evaluator is kept, not scored again (scoring is deterministic), so a resumed run's
    curve costs only its new epochs."""
    from .data import load_dataset
    from .metrics.classifier_accuracy import accuracy_by_class
    run_dir = Path(run_dir)
    config = recorded(run_dir)["config"]
    data = load_dataset(config["dataset"], data_dir or config["data_dir"], image_size=config.get("image_size"))
    evaluator = load_or_train_evaluator(data, 0, evaluator_epochs, evaluator_subset, progress)
    # the evaluator cache file's name says which data, architecture, epochs, subset and seed made it
    scoring = {"n_per_class": n_per_class, "seed": seed, "evaluator": Path(evaluator.info["path"]).name}
    path = run_dir / "curve.json"
    scored = {(c["epoch"], c["step"]): c for c in (json.loads(path.read_text()) if path.is_file() else [])
              if all(c.get(k) == v for k, v in scoring.items())}
    per_epoch = RunFolder(run_dir).epoch_seconds()
    seconds, total = {}, 0.0
    for epoch in sorted(per_epoch):
        total += per_epoch[epoch]
        seconds[epoch] = total
    labels = torch.arange(data.num_classes).repeat_interleave(n_per_class)
    curve = []
    for snap_path in snapshot_paths(run_dir):
        snap = torch.load(snap_path, map_location="cpu", weights_only=False)
        point = scored.get((snap["epoch"], snap["global_step"]))
        if point is None:
            predicted = evaluator.predict(sample(build_generator(snap), labels, seed))
            point = {"epoch": snap["epoch"], "step": snap["global_step"],
                     "accuracy": float((predicted == labels).float().mean()),
                     "per_class": [round(float(a), 4) for a in accuracy_by_class(predicted, labels, data.num_classes)],
                     **scoring}
        curve.append({**point, "train_seconds": round(seconds.get(snap["epoch"], float("nan")), 1)})
        write_json(curve, path)  # nothing lost if scoring is interrupted
    return curve


def format_table(report: dict) -> str:
    m = report["metrics"]
    columns = [("classifier_accuracy", "acc", "{:.3f}"), ("ssim_diversity", "SSIM", "{:.3f}"),
               ("fid", "FID", "{:.2f}"), ("kid", "KID", "{:.4f}"), ("cas", "CAS recall", "{:.3f}"),
               ("hue_spread", "hue spread", "{:.3f}")]
    columns = [c for c in columns if c[0] in m]
    header = ["class"] + [f"{label} (real)" for _, label, _ in columns]
    classes = list(next(iter(m[c[0]]["per_class"] for c in columns)).keys()) if columns else []
    rows = []
    names = report.get("class_names") or []
    for key in classes + ["all"]:
        named = key != "all" and key.isdigit() and int(key) < len(names) and names[int(key)] != key
        row = [f"{key} {names[int(key)]}" if named else key]
        for name, _, fmt in columns:
            gen = m[name]["overall"] if key == "all" else m[name]["per_class"][key]
            real = m[name]["real"]["overall"] if key == "all" else m[name]["real"]["per_class"][key]
            row.append(f"{fmt.format(gen)} ({fmt.format(real)})")
        rows.append(row)
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = [f"{report['run']}: {report['method']} ({report['recipe']}), step {report['step']}, "
             f"rho {report['imbalance']['imbalance_ratio']:.1f}, {report['n_per_class']} images per class",
             _evaluator_line(report["evaluator"])]
    if columns:
        lines += ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
                  "  ".join("-" * w for w in widths)]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    if "prdc" in m:
        lines.append(f"\nprecision / recall / density / coverage (k = {m['prdc']['nearest_k']}; real in brackets):")
        minority = [str(c) for c in report.get("imbalance", {}).get("minority_classes", [])]
        for key in minority + ["overall"]:
            gen = m["prdc"]["overall"] if key == "overall" else m["prdc"]["per_class"][key]
            real = m["prdc"]["real"]["overall"] if key == "overall" else m["prdc"]["real"]["per_class"][key]
            lines.append(f"  {key:8s} " + "  ".join(f"{gen[k]:.3f} ({real[k]:.3f})"
                                                    for k in ("precision", "recall", "density", "coverage")))
    if "augmentation_gain" in m:
        gain = m["augmentation_gain"]
        lines.append(f"\naugmentation gain (small CNN, {gain['steps']} steps, mean +- std over {gain['seeds']} seeds):")
        lines.append(f"{'training set':16s} {'balanced acc':>18s} {'minority recall':>18s} {'macro-F1':>18s}")
        for setup, values in gain["setups"].items():
            cells = [f"{values[k]['mean']:.4f} +- {values[k]['std']:.4f}"
                     for k in ("balanced_accuracy", "minority_recall", "macro_f1")]
            lines.append(f"{setup:16s} " + " ".join(f"{c:>18s}" for c in cells))
    few = report.get("test_images_per_class") or {}
    few = {k: v for k, v in few.items() if v < FEW_TEST_IMAGES}
    if few and ("fid" in m or "kid" in m):
        lines.append(f"note: per-class FID/KID compare against real test images; with fewer than "
                     f"{FEW_TEST_IMAGES} of them ({', '.join(f'{k}: {v}' for k, v in few.items())}) those "
                     f"per-class values are noise, and NaN below 2")
    lines.append("seconds: " + ", ".join(f"{k} {v}" for k, v in report["seconds"].items()))
    return "\n".join(lines)


FEW_TEST_IMAGES = 50


def _evaluator_line(info: dict) -> str:
    """The evaluator's own accuracy on real test images: how far its judgements can be trusted."""
    line = (f"evaluator: {info.get('arch')}, real test accuracy {info.get('test_accuracy', float('nan')):.4f}"
            + (f" on {info['test_images']} images" if "test_images" in info else ""))
    per_class = info.get("test_accuracy_per_class")
    if per_class:
        line += "; per class " + ", ".join(f"{k} {v:.2f}" for k, v in per_class.items() if v is not None)
        weak = [k for k, v in per_class.items() if v is not None and v < 0.9]
        if weak:
            line += (f"\n  warning: the evaluator recognises under 90% of real {', '.join(weak)}; "
                     f"accuracy and FID for those classes are weak evidence")
    return line
