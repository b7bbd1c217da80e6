"""The full configuration of a training run, saved as ``config.json`` in its folder."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from .options import check_all, declared, flag_of, option

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


# config.json keys from before method options had their own namespace -> their name there.
LEGACY_METHOD_KEYS = {"temperature": "temperature", "cost_momentum": "momentum",
                      "cost_error_source": "error_source", "autoencoder_epochs": "autoencoder_epochs"}
IMBALANCE_KINDS = ("step", "linear", "exponential", "none")

RUN, DATA, TRAINING, LEVERS, NETWORKS, BOOKKEEPING = (
    "run", "data and imbalance", "training", "levers for GANs on little data (every method)", "networks",
    "bookkeeping")
SEED_RANGE = dict(kind=int, low=0, high=2**31 - 1)
FRACTION = dict(kind=float, low=0, high=1, high_in=False)


def option_name(name: str) -> str:
    field_and_option = declared(TrainConfig).get(name)
    return flag_of(name, field_and_option[1] if field_and_option else None)


@dataclass
class TrainConfig:
    """Every option of a training run, declared once (csacgan.options): its section, help,
    accepted values and flag; ``csacgan train``'s parser is built from these fields and the
    methods' ``Options`` dataclasses."""
    out: str = option("runs/csacgan", RUN, "run folder to create (required unless --resume)", cli_default=None)
    method: str = option("auto", RUN, "cs-acgan: CostSensitive-ACGAN (the paper); acgan and bagan: the baselines; "
                         "auto: cs-acgan for grey images, bagan with --mode-seeking 0.5 for colour ones (the colour "
                         "study, docs/your-data.md)", choices=("auto", "csacgan.methods:METHODS"))
    # The method's own options, by its Options dataclass's names (csacgan.methods.method_defaults):
    # cs-acgan: temperature (tau), momentum, error_source; bagan: autoencoder_epochs, ...
    method_options: dict = option(section=RUN, help="the method's own options", factory=dict, flags=None)
    recipe: str = option(DEFAULT_RECIPE, RUN, "paper: the paper as written (uniform real batches, class loss on "
                         "real and fake in D); balanced: class-balanced real batches, D's class loss on real images "
                         "only (draws the minority at rho 190); stable: balanced, images drawn from an EMA of G's "
                         "weights. Explicit options below win.", choices=tuple(RECIPES))
    dataset: str = option("mnist", DATA, "imagefolder: --data-dir DIR with one sub-folder of images per class "
                          "(grayscale or RGB; optionally DIR/train and DIR/test); npz: --data-dir FILE.npz with "
                          "arrays images and labels (optionally test_images, test_labels); users' data is kept as "
                          "given unless --imbalance says otherwise", choices=("csacgan.data:DATASETS",))
    data_dir: str | None = option(None, DATA, "the dataset's folder or file; for mnist, fashion-mnist and cifar10 "
                                  "else $CSACGAN_DATA_DIR, the user cache, /usr/share/datasets, else download")
    image_size: int | None = option(None, DATA, "resize imagefolder, npz and cifar10 images to this square size "
                                    "(shorter side, then centre crop for folders)", kind=int, choices=(28, 32, 64))
    # imbalance (csacgan.data.imbalance)
    minority: list[int | str] = option(section=DATA, help="minority class(es), indices or names, e.g. 0 or 0,3 "
                                       "or defect", factory=lambda: [0], parse="classes")
    imbalance_ratio: float | None = option(190.0, DATA, "rho = largest class count / minority count (paper: 20, "
                                           "40, 190)", kind=float, low=1, exclusive="ratio")
    drop_fraction: float | None = option(None, DATA, "instead of rho: fraction of each minority class removed "
                                         "(the paper's other reading: 0.6, 0.8, 0.95)", **FRACTION,
                                         exclusive="ratio")
    max_per_class: int | None = option(5000, DATA, "cap per class applied first (paper section 3.1: 5000)",
                                       kind=int, low=1)
    imbalance: str | None = option(None, DATA, "step, linear, exponential, none, or per-class counts: none keeps "
                                   "the data as given (only --max-per-class applies; the default for imagefolder "
                                   "and npz, step otherwise); exponential: long-tailed as in CIFAR-10-LT "
                                   "(--imbalance-ratio 100 --minority 9 gives Cao et al.'s counts); counts, one per "
                                   "class in class order, e.g. 4000,2000,1000,750,500,350,200,100,60,40 (DeepSMOTE's; "
                                   "'deepsmote' is short for it)", parse="imbalance", metavar="KIND|COUNTS")
    # images kept of each class, in class order (imbalance "counts"; --imbalance COUNTS)
    class_counts: list[int] | None = option(None, DATA, "per-class counts", flags=None)
    validation_fraction: float = option(0.0, DATA, "keep this stratified share of the imbalanced set out of "
                                        "training (csacgan downstream trains its GANs so, and stops its classifiers "
                                        "early on that share)", **FRACTION)
    # seed of the imbalanced subsample and that share; None: seed (csacgan downstream: its
    # classifiers' early-stopping split)
    data_seed: int | None = option(None, DATA, "seed of the imbalanced subsample", **SEED_RANGE, flags=None)
    epochs: int = option(8, TRAINING, "epochs in total (default {default})", kind=int, low=1, cli_default=None)
    max_steps: int | None = option(None, TRAINING, "stop after this many optimizer steps (smoke runs)", kind=int,
                                   low=1)
    batch_size: int = option(64, TRAINING, "images per batch", kind=int, low=2)  # BatchNorm needs 2
    lr: float = option(2e-4, TRAINING, "Adam learning rate (beta1 0.5)", kind=float, low=0, low_in=False)
    beta1: float = option(0.5, TRAINING, "Adam's beta1", **FRACTION, flags=None)
    beta2: float = option(0.999, TRAINING, "Adam's beta2", **FRACTION, flags=None)
    seed: int = option(0, TRAINING, "seed of the networks, batches and noise", **SEED_RANGE)
    device: str = option("auto", TRAINING, "auto, cpu, cuda or cuda:N")
    precision: str = option("auto", TRAINING, "auto: bf16 autocast on CUDA and on CPUs with native bf16, else "
                            "fp32", choices=("auto", "bf16", "fp32"))
    channels_last: bool = option(True, TRAINING, "NHWC weights and activations (faster with oneDNN on CPU; the "
                                 "same networks either way)", parse="bool")
    sampling: str | None = option(None, TRAINING, "how real batches are drawn (default: from --recipe)",
                                  choices=("csacgan.data.batches:SAMPLINGS",))
    fake_labels: str | None = option(None, TRAINING, "classes the generator is asked for in training: uniform, or "
                                     "class-prior (c ~ p_c, the training set's class distribution, as the paper; "
                                     "default: from --recipe)", choices=("csacgan.data.batches:FAKE_LABELS",))
    fake_class_loss_in_d: bool | None = option(None, TRAINING, "apply the class loss to generated images in D's "
                                               "loss (default: from --recipe)", parse="bool")
    adversarial_loss: str = option("bce", TRAINING, "bce: the paper's; wgan-gp with --method bagan is BAGAN-GP in "
                                   "outline", choices=("csacgan.methods:ADVERSARIAL_LOSSES",))
    diffaugment: str | None = option(None, TRAINING, "differentiable augmentation of every D input (Zhao et al. "
                                     "2020): translation, cutout or translation,cutout", metavar="POLICY")
    lr_d: float | None = option(None, LEVERS, "D's learning rate (TTUR, Heusel et al. 2017; default --lr)",
                                kind=float, low=0, low_in=False)
    lr_g: float | None = option(None, LEVERS, "G's learning rate (TTUR; default --lr)", kind=float, low=0,
                                low_in=False)
    g_ema: float | None = option(None, LEVERS, "keep an exponential moving average of G's weights (e.g. 0.999) "
                                 "and draw every sample, snapshot, generate, evaluate and augment image from it; 0: "
                                 "none (default: from --recipe: 0.999 with stable, 0 with balanced and paper)",
                                 **FRACTION, metavar="DECAY")
    d_spectral_norm: bool = option(False, LEVERS, "spectral normalisation of every layer of D (Miyato et al. "
                                   "2018)", parse="bool")
    d_minibatch_std: int = option(0, LEVERS, "minibatch standard deviation in D (Karras et al. 2018) over groups "
                                  "of GROUP images, e.g. 4, so that D sees how varied a batch is; 0: none",
                                  kind=int, low=0, metavar="GROUP")
    mode_seeking: float = option(0.0, LEVERS, "MSGAN's mode-seeking term in G's loss (Mao et al. 2019), e.g. 1: "
                                 "two noises of one class that give alike images cost G; 0: none", kind=float,
                                 low=0, metavar="WEIGHT")
    lecam: float = option(0.0, LEVERS, "LeCam regularisation of D (Tseng et al. 2021), e.g. 0.3; 0: none",
                          kind=float, low=0, metavar="WEIGHT")
    ada_target: float = option(0.0, LEVERS, "adaptive discriminator augmentation (Karras et al. 2020): "
                               "--diffaugment's transforms (default translation,cutout) applied with a probability "
                               "adjusted so that E[sign D(real)] stays near TARGET, e.g. 0.6; 0: none", **FRACTION,
                               flags=("--ada",), metavar="TARGET")
    class_loss: str = option("auto", LEVERS, "the ACGAN family's class loss: ce (the paper's cross-entropy), tac "
                             "(TAC-GAN's twin classifier, Gong et al. 2019) or d2d-ce (ReACGAN's data-to-data "
                             "cross-entropy, Kang et al. 2021); CostSensitive-ACGAN's costs weigh whichever is used; "
                             "auto: ce for grey images, tac for colour ones (the colour study, docs/your-data.md; "
                             "methods/class_losses.py)", choices=("auto", "csacgan.methods:CLASS_LOSSES"))
    gsr: float = option(0.0, LEVERS, "group spectral regularisation of G's class-conditional BatchNorm (Rangwani "
                        "et al. 2022), e.g. 0.5; --architecture resnet only; 0: none", kind=float, low=0,
                        metavar="WEIGHT")
    architecture: str = option("auto", NETWORKS, "table2: the paper's networks; resnet: residual networks with a "
                               "spectral-norm discriminator and BigGAN-style conditional BatchNorm in G; auto: table2 "
                               "(the colour study found the residual networks behind at this budget, "
                               "docs/your-data.md)", choices=("auto", "csacgan.nets:ARCHITECTURES"))
    d_projection: bool = option(False, NETWORKS, "add the projection discriminator's class term to D's source "
                                "logit (Miyato and Koyama 2018)", parse="bool")
    latent_dim: int = option(100, NETWORKS, "length of G's noise", kind=int, low=1, flags=None)
    g_channels: list[int] | None = option(None, NETWORKS, "generator widths, 5 values (default 128,64,32,32,16); "
                                          "with --architecture resnet one width (default 128)", length=5, low=1,
                                          one_width=True)
    d_channels: list[int] | None = option(None, NETWORKS, "discriminator widths, 4 values (default 32,64,128,128); "
                                          "with --architecture resnet one width (default 128)", length=4, low=1,
                                          one_width=True)
    d_strides: list[int] | None = option(None, NETWORKS, "discriminator strides, 4 values (default 2,1,2,1; the "
                                         "paper's Table 2 literally: 1,1,1,1)", length=4, low=1)
    g_batch_norm: bool = option(True, NETWORKS, "generator without BatchNorm", parse="off",
                                flags=("--no-g-batch-norm",))
    d_dropout: float = option(0.3, NETWORKS, "dropout after each of D's convolutions (Table 2: 0.3)", **FRACTION,
                              metavar="P")
    checkpoint_every: int = option(200, BOOKKEEPING, "steps between checkpoints", kind=int, low=1)
    log_every: int = option(50, BOOKKEEPING, "steps between log lines", kind=int, low=1, flags=None)
    grid_columns: int = option(10, BOOKKEEPING, "columns of the sample grids", kind=int, low=1, flags=None)
    progress: bool = option(True, BOOKKEEPING, "no progress bar", parse="off", flags=("--no-progress",))

    def resolved(self) -> "TrainConfig":
        """A copy with the recipe's defaults filled in and the options checked."""
        if self.recipe not in RECIPES:
            raise ValueError(f"unknown recipe {self.recipe!r}; choose one of {', '.join(RECIPES)}")
        values = asdict(self)
        if isinstance(values["imbalance"], list):  # --imbalance 4000,2000,...: the counts
            values["imbalance"], values["class_counts"] = "counts", values["imbalance"]
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
        values = check_all(TrainConfig, values)
        from .methods import check_method_options, method_options_class  # the methods know their options
        own = declared(method_options_class(values["method"]))  # an unknown method: its one line here
        for name, (f, opt) in own.items():
            if opt.only_with is None:
                continue
            needs, value = opt.only_with
            given = values["method_options"].get(name, f.default)
            if given != f.default and values["method_options"].get(needs) != value:
                raise ValueError(f"{values['method']} option {name!r} is used only with {needs} {value!r} "
                                 f"({flag_of(needs, own[needs][1])} {value}); give both or neither")
        values["method_options"] = check_method_options(values["method"], values["method_options"])
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
