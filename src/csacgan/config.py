"""The full configuration of a training run, saved as ``config.json`` in its folder."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

# Recipes set several options at once; an option given explicitly wins.
#   paper:    the paper as written: real batches drawn uniformly from the imbalanced
#             set, generated labels c ~ p_c (section 3.2), L_c on real and generated
#             images in D, tau = 1.
#   balanced: what made the minority class appear in our measurements at rho = 190:
#             class-balanced real batches, uniform generated labels, D's L_c on real
#             images only.
#   stable:   the default: balanced, plus images drawn from an EMA of G's weights, the
#             lever for GANs on little data that lowered the minority's FID and raised its
#             coverage on every seed of the levers ablation and made FID-all the same on
#             every seed (docs/results/levers.md).
RECIPES = {
    "paper": dict(sampling="uniform", fake_labels="class-prior", fake_class_loss_in_d=True, g_ema=0.0),
    "balanced": dict(sampling="class-balanced", fake_labels="uniform", fake_class_loss_in_d=False, g_ema=0.0),
    "stable": dict(sampling="class-balanced", fake_labels="uniform", fake_class_loss_in_d=False, g_ema=0.999),
}
DEFAULT_RECIPE = "stable"


# Built-in datasets of grey images: --architecture and --class-loss auto are the paper's
# (Table 2 networks, cross-entropy), known before the data is loaded.
GREY_DATASETS = ("mnist", "fashion-mnist")
PAPER_CHOICES = {"method": "cs-acgan", "architecture": "table2", "class_loss": "ce"}
# What auto picks for colour images: the architecture study on colour Fashion-MNIST
# (docs/your-data.md), and the line that says why. A method chosen by auto comes with its
# mode-seeking weight; the ACGAN family, asked for by name, gets TAC-GAN's class loss.
COLOUR_CHOICES = {"method": "bagan", "architecture": "table2", "class_loss": "tac"}
COLOUR_MODE_SEEKING = 0.5
COLOUR_REASON = ("the colour study's best on colour Fashion-MNIST's rare class: the lowest FID, the highest "
                 "coverage and colour, 3 seeds; docs/your-data.md")


def resolve_auto(cfg: "TrainConfig", image_shape) -> tuple["TrainConfig", str | None]:
    """``cfg`` with its "auto" method, architecture and class loss filled for images of
    ``image_shape`` and checked: the paper's for grey images, COLOUR_CHOICES for colour ones
    (cross-entropy for BAGAN, whose discriminator has its own loss; Table 2 where Table 2
    widths are given), and the line that says what auto picked for colour images (None
    otherwise)."""
    colour = image_shape[0] == 3
    picks = dict(COLOUR_CHOICES if colour else PAPER_CHOICES)
    method = picks["method"] if cfg.method == "auto" else cfg.method
    if method == "bagan":
        picks["class_loss"] = "ce"
    if cfg.g_channels and len(cfg.g_channels) == 5:
        picks["architecture"] = "table2"
    chosen = {k: v for k, v in picks.items() if getattr(cfg, k) == "auto"}
    if colour and "method" in chosen and not cfg.mode_seeking:
        chosen["mode_seeking"] = COLOUR_MODE_SEEKING
    for key, value in chosen.items():
        setattr(cfg, key, value)
    line = None
    if method == "bagan":  # its own loss: nothing chosen there
        chosen.pop("class_loss", None)
    if colour and chosen:
        line = ("colour images: " + " ".join(f"{option_name(k)} {v}" for k, v in chosen.items())
                + f" ({COLOUR_REASON})")
    return cfg.resolved(), line

# Users' own data: already imbalanced, so by default kept as given.
USER_DATASETS = ("imagefolder", "npz", "arrays")


# The accepted values of each numeric option: (type, lowest, highest, lowest allowed?,
# highest allowed?); None is unbounded. Lists: (element type, length, lowest element).
RANGES = {
    "epochs": (int, 1, None), "max_steps": (int, 1, None), "batch_size": (int, 2, None),  # BatchNorm needs 2
    "lr": (float, 0, None, False), "beta1": (float, 0, 1, True, False), "beta2": (float, 0, 1, True, False),
    "seed": (int, 0, 2**31 - 1), "data_seed": (int, 0, 2**31 - 1), "imbalance_ratio": (float, 1, None), "drop_fraction": (float, 0, 1, True, False),
    "validation_fraction": (float, 0, 1, True, False),
    "max_per_class": (int, 1, None), "lr_d": (float, 0, None, False), "lr_g": (float, 0, None, False),
    "g_ema": (float, 0, 1, True, False), "d_dropout": (float, 0, 1, True, False), "lecam": (float, 0, None),
    "ada_target": (float, 0, 1, True, False), "d_minibatch_std": (int, 0, None),
    "mode_seeking": (float, 0, None), "gsr": (float, 0, None),
    "latent_dim": (int, 1, None), "checkpoint_every": (int, 1, None), "log_every": (int, 1, None),
    "grid_columns": (int, 1, None),
}
LIST_RANGES = {"g_channels": (int, 5, 1), "d_channels": (int, 4, 1), "d_strides": (int, 4, 1)}
ONE_WIDTH = ("g_channels", "d_channels")  # --architecture resnet: one width each
MAX_WIDTH = 4096  # channels of one layer: wider would not fit a training step in memory
# Method options that only mean something with another option's value (name: (option, value)).
ONLY_WITH = {"held_out_fraction": ("error_source", "held-out"), "classifier_steps": ("error_source", "classifier")}
# Methods' own options (TrainConfig.method_options), by the name their constructor uses.
METHOD_RANGES = {"temperature": (float, 0, None, False), "momentum": (float, 0, 1, False, True),
                 "autoencoder_epochs": (int, 1, None), "autoencoder_lr": (float, 0, None, False),
                 "fake_per_class": (int, 1, None), "update_every": (int, 0, None),
                 "held_out_fraction": (float, 0, 1, False, False), "classifier_steps": (int, 1, None)}
# config.json keys from before method options had their own namespace -> their name there.
LEGACY_METHOD_KEYS = {"temperature": "temperature", "cost_momentum": "momentum",
                      "cost_error_source": "error_source", "autoencoder_epochs": "autoencoder_epochs"}


def option_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_option(name: str, value, label: str | None = None):
    """``value`` if it is an accepted value of option ``name``, else ValueError naming the
    option (``label``, default ``--name``) and the accepted range (RANGES, LIST_RANGES,
    METHOD_RANGES)."""
    label = label or option_name(name)
    if value is None:
        return value
    if name in LIST_RANGES:
        kind, length, low = LIST_RANGES[name]
        lengths = (length, 1) if name in ONE_WIDTH else (length,)
        if name in ONE_WIDTH and any(v > MAX_WIDTH for v in value):
            raise ValueError(f"{label}: widths above {MAX_WIDTH} channels will not fit in memory, got "
                             f"{','.join(map(str, value))}")
        if len(value) not in lengths or any(int(v) != v or v < low for v in value):
            also = " (or one width, for --architecture resnet)" if name in ONE_WIDTH else ""
            raise ValueError(f"{label} takes {length} comma-separated integers >= {low}{also}, got "
                             f"{','.join(map(str, value)) or 'nothing'}")
        return [int(v) for v in value]
    if name not in RANGES and name not in METHOD_RANGES:
        return value
    kind, low, high, *inclusive = RANGES.get(name) or METHOD_RANGES[name]
    low_in, high_in = (inclusive + [True, True])[:2]
    words = {(True, True): "[{}, {}]", (True, False): "[{}, {})", (False, True): "({}, {}]", (False, False): "({}, {})"}
    accepted = ("an integer" if kind is int else "a finite number") + (
        " in " + words[low_in, high_in].format(low, high) if high is not None
        else f" {'>=' if low_in else '>'} {low}")
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (kind is float or float(value).is_integer())
    if ok:
        ok = (value >= low if low_in else value > low) and (
            high is None or (value <= high if high_in else value < high))
    if not ok:
        raise ValueError(f"{label} must be {accepted}, got {value}")
    return kind(value)


@dataclass
class TrainConfig:
    out: str = "runs/csacgan"
    method: str = "auto"                 # cs-acgan, acgan, bagan, or auto: cs-acgan for grey images,
                                         # COLOUR_CHOICES for colour ones (resolve_auto)
    # The method's own options, by its constructor's names (csacgan.methods.method_defaults):
    # cs-acgan: temperature (tau), momentum, error_source; bagan: autoencoder_epochs, ...
    method_options: dict = field(default_factory=dict)
    recipe: str = DEFAULT_RECIPE
    dataset: str = "mnist"
    data_dir: str | None = None
    image_size: int | None = None        # users' folders, arrays, CIFAR-10: resize to 28, 32 or 64
    # imbalance (csacgan.data.imbalance)
    minority: list[int | str] = field(default_factory=lambda: [0])   # indices or class names
    imbalance_ratio: float | None = 190.0
    drop_fraction: float | None = None
    max_per_class: int | None = 5000
    imbalance: str | None = None         # None: "none" for users' data (imagefolder, npz), else "step"
    class_counts: list[int] | None = None  # imbalance "counts": images kept of each class, in class order
    validation_fraction: float = 0.0     # a stratified share of the imbalanced set kept out of training
    data_seed: int | None = None         # seed of the imbalanced subsample and that share; None: seed
                                         # (csacgan downstream: its classifiers' early-stopping split)
    # training
    epochs: int = 8
    max_steps: int | None = None
    batch_size: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    channels_last: bool = True           # NHWC activations and weights: faster on CPU (oneDNN)
    sampling: str | None = None          # None: from the recipe
    fake_labels: str | None = None       # classes asked of G in training: uniform or class-prior
    fake_class_loss_in_d: bool | None = None
    adversarial_loss: str = "bce"
    diffaugment: str | None = None         # e.g. "translation,cutout"
    # levers for GANs on little data (every method)
    lr_d: float | None = None            # TTUR (Heusel et al. 2017): D's and G's own rates; None: lr
    lr_g: float | None = None
    g_ema: float | None = None           # decay of an EMA of G's weights used for sampling; 0: none;
                                         # None: the recipe's
    d_spectral_norm: bool = False        # spectral normalisation of D's layers (Miyato et al. 2018)
    d_minibatch_std: int = 0             # group size of D's minibatch standard deviation (Karras et al. 2018); 0: none
    mode_seeking: float = 0.0            # weight of MSGAN's mode-seeking term in G's loss (Mao et al. 2019); 0: none
    lecam: float = 0.0                   # LeCam regularisation weight (Tseng et al. 2021); 0: none
    ada_target: float = 0.0              # adaptive D augmentation's target E[sign D(real)] (Karras et al. 2020); 0: none
    class_loss: str = "auto"             # L_c of the ACGAN family: ce, tac (TAC-GAN), d2d-ce (ReACGAN), or auto:
                                         # ce for grey images, COLOUR_CHOICES for colour ones; methods/class_losses.py
    gsr: float = 0.0                     # group spectral regularisation of G's class-conditional BatchNorm
                                         # (Rangwani et al. 2022; --architecture resnet); 0: none
    # networks (csacgan.nets)
    architecture: str = "auto"           # table2 (the paper's), resnet, or auto: table2 for grey images,
                                         # COLOUR_CHOICES for colour ones (resolve_auto)
    d_projection: bool = False           # projection term in D's source logit (Miyato and Koyama 2018)
    latent_dim: int = 100
    g_channels: list[int] | None = None
    d_channels: list[int] | None = None
    d_strides: list[int] | None = None
    g_batch_norm: bool = True
    d_dropout: float = 0.3               # Table 2's dropout after each of D's convolutions
    # bookkeeping
    checkpoint_every: int = 200
    log_every: int = 50
    grid_columns: int = 10
    progress: bool = True

    def resolved(self) -> "TrainConfig":
        """A copy with the recipe's defaults filled in and the options checked."""
        if self.recipe not in RECIPES:
            raise ValueError(f"unknown recipe {self.recipe!r}; choose one of {', '.join(RECIPES)}")
        values = asdict(self)
        for key, value in RECIPES[self.recipe].items():
            if values[key] is None:
                values[key] = value
        if values["imbalance"] is None:
            values["imbalance"] = ("counts" if values["class_counts"] is not None
                                   else "none" if values["dataset"] in USER_DATASETS else "step")
        if (values["imbalance"] == "counts") != (values["class_counts"] is not None):
            raise ValueError("explicit per-class counts go with imbalance 'counts' (--imbalance 4000,2000,...)")
        if values["imbalance"] == "counts":  # the counts say everything
            values["imbalance_ratio"] = values["drop_fraction"] = values["max_per_class"] = None
            values["minority"] = []
        if values["drop_fraction"] is not None:
            values["imbalance_ratio"] = None
        if values["imbalance"] == "none":  # the data as given
            values["imbalance_ratio"] = values["drop_fraction"] = None
        if values["dataset"] in GREY_DATASETS:  # known before loading
            values.update({k: v for k, v in PAPER_CHOICES.items() if values[k] == "auto"})
        if values["method"] == "auto":  # chosen once the data is loaded (resolve_auto), checked then
            return TrainConfig(**values)
        for name in (*RANGES, *LIST_RANGES):
            values[name] = check_option(name, values[name])
        from .methods import check_method_options, method_defaults  # the methods know their options
        defaults = method_defaults(values["method"])  # an unknown method: its one line here
        for option, (needs, value) in ONLY_WITH.items():
            given = values["method_options"].get(option, defaults.get(option))
            if given != defaults.get(option) and values["method_options"].get(needs) != value:
                raise ValueError(f"{values['method']} option {option!r} is used only with {needs} {value!r} "
                                 f"(--cost-error-source {value}); give both or neither")
        values["method_options"] = {k: check_option(k, v, f"{values['method']} option {k!r}")
                                    for k, v in check_method_options(values["method"],
                                                                     values["method_options"]).items()}
        return TrainConfig(**values)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        values = dict(values)
        legacy = {new: values.pop(old) for old, new in LEGACY_METHOD_KEYS.items() if old in values}
        if legacy:  # written before method_options: keep what the run's method took
            from .methods import method_defaults
            takes = method_defaults(values.get("method", cls.method))
            values["method_options"] = {**{k: v for k, v in legacy.items() if k in takes},
                                        **values.get("method_options", {})}
        values.setdefault("architecture", "table2")  # runs from before the options: the Table 2 networks
        values.setdefault("class_loss", "ce")        # and ACGAN's cross-entropy
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)
