"""What each cost signal of CostSensitive-ACGAN says about a trained run, beside what is
actually wrong with its generated images.

For a finished run folder (one that ``csacgan evaluate`` has scored: metrics.json), the
per-class error of every signal ``--cost-error-source`` offers, measured with the run's
final D and G:

  real        D's auxiliary classifier on the real training images (the paper's signal);
  test        D's auxiliary classifier on the real test images, never trained on (what a
              held-out split would show with more than 3 of the 26 zeros; diagnosis only);
  fake        D's auxiliary classifier on 500 generated images per class;
  classifier  a small CNN trained on the imbalanced training set with a class-weighted
              loss (600 steps, as the ``classifier`` source trains it), on the same
              generated images;
  evaluator   the project's evaluator on generated images (from metrics.json; the judge of
              results, never a cost signal),

the softmax costs each would set (tau 1, and tau 0.05 for a sharp one), and the quality gap
of each class from metrics.json: FID against its real-against-real value, 1 - recall and
SSIM above real. The question: does any class-error signal rank the classes the way the
quality gap does? Spearman's rank correlation over the classes says. Last, how a held-out
split of 10% of each minority class would read: D's 0/1 and graded error on random
subsets of that many real test images.

    python experiments/cost_signals.py ~/csacgan-runs/cs-r190 --out docs/results/cost-signals
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from scipy.stats import spearmanr

from csacgan.checkpoint import build_generator, load_checkpoint, load_discriminator
from csacgan.files import write_json
from csacgan.config import TrainConfig
from csacgan.data.training_set import prepare_data
from csacgan.methods import method_defaults
from csacgan.methods.class_costs import classifier_class_errors, fake_class_errors, real_class_errors
from csacgan.fit import fit_small_cnn

SIGNALS = ("real", "test", "fake", "classifier", "evaluator")
# The held-out split and the cost classifier as `--method cs-acgan` makes them by default
CS_DEFAULTS = method_defaults("cs-acgan")
GAPS = ("fid_ratio", "one_minus_recall", "ssim_above_real")


def measure(run: Path, per_class: int = 500, seed: int = 0) -> dict:
    torch.set_grad_enabled(False)
    ckpt = load_checkpoint(run)
    cfg = TrainConfig.from_dict(ckpt["config"]).resolved()
    data, indices, summary = prepare_data(cfg)
    k = data.num_classes
    G, D = build_generator(ckpt), load_discriminator(run)
    images, labels = data.train_images[indices], data.train_labels[indices]
    errors = {"real": real_class_errors(D, images, labels, k),
              "test": real_class_errors(D, data.test_images, data.test_labels, k),
              "fake": fake_class_errors(D, G, k, per_class, G.latent_dim, "cpu",
                                        torch.Generator().manual_seed(seed))}
    counts = torch.bincount(labels, minlength=k).float()
    with torch.enable_grad():
        cnn = fit_small_cnn(images, labels, k, CS_DEFAULTS["classifier_steps"], seed, class_weights=len(labels) / (k * counts))
    errors["classifier"] = classifier_class_errors(cnn, G, k, per_class, G.latent_dim, "cpu",
                                                   torch.Generator().manual_seed(seed))
    out_heldout = held_out_spread(D, data.test_images, data.test_labels, summary.minority_classes, counts, seed,
                                  CS_DEFAULTS["held_out_fraction"])
    m = json.loads((run / "metrics.json").read_text())["metrics"]
    names = data.class_names
    errors["evaluator"] = torch.tensor([1 - m["classifier_accuracy"]["per_class"][c] for c in names])
    gaps = {"fid_ratio": [m["fid"]["per_class"][c] / m["fid"]["real"]["per_class"][c] for c in names],
            "one_minus_recall": [1 - m["prdc"]["per_class"][c]["recall"] for c in names],
            "ssim_above_real": [m["ssim_diversity"]["per_class"][c] - m["ssim_diversity"]["real"]["per_class"][c]
                                for c in names]}
    out = {"run": str(run), "epoch": ckpt["epoch"], "method": ckpt["method_name"], "recipe": cfg.recipe,
           "train_counts": counts.long().tolist(), "class_names": names, "generated_per_class": per_class,
           "errors": {s: [round(float(v), 4) for v in errors[s]] for s in SIGNALS}, "gaps": gaps,
           "costs": {}, "spearman": {}}
    for s in SIGNALS:
        e = errors[s].float()
        out["costs"][s] = {f"tau {t:g}": [round(float(v), 4) for v in torch.softmax(e / t, 0)] for t in (1, 0.05)}
        out["spearman"][s] = {g: None if e.std() == 0 else round(float(spearmanr(e, gaps[g]).statistic), 3)
                              for g in GAPS}
    out["held_out_spread"] = out_heldout
    out["held_out_fraction"] = CS_DEFAULTS["held_out_fraction"]
    if "class_costs" in ckpt.get("method", {}):
        out["costs_at_end_of_training"] = [round(float(v), 4) for v in ckpt["method"]["class_costs"]["costs"]]
    return out


def held_out_spread(D, images, labels, minority: list[int], counts, seed: int, fraction: float,
                    draws: int = 2000) -> dict:
    """What a held-out split of ``fraction`` of a minority class's training images would
    read: random subsets of that many of its real test images, D's 0/1 error on each
    (the ``held-out`` signal) and its graded error (1 - D's mean probability of the right
    class). Returns, per minority class, the subset size, how often the 0/1 error reads 0,
    and both errors' mean and 10-90% range over the draws."""
    import numpy as np

    from csacgan.data.batches import to_unit_range
    rng = np.random.default_rng(seed)
    out = {}
    for c in minority:
        x = images[labels == c]
        p = torch.cat([torch.softmax(D(to_unit_range(x[s:s + 1000]))[1].float(), 1) for s in range(0, len(x), 1000)])
        right, correct = p[:, c].numpy(), (p.argmax(1) == c).numpy()
        n = max(1, round(fraction * int(counts[c])))
        picks = [rng.choice(len(x), n, replace=False) for _ in range(draws)]
        zero_one = np.array([1 - correct[i].mean() for i in picks])
        graded = np.array([1 - right[i].mean() for i in picks])
        out[str(c)] = {"held_out_images": n, "p_zero_one_reads_0": round(float((zero_one == 0).mean()), 3),
                       **{f"{k}_mean": round(float(v.mean()), 3) for k, v in (("zero_one", zero_one), ("graded", graded))},
                       **{f"{k}_q10_q90": [round(float(q), 3) for q in np.quantile(v, [0.1, 0.9])]
                          for k, v in (("zero_one", zero_one), ("graded", graded))}}
    return out


def render(r: dict) -> str:
    names = r["class_names"]
    head = "| | " + " | ".join(f"'{c}' ({n})" for c, n in zip(names, r["train_counts"])) + " |"
    rule = "|---" * (len(names) + 1) + "|"
    lines = [f"Run `{r['run']}` ({r['method']}, recipe {r['recipe']}, epoch {r['epoch']}); "
             f"{r['generated_per_class']} generated images per class.", "",
             "Per-class error of each signal (the class's training images in brackets):", "", head, rule]
    lines += [f"| {s} | " + " | ".join(f"{v:.3f}" for v in r["errors"][s]) + " |" for s in SIGNALS]
    lines += ["", "Quality gap of each class (evaluate's metrics.json):", "", head, rule]
    lines += [f"| {g} | " + " | ".join(f"{v:.3f}" for v in r["gaps"][g]) + " |" for g in GAPS]
    lines += ["", "Costs w_c each signal would set (softmax of the errors / tau):", "", head, rule]
    lines += [f"| {s}, {t} | " + " | ".join(f"{v:.3f}" for v in r["costs"][s][t]) + " |"
              for s in SIGNALS for t in r["costs"][s]]
    lines += ["", "Spearman's rank correlation over the classes, signal against gap:", "",
              "| signal | " + " | ".join(GAPS) + " |", "|---" * (len(GAPS) + 1) + "|"]
    lines += [f"| {s} | " + " | ".join("-" if v is None else f"{v:+.2f}" for v in r["spearman"][s].values()) + " |"
              for s in SIGNALS]
    share = f"{100 * r.get('held_out_fraction', 0.1):g}%"  # pages written before the field existed used 10%
    lines += ["", f"A held-out split of {share} of a minority class, read off random subsets of its real test images:",
              ""]
    lines += [f"- '{c}': {v['held_out_images']} images; the 0/1 error reads 0 in {100 * v['p_zero_one_reads_0']:.0f}% "
              f"of draws (mean {v['zero_one_mean']:.3f}, 10-90% {v['zero_one_q10_q90'][0]:.3f}-"
              f"{v['zero_one_q10_q90'][1]:.3f}); graded error mean {v['graded_mean']:.3f}, 10-90% "
              f"{v['graded_q10_q90'][0]:.3f}-{v['graded_q10_q90'][1]:.3f}" for c, v in r["held_out_spread"].items()]
    return "\n".join(lines) + "\n"


def figure(r: dict, path: Path) -> None:
    """Two panels over the classes: each signal's error, and each quality gap."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    names = [f"'{c}'\n({n})" for c, n in zip(r["class_names"], r["train_counts"])]
    x = np.arange(len(names))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    w = 0.8 / len(SIGNALS)
    for i, s in enumerate(SIGNALS):
        top.bar(x - 0.4 + w * (i + 0.5), r["errors"][s], w, label=s, color=f"C{i}")
    top.set_ylabel("class error")
    top.set_title(f"cost signals at epoch {r['epoch']} ({r['method']}, recipe {r['recipe']})")
    top.legend(fontsize=8, ncol=len(SIGNALS))
    bottom.bar(x - 0.2, r["gaps"]["fid_ratio"], 0.4, color="C5", label="FID / real-against-real FID")
    twin = bottom.twinx()
    twin.bar(x + 0.2, r["gaps"]["one_minus_recall"], 0.4, color="C7", label="1 - recall")
    bottom.set_ylabel("FID ratio")
    twin.set_ylabel("1 - recall")
    bottom.set_xticks(x, names)
    bottom.set_xlabel("class (training images)")
    handles, labels = (a + b for a, b in zip(bottom.get_legend_handles_labels(), twin.get_legend_handles_labels()))
    twin.legend(handles, labels, loc="upper right", fontsize=8, framealpha=0.9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--out", type=Path, required=True, help="folder for cost-signals.json and cost-signals.md")
    p.add_argument("--per-class", type=int, default=500)
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    results = [measure(run, a.per_class) for run in a.runs]
    write_json(results, a.out / "cost-signals.json")
    for i, r in enumerate(results):
        figure(r, a.out / f"cost-signals{'-' + str(i) if i else ''}.png")
    (a.out / "cost-signals.md").write_text("\n".join(render(r) for r in results))
    print((a.out / "cost-signals.md").read_text())


if __name__ == "__main__":
    main()
