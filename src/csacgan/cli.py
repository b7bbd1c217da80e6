"""The ``csacgan`` command: parses options, builds a config, calls one function."""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields
from pathlib import Path

from .config import LIST_RANGES, METHOD_RANGES, RANGES, RECIPES, TrainConfig, check_option


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")


def _number(kind, text: str):
    """``kind(text)``, or argparse's error saying what was expected."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}")


def _option(name: str):
    """The argparse type of TrainConfig field ``name``: parsed, then checked against
    config.RANGES / LIST_RANGES, so the CLI and the library accept the same values."""
    parse = _ints if name in LIST_RANGES else (RANGES.get(name) or METHOD_RANGES[name])[0]

    def convert(text: str):
        value = parse(text) if parse is _ints else _number(parse, text)
        try:
            return check_option(name, value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc).split(" ", 1)[1])
    convert.__name__ = name
    return convert


def _shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N, e.g. 2/4, got {text!r}")
    if not 1 <= i <= n:
        raise argparse.ArgumentTypeError(f"need 1 <= I <= N, got {text}")
    return i, n


def _bounded(kind, low):
    """An argparse type for a number of ``kind`` that is finite and at least ``low``."""
    def convert(text: str):
        value = _number(kind, text)
        if not (value >= low and value == value and value != float("inf")):
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {text}")
        return value
    return convert


def _classes(text: str) -> list[int | str]:
    """Comma-separated class indices or names."""
    values = [v.strip() for v in text.split(",") if v.strip()]
    return [int(v) if v.lstrip("-").isdigit() else v for v in values]


IMBALANCE_KINDS = ("step", "linear", "exponential", "none")


def _imbalance(text: str):
    """An imbalance kind, or per-class counts (a list) from "4000,2000,..." or "deepsmote"."""
    from .data.imbalance import DEEPSMOTE_COUNTS
    if text in IMBALANCE_KINDS:
        return text
    if text == "deepsmote":
        return list(DEEPSMOTE_COUNTS)
    parts = [v.strip() for v in text.split(",")]
    if len(parts) >= 2 and all(p.isdigit() for p in parts):
        return [int(p) for p in parts]
    raise argparse.ArgumentTypeError(f"expected one of {', '.join(IMBALANCE_KINDS)}, deepsmote, or per-class "
                                     f"counts such as 4000,2000,1000; got {text!r}")


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


# Flags whose values go to TrainConfig.method_options (given only when set), by the
# option's name in the method's constructor.
METHOD_FLAGS = ("temperature", "momentum", "error_source", "costs_in", "update_every", "held_out_fraction",
                "classifier_steps", "autoencoder_epochs")


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's formatter that appends each option's default, except where there is none
    to show (None) or the help text already says what it is."""

    def _get_help_string(self, action):
        if action.default is None or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _add_train(sub) -> None:
    from .data import DATASETS
    from .data.batches import FAKE_LABELS, SAMPLINGS
    from .methods import ADVERSARIAL_LOSSES, CLASS_LOSSES, METHODS, method_defaults
    from .nets import ARCHITECTURES
    from .methods.class_costs import ERROR_SOURCES
    from .methods.cost_sensitive import COSTS_IN
    d = TrainConfig()
    cs, bagan = method_defaults("cs-acgan"), method_defaults("bagan")
    p = sub.add_parser("train", help="train a GAN on an imbalanced dataset",
                       formatter_class=_DefaultsFormatter,
                       description="Train CostSensitive-ACGAN (or ACGAN) on a dataset made imbalanced "
                                   "on purpose. Writes a run folder with config.json, log.jsonl, "
                                   "checkpoint.pt and a sample grid per epoch (one row per class).")
    p.add_argument("--out", help="run folder to create (required unless --resume)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run exactly where it stopped; "
                   "--epochs / --max-steps may extend it, other options are taken from the run")
    p.add_argument("--method", choices=["auto", *METHODS], default=d.method,
                   help="cs-acgan: CostSensitive-ACGAN (the paper); acgan and bagan: the baselines; auto: "
                   "cs-acgan for grey images, bagan with --mode-seeking 0.5 for colour ones (the colour study, "
                   "docs/your-data.md)")
    p.add_argument("--recipe", choices=list(RECIPES), default=d.recipe,
                   help="paper: the paper as written (uniform real batches, class loss on real and "
                        "fake in D); balanced: class-balanced real batches, D's class loss on real "
                        "images only (draws the minority at rho 190); stable (default): balanced, images "
                        "drawn from an EMA of G's weights. Explicit options below win.")
    g = p.add_argument_group("data and imbalance")
    g.add_argument("--dataset", choices=list(DATASETS), default=d.dataset,
                   help="imagefolder: --data-dir DIR with one sub-folder of images per class (grayscale "
                        "or RGB; optionally DIR/train and DIR/test); npz: --data-dir FILE.npz with arrays "
                        "images and labels (optionally test_images, test_labels); users' data is kept "
                        "as given unless --imbalance says otherwise")
    g.add_argument("--data-dir", help="the dataset's folder or file; for mnist, fashion-mnist and cifar10 "
                   "else $CSACGAN_DATA_DIR, the user cache, /usr/share/datasets, else download")
    g.add_argument("--image-size", type=int, choices=[28, 32, 64], help="resize imagefolder, npz and "
                   "cifar10 images to this square size (shorter side, then centre crop for folders)")
    g.add_argument("--minority", type=_classes, default=d.minority,
                   help="minority class(es), indices or names, e.g. 0 or 0,3 or defect")
    ratio = g.add_mutually_exclusive_group()
    ratio.add_argument("--imbalance-ratio", type=_option("imbalance_ratio"), default=d.imbalance_ratio,
                       help="rho = largest class count / minority count (paper: 20, 40, 190)")
    ratio.add_argument("--drop-fraction", type=_option("drop_fraction"), help="instead of rho: fraction of each "
                       "minority class removed (the paper's other reading: 0.6, 0.8, 0.95)")
    g.add_argument("--max-per-class", type=_option("max_per_class"), default=d.max_per_class,
                   help="cap per class applied first (paper section 3.1: 5000)")
    g.add_argument("--validation-fraction", type=_option("validation_fraction"), default=d.validation_fraction,
                   help="keep this stratified share of the imbalanced set out of training (csacgan "
                        "downstream trains its GANs so, and stops its classifiers early on that share)")
    g.add_argument("--imbalance", type=_imbalance, default=d.imbalance, metavar="KIND|COUNTS",
                   help="step, linear, exponential, none, or per-class counts: none keeps the data as "
                        "given (only --max-per-class applies; the default for imagefolder and npz, step "
                        "otherwise); exponential: long-tailed as in CIFAR-10-LT (--imbalance-ratio 100 "
                        "--minority 9 gives Cao et al.'s counts); counts, one per class in class order, "
                        "e.g. 4000,2000,1000,750,500,350,200,100,60,40 (DeepSMOTE's; 'deepsmote' is "
                        "short for it)")
    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=_option("epochs"), default=None, help=f"epochs in total (default {d.epochs})")
    t.add_argument("--max-steps", type=_option("max_steps"), help="stop after this many optimizer steps (smoke runs)")
    t.add_argument("--batch-size", type=_option("batch_size"), default=d.batch_size)
    t.add_argument("--lr", type=_option("lr"), default=d.lr, help="Adam learning rate (beta1 0.5)")
    t.add_argument("--seed", type=_option("seed"), default=d.seed)
    t.add_argument("--device", default=d.device, help="auto, cpu, cuda or cuda:N")
    t.add_argument("--precision", choices=["auto", "bf16", "fp32"], default=d.precision,
                   help="auto: bf16 autocast on CUDA and on CPUs with native bf16, else fp32")
    t.add_argument("--channels-last", type=_bool, default=d.channels_last,
                   help="NHWC weights and activations (default true: faster with oneDNN on CPU; "
                        "the same networks either way)")
    t.add_argument("--sampling", choices=list(SAMPLINGS), help="how real batches are drawn "
                   "(default: from --recipe)")
    t.add_argument("--fake-labels", choices=list(FAKE_LABELS), help="classes the generator is "
                   "asked for in training: uniform, or class-prior (c ~ p_c, the training set's class "
                   "distribution, as the paper; default: from --recipe)")
    t.add_argument("--fake-class-loss-in-d", type=_bool, help="apply the class loss to generated images "
                   "in D's loss (default: from --recipe)")
    t.add_argument("--adversarial-loss", choices=list(ADVERSARIAL_LOSSES), default=d.adversarial_loss,
                   help="bce: the paper's; wgan-gp with --method bagan is BAGAN-GP in outline")
    t.add_argument("--diffaugment", metavar="POLICY", help="differentiable augmentation of every "
                   "D input (Zhao et al. 2020): translation, cutout or translation,cutout")
    lv = p.add_argument_group("levers for GANs on little data (every method)")
    lv.add_argument("--lr-d", type=_option("lr_d"), help="D's learning rate (TTUR; default --lr)")
    lv.add_argument("--lr-g", type=_option("lr_g"), help="G's learning rate (TTUR; default --lr)")
    lv.add_argument("--g-ema", type=_option("g_ema"), default=d.g_ema, metavar="DECAY",
                    help="keep an exponential moving average of G's weights (e.g. 0.999) and draw every "
                         "sample, snapshot, generate, evaluate and augment image from it; 0: none "
                         "(default: from --recipe: 0.999 with stable, 0 with balanced and paper)")
    lv.add_argument("--d-spectral-norm", type=_bool, default=d.d_spectral_norm,
                    help="spectral normalisation of every layer of D (Miyato et al. 2018)")
    lv.add_argument("--d-minibatch-std", type=_option("d_minibatch_std"), default=d.d_minibatch_std,
                    metavar="GROUP", help="minibatch standard deviation in D (Karras et al. 2018) over groups "
                    "of GROUP images, e.g. 4, so that D sees how varied a batch is; 0: none")
    lv.add_argument("--mode-seeking", type=_option("mode_seeking"), default=d.mode_seeking, metavar="WEIGHT",
                    help="MSGAN's mode-seeking term in G's loss (Mao et al. 2019), e.g. 1: two noises of one class "
                    "that give alike images cost G; 0: none")
    lv.add_argument("--lecam", type=_option("lecam"), default=d.lecam, metavar="WEIGHT",
                    help="LeCam regularisation of D (Tseng et al. 2021), e.g. 0.3; 0: none")
    lv.add_argument("--ada", dest="ada_target", type=_option("ada_target"), default=d.ada_target,
                    metavar="TARGET", help="adaptive discriminator augmentation (Karras et al. 2020): "
                    "--diffaugment's transforms (default translation,cutout) applied with a probability "
                    "adjusted so that E[sign D(real)] stays near TARGET, e.g. 0.6; 0: none")
    lv.add_argument("--class-loss", choices=["auto", *CLASS_LOSSES], default=d.class_loss,
                    help="the ACGAN family's class loss: ce (the paper's cross-entropy), tac (TAC-GAN's twin "
                    "classifier, Gong et al. 2019) or d2d-ce (ReACGAN's data-to-data cross-entropy, Kang et al. "
                    "2021); CostSensitive-ACGAN's costs weigh whichever is used; auto: ce for grey images, tac for colour "
                    "ones (the colour study, docs/your-data.md)")
    lv.add_argument("--gsr", type=_option("gsr"), default=d.gsr, metavar="WEIGHT",
                    help="group spectral regularisation of G's class-conditional BatchNorm (Rangwani et al. "
                    "2022), e.g. 0.5; --architecture resnet only; 0: none")
    c = p.add_argument_group("CostSensitive-ACGAN costs w_c (--method cs-acgan only)")
    c.add_argument("--temperature", "--tau", type=_option("temperature"),
                   help=f"w = softmax(error / tau); the paper uses 1 (default {cs['temperature']})")
    c.add_argument("--cost-momentum", dest="momentum", type=_option("momentum"),
                   help=f"w <- (1-m) w + m softmax(error/tau); 1 is the paper's rule (default {cs['momentum']})")
    c.add_argument("--cost-error-source", dest="error_source", choices=list(ERROR_SOURCES),
                   help=f"images on which each class's error is measured after every epoch "
                        f"(default {cs['error_source']})")
    c.add_argument("--costs-in", dest="costs_in", choices=list(COSTS_IN),
                   help=f"which class losses the costs weight: D's, G's or both (default {cs['costs_in']}, the paper's)")
    c.add_argument("--cost-update-every", dest="update_every", type=_option("update_every"), metavar="N",
                   help="update the costs online every N steps from the last N steps' batches instead of "
                        f"after every epoch (default {cs['update_every']}: the paper's per-epoch rule)")
    c.add_argument("--cost-held-out", dest="held_out_fraction", type=_option("held_out_fraction"),
                   metavar="FRACTION", help="with --cost-error-source held-out: the stratified fraction of "
                   f"each class kept out of training to measure it (default {cs['held_out_fraction']})")
    c.add_argument("--cost-classifier-steps", dest="classifier_steps", type=_option("classifier_steps"),
                   metavar="N", help="with --cost-error-source classifier: training steps of the separate small "
                   f"CNN that judges G's images (default {cs['classifier_steps']})")
    b = p.add_argument_group("BAGAN (--method bagan only)")
    b.add_argument("--autoencoder-epochs", type=_option("autoencoder_epochs"),
                   help=f"epochs of the autoencoder stage (reused from the cache when already trained "
                        f"for the same data, seed and networks; default {bagan['autoencoder_epochs']})")
    n = p.add_argument_group("networks")
    n.add_argument("--architecture", choices=["auto", *ARCHITECTURES], default=d.architecture,
                   help="table2: the paper's networks; resnet: residual networks with a spectral-norm "
                   "discriminator and BigGAN-style conditional BatchNorm in G; auto: table2 (the colour study "
                   "found the residual networks behind at this budget, docs/your-data.md)")
    n.add_argument("--d-projection", type=_bool, default=d.d_projection,
                   help="add the projection discriminator's class term to D's source logit (Miyato and Koyama 2018)")
    n.add_argument("--g-channels", type=_option("g_channels"), help="generator widths, 5 values (default "
                   "128,64,32,32,16); with --architecture resnet one width (default 128)")
    n.add_argument("--d-channels", type=_option("d_channels"), help="discriminator widths, 4 values (default "
                   "32,64,128,128); with --architecture resnet one width (default 128)")
    n.add_argument("--d-strides", type=_option("d_strides"), help="discriminator strides, 4 values (default 2,1,2,1; "
                   "the paper's Table 2 literally: 1,1,1,1)")
    n.add_argument("--no-g-batch-norm", action="store_true", help="generator without BatchNorm")
    n.add_argument("--d-dropout", type=_option("d_dropout"), default=d.d_dropout, metavar="P",
                   help="dropout after each of D's convolutions (Table 2: 0.3)")
    n.add_argument("--no-progress", action="store_true", help="no progress bar")
    n.add_argument("--checkpoint-every", type=_option("checkpoint_every"), default=d.checkpoint_every, help="steps between checkpoints")
    p.set_defaults(func=_cmd_train, parser=p)


# What --resume takes beside it; every other option is the run's own.
RESUME_OPTIONS = ("resume", "epochs", "max_steps", "data_dir", "no_progress", "func", "parser", "command", "debug")


def _cmd_train(args) -> None:
    from .train import resume, train
    if args.resume:
        defaults = vars(args.parser.parse_args([]))
        given = [k for k, v in vars(args).items() if k not in RESUME_OPTIONS and v != defaults.get(k)]
        if given:
            flag = {a.dest: a.option_strings[0] for a in args.parser._actions if a.option_strings}
            flags = ", ".join(flag.get(k, k) for k in given)
            raise ValueError(f"--resume continues a run with the options it was trained with; {flags} cannot be "
                             f"given with it (only --epochs, --max-steps, --data-dir and --no-progress)")
        run = resume(args.resume, epochs=args.epochs, max_steps=args.max_steps,
                     progress=False if args.no_progress else None, data_dir=args.data_dir)
    else:
        if not args.out:
            sys.exit("csacgan train: --out RUN_DIR is required (or --resume RUN_DIR)")
        given = vars(args)
        values = {f.name: given[f.name] for f in fields(TrainConfig) if given.get(f.name) is not None}
        if isinstance(args.imbalance, list):
            values.update(imbalance="counts", class_counts=args.imbalance)
        values.update(imbalance_ratio=None if args.drop_fraction is not None else args.imbalance_ratio,
                      g_batch_norm=not args.no_g_batch_norm, progress=not args.no_progress,
                      method_options={k: given[k] for k in METHOD_FLAGS if given.get(k) is not None})
        cfg = TrainConfig(**values)
        run = train(cfg)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 speaks for the run
        print(f"run folder: {run}")


def _add_generate(sub) -> None:
    p = sub.add_parser("generate", help="draw images of one class from a trained run",
                       formatter_class=_DefaultsFormatter)
    p.add_argument("--run", required=True, metavar="RUN_DIR", help="run folder written by 'csacgan train'")
    p.add_argument("--class", dest="class_index", type=_class_name_or_index, required=True,
                   help="class name or index, as --minority takes them, e.g. 0 or defect")
    p.add_argument("--n", type=_bounded(int, 1), default=100, help="number of images")
    p.add_argument("--out", required=True, metavar="FILE.npz",
                   help="output: images (uint8, N x H x W) and labels (int64, N)")
    p.add_argument("--grid", metavar="FILE.png", help="also save a grid of the first 100")
    p.add_argument("--seed", type=_bounded(int, 0), default=0)
    p.set_defaults(func=_cmd_generate)


def _class_name_or_index(text: str) -> int | str:
    if text.lstrip("-").isdigit():
        if int(text) < 0:
            raise argparse.ArgumentTypeError(f"must be at least 0, got {text}")
        return int(text)
    return text


def _cmd_generate(args) -> None:
    from .generate import generate
    out = generate(args.run, args.class_index, args.n, args.out, args.grid, args.seed)
    print(f"wrote {args.n} images of class {args.class_index} to {out}")


def _add_augment(sub) -> None:
    p = sub.add_parser("augment", help="write a rebalanced copy of the run's dataset",
                       formatter_class=_DefaultsFormatter,
                       description="Draw generated images from RUN_DIR and write a rebalanced copy of "
                                   "its dataset in the layout it came in: an image folder (originals "
                                   "copied, synthetic-*.png added) or an .npz (originals first, then "
                                   "generated, with a 'synthetic' flag). Writes manifest.csv (one row per "
                                   "image) and augment.json. The original data is only read.")
    p.add_argument("--run", required=True, metavar="RUN_DIR", help="run folder written by 'csacgan train'")
    p.add_argument("--out", required=True, metavar="DIR", help="new folder for the rebalanced copy")
    p.add_argument("--strategy", default="auto", help="as imbalanced-learn's sampling_strategy: auto "
                   "(every class up to the largest), minority, 'not minority', all, a float (minority / "
                   "majority ratio), or JSON {\"class name\": target count}")
    p.add_argument("--format", dest="fmt", choices=["auto", "imagefolder", "npz"], default="auto",
                   help="auto: the dataset's own layout (npz for mnist, fashion-mnist and cifar10)")
    p.add_argument("--seed", type=_bounded(int, 0), default=0, help="seed of the generated images")
    p.add_argument("--data-dir", help="where the run's dataset is, if not where it was when trained")
    p.add_argument("--sampler", default="generator", choices=["generator", "random", "smote", "latent-smote"],
                   help="where the new images come from: the run's generator, or an over-sampler fitted on "
                        "the run's training images (latent-smote uses a BAGAN run's autoencoder, else trains one)")
    p.set_defaults(func=_cmd_augment)


def _cmd_augment(args) -> None:
    from .augment import augment
    sampler = None
    if args.sampler != "generator":
        from .sampler import SAMPLERS, LatentSMOTE
        if args.sampler == "latent-smote" and (Path(args.run) / "autoencoder.pt").is_file():
            sampler = LatentSMOTE.from_run(args.run, random_state=args.seed)
        else:
            sampler = SAMPLERS[args.sampler](random_state=args.seed)
    summary = augment(args.run, args.out, args.strategy, args.fmt, args.seed, args.data_dir, sampler=sampler)
    width = max(len(str(c)) for c in summary["counts_before"])
    print(f"{'class':{width}s}  {'before':>7s}  {'generated':>9s}  {'after':>7s}")
    for c, before in summary["counts_before"].items():
        print(f"{c:{width}s}  {before:7d}  {summary['generated'][c]:9d}  {summary['counts_after'][c]:7d}")
    print(f"wrote {args.out} ({summary['format']}; manifest.csv lists every image)")


def _add_reproduce(sub) -> None:
    from .experiments.grid import PROFILES, SEEDS_WHERE
    p = sub.add_parser("reproduce", help="the paper's grid (3 methods x 3 imbalance levels x seeds) "
                       "and a report with its Tables 3-5 beside ours and its claims tested",
                       formatter_class=_DefaultsFormatter,
                       description="Train and evaluate ACGAN, BAGAN and CostSensitive-ACGAN on MNIST with "
                                   "class '0' made rare at the paper's three levels, then write "
                                   "OUT/report.md (the paper's Tables 3-5 beside ours, the field's metrics, "
                                   "the paper's claims as paired tests) and OUT/figures/. Resumable: run the "
                                   "same command again "
                                   "after an interruption and finished runs are reused.")
    p.add_argument("--profile", choices=list(PROFILES), default="quick",
                   help="quick: minutes, narrow networks, smoke test; paper: the paper's grid at 2 epochs "
                   "per run; converged: the same at 20 epochs, the budget the convergence study finds")
    p.add_argument("--protocol", choices=["ratio", "drop"], default="ratio",
                   help="ratio: rho 20/40/190; drop: 60/80/95%% of '0' removed (the paper's two readings)")
    p.add_argument("--recipe", choices=list(RECIPES), default="paper",
                   help="paper: the methods as published; balanced: our class-balanced variant")
    p.add_argument("--seeds", type=_bounded(int, 1), help="seeds per cell (default: the profile's)")
    p.add_argument("--out", default=None, help="grid folder (default runs/reproduce-PROFILE-PROTOCOL-RECIPE)")
    p.add_argument("--data-dir", help="folder with the MNIST IDX files")
    p.add_argument("--jobs", type=_bounded(int, 1), default=None,
                   help="runs trained at once, each in its own process with an equal share of the "
                        "CPU threads (default: 2 on a CPU with 2 or more cores, 1 with a GPU)")
    p.add_argument("--shard", type=_shard, metavar="I/N", help="train only shard I of N of the grid "
                   "(N machines or array jobs sharing --out cover it together; then --report-only)")
    p.add_argument("--seeds-where", choices=list(SEEDS_WHERE), default="every-cell",
                   help="where the seeds after seed 0 are trained: every cell, or only the hardest level's "
                        "ACGAN and CostSensitive-ACGAN (the paired comparison the paper's claim rests on); "
                        "a later call with every-cell extends the grid")
    p.add_argument("--reuse", action="append", default=[], metavar="GRID",
                   help="another grid's folder (or a folder of run folders): its finished runs that are this "
                        "grid's runs (same settings, same kept images, same budget) are copied in rather than "
                        "trained again; rho 20 and a 95%% drop keep the same 250 zeros, so the drop grid can "
                        "--reuse the ratio grid")
    p.add_argument("--report-only", action="store_true", help="rebuild report.md from the run folders")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_reproduce)


def _cmd_reproduce(args) -> None:
    from .experiments.grid import run_grid
    from .experiments.report import write_report
    out = args.out or f"runs/reproduce-{args.profile}-{args.protocol}-{args.recipe}"
    if args.report_only:
        path = write_report(out)
    else:
        command = "csacgan " + " ".join(sys.argv[1:]) if sys.argv and "csacgan" in sys.argv[0] else None
        path = run_grid(out, args.profile, args.protocol, args.recipe, args.seeds, args.data_dir,
                        progress=not args.no_progress, command=command, jobs=args.jobs, shard=args.shard,
                        reuse=args.reuse, seeds_where=args.seeds_where)
    print(f"report: {path}")


def _add_downstream(sub) -> None:
    from .experiments.downstream import CLASSIFIERS, PROTOCOLS, Settings
    from .classifier_losses import CLASSIFIER_LOSSES
    from .sampler import SAMPLERS
    d = Settings(out="")
    p = sub.add_parser("downstream", help="train a classifier on each sampler's rebalanced set and score "
                       "it on the real test set (ACSA, GM, macro-F1), paired over seeds",
                       formatter_class=_DefaultsFormatter,
                       description="Does adding generated images beat doing nothing, random oversampling, a "
                                   "class-weighted loss, SMOTE and latent SMOTE? Writes OUT/downstream.json "
                                   "and OUT/report.md; resumable (run the same command again).")
    p.add_argument("--out", required=True, help="study folder (GANs in OUT/gans/)")
    p.add_argument("--protocol", choices=PROTOCOLS, default=d.protocol,
                   help="paper: one minority class at rho 20/40/190; deepsmote: counts 4000 ... 40 (ratio 100); "
                        "given: users' data as it is")
    from .data import DATASETS
    p.add_argument("--dataset", choices=[k for k in DATASETS if k != "arrays"], default=d.dataset)
    p.add_argument("--data-dir", help="the dataset's folder or file")
    p.add_argument("--samplers", type=lambda t: [v.strip() for v in t.split(",") if v.strip()],
                   default=d.samplers, help=f"comma-separated, from {', '.join(SAMPLERS)}; SAMPLER+LOSS trains "
                   f"with a long-tail loss ({', '.join(CLASSIFIER_LOSSES)}): none+ldam-drw is the loss alone, "
                   f"bagan+logit-adjusted BAGAN's images on top of it")
    p.add_argument("--seeds", type=_bounded(int, 1), default=d.seeds)
    p.add_argument("--levels", type=lambda t: t.split(","), help="only these levels (e.g. rho190)")
    p.add_argument("--minority", type=_classes, default=d.minority, help="the paper protocol's minority class")
    p.add_argument("--classifier", choices=CLASSIFIERS, default=d.classifier,
                   help="small-cnn: two convolutions (CPU); resnet32: the CIFAR ResNet-32 of the long-tail "
                   "papers (LDAM-DRW; CPU); resnet18: ResNet-18 as DeepSMOTE used (GPU)")
    p.add_argument("--gan-epochs", type=_bounded(int, 1), help="GAN training epochs (default: 8 for paper, "
                   "30 for deepsmote)")
    p.add_argument("--gan-seeds", type=_bounded(int, 1), default=d.gan_seeds, help="GANs trained per method and "
                   "level (seeds 0..N-1, same data); seed k samples GAN k %% N, so the spread includes GAN training")
    p.add_argument("--max-steps", type=_bounded(int, 1), default=d.max_steps, help="classifier steps at most")
    p.add_argument("--check-every", type=_bounded(int, 1), default=d.check_every)
    p.add_argument("--patience", type=_bounded(int, 1), default=d.patience)
    p.add_argument("--jobs", type=_bounded(int, 1), default=d.jobs, help="classifiers trained at once")
    p.add_argument("--quick", action="store_true", help="a tiny version in about a minute")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_downstream)


def _cmd_downstream(args) -> None:
    from .experiments.downstream import Settings, downstream
    s = Settings(out=args.out, dataset=args.dataset, data_dir=args.data_dir, protocol=args.protocol,
                 samplers=args.samplers, seeds=args.seeds, classifier=args.classifier, levels=args.levels,
                 minority=args.minority, gan_epochs=args.gan_epochs, gan_seeds=args.gan_seeds, max_steps=args.max_steps,
                 check_every=args.check_every, patience=args.patience, quick=args.quick, jobs=args.jobs,
                 progress=not args.no_progress)
    path = downstream(s)
    print(f"wrote {path} and {path.parent / 'report.md'}")


def _add_evaluate(sub) -> None:
    from .checkpoint import WEIGHTS
    from .metrics import METRICS
    p = sub.add_parser("evaluate", help="score a trained run: the paper's metrics and the field's",
                       formatter_class=_DefaultsFormatter,
                       description="Generate N images per class from RUN_DIR's generator and compute "
                                   "classifier accuracy (paper Table 5), SSIM diversity (Table 4), FID "
                                   "and KID on a ResNet-18 evaluator's features (overall and per class), "
                                   "the Classification Accuracy Score and the downstream gain from "
                                   "augmentation. Writes RUN_DIR/metrics.json.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--metrics", nargs="+", choices=list(METRICS), help="default: all")
    p.add_argument("--n-per-class", type=_bounded(int, 2), default=1000)
    p.add_argument("--seed", type=_bounded(int, 0), default=0)
    p.add_argument("--data-dir", help="where the run's dataset is, if not where it was when trained")
    p.add_argument("--evaluator-epochs", type=_bounded(float, 0.01), default=2, help="epochs of the cached ResNet-18")
    p.add_argument("--snapshots", action="store_true", help="instead: evaluator accuracy per class "
                   "of the generator after every epoch, written to RUN_DIR/curve.json (epochs it holds "
                   "already, scored the same way, are kept)")
    p.add_argument("--weights", choices=list(WEIGHTS), default="sampling",
                   help="raw: G's trained weights rather than their EMA, for a run trained with --g-ema "
                        "(written to RUN_DIR/metrics-raw.json): the same run without the EMA")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_evaluate)


def _cmd_evaluate(args) -> None:
    from .checkpoint import load_checkpoint
    from .evaluate import evaluate, format_table, metrics_path, snapshot_curve
    if args.snapshots:
        curve = snapshot_curve(args.run_dir, min(args.n_per_class, 1000), args.seed, args.data_dir,
                               args.evaluator_epochs, not args.no_progress)
        print("epoch  train_s  accuracy  per-class accuracy")
        for point in curve:
            print(f"{point['epoch']:5d}  {point['train_seconds']:7.1f}  {point['accuracy']:.3f}     "
                  + " ".join(f"{a:.2f}" for a in point["per_class"]))
        return
    report = evaluate(args.run_dir, args.metrics, args.n_per_class, args.seed, args.data_dir,
                      evaluator_epochs=args.evaluator_epochs, progress=not args.no_progress, weights=args.weights)
    print(format_table(report))
    print(f"\nwrote {metrics_path(args.run_dir, args.weights, load_checkpoint(args.run_dir))}")


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        _main(argv)
    except KeyboardInterrupt:  # Ctrl-C while starting up (building the parser imports torch)
        if "--debug" in argv:
            raise
        print("csacgan: interrupted", file=sys.stderr)
        sys.exit(130)


def _main(argv) -> None:
    parser = argparse.ArgumentParser(prog="csacgan", description="Generate rare-class images with "
                                     "CostSensitive-ACGAN and rebalance imbalanced image datasets.")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error, not only its line")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_generate(sub)
    _add_augment(sub)
    _add_reproduce(sub)
    _add_evaluate(sub)
    _add_downstream(sub)
    args = parser.parse_args(argv)
    from .data import DataError
    from .data.imbalance import ImbalanceError
    from .errors import CsacganError
    try:
        args.func(args)
    except KeyboardInterrupt:  # what was saved has been said (the trainer's one line); no traceback
        if args.debug:
            raise
        print(f"csacgan {args.command}: interrupted", file=sys.stderr)
        sys.exit(130)
    except (CsacganError, DataError, ImbalanceError, FileExistsError, FileNotFoundError, ValueError,
            FloatingPointError, MemoryError) as exc:
        if args.debug:
            raise
        why = f"not enough memory ({exc})" if isinstance(exc, MemoryError) else exc
        sys.exit(f"csacgan {args.command}: error: {why}")
    except OSError as exc:  # permission, not a folder, disk full: one line naming the path
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename and str(exc.filename) not in str(exc.strerror) else ""
        sys.exit(f"csacgan {args.command}: error: {where}{exc.strerror or exc}")


if __name__ == "__main__":
    main()
