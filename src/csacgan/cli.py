"""The ``csacgan`` command: parses options, builds a config, calls one function."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import fields
from pathlib import Path

from .config import IMBALANCE_KINDS, RECIPES, TrainConfig
from .options import FIELD_DEFAULT, check, declared, default_of, flag_of


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


def _checked(name: str, opt):
    """The argparse type of option ``name``: parsed, then checked against its declaration
    (csacgan.options), so the CLI and the library accept the same values."""
    parse = {"bool": _bool, "classes": _classes, "imbalance": _imbalance}.get(opt.parse)

    def convert(text: str):
        if parse is not None:
            return parse(text)
        if opt.length is not None:
            value = _ints(text)
        elif opt.kind in (int, float):
            value = _number(opt.kind, text)
        else:
            return text
        try:
            return check(name, value, opt)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc).split(" ", 1)[1])
    convert.__name__ = name
    return convert


def _choices(opt):
    """An option's choices, with "module:NAME" entries read as the keys of NAME."""
    if not opt.choices:
        return None
    out = []
    for c in opt.choices:
        if isinstance(c, str) and ":" in c:
            module, name = c.split(":")
            out += list(getattr(importlib.import_module(module), name))
        else:
            out.append(c)
    return out


def add_options(parser, cls, groups: dict, method_option: bool = False) -> None:
    """One argument per declared field of dataclass ``cls`` that has flags, in the group of
    its section. A method's options default to None on the command line (given only when
    set) and their help states the method's default."""
    exclusive = {}
    for name, (f, opt) in declared(cls).items():
        if opt.flags is None:
            continue
        if opt.section not in groups:
            groups[opt.section] = parser.add_argument_group(opt.section)
        group = groups[opt.section]
        if opt.exclusive:
            if opt.exclusive not in exclusive:
                exclusive[opt.exclusive] = group.add_mutually_exclusive_group()
            group = exclusive[opt.exclusive]
        default = default_of(f)
        help = opt.help.replace("{default}", str(default))
        if method_option:
            help += f" (default {default})"
        flags = opt.flags or (flag_of(name),)
        if opt.parse == "off":
            group.add_argument(*flags, dest=name, action="store_false", help=help)
            continue
        cli_default = None if method_option else default if opt.cli_default == FIELD_DEFAULT else opt.cli_default
        group.add_argument(*flags, dest=name, type=_checked(name, opt), choices=_choices(opt), default=cli_default,
                           metavar=opt.metavar, help=help)


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


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's formatter that appends each option's default, except where there is none
    to show (None) or the help text already says what it is."""

    def _get_help_string(self, action):
        if action.default is None or action.nargs == 0 or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _add_train(sub) -> None:
    from .methods import METHODS
    p = sub.add_parser("train", help="train a GAN on an imbalanced dataset",
                       formatter_class=_DefaultsFormatter,
                       description="Train CostSensitive-ACGAN (or ACGAN) on a dataset made imbalanced "
                                   "on purpose. Writes a run folder with config.json, log.jsonl, "
                                   "checkpoint.pt and a sample grid per epoch (one row per class).")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run exactly where it stopped; "
                   "--epochs / --max-steps may extend it, other options are taken from the run")
    groups = {"run": p}
    add_options(p, TrainConfig, groups)
    for method in METHODS.values():
        add_options(p, method.Options, groups, method_option=True)
    p.set_defaults(func=_cmd_train, parser=p)


# What --resume takes beside it; every other option is the run's own.
RESUME_OPTIONS = ("resume", "epochs", "max_steps", "data_dir", "progress", "func", "parser", "command", "debug")


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
                     progress=None if args.progress else False, data_dir=args.data_dir)
    else:
        if not args.out:
            sys.exit("csacgan train: --out RUN_DIR is required (or --resume RUN_DIR)")
        given = vars(args)
        values = {f.name: given[f.name] for f in fields(TrainConfig) if given.get(f.name) is not None}
        from .methods import METHODS
        values["method_options"] = {k: given[k] for m in METHODS.values() for k in declared(m.Options)
                                    if given.get(k) is not None}
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
