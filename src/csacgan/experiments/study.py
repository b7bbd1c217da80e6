"""A study: rows of training options crossed with seeds, trained, scored and tabulated.

``Study`` is a configuration: the options every run shares (``base``), each row's own
(``rows``), the seeds, the metrics and the table's columns. The runner plans the run
folders OUT/PREFIX-ROW-sSEED (every row of seed 0 first, then seed 1, ...), trains each or
resumes it where it stopped (csacgan.train), scores each through ``csacgan evaluate``,
collects every run's measures in an archive that outlives the folders (measures.py says
where each lives in metrics.json), and tabulates the rows over seeds with their paired
differences from a baseline row (stats.py).
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from ..run_folder import RunFolder
from . import measures
from .stats import mean_std, paired_difference

# (key, measure (measures.py; its name heads the column), format, higher is better?)
RARE_COLUMNS = (
    ("fid", "FID", "{:.1f}", False),
    ("precision", "precision", "{:.3f}", True),
    ("recall", "recall", "{:.3f}", True),
    ("coverage", "coverage", "{:.3f}", True),
    ("hue", "hue spread", "{:.3f}", True),
    ("chroma", "chroma", "{:.3f}", True),
    ("fid_all", "FID-all", "{:.1f}", False),
)


@dataclass
class Study:
    prefix: str                       # run folders OUT/PREFIX-ROW-sSEED
    rows: dict                        # row: its TrainConfig options over base
    base: dict = field(default_factory=dict)  # TrainConfig options of every run
    rare: str | int = 0               # the class the table shows, by name
    seeds: tuple = (0, 1, 2)
    metrics: tuple = ("classifier_accuracy", "fid", "prdc")
    columns: tuple = RARE_COLUMNS
    n_per_class: int = 1000           # generated images per class that evaluate scores
    baseline: str | None = None       # the row every other is paired with

    # -- plan and train ---------------------------------------------------------------
    def run_dir(self, out: Path, row: str, seed: int) -> Path:
        return Path(out) / f"{self.prefix}-{row}-s{seed}"

    def plan(self, out: Path, rows=None, seeds=None) -> list[tuple[str, int, Path]]:
        """(row, seed, folder) of every run, seed-major: one seed of every row is a screen."""
        rows = list(rows or self.rows)
        unknown = [r for r in rows if r not in self.rows]
        if unknown:
            raise ValueError(f"unknown rows {', '.join(unknown)}; the study has {', '.join(self.rows)}")
        return [(row, seed, self.run_dir(out, row, seed)) for seed in (seeds or self.seeds) for row in rows]

    def config(self, out: Path, row: str, seed: int):
        from ..config import TrainConfig
        return TrainConfig(**{"progress": False, **self.base, **self.rows[row], "seed": seed,
                              "out": str(self.run_dir(out, row, seed))})

    def train_one(self, out: Path, row: str, seed: int) -> Path:
        """Train one run, or resume it to the study's length if it is shorter; a folder
        trained with other options than the study plans is refused."""
        from ..checkpoint import CHECKPOINT, load_checkpoint
        from ..train import resume, train
        from .grid import check_same_run
        cfg, run = self.config(out, row, seed), self.run_dir(out, row, seed)
        if (run / CHECKPOINT).is_file():
            ckpt = load_checkpoint(run)
            check_same_run(run, cfg, ckpt["config"])
            if ckpt["epoch"] < cfg.epochs and (cfg.max_steps is None or ckpt["global_step"] < cfg.max_steps):
                resume(run, epochs=cfg.epochs, max_steps=cfg.max_steps, progress=False)
        else:
            train(cfg)
        return run

    def train(self, out: Path, rows=None, seeds=None, log=print) -> list[Path]:
        """Train every planned run that is not finished; a stopped one is resumed."""
        from ..checkpoint import CHECKPOINT
        done = []
        for row, seed, run in self.plan(out, rows, seeds):
            if RunFolder(run).finished:
                continue
            log(f"{'resume' if (run / CHECKPOINT).is_file() else 'train'} {run.name}")
            done.append(self.train_one(out, row, seed))
        return done

    # -- score and collect ------------------------------------------------------------
    def found(self, out: Path) -> dict[str, dict[int, Path]]:
        """{row: {seed: run folder}} of the finished runs (a final sample grid) under ``out``."""
        found: dict[str, dict[int, Path]] = {}
        for folder in sorted(Path(out).glob(f"{self.prefix}-*-s*")):
            m = re.fullmatch(re.escape(self.prefix) + r"-(.+)-s(\d+)", folder.name)
            if m and folder.is_dir() and RunFolder(folder).finished:
                found.setdefault(m.group(1), {})[int(m.group(2))] = folder
        return found

    def score(self, found: dict, progress: bool = False) -> None:
        """``csacgan evaluate`` on every run whose metrics.json lacks one of the metrics."""
        from ..evaluate import evaluate
        for seeds in found.values():
            for run in seeds.values():
                report = RunFolder(run).metrics()
                have = report.get("metrics", {})
                missing = [m for m in self.metrics if m not in have]
                if "hue_spread" in have and "chroma" not in have["hue_spread"]:  # scored before the chroma
                    missing.append("hue_spread")
                if missing or (report and report.get("n_per_class") != self.n_per_class):
                    evaluate(run, missing or list(self.metrics), n_per_class=self.n_per_class, progress=progress)

    def collect(self, found: dict) -> dict:
        """Everything the table shows, by row and seed: the archive."""
        archive = {}
        for row, seeds in found.items():
            archive[row] = {}
            for seed, run in sorted(seeds.items()):
                report = RunFolder(run).metrics()
                m, c = report["metrics"], str(report["class_names"].index(self.rare)
                                              if isinstance(self.rare, str) else self.rare)
                archive[row][str(seed)] = {
                    "values": {key: measures.read(m, name, c) for key, name, _, _ in self.columns},
                    "real": {key: measures.read(m, name, c, real=True) for key, name, _, _ in self.columns},
                    "accuracy": measures.read(m, "accuracy", c),
                    "reference_counts": m.get("fid", {}).get("real", {}).get("counts", {}),
                    "epoch_seconds": epoch_seconds(run), "run": str(run), "n_per_class": report["n_per_class"]}
        return archive

    # -- tabulate ---------------------------------------------------------------------
    def table(self, archive: dict, baseline: str | None = None, rows: list[str] | None = None) -> str:
        baseline = baseline or self.baseline
        rows = rows or list(archive)
        head = ["row", "seeds", "s / epoch"] + [h for _, h, _, _ in self.columns]
        lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
        real = {}
        for row in rows:
            seeds = archive.get(row, {})
            if not seeds:
                continue
            cells = [row, str(len(seeds)), f"{statistics.median(s['epoch_seconds'] for s in seeds.values()):.0f}"]
            for key, _, fmt, _ in self.columns:
                cells.append(mean_std([s["values"][key] for s in seeds.values() if s["values"][key] is not None],
                                      fmt))
                for s in seeds.values():
                    real.setdefault(key, s["real"].get(key))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("| real against real | | | " + " | ".join(
            fmt.format(real[key]) if real.get(key) is not None else "" for key, _, fmt, _ in self.columns) + " |")
        diffs = self.differences(archive, baseline, rows) if baseline else {}
        if diffs:
            lines += ["", f"Paired differences from `{baseline}` (row - {baseline}, mean ± std over the seeds both "
                          "hold; wins: seeds where the row is better; p: paired t-test):", "",
                      "| row | " + " | ".join(h for _, h, _, _ in self.columns) + " |",
                      "|" + " --- |" * (len(self.columns) + 1)]
            for row, cells in diffs.items():
                lines.append(f"| {row} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def differences(self, archive: dict, baseline: str, rows: list[str]) -> dict[str, list[str]]:
        base = archive.get(baseline, {})
        out = {}
        for row in rows:
            if row == baseline or row not in archive:
                continue
            shared = sorted(set(archive[row]) & set(base))
            if len(shared) < 2:
                continue
            cells = []
            for key, _, fmt, higher in self.columns:
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


def epoch_seconds(run: Path) -> float:
    """The median training epoch's seconds (BAGAN's autoencoder stage, epoch 0, apart)."""
    seconds = [s for epoch, s in RunFolder(run).epoch_seconds().items() if epoch > 0]
    return statistics.median(seconds) if seconds else float("nan")
