"""``csacgan downstream``: does a classifier trained on the rebalanced set beat the simple
alternatives? Every sampler of :mod:`csacgan.sampler`, on the same seeds, the same
validation split and the same classifier recipe, scored on the real test set.

Protocols (the imbalanced training set; ``--protocol``):
  paper      one minority class ('0' by default), rho 20, 40 and 190, at most 5000 images
             per class (the paper's section 3.1 and Table 5);
  deepsmote  per-class counts 4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40 (Dablain,
             Krawczyk and Chawla 2022, imbalance ratio 100);
  given      users' data as it is (``--dataset imagefolder`` or ``npz``).

For every level, a stratified ``VALIDATION`` share of the imbalanced set is kept out (split
seed 0) and used only to stop the classifier early; the samplers and the GANs see the rest.
The GANs (and latent SMOTE's autoencoder) are trained once per level, on split seed 0, in
``OUT/gans/`` (resumable); the seeds then change the sampler's draw and the classifier's
initialisation, batches and augmentation. Each classifier trains until its balanced
accuracy on the validation split has not improved for ``patience`` checks
(:func:`csacgan.fit.train_until_stable`) and keeps its best weights.

Scores on the real test set: ACSA (balanced accuracy: the mean per-class recall), GM (the
geometric mean of the per-class recalls, imbalanced-learn's ``geometric_mean_score``),
macro-F1 and every class's recall; paired differences between samplers on the same seeds.
``OUT/downstream.json`` holds every cell and is rewritten after each one, so a killed run
continues where it stopped; ``OUT/report.md`` is the table.
"""
from __future__ import annotations

import contextlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..files import write_json
from ..config import TrainConfig
from ..data.imbalance import DEEPSMOTE_COUNTS
from ..data.training_set import prepare_data, validation_split
from .downstream_report import SPLIT_SEED, cell_key, write_figures, write_report

PROTOCOLS = ("paper", "deepsmote", "given")
CLASSIFIERS = ("small-cnn", "resnet32", "resnet18")


def recipe_parts(name: str) -> tuple[str, str]:
    """(sampler, classifier loss) of a cell's recipe, "SAMPLER", "SAMPLER+LOSS" or either
    with "@OPTIONS" (:func:`recipe_options`): e.g. "none+ldam-drw" (the loss alone),
    "bagan+logit-adjusted" (generated images on top of it); a plain sampler trains with
    cross-entropy ("class-weight": with its weights)."""
    sampler, _, loss = name.split("@")[0].partition("+")
    return sampler, loss or "ce"


# How a recipe uses its generated images (after "@", comma-separated), as recent work does:
#   filter=T   keep a generated image only if a small CNN trained on the real imbalanced set
#              (class-weighted) gives its class probability >= T (the dropped are counted);
#   weight=L   each generated image weighs L in the loss (real images 1), and in the class
#              counts a long-tail loss adjusts for;
#   crt        two-stage (cRT, Kang et al. 2020): train on real + generated, then re-train the
#              classifier's last layer on class-balanced real images, the features fixed;
#   amount=2x  generate until every class holds twice the largest class's count (default:
#              up to the largest, balance); amount=F (a fraction in (0, 1)) fills that part of
#              each class's gap to the largest, leaving the rest to a long-tail loss (on a
#              balanced set logit adjustment and DRW's weights are uniform: plain cross-entropy).
RECIPE_OPTIONS = {"filter": float, "weight": float, "crt": bool, "amount": str}


def recipe_options(name: str) -> dict:
    options = {}
    for part in filter(None, name.partition("@")[2].split(",")):
        key, _, value = part.partition("=")
        if key not in RECIPE_OPTIONS:
            raise ValueError(f"{name}: unknown recipe option {key!r}; choose from {', '.join(RECIPE_OPTIONS)}")
        if RECIPE_OPTIONS[key] is bool:
            options[key] = True
        elif RECIPE_OPTIONS[key] is float:
            try:
                options[key] = float(value)
            except ValueError:
                raise ValueError(f"{name}: {key} takes a number, got {value!r}") from None
            if not 0 <= options[key] <= 1:
                raise ValueError(f"{name}: {key} must lie in [0, 1], got {value}")
        else:
            fraction = None
            try:
                fraction = float(value)
            except ValueError:
                pass
            if value not in ("balance", "2x") and not (fraction is not None and 0 < fraction < 1):
                raise ValueError(f"{name}: amount is balance, 2x or a fraction in (0, 1), got {value!r}")
            options[key] = value if fraction is None else fraction
    return options
VALIDATION = 0.1
# The GANs' budget per protocol, in epochs of the imbalanced set (64 images a step):
# paper, 45000 images: the project's default 8 epochs (5600 steps); deepsmote, 9000
# images: 30 epochs (3800 steps).
GAN_EPOCHS = {"paper": 8, "deepsmote": 30, "given": 8}
AUTOENCODER_EPOCHS = 10
# The GANs' recipe: class-balanced real batches, images from G's own weights (no EMA),
# the recipe the published downstream study was measured with (its GAN runs resume under it)
GAN_RECIPE = "balanced"


@dataclass
class Settings:
    out: str
    dataset: str = "mnist"
    data_dir: str | None = None
    protocol: str = "deepsmote"
    samplers: list = field(default_factory=lambda: ["none", "random", "class-weight", "smote", "latent-smote",
                                                    "acgan", "cs-acgan", "bagan"])
    seeds: int = 5
    classifier: str = "small-cnn"
    levels: list | None = None          # e.g. ["rho190"]; None: every level of the protocol
    minority: list = field(default_factory=lambda: [0])
    gan_epochs: int | None = None       # None: GAN_EPOCHS[protocol]
    gan_seeds: int = 1                  # GANs per method and level; seed k samples GAN k % gan_seeds
    max_steps: int = 4000               # classifier steps of 128 images at most
    check_every: int = 250
    patience: int = 4
    quick: bool = False
    jobs: int = 1
    progress: bool = True

    def resolved(self) -> "Settings":
        s = Settings(**asdict(self))
        if s.protocol not in PROTOCOLS:
            raise ValueError(f"--protocol must be one of {', '.join(PROTOCOLS)}, got {s.protocol!r}")
        if s.classifier not in CLASSIFIERS:
            raise ValueError(f"--classifier must be one of {', '.join(CLASSIFIERS)}, got {s.classifier!r}")
        from ..classifier_losses import CLASSIFIER_LOSSES
        from ..sampler import SAMPLERS
        unknown = [n for n in s.samplers if recipe_parts(n)[0] not in SAMPLERS]
        if unknown or not s.samplers:
            raise ValueError(f"unknown sampler(s) {unknown}; choose from {', '.join(SAMPLERS)}")
        bad = [n for n in s.samplers if recipe_parts(n)[1] not in CLASSIFIER_LOSSES
               or (("+" in n or "@" in n) and recipe_parts(n)[0] == "class-weight")]
        if bad:
            raise ValueError(f"unknown loss in {bad}: SAMPLER+LOSS takes a loss of "
                             f"{', '.join(CLASSIFIER_LOSSES)} (and class-weight is a loss itself)")
        for n in s.samplers:
            options = recipe_options(n)
            if options.get("crt") and recipe_parts(n)[1] == "ldam-drw":
                raise ValueError(f"{n}: crt re-trains a linear head; LDAM's is a cosine one")
        if s.protocol == "given" and s.dataset not in ("imagefolder", "npz"):
            raise ValueError(f"--protocol given trains on a user's data as it is: give --dataset imagefolder or npz "
                             f"and --data-dir (not {s.dataset})")
        if s.gan_seeds < 1:
            raise ValueError(f"--gan-seeds must be at least 1, got {s.gan_seeds}")
        if s.seeds < 1:
            raise ValueError(f"--seeds must be at least 1, got {s.seeds}")
        if s.quick:  # a tiny version of the same work, for tests and a first look
            s.max_steps, s.check_every, s.patience = 60, 20, 2
        s.gan_epochs = s.gan_epochs or (1 if s.quick else GAN_EPOCHS[s.protocol])
        names = [name for name, _ in levels(s.protocol, s.quick, s.minority)]
        if s.levels:
            bad = [x for x in s.levels if x not in names]
            if bad:
                raise ValueError(f"unknown level(s) {bad} of protocol {s.protocol}; it has {', '.join(names)}")
        else:
            s.levels = names
        return s


def levels(protocol: str, quick: bool = False, minority=(0,)) -> list[tuple[str, dict]]:
    """(name, TrainConfig imbalance options) of each imbalance level of a protocol."""
    if protocol == "paper":
        cap = 500 if quick else 5000
        return [(f"rho{rho}", dict(imbalance="step", imbalance_ratio=float(rho), minority=list(minority),
                                   max_per_class=cap)) for rho in (20, 40, 190)]
    if protocol == "deepsmote":
        counts = [n // 10 for n in DEEPSMOTE_COUNTS] if quick else list(DEEPSMOTE_COUNTS)
        return [("deepsmote", dict(imbalance="counts", class_counts=counts))]
    return [("given", dict(imbalance="none", imbalance_ratio=None, max_per_class=None))]


def level_config(s: Settings, level: str, **extra) -> TrainConfig:
    options = dict(levels(s.protocol, s.quick, s.minority))[level]
    return TrainConfig(**{"dataset": s.dataset, "data_dir": s.data_dir, "seed": SPLIT_SEED, "progress": False,
                          **options, **extra})


def split(s: Settings, level: str, data=None):
    """(data, training indices, validation indices, imbalance summary) of a level."""
    cfg = level_config(s, level).resolved()
    data, indices, summary = prepare_data(cfg, data)
    train_idx, val_idx = validation_split(indices, data.train_labels, VALIDATION, SPLIT_SEED)
    return data, train_idx, val_idx, summary


# ----------------------------------------------------------------------------- GANs
TINY_NETS = dict(g_channels=[16, 8, 8, 8, 4], d_channels=[8, 8, 16, 16], batch_size=16, max_steps=3)


def gan_run(s: Settings, level: str, method: str, data, gan_seed: int = 0) -> Path:
    """The GAN of ``method`` trained with seed ``gan_seed`` on the level's training split
    (split seed 0 whatever the GAN's seed), in OUT/gans/ (trained, or resumed to ``gan_epochs``)."""
    from ..checkpoint import load_checkpoint
    from ..train import resume, train
    run = Path(s.out) / "gans" / f"{method}-{level}-s{gan_seed}"
    if (run / "checkpoint.pt").is_file():
        ckpt = load_checkpoint(run)
        if ckpt["epoch"] < s.gan_epochs and not s.quick:
            resume(run, epochs=s.gan_epochs, progress=s.progress, data_dir=s.data_dir)
        return run
    cfg = level_config(s, level, method=method, recipe=GAN_RECIPE, out=str(run), epochs=s.gan_epochs,
                       validation_fraction=VALIDATION,
                       seed=gan_seed, data_seed=SPLIT_SEED, progress=s.progress, **(TINY_NETS if s.quick else {}))
    if method == "bagan" and s.quick:
        cfg.method_options = {"autoencoder_epochs": 1}
    return train(cfg, data=data)


def autoencoder_dir(s: Settings, level: str, data, train_idx) -> Path:
    """Latent SMOTE's autoencoder (BAGAN's), trained once per level on the training split."""
    from ..sampler.latent_smote import train_autoencoder_on
    folder = Path(s.out) / "gans" / f"autoencoder-{level}-s{SPLIT_SEED}"
    if not (folder / "done").is_file():
        train_autoencoder_on(data.train_images[train_idx].numpy(), data.num_classes,
                             epochs=1 if s.quick else AUTOENCODER_EPOCHS, batch_size=64, lr=1e-3,
                             latent_dim=100, seed=SPLIT_SEED, progress=s.progress, work_dir=folder)
        (folder / "done").write_text("trained\n")
    return folder


# ----------------------------------------------------------------------------- cells
def make_sampler(name: str, seed: int, prepared: dict):
    from ..sampler import GAN_SAMPLERS, SAMPLERS, Autoencoder
    name = recipe_parts(name)[0]
    if name in GAN_SAMPLERS:
        runs = prepared[name]
        return SAMPLERS[name].from_run(runs[seed % len(runs)], random_state=seed)
    if name == "latent-smote":
        return SAMPLERS[name](autoencoder=Autoencoder.load(Path(prepared[name]) / "autoencoder.pt"),
                              random_state=seed)
    return SAMPLERS[name](random_state=seed)


def make_classifier(kind: str, in_channels: int, num_classes: int, image_size: int,
                    normed_head: bool = False) -> torch.nn.Module:
    if kind == "resnet32":  # the long-tailed recognition papers' CIFAR network (nets/resnet32.py)
        from ..nets.resnet32 import ResNet32
        return ResNet32(in_channels, num_classes, normed_head)
    if normed_head:
        raise ValueError(f"a loss with a normalised head (ldam-drw) needs --classifier resnet32, not {kind}")
    if kind == "resnet18":  # the evaluator's network: torchvision's ResNet-18, 3x3 stride-2 stem
        from ..metrics.evaluator import build_resnet18
        return build_resnet18(in_channels, num_classes)
    from ..nets.small_cnn import small_cnn
    return small_cnn(in_channels, num_classes, image_size)


def test_scores(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int, minority: list[int]) -> dict:
    """The small classifiers' scores (metrics.small_classifier.scores) in DeepSMOTE's names,
    with the geometric mean of the per-class recalls (imbalanced-learn's) added."""
    from imblearn.metrics import geometric_mean_score

    from ..metrics.small_classifier import scores
    got = scores(torch.as_tensor(y_true), torch.as_tensor(y_pred), num_classes, minority)
    return {"acsa": got["balanced_accuracy"],
            "gm": float(geometric_mean_score(y_true, y_pred, average="multiclass")),
            "macro_f1": got["macro_f1"], "minority_recall": got["minority_recall"],
            "recall": [got["per_class_recall"][str(c)] for c in range(num_classes)]}


def run_cell(job: dict) -> dict:
    """Resample, train the classifier, score it: one (level, sampler, seed)."""
    from sklearn.metrics import balanced_accuracy_score

    from ..classifier_losses import classifier_loss
    from ..fit import predict, train_until_stable
    from ..sampler import GAN_SAMPLERS
    started = time.perf_counter()
    name, seed, K = job["sampler"], job["seed"], job["num_classes"]
    sampler_name, loss_name = recipe_parts(name)
    X, y = job["train_images"], job["train_labels"]
    options = recipe_options(name)
    sampler = make_sampler(name, seed, job["prepared"])
    counts, amount = np.bincount(y), options.get("amount")
    if amount == "2x":
        sampler.set_params(sampling_strategy={c: 2 * int(counts.max()) for c in np.unique(y)})
    elif isinstance(amount, float):  # part of each class's gap to the largest
        sampler.set_params(sampling_strategy={c: int(counts[c] + round(amount * (counts.max() - counts[c])))
                                              for c in np.unique(y)})
    X_res, y_res = sampler.fit_resample(X, y)
    weights = sampler.class_weight(y)
    dropped = None
    if "filter" in options and len(y_res) > len(y):
        keep = confident(X, y, X_res[len(y):], y_res[len(y):], K, options["filter"], seed)
        dropped = np.bincount(y_res[len(y):][~keep], minlength=K).tolist()
        X_res, y_res = np.concatenate([X_res[:len(y)], X_res[len(y):][keep]]), np.concatenate([y, y_res[len(y):][keep]])
    sample_weights = None
    if "weight" in options:
        sample_weights = torch.ones(len(y_res))
        sample_weights[len(y):] = options["weight"]
    # the loss sees the class counts of the set it trains on, generated images included
    # (each counted at its weight)
    seen = np.bincount(y_res, weights=None if sample_weights is None else sample_weights.numpy(), minlength=K)
    loss = classifier_loss(loss_name, seen, job["max_steps"]) if "+" in name or "weight" in options else None
    resampled = time.perf_counter() - started
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = make_classifier(job["classifier"], X.shape[1], K, X.shape[-1],
                            normed_head=loss is not None and loss.normed_head).to(device)
    val_x, val_y = torch.from_numpy(job["val_images"]), job["val_labels"]

    def validation_acsa(m):
        return balanced_accuracy_score(val_y, predict(m, val_x).numpy())

    fitted = train_until_stable(model, torch.from_numpy(X_res), torch.from_numpy(y_res).long(), validation_acsa,
                                seed=seed, max_steps=job["max_steps"], check_every=job["check_every"],
                                patience=job["patience"], progress=job["progress"],
                                class_weights=None if weights is None else torch.tensor(weights, dtype=torch.float32),
                                desc=f"{job['level']} {name} seed {seed}", loss=loss, sample_weights=sample_weights)
    if options.get("crt"):
        retrain_head(model, X, y, K, seed)
    pred = predict(model, torch.from_numpy(job["test_images"])).numpy()
    gan = {"gan_seed": seed % len(job["prepared"][sampler_name])} if sampler_name in GAN_SAMPLERS else {}
    return {**test_scores(job["test_labels"], pred, K, job["minority"]), **gan, "machine": machine(device),
            "validation_acsa": fitted["best_score"], "best_step": fitted["best_step"], "steps": fitted["steps"],
            "checks": fitted["checks"], "train_images": int(len(y_res)),
            "added": np.bincount(y_res[len(y):], minlength=K).tolist(),
            **({"dropped": dropped} if dropped is not None else {}), **({"options": options} if options else {}),
            "resample_seconds": round(resampled, 1), "seconds": round(time.perf_counter() - started, 1)}


def confident(X, y, new_x, new_y, num_classes: int, threshold: float, seed: int, steps: int = 600) -> np.ndarray:
    """Which generated images a small CNN trained on the real imbalanced set (class-weighted,
    scikit-learn's "balanced") assigns to their own class with probability >= threshold."""
    from ..fit import fit_small_cnn, normalise
    counts = np.bincount(y, minlength=num_classes)
    weights = torch.tensor(len(y) / (num_classes * np.maximum(counts, 1)), dtype=torch.float32)
    judge = fit_small_cnn(torch.from_numpy(X), torch.from_numpy(y).long(), num_classes, steps, seed,
                          class_weights=weights, desc="filter")
    with torch.no_grad():
        probs = torch.cat([judge(normalise(torch.from_numpy(new_x[i:i + 1000]))).float().softmax(1)
                           for i in range(0, len(new_x), 1000)])
    return (probs[torch.arange(len(new_y)), torch.from_numpy(new_y).long()] >= threshold).numpy()


def retrain_head(model: torch.nn.Module, X, y, num_classes: int, seed: int, steps: int = 500,
                 batch_size: int = 128) -> None:
    """cRT (Kang et al. 2020): the classifier's last layer re-initialised and re-trained on
    class-balanced batches of the real images, on their features from the trained, frozen
    network (computed once, in evaluation mode)."""
    from ..fit import normalise
    if hasattr(model, "features"):  # ResNet-32
        head, body = model.head, model.features
    elif hasattr(model, "fc"):  # torchvision's ResNet-18
        head, body = model.fc, torch.nn.Sequential(*list(model.children())[:-1], torch.nn.Flatten())
    else:  # the small CNN, a Sequential ending in its linear layer
        head, body = model[-1], torch.nn.Sequential(*list(model)[:-1])
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        features = torch.cat([body(normalise(torch.from_numpy(X[i:i + 1000]).to(device))).float()
                              for i in range(0, len(X), 1000)])
    g = torch.Generator().manual_seed(seed)
    head.reset_parameters()
    labels = torch.from_numpy(y).long().to(device)
    per_class = [torch.nonzero(labels == c).flatten().cpu() for c in range(num_classes) if (labels == c).any()]
    opt = torch.optim.Adam(head.parameters(), 1e-3)
    for _ in range(steps):  # class-balanced: a class drawn uniformly, then one of its images
        cls = torch.randint(len(per_class), (batch_size,), generator=g)
        idx = torch.stack([per_class[c][torch.randint(len(per_class[c]), (1,), generator=g)][0] for c in cls])
        loss = torch.nn.functional.cross_entropy(head(features[idx.to(device)]).float(), labels[idx.to(device)])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def machine(device: torch.device) -> dict:
    """Where a cell ran: the processor (or GPU), the classifier's precision and torch's
    version. Cells of one study may come from several machines (a second process, a lent
    GPU), so each cell keeps its own."""
    from ..runtime import cpu_model, pick_precision
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()
    return {"device": where or device.type, "precision": pick_precision("auto", device),
            "threads": torch.get_num_threads(), "torch": torch.__version__}


@contextlib.contextmanager
def _locked(folder: Path):
    """An exclusive lock on FOLDER/.lock (fcntl: released when the process dies)."""
    import fcntl
    with open(folder / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _done(cell: dict | None, name: str, seed: int, gan_seeds: int) -> bool:
    """A cell is done unless it is missing or sampled another GAN than seed k's (k % gan_seeds)."""
    from ..sampler import GAN_SAMPLERS
    if cell is None:
        return False
    return recipe_parts(name)[0] not in GAN_SAMPLERS or cell.get("gan_seed", 0) == seed % gan_seeds


def downstream(settings: Settings, data=None) -> Path:
    """Run (or continue) every cell; returns the path of ``downstream.json``."""
    from ..data import load_dataset
    from ..runtime import environment
    from ..sampler import GAN_SAMPLERS
    from .grid import process_pool
    s = settings.resolved()
    out = Path(s.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "downstream.json"
    state = json.loads(path.read_text()) if path.is_file() else {}
    if state and state.get("settings", {}).get("protocol") not in (None, s.protocol):
        raise ValueError(f"{out} holds a {state['settings']['protocol']} study; choose another --out")
    state.setdefault("cells", {})
    state["settings"] = {k: v for k, v in asdict(s).items() if k not in ("jobs", "progress")}
    here = environment()
    if state.get("environment") not in (None, here):  # an earlier invocation's, elsewhere or before
        state["earlier_environments"] = [e for e in state.get("earlier_environments", []) if e != here] + [
            state["environment"]]
    state["environment"] = here
    if data is None:
        data = load_dataset(s.dataset, s.data_dir, progress=s.progress)
    state.setdefault("levels", {})
    jobs = []
    for level in s.levels:
        data, train_idx, val_idx, summary = split(s, level, data)
        # seed-major: a study stopped part-way holds every sampler on its first seeds (a
        # smaller paired table) rather than every seed of the first samplers
        wanted = [(name, seed) for seed in range(s.seeds) for name in s.samplers
                  if not _done(state["cells"].get(cell_key(level, name, seed)), name, seed, s.gan_seeds)]
        state["levels"][level] = {"imbalance": summary.to_dict(), "train_counts": torch.bincount(
            data.train_labels[train_idx], minlength=data.num_classes).tolist(), "validation_counts": torch.bincount(
            data.train_labels[val_idx], minlength=data.num_classes).tolist()}
        if not wanted:
            continue
        prepared = {}
        for name in sorted({recipe_parts(n)[0] for n, _ in wanted}):
            if name in GAN_SAMPLERS:  # only the GANs that the cells left to run sample (seed k: GAN k % gan_seeds)
                needed = {seed % s.gan_seeds for n, seed in wanted if recipe_parts(n)[0] == name}
                prepared[name] = [str(gan_run(s, level, name, data, k)) if k in needed else None
                                  for k in range(s.gan_seeds)]
            elif name == "latent-smote":
                prepared[name] = str(autoencoder_dir(s, level, data, train_idx))
        common = dict(level=level, num_classes=data.num_classes, prepared=prepared, classifier=s.classifier,
                      train_images=data.train_images[train_idx].numpy(),
                      train_labels=data.train_labels[train_idx].numpy(),
                      val_images=data.train_images[val_idx].numpy(), val_labels=data.train_labels[val_idx].numpy(),
                      test_images=data.test_images.numpy(), test_labels=data.test_labels.numpy(),
                      minority=summary.minority_classes, max_steps=s.max_steps, check_every=s.check_every,
                      patience=s.patience, progress=s.progress and s.jobs == 1)
        jobs += [dict(common, sampler=name, seed=seed) for name, seed in wanted]
    with _locked(out):
        if path.is_file():
            state["cells"] = {**json.loads(path.read_text()).get("cells", {}), **state["cells"]}
        write_json(state, path)

    def record(job, result):
        cell = {"level": job["level"], "sampler": job["sampler"], "seed": job["seed"], **result}
        with _locked(out):  # another process may add cells to the same folder: merge, never overwrite
            on_disk = json.loads(path.read_text()) if path.is_file() else {}
            for key in ("cells", "levels"):
                state[key] = {**on_disk.get(key, {}), **state[key]}
            state["cells"][cell_key(job["level"], job["sampler"], job["seed"])] = cell
            write_json(state, path)
            write_report(state, out / "report.md")

    from tqdm.auto import tqdm
    bar = tqdm(total=len(jobs), desc="downstream cells", disable=not s.progress, unit="cell", dynamic_ncols=True)
    if s.jobs == 1 or len(jobs) <= 1:
        for job in jobs:
            record(job, run_cell(job))
            bar.update()
    else:
        from concurrent.futures import as_completed
        pool, _ = process_pool(s.jobs)
        with pool:
            futures = {pool.submit(run_cell, job): job for job in jobs}
            for future in as_completed(futures):
                record(futures[future], future.result())
                bar.update()
    bar.close()
    with _locked(out):  # what is on disk: another process may have added cells since this one's last
        state = json.loads(path.read_text())
        write_report(state, out / "report.md")
        write_figures(state, out)
    return path
