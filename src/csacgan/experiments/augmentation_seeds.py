"""The augmentation gain over GAN seeds: for each setting, its runs' (one per GAN seed,
scored by ``csacgan evaluate``, which trains the small CNN on 3 seeds of each training
set) balanced accuracy and minority recall with generated images beside random
oversampling's, and each setting's paired difference from the first setting's, seed by
seed. Only run folders are read.

    python -m csacgan.experiments.augmentation_seeds default=RUN_S0,RUN_S1,RUN_S2 ms0.5=RUN_S0,RUN_S1,RUN_S2
"""
import argparse
import json
from pathlib import Path

from csacgan.experiments.stats import paired_difference
from csacgan.experiments.stats import mean_std

KEYS = {"balanced_accuracy": "balanced accuracy", "minority_recall": "minority recall"}


def gain(run: Path) -> dict:
    """{training set: {key: mean over the CNN's seeds}} of the run's augmentation gain."""
    setups = json.loads((run / "metrics.json").read_text())["metrics"]["augmentation_gain"]["setups"]
    return {name: {k: setup[k]["mean"] for k in KEYS} for name, setup in setups.items()}


def table(settings: dict[str, list[Path]]) -> str:
    gains = {name: [gain(run) for run in runs] for name, runs in settings.items()}
    first = next(iter(settings))
    lines = ["| training set | GAN seeds | " + " | ".join(f"{h}, per seed" for h in KEYS.values())
             + " | " + " | ".join(f"{h}, mean ± std" for h in KEYS.values()) + " |", "|" + " --- |" * 6]
    rows = [("randomly oversampled", "oversampled", gains[first])]
    rows += [(f"plus generated zeros: {name}", "generated", g) for name, g in gains.items()]
    for label, setup, by_seed in rows:
        values = {k: [g[setup][k] for g in by_seed] for k in KEYS}
        lines.append(f"| {label} | {len(by_seed)} | "
                     + " | ".join(" / ".join(f"{v:.4f}" for v in values[k]) for k in KEYS) + " | "
                     + " | ".join(mean_std(values[k], "{:.4f}") for k in KEYS) + " |")
    lines.append("")
    for name, by_seed in gains.items():
        for other, setup in ([(first, "generated")] if name != first else []) + [(name, "oversampled")]:
            parts = []
            for k, header in KEYS.items():
                d = paired_difference([g["generated"][k] for g in by_seed], [g[setup][k] for g in gains[other]])
                p = "" if d["p"] is None else f", p {d['p']:.2g}"
                parts.append(f"{header} {d['mean']:+.4f} ± {d['std']:.4f} ({d['wins']}/{d['n']} above{p})")
            against = f"{other}'s generated zeros" if setup == "generated" else "random oversampling"
            lines.append(f"- {name} against {against}: " + "; ".join(parts))
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("settings", nargs="+", metavar="NAME=RUN,RUN,...",
                   help="a setting's runs, one per GAN seed, in the same seed order for every setting")
    args = p.parse_args()
    settings = {}
    for item in args.settings:
        name, _, runs = item.partition("=")
        if not runs:
            p.error(f"{item!r}: expected NAME=RUN,RUN,...")
        settings[name] = [Path(r) for r in runs.split(",")]
    if len({len(r) for r in settings.values()}) != 1:
        p.error("every setting needs one run per GAN seed, the same seeds")
    print(table(settings))


if __name__ == "__main__":
    main()
