"""Markdown table of the recipe study, built only from run folders.

Usage: python experiments/summarise_recipes.py runs/cs-paper-tau1 runs/cs-balanced ...
"""
import json
import sys
from pathlib import Path

from csacgan.config import TrainConfig


def row(run: Path) -> str:
    config = json.loads((run / "config.json").read_text())["config"]
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    log = [r for r in log if not r.get("partial_epoch")]
    curve = json.loads((run / "curve.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())["metrics"]
    zero_acc = " / ".join(f"{p['per_class'][0]:.2f}" for p in curve)
    w0 = " / ".join(f"{r['class_costs'][0]:.3f}" for r in log if "class_costs" in r) or "-"
    err0 = " / ".join(f"{r['class_errors'][0]:.2f}" for r in log if "class_errors" in r) or "-"
    minutes = sum(r["seconds"] for r in log) / 60
    options = TrainConfig.from_dict(config).method_options  # config.json of any age
    name = (f"{config['method']}, {config['sampling']}, L_c(fake) in D: {config['fake_class_loss_in_d']}"
            + (f", tau {options['temperature']:g}, momentum {options['momentum']:g}"
               if config["method"] == "cs-acgan" else "")
            + (f", DiffAugment {config['diffaugment']}" if config.get("diffaugment") else "")
            + (", no generator BatchNorm" if not config.get("g_batch_norm", True) else ""))
    acc, ssim, fid = metrics["classifier_accuracy"], metrics["ssim_diversity"], metrics["fid"]
    return (f"| {name} | {zero_acc} | {err0} | {w0} | {acc['per_class']['0']:.3f} | {acc['overall']:.3f} | "
            f"{ssim['per_class']['0']:.3f} ({ssim['real']['per_class']['0']:.3f}) | "
            f"{fid['per_class']['0']:.1f} | {fid['overall']:.1f} | {minutes:.1f} |")


if __name__ == "__main__":
    print("| variant | evaluator accuracy on generated '0', after each epoch | D's error on real '0' "
          "after each epoch | w_0 after each epoch | final '0' accuracy | final accuracy, all | "
          "SSIM '0' (real) | FID '0' | FID all | training minutes |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for arg in sys.argv[1:]:
        print(row(Path(arg)))
