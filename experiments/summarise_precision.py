"""Markdown table comparing runs that differ only in --precision, built from their folders.

Usage: python experiments/summarise_precision.py runs/precision/cs-balanced-r190-fp32 runs/precision/cs-balanced-r190-bf16
"""
import json
import sys
from pathlib import Path


def row(run: Path) -> str:
    config = json.loads((run / "config.json").read_text())
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    metrics = json.loads((run / "metrics.json").read_text())["metrics"]
    acc, ssim, fid = metrics["classifier_accuracy"], metrics["ssim_diversity"], metrics["fid"]
    last = log[-1]
    return (f"| {config['config']['precision']} | {config['config']['seed']} | {last['step']} | {acc['per_class']['0']:.3f} | {acc['overall']:.3f} | "
            f"{ssim['per_class']['0']:.3f} | {ssim['overall']:.3f} | {fid['per_class']['0']:.1f} | "
            f"{fid['overall']:.1f} | {last.get('d_loss', float('nan')):.3f} | {last.get('g_loss', float('nan')):.3f} |")


if __name__ == "__main__":
    print("| precision | seed | steps | '0' accuracy | all accuracy | SSIM '0' | SSIM all | FID '0' | FID all "
          "| D loss (last epoch) | G loss (last epoch) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for arg in sys.argv[1:]:
        print(row(Path(arg)))
