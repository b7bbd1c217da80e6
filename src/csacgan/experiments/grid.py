"""``csacgan reproduce``: the paper's grid, {ACGAN, BAGAN, CostSensitive-ACGAN} x three
imbalance levels x seeds, trained and evaluated into one folder, then reported.

The grid is resumable: a run whose last epoch is done is not trained again, a run
stopped part-way is resumed from its checkpoint, and a metric already in a run's
``metrics.json`` (for the same image count and seed) is not computed again. Every
number in the report is read back from the run folders. With ``jobs`` > 1 several runs
train at once, each in its own process (see :func:`default_jobs`).

The paper's levels are "60/80/95% of class 0 removed" and also rho = 20/40/190, which
those percentages do not give (removing 95% of 5000 zeros leaves 250, rho 20).
``protocol="ratio"`` uses rho = 20, 40, 190; ``protocol="drop"`` removes 60, 80, 95%.
Both label a level by its percentage, as the paper's tables do.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..checkpoint import CHECKPOINT, load_checkpoint
from ..files import LOCK, FolderLock, read_json, write_json
from ..run_folder import recorded
from ..config import TrainConfig

METHODS = ("acgan", "bagan", "cs-acgan")
LEVELS = {"ratio": {60: 20.0, 80: 40.0, 95: 190.0}, "drop": {60: 0.6, 80: 0.8, 95: 0.95}}


@dataclass
class Profile:
    """How much work each run of the grid gets."""
    seeds: int
    epochs: int
    autoencoder_epochs: int
    max_per_class: int
    n_per_class: int                  # generated images per class for the metrics
    metrics: tuple
    metric_options: dict = field(default_factory=dict)
    max_steps: int | None = None
    evaluator_epochs: float = 2
    evaluator_subset: int | None = None
    network: dict = field(default_factory=dict)   # g_channels, d_channels overrides
    batch_size: int = 64


# The paper's two measures (evaluator accuracy, SSIM diversity), then the field's: FID,
# precision / recall / coverage (fidelity and diversity apart), CAS, the augmentation gain.
GRID_METRICS = ("classifier_accuracy", "ssim_diversity", "fid", "prdc", "cas", "augmentation_gain")

PROFILES = {
    # Minutes on 2 CPU cores: narrow networks, 500 images per class (3 real zeros at rho
    # 190), two short epochs (so w_c is updated once), a small evaluator.
    # For smoke tests and for trying the command, not for conclusions.
    "quick": Profile(seeds=1, epochs=2, autoencoder_epochs=1, max_per_class=500, n_per_class=100,
                     metrics=GRID_METRICS,
                     metric_options={"cas": {"steps": 60}, "augmentation_gain": {"seeds": 1, "steps": 60}},
                     evaluator_epochs=0.5, evaluator_subset=6000,
                     network={"g_channels": [32, 16, 16, 8, 8], "d_channels": [16, 16, 32, 32]}),
    # The real one: the paper's data (5000 per class), Table 2 networks, 3 seeds, two
    # epochs of GAN training per run (and one of BAGAN's autoencoder), all metrics on
    # 500 generated images per class. Two epochs, not one: the paper resets w_c after
    # each epoch, so with one epoch CostSensitive-ACGAN never leaves uniform costs and
    # computes exactly ACGAN (measured: identical tables).
    "paper": Profile(seeds=3, epochs=2, autoencoder_epochs=1, max_per_class=5000, n_per_class=500,
                     metrics=GRID_METRICS,
                     metric_options={"cas": {"steps": 400}, "augmentation_gain": {"seeds": 1, "steps": 300}}),
    # The paper's grid at a budget that converges: as "paper" but 20 epochs per run. The
    # convergence study (src/csacgan/experiments/convergence.py, docs/results/convergence.md) finds
    # both rho-190 runs of the paper's recipe at their plateau (window medians of FID-all
    # and mean '0' accuracy) at epoch 20, and '0' accuracy at rho 20 at 0.99-1.00 from
    # epoch 11 on. BAGAN's autoencoder gets 2 epochs (its GAN starts from it).
    "converged": Profile(seeds=3, epochs=20, autoencoder_epochs=2, max_per_class=5000, n_per_class=500,
                         metrics=GRID_METRICS,
                         metric_options={"cas": {"steps": 400}, "augmentation_gain": {"seeds": 1, "steps": 300}}),
}


@dataclass
class GridRun:
    name: str
    method: str
    level: int           # percentage of '0' removed, as the paper labels it
    seed: int
    config: dict


def get_profile(profile: str, overrides: dict | None = None) -> Profile:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return replace(PROFILES[profile], **(overrides or {}))


# Where the seeds after seed 0 are trained: in every cell, or only where the paper's claim
# (CostSensitive-ACGAN against ACGAN under the strongest imbalance) needs paired seeds.
SEEDS_WHERE = ("every-cell", "hardest")


def plan(profile: str, protocol: str = "ratio", recipe: str = "paper", seeds: int | None = None,
         methods=METHODS, data_dir: str | None = None, out: str | Path = "runs/reproduce",
         overrides: dict | None = None, seeds_where: str = "every-cell") -> list[GridRun]:
    """The runs of the grid, in the order they are trained. ``seeds_where="hardest"``: seed 0
    in every cell, the further seeds only at the hardest level for ACGAN and
    CostSensitive-ACGAN."""
    p = get_profile(profile, overrides)
    if protocol not in LEVELS:
        raise ValueError(f"unknown protocol {protocol!r}; choose ratio or drop")
    if seeds_where not in SEEDS_WHERE:
        raise ValueError(f"unknown seeds_where {seeds_where!r}; choose {' or '.join(SEEDS_WHERE)}")
    runs = []
    for seed in range(seeds or p.seeds):
        for level, value in LEVELS[protocol].items():
            for method in methods:
                if seed and seeds_where == "hardest" and (level != max(LEVELS[protocol]) or method == "bagan"):
                    continue
                name = f"{method}-{protocol}{level}-s{seed}"
                cfg = TrainConfig(
                    out=str(Path(out) / "runs" / name), method=method, recipe=recipe, data_dir=data_dir,
                    imbalance_ratio=value if protocol == "ratio" else None,
                    drop_fraction=value if protocol == "drop" else None,
                    max_per_class=p.max_per_class, epochs=p.epochs, max_steps=p.max_steps,
                    method_options={"autoencoder_epochs": p.autoencoder_epochs} if method == "bagan" else {},
                    seed=seed, batch_size=p.batch_size,
                    progress=False, **p.network)
                runs.append(GridRun(name, method, level, seed, cfg.to_dict()))
    return sorted(runs, key=_priority)


def _priority(run: GridRun) -> tuple:
    """The order runs are trained in, so that a grid stopped part-way holds what a reader
    needs first: every cell of seed 0; then the further seeds of the hardest level, ACGAN
    and CostSensitive-ACGAN before BAGAN (the paired comparison the paper's claim rests
    on); then the further seeds of the other levels."""
    later = run.seed > 0
    return (later, later and run.level != max(LEVELS["ratio"]), later and run.method == "bagan",
            run.seed, run.level, METHODS.index(run.method))


# What may differ between a grid's plan and a run folder already in its place: where the
# run lives and finds its data, how long it trains, and whether it shows progress.
MAY_DIFFER = ("out", "data_dir", "epochs", "max_steps", "progress")
# Two ways of asking for one training set: removing 95% of 5000 zeros keeps 250, as rho 20
# does, and the same seed keeps the same 250 images, so the drop grid's 95% cells are the
# ratio grid's rho-20 runs, step for step (tests/test_reproduce.py trains both and compares).
IMBALANCE_FIELDS = ("imbalance_ratio", "drop_fraction")
# A run copied from another grid records where it came from and what made it the same run.
REUSED = "reused.json"


def check_same_run(run_dir: Path, cfg: TrainConfig, recorded: dict | None = None) -> None:
    """Refuse a run folder in the grid's place that was trained with another recipe, so
    that a run copied in (say, from a study with the same configuration, to be resumed to
    the grid's budget) is the grid's run and nothing else. ``recorded``: the config in the
    run's checkpoint, when the caller has loaded it already."""
    planned = cfg.resolved().to_dict()
    recorded = load_checkpoint(run_dir)["config"] if recorded is None else recorded
    found = TrainConfig.from_dict(recorded).resolved().to_dict()
    may_differ = MAY_DIFFER + (IMBALANCE_FIELDS if (run_dir / REUSED).is_file() else ())
    differ = sorted(k for k in planned if k not in may_differ and planned[k] != found.get(k))
    if differ:
        raise ValueError(f"{run_dir} was trained with other settings than the grid plans ("
                         + ", ".join(f"{k}: {found.get(k)!r}, planned {planned[k]!r}" for k in differ)
                         + "); move it away or choose another --out")


def _kept_images(cfg: TrainConfig, data):
    """The indices of the training images ``cfg`` keeps of ``data``."""
    from ..data.training_set import prepare_data
    return prepare_data(cfg.resolved(), data)[1]


def _has_budget(ckpt: dict, trained: TrainConfig, cfg: TrainConfig, shorter: bool) -> bool:
    """A source run's last checkpoint is ``cfg``'s budget (``shorter``: or a shorter one the
    source finished), not another budget and not a run still training."""
    if cfg.max_steps is not None:
        return ckpt["global_step"] == cfg.max_steps
    finished = trained.max_steps is None and ckpt["epoch"] == trained.epochs
    return finished and (trained.epochs == cfg.epochs or shorter and trained.epochs < cfg.epochs)


def reuse_trained(runs: list[GridRun], sources, data_dir: str | None = None, shorter: bool = False) -> list[str]:
    """Copy into their places the runs of ``runs`` not yet started that a finished run of
    another grid or study (``sources``: grid folders, or folders of run folders) already
    trained: the same settings but how the imbalance was asked for, the same data files, the
    same kept images, the same budget (``shorter``: or a shorter one, finished, for the
    caller to resume to its own). The copy keeps its own record (config.json says what
    it was asked for) and gets REUSED: the run it came from and the md5 of the kept images
    both asked for. Returns the names copied.

    Why compare the kept images rather than the asked numbers: rho 20 and a 95% drop keep
    the same 250 zeros only because MNIST's zeros are capped at 5000; on other data they
    need not."""
    import hashlib
    import shutil

    from ..data import load_dataset
    candidates = []
    for source in map(Path, sources):
        parent = source / "runs" if (source / "runs").is_dir() else source
        folders = sorted(parent.iterdir()) if parent.is_dir() else []
        found = [f for f in folders if (f / CHECKPOINT).is_file() and (f / "config.json").is_file()]
        if not found:
            raise ValueError(f"--reuse {source}: holds no run folders (a grid folder, or a folder of run folders)")
        for folder in found:  # (folder, its config.json, its config resolved as the plan's are)
            record = recorded(folder)
            candidates.append((folder, record, TrainConfig.from_dict(record["config"]).resolved()))
    copied, data = [], None
    for run in runs:
        cfg = TrainConfig.from_dict(run.config)
        run_dir = Path(cfg.out)
        if run_dir.exists() and any(run_dir.iterdir()):
            continue
        planned = cfg.resolved().to_dict()
        for folder, record, trained in candidates:
            found = trained.to_dict()
            if any(planned[k] != found.get(k) for k in planned if k not in MAY_DIFFER + IMBALANCE_FIELDS):
                continue
            if data is None:
                data = load_dataset(cfg.dataset, data_dir or cfg.data_dir, image_size=cfg.image_size)
            if any(v.get("md5") != data.files.get(k, {}).get("md5")
                   for k, v in record.get("data", {}).get("files", {}).items() if isinstance(v, dict)):
                continue
            kept = _kept_images(cfg, data)
            if not kept.equal(_kept_images(trained, data)):
                continue
            ckpt = load_checkpoint(folder)
            if not _has_budget(ckpt, trained, cfg, shorter):
                continue
            shutil.copytree(folder, run_dir, dirs_exist_ok=True)
            write_json({"from": str(folder.resolve()), "epoch": ckpt["epoch"], "global_step": ckpt["global_step"],
                        "kept_images_md5": hashlib.md5(kept.numpy().tobytes()).hexdigest(),
                        "asked": {k: planned[k] for k in IMBALANCE_FIELDS},
                        "trained_as": {k: found[k] for k in IMBALANCE_FIELDS}}, run_dir / REUSED)
            copied.append(run.name)
            break
    return copied


def _trained(run_dir: Path, cfg: TrainConfig) -> bool:
    if not (run_dir / CHECKPOINT).is_file():
        return False
    ckpt = load_checkpoint(run_dir)
    check_same_run(run_dir, cfg, ckpt["config"])
    return ckpt["epoch"] >= cfg.epochs or (cfg.max_steps is not None and ckpt["global_step"] >= cfg.max_steps)


def _missing_metrics(run_dir: Path, profile: Profile) -> list[str]:
    """The profile's metrics that metrics.json lacks for the run's last checkpoint (all of
    them when it scored another checkpoint or another number of images)."""
    path = run_dir / "metrics.json"
    report = json.loads(path.read_text()) if path.is_file() else {}
    if (report.get("n_per_class"), report.get("step")) != (profile.n_per_class,
                                                           load_checkpoint(run_dir)["global_step"]):
        return list(profile.metrics)
    return [m for m in profile.metrics if m not in report.get("metrics", {})]


def _evaluated(run_dir: Path, profile: Profile) -> bool:
    return not _missing_metrics(run_dir, profile)


def _do_run(run: GridRun, p: Profile) -> tuple[str, float]:
    """Train (or resume) and evaluate one run of the grid; returns (name, seconds)."""
    from ..evaluate import evaluate
    from ..train import resume, train
    started = time.perf_counter()
    cfg = TrainConfig.from_dict(run.config)
    run_dir = Path(cfg.out)
    if not _trained(run_dir, cfg):
        if (run_dir / CHECKPOINT).is_file():  # unfinished, or the profile asks for more now
            resume(run_dir, epochs=cfg.epochs, max_steps=cfg.max_steps)
        else:
            train(cfg)
    missing = _missing_metrics(run_dir, p)  # a metric added to the profile later is all a finished run needs
    if missing:
        evaluate(run_dir, missing, p.n_per_class, seed=0, evaluator_epochs=p.evaluator_epochs,
                 evaluator_subset=p.evaluator_subset, progress=False, metric_options=p.metric_options)
    return run.name, round(time.perf_counter() - started, 1)


def _worker_threads(threads: int) -> None:
    import torch
    torch.set_num_threads(threads)


def process_pool(jobs: int, threads: int | None = None):
    """``jobs`` spawned worker processes of ``threads`` PyTorch threads each (default: this
    machine's threads shared equally); returns (pool, threads per worker)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import torch
    threads = threads or max(1, torch.get_num_threads() // jobs)
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_threads, initargs=(threads,)), threads


def default_jobs() -> int:
    """Runs trained at once by ``csacgan reproduce``: 2 on a CPU with at least 2 cores, else 1.

    Measured on a 2-core Xeon: two 1-thread training processes together made 1.17x the
    images/s of one 2-thread process (benchmarks/bench.py, "processes x threads"), and two
    paper-profile runs with their metrics finished 1.12x sooner (experiments/jobs_ab.py):
    this step's small convolutions gain little from a second thread. A GPU is shared by
    every process on it, so there the grid runs one job at a time."""
    import torch
    if torch.cuda.is_available():
        return 1
    return 2 if torch.get_num_threads() >= 2 else 1


def shard_runs(runs: list, shard: tuple[int, int] | None) -> list:
    """Shard I of N (1 <= I <= N): every N-th run of the plan from the I-th on, so N
    machines given 1/N .. N/N cover the grid once, whatever order they start in."""
    if shard is None:
        return runs
    i, n = shard
    if not 1 <= i <= n:
        raise ValueError(f"--shard {i}/{n}: need 1 <= I <= N")
    return runs[i - 1::n]


def run_grid(out: str | Path = "runs/reproduce", profile: str = "quick", protocol: str = "ratio",
             recipe: str = "paper", seeds: int | None = None, data_dir: str | None = None,
             progress: bool = True, command: str | None = None, overrides: dict | None = None,
             jobs: int | None = None, shard: tuple[int, int] | None = None, reuse=(),
             seeds_where: str = "every-cell") -> Path:
    """Train and evaluate every run of the grid (or of ``shard``) not yet done, then write
    the report.

    ``jobs`` runs at once, each in its own process with ``threads // jobs`` PyTorch threads
    (default: :func:`default_jobs`); 1 trains them one after another in this process.
    ``shard`` = (I, N) trains the share :func:`shard_runs` picks; grid.json still lists the
    whole grid, each shard records its own timing in ``shards/``, and ``reproduce
    --report-only`` merges the run folders once every shard is done.
    ``seeds_where``: see :func:`plan`; a later call with "every-cell" extends the grid.
    ``reuse``: other grids' folders whose finished runs are copied in where they are this
    grid's runs (:func:`reuse_trained`: the drop grid's 95% cells are the ratio grid's rho 20).
    ``overrides`` replaces fields of the profile (tests use it to shrink the grid)."""
    out = Path(out)
    lock = LOCK if shard is None else f"{LOCK}-shard-{shard[0]}-of-{shard[1]}"  # shards share --out
    with FolderLock(out / lock, "reproduce"):
        return _run_grid(out, profile, protocol, recipe, seeds, data_dir, progress, command, overrides, jobs, shard,
                         reuse, seeds_where)


def _run_grid(out, profile, protocol, recipe, seeds, data_dir, progress, command, overrides, jobs, shard, reuse,
              seeds_where) -> Path:
    from tqdm.auto import tqdm

    from .report import write_report
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    p = get_profile(profile, overrides)
    runs = plan(profile, protocol, recipe, seeds, data_dir=data_dir, out=out, overrides=overrides,
                seeds_where=seeds_where)
    grid_path = out / "grid.json"
    state = read_json(grid_path) if grid_path.is_file() else {}
    if state and (state.get("profile"), state.get("protocol"), state.get("recipe")) != (profile, protocol, recipe):
        raise ValueError(f"{out} holds a grid with profile {state.get('profile')}, protocol "
                         f"{state.get('protocol')}, recipe {state.get('recipe')}; choose another --out")
    state.update({"profile": profile, "protocol": protocol, "recipe": recipe, "seeds": seeds or p.seeds,
                  "seeds_where": seeds_where,
                  "profile_settings": asdict(p), "command": command,
                  "runs": [asdict(r) for r in runs]})
    if shard is not None:  # shards may share one folder: each keeps its timing in its own file
        grid_path = out / "shards" / f"shard-{shard[0]}-of-{shard[1]}.json"
        grid_path.parent.mkdir(exist_ok=True)
        write_json(state, out / "grid.json")  # the whole plan; earlier sessions' timing kept
        state = json.loads(grid_path.read_text()) if grid_path.is_file() else {"shard": list(shard)}
    state.setdefault("sessions", []).append({"started": time.strftime("%Y-%m-%d %H:%M:%S"), "jobs": jobs})
    session = state["sessions"][-1]
    write_json(state, grid_path)
    runs = shard_runs(runs, shard)
    if reuse:
        session["reused"] = reuse_trained(runs, reuse, data_dir)
        write_json(state, grid_path)
        if progress and session["reused"]:
            print(f"reused {len(session['reused'])} finished run(s) of {', '.join(map(str, reuse))}: "
                  + ", ".join(session["reused"]))
    started = time.perf_counter()
    bar = tqdm(total=len(runs), disable=not progress, desc="grid", unit="run", dynamic_ncols=True)

    def done(name: str, seconds: float) -> None:
        session.setdefault("run_seconds", {})[name] = seconds
        session["seconds"] = round(time.perf_counter() - started, 1)
        write_json(state, grid_path)
        bar.set_postfix_str(name)
        bar.update(1)

    todo = []
    for run in runs:
        cfg = TrainConfig.from_dict(run.config)
        if _trained(Path(cfg.out), cfg) and _evaluated(Path(cfg.out), p):
            bar.update(1)
        else:
            todo.append(run)
    if jobs == 1 or len(todo) <= 1:
        for run in todo:
            bar.set_postfix_str(run.name)
            done(*_do_run(run, p))
    else:
        from concurrent.futures import FIRST_COMPLETED, wait

        _prepare_evaluator(todo[0], p, progress)  # once, here, rather than in every worker at once
        pool, session["threads_per_job"] = process_pool(jobs)
        try:
            pending = {pool.submit(_do_run, run, p) for run in todo}
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    done(*future.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    bar.close()
    session["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    write_json(state, grid_path)
    return write_report(out)


def _prepare_evaluator(run: GridRun, p: Profile, progress: bool) -> None:
    """Train (or find cached) the evaluator every run's metrics use."""
    from ..data import load_dataset
    from ..metrics.evaluator import load_or_train_evaluator
    cfg = TrainConfig.from_dict(run.config).resolved()
    data = load_dataset(cfg.dataset, cfg.data_dir, image_size=cfg.image_size, progress=progress)
    load_or_train_evaluator(data, 0, p.evaluator_epochs, p.evaluator_subset, progress)
