"""One training loop for every method.

A run folder holds everything needed to resume, generate and evaluate:
``config.json`` (options, library versions, data md5s, seed, imbalance summary),
``log.jsonl`` (one record per epoch), ``stats.jsonl`` (loss means every
``log_every`` steps), ``checkpoint.pt`` (written atomically),
``samples/epoch_NNN.png`` (fixed noise, one row per class), ``snapshots/`` (the
generator after each epoch) and ``tensorboard/``.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.utils import save_image

from .checkpoint import CHECKPOINT, SNAPSHOTS, load_checkpoint, snapshot_path
from .files import LOCK, append_jsonl, atomic_save, atomic_write_text, write_json
from .run_folder import check_data, images_digest, lock_run, recorded
from .config import TrainConfig, resolve_auto
from .data.batches import GeneratedLabels, RealBatches
from .data.training_set import hold_out, prepare_data
from .distributed import SINGLE, World, sync_batch_norm
from . import distributed
from .methods import build_method
from .methods.regularizers import group_spectral_norm, mode_seeking_loss
from .nets import fused, network_arguments, set_channels_last
from .optim import Adam
from .runtime import (autocast_factory, environment, pick_device, pick_precision, rng_state,
                      seed_everything, set_rng_state)


# A loss beyond this is taken as divergence, not training: the paper's losses (BCE, CE)
# stay below about 100, hinge and WGAN-GP's below about 1e4 in every run we made.
DIVERGED_LOSS = 1e6

# What a run folder holds (a --out holding anything else is refused).
RUN_FILES = {"config.json", "log.jsonl", "stats.jsonl", CHECKPOINT, "samples", SNAPSHOTS,
             "tensorboard", "metrics.json", "curve.json", "convergence.json", "autoencoder.pt", LOCK}


class TrainingDiverged(FloatingPointError):
    """Losses or weights stopped being finite numbers of a sane size."""


@dataclass
class EpochContext:
    """What a method's hooks (before_training, end_of_epoch) may look at."""
    images: torch.Tensor   # uint8, the imbalanced training set, on the device
    labels: torch.Tensor
    seed: int
    device: torch.device
    autocast: object
    run_dir: Path | None = None
    progress: bool = False
    data_key: str = ""      # dataset name and kept-indices md5: what the data is
    batch_size: int = 64
    held_out_images: torch.Tensor | None = None   # real images held out of training (uint8)
    held_out_labels: torch.Tensor | None = None
    world: World = SINGLE   # the ranks of a torchrun run (csacgan/distributed.py)


class Trainer:
    def __init__(self, cfg: TrainConfig, run_dir: Path, data=None, world: World = SINGLE, device: str | None = None):
        self.cfg, self.run_dir, self.world = cfg, run_dir, world
        self.device = pick_device(device or cfg.device)
        self.precision = pick_precision(cfg.precision, self.device)
        self.autocast = autocast_factory(self.device, self.precision)
        seed_everything(cfg.seed)
        self.data, indices, self.summary = prepare_data(cfg, data)
        self.cfg, line = resolve_auto(cfg, self.data.image_shape)  # recorded resolved
        cfg = self.cfg
        if line and world.main:
            print(f"csacgan: {line}", file=sys.stderr)
        K = self.data.num_classes
        self.method = build_method(cfg.method, K, cfg.method_options, adversarial_loss=cfg.adversarial_loss,
                                   fake_class_loss_in_d=cfg.fake_class_loss_in_d, diffaugment=cfg.diffaugment,
                                   lecam=cfg.lecam, ada_target=cfg.ada_target, class_loss=cfg.class_loss)
        # the labelled images the run learns from (held-out ones too): what its samplers check
        self.images_md5 = images_digest(self.data.train_images[indices].numpy(), self.data.train_labels[indices].numpy())
        held, fraction = indices[:0], self.method.held_out_fraction()
        if fraction:  # real images the method measures but never trains on
            indices, held = hold_out(indices, self.data.train_labels, fraction, cfg.seed)
        self.held_out = held
        self.indices_md5 = hashlib.md5(indices.numpy().tobytes()).hexdigest()
        if cfg.batch_size > len(indices) and world.main:  # a few dozen images still make a run
            print(f"csacgan: the training set holds {len(indices)} images, fewer than --batch-size "
                  f"{cfg.batch_size}; training with batches of {len(indices)}", file=sys.stderr)
        cfg.batch_size = min(cfg.batch_size, len(indices))
        if cfg.batch_size < 2:
            raise ValueError(f"the training set holds {len(indices)} image(s): a GAN needs at least 2 a batch")
        if cfg.batch_size % world.size:
            raise ValueError(f"--batch-size {cfg.batch_size} is not a multiple of the {world.size} processes: "
                             f"every rank takes an equal share of each batch")
        self.batches = RealBatches(self.data.train_images[indices], self.data.train_labels[indices], K,
                                   cfg.batch_size, cfg.sampling, cfg.seed, self.device)
        self.fake_labels = GeneratedLabels(self.batches.labels, K, cfg.fake_labels)
        g_args, d_args = network_arguments(
            K, self.data.image_shape, cfg.g_channels, cfg.d_channels, cfg.d_strides, cfg.latent_dim,
            cfg.g_batch_norm, cfg.d_spectral_norm, cfg.d_dropout, cfg.d_minibatch_std, cfg.architecture)
        if cfg.d_projection:
            d_args["projection"] = True
        self.G, self.D = self.method.build_networks(g_args, d_args)
        if cfg.gsr and not hasattr(self.G, "class_parameters"):
            raise ValueError("--gsr regularises a generator's class-conditional BatchNorm: use it with "
                             "--architecture resnet and --method acgan or cs-acgan")
        self.G.to(self.device)
        self.D.to(self.device)
        if cfg.channels_last:
            set_channels_last(self.G)
            set_channels_last(self.D)
        self.method.world = world
        if world.size > 1:  # same weights everywhere, global-batch BatchNorm
            self.G = sync_batch_norm(self.G, self.device)
            world.broadcast(self.G)
            world.broadcast(self.D)
        self.own_stream = world.rank == 0  # whether torch's RNG is already this rank's own (see run)
        betas = (cfg.beta1, cfg.beta2)
        self.opt_g = Adam(self.G.parameters(), cfg.lr_g or cfg.lr, betas=betas)
        self.opt_d = Adam(self.D.parameters(), cfg.lr_d or cfg.lr, betas=betas)
        self.G_ema = None  # made at the first step, after a method's before_training (BAGAN's latent)
        self.context = EpochContext(self.batches.images, self.batches.labels, cfg.seed, self.device,
                                    self.autocast, run_dir, cfg.progress,
                                    f"{cfg.dataset}:{self.indices_md5}", cfg.batch_size,
                                    self.data.train_images[held].to(self.device), self.data.train_labels[held],
                                    world)
        self.noise = torch.Generator().manual_seed(cfg.seed + 1)
        grid = torch.Generator().manual_seed(cfg.seed + 2)
        self.grid_z = torch.randn(K * cfg.grid_columns, cfg.latent_dim, generator=grid).to(self.device)
        self.grid_labels = torch.arange(K).repeat_interleave(cfg.grid_columns).to(self.device)
        self.epoch, self.step_in_epoch, self.global_step = 0, 0, 0
        self.sums, self.count = {}, 0
        self.window = {}            # loss sums since the last stats.jsonl line
        self.epoch_seconds = 0.0    # training seconds spent in the current epoch until the checkpoint
        self.saved_step = None      # global step of the last checkpoint written

    def rank_seed(self, step: int) -> int:
        """The seed of rank r's own random stream (dropout masks and other per-rank draws)."""
        return self.cfg.seed * 1_000_003 + 7919 * self.world.rank + step

    # -- persistence ---------------------------------------------------------------
    def checkpoint(self) -> dict:
        return {
            "generator": self.G.state_dict(), "generator_config": self.G.config,
            "discriminator": self.D.state_dict(), "discriminator_config": self.D.config,
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "method": self.method.state_dict(), "method_name": self.cfg.method,
            "epoch": self.epoch, "step_in_epoch": self.step_in_epoch, "global_step": self.global_step,
            **({"generator_ema": self.G_ema.module.state_dict()} if self.G_ema is not None else {}),
            "sums": self.sums, "count": self.count, "window": self.window,
            "epoch_seconds": self.epoch_seconds, "rng": rng_state(), "world_size": self.world.size,
            "noise_rng": self.noise.get_state(), "config": self.cfg.to_dict(),
            "class_names": list(self.data.class_names), "image_shape": list(self.data.image_shape),
            "imbalance": self.summary.to_dict(),
        }

    def save(self) -> None:
        """Write checkpoint.pt, unless the weights or the optimizers' state are no longer
        finite: a diverged state never replaces the last good checkpoint."""
        tensors = [*self.G.parameters(), *self.D.parameters()]
        for opt in (self.opt_g, self.opt_d):
            tensors += [v for state in opt.state.values() for v in state.values()
                        if torch.is_tensor(v) and v.is_floating_point()]
        if not all(bool(torch.isfinite(t).all()) for t in tensors):
            raise self.diverged("the weights or Adam's state are no longer finite")
        rngs = self.world.gather(rng_state())  # every rank's own stream, for an exact resume
        if self.world.main:
            atomic_save({**self.checkpoint(), **({"rng_ranks": rngs} if self.world.size > 1 else {})},
                        self.run_dir / CHECKPOINT)
        self.saved_step = self.global_step

    def diverged(self, what: str, step: int | None = None) -> "TrainingDiverged":
        last = (f"the last good checkpoint, {self.run_dir / CHECKPOINT} (step {self.saved_step}), is kept"
                if self.saved_step is not None else "no checkpoint was written before it")
        return TrainingDiverged(f"training diverged at step {step or self.global_step}: {what}; {last}. "
                                f"Start a new run with a lower --lr (now {self.cfg.lr:g}).")

    def save_snapshot(self) -> None:
        """The generator alone after each epoch (4 MB), to score quality against time."""
        if not self.world.main:
            return
        path = snapshot_path(self.run_dir, self.epoch)
        path.parent.mkdir(exist_ok=True)
        atomic_save({"generator": self.sampling_generator().state_dict(), "generator_config": self.G.config,
                     "ema": self.G_ema is not None, "epoch": self.epoch, "global_step": self.global_step}, path)

    def restore(self, ckpt: dict) -> None:
        self.G.load_state_dict(ckpt["generator"])
        if "generator_ema" in ckpt:
            self.update_ema()
            self.G_ema.module.load_state_dict(ckpt["generator_ema"])
        self.D.load_state_dict(ckpt["discriminator"])
        self.opt_g.load_state_dict(ckpt["opt_g"])
        self.opt_d.load_state_dict(ckpt["opt_d"])
        self.method.load_state_dict(ckpt["method"])
        self.epoch, self.step_in_epoch = ckpt["epoch"], ckpt["step_in_epoch"]
        self.global_step, self.sums, self.count = ckpt["global_step"], ckpt["sums"], ckpt["count"]
        self.window, self.epoch_seconds = ckpt.get("window", {}), ckpt.get("epoch_seconds", 0.0)
        self.saved_step = self.global_step
        rngs = ckpt.get("rng_ranks", [ckpt["rng"]])
        if len(rngs) == self.world.size:
            set_rng_state(rngs[self.world.rank])
        else:  # another world size: rank 0 continues rank 0's stream, the others start their own
            set_rng_state(ckpt["rng"])
            if self.world.rank:
                torch.manual_seed(self.rank_seed(self.global_step))
        self.own_stream = True
        self.noise.set_state(ckpt["noise_rng"])

    def fused_activation(self) -> dict:
        """Whether D's LeakyReLU and dropout run fused (nets/fused.py): its masks come from
        another random generator, so a run resumed without the kernel continues validly but
        not bit for bit."""
        wanted = self.device.type == "cpu" and self.precision == "bf16"
        return {"used": wanted and fused.kernel() is not None, "unavailable": fused.unavailable_reason()}

    def write_config(self) -> None:
        if not self.world.main:
            return
        write_json({"config": self.cfg.to_dict(), "environment": environment(),
                    "device": str(self.device), "precision": self.precision,
                    "fused_activation": self.fused_activation(),
                    "distributed": {"world_size": self.world.size,
                                    "backend": torch.distributed.get_backend() if self.world.size > 1 else None},
                    "data": {"dataset": self.cfg.dataset, "files": self.data.files,
                             "kept_indices_md5": self.indices_md5, "training_images_md5": self.images_md5,
                             "held_out_counts": torch.bincount(self.data.train_labels[self.held_out],
                                                               minlength=self.data.num_classes).tolist()},
                    "imbalance": self.summary.to_dict()}, self.run_dir / "config.json")

    # -- one optimizer step of D and of G ----------------------------------------------
    def train_step(self) -> dict:
        cfg, world = self.cfg, self.world
        real, labels = self.batches.batch(self.epoch, self.step_in_epoch, world)
        # the global batch's noise and labels on every rank; each rank generates its share
        z = world.share(torch.randn(cfg.batch_size, cfg.latent_dim, generator=self.noise)).to(self.device)
        if cfg.mode_seeking:  # pairs (0, 1), (2, 3), ... of one class for the mode-seeking term
            fake_labels = self.fake_labels.draw((cfg.batch_size + 1) // 2, self.noise).repeat_interleave(2)
        else:
            fake_labels = self.fake_labels.draw(cfg.batch_size, self.noise)
        fake_labels = world.share(fake_labels[:cfg.batch_size]).to(self.device)
        with self.autocast():
            fake = self.G(z, fake_labels)
            d_loss, d_stats = self.method.discriminator_loss(self.D, real, labels, fake.detach(), fake_labels)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        world.average_gradients(self.D)
        self.opt_d.step()
        # D's weight gradients from G's loss would be thrown away (opt_d zeroes them
        # before its next step): not computing them saves a third of D's backward pass.
        self.D.requires_grad_(False)
        try:
            with self.autocast():
                g_loss, g_stats = self.method.generator_loss(self.D, fake, fake_labels)
            if cfg.gsr:
                gsr = group_spectral_norm(self.G)
                g_loss = g_loss + cfg.gsr * gsr
                g_stats["g_gsr"] = gsr.item()
            if cfg.mode_seeking:
                ms = mode_seeking_loss(fake, z)
                g_loss = g_loss + cfg.mode_seeking * ms
                g_stats["g_mode_seeking"] = ms.item()
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
        finally:
            self.D.requires_grad_(True)
        world.average_gradients(self.G)
        self.opt_g.step()
        if self.cfg.g_ema:
            self.update_ema()
        stats = {"d_loss": d_loss.item(), "g_loss": g_loss.item(), **d_stats, **g_stats}
        if world.size > 1:  # the global batch's means, the same on every rank
            stats = dict(zip(stats, world.mean(torch.tensor(list(stats.values()), dtype=torch.float64)).tolist()))
        bad = {k: v for k, v in stats.items() if not (math.isfinite(v) and abs(v) < DIVERGED_LOSS)}
        if bad:
            raise self.diverged(", ".join(f"{k} = {v:.3g}" for k, v in bad.items()), self.global_step + 1)
        return stats

    @torch.no_grad()
    def update_ema(self) -> None:
        """One step of the EMA of G's weights (torch's AveragedModel; the first call copies
        G; BatchNorm's running statistics are copied, as StyleGAN2-ADA and EDM do).

        The decay warms up as diffusers' EMAModel's does, min(decay, (1 + t) / (10 + t))
        after t steps: a fixed 0.999 would keep 0.999^t of the random initial weights, a
        third of them after 1100 steps (8 epochs of a 12,500-image folder), whose samples
        are black. t is the run's global step, so a resumed run averages exactly as an
        uninterrupted one."""
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
        if self.G_ema is None:
            self.G_ema = AveragedModel(self.G)
        t = self.global_step
        self.G_ema.multi_avg_fn = get_ema_multi_avg_fn(min(self.cfg.g_ema, (1 + t) / (10 + t)))
        self.G_ema.update_parameters(self.G)

    def sampling_generator(self):
        """The generator images are drawn from: the EMA of G's weights when there is one."""
        return self.G_ema.module if self.G_ema is not None else self.G

    @torch.no_grad()
    def save_grid(self, name: str) -> Path | None:
        if not self.world.main:
            return None
        G = self.sampling_generator()
        was_training = G.training
        G.eval()
        with self.autocast():
            images = G(self.grid_z, self.grid_labels).float()
        G.train(was_training)
        path = self.run_dir / "samples" / name
        path.parent.mkdir(exist_ok=True)
        save_image(images.add(1).div(2), path, nrow=self.cfg.grid_columns, padding=2, pad_value=1.0)
        return path

    def log(self, record: dict) -> None:
        if not self.world.main:
            return
        append_jsonl(record, self.run_dir / "log.jsonl")
        for key, value in record.items():
            if isinstance(value, (int, float)) and key not in ("epoch", "step"):
                self.writer.add_scalar(key, value, self.global_step)
            elif isinstance(value, list) and key in ("class_costs", "class_errors"):
                self.writer.add_scalars(key, {str(i): v for i, v in enumerate(value)}, self.global_step)

    def log_stats(self, means: dict) -> None:
        if not self.world.main:
            return
        append_jsonl({"epoch": self.epoch, "step": self.global_step,
                      **{k: round(v, 5) for k, v in means.items()}}, self.run_dir / "stats.jsonl")

    # -- the loop ------------------------------------------------------------------
    def run(self) -> Path:
        from torch.utils.tensorboard import SummaryWriter
        from tqdm.auto import tqdm
        cfg = self.cfg
        steps = self.batches.steps_per_epoch
        self.writer = SummaryWriter(str(self.run_dir / "tensorboard")) if self.world.main else None
        context, window = self.context, self.window
        if not self.own_stream:  # rank r > 0: its own dropout masks from the first step on (rank 0
            torch.manual_seed(self.rank_seed(0))  # keeps one process's stream); set up identically before
            self.own_stream = True
        started = time.perf_counter() - self.epoch_seconds
        try:
            while self.epoch < cfg.epochs:
                if cfg.max_steps is not None and self.global_step >= cfg.max_steps:
                    break
                bar = tqdm(total=steps, initial=self.step_in_epoch, disable=not (cfg.progress and self.world.main),
                           desc=f"epoch {self.epoch + 1}/{cfg.epochs}", unit="step", dynamic_ncols=True)
                started = time.perf_counter() - self.epoch_seconds
                while self.step_in_epoch < steps:
                    stats = self.train_step()
                    for key, value in stats.items():
                        self.sums[key] = self.sums.get(key, 0.0) + value
                        window[key] = window.get(key, 0.0) + value
                    self.count += 1
                    self.step_in_epoch += 1
                    self.global_step += 1
                    bar.update(1)
                    if self.global_step % cfg.log_every == 0:  # loss curves: stats.jsonl
                        self.log_stats({k: v / cfg.log_every for k, v in window.items()})
                        window.clear()
                    if self.global_step % 10 == 0:
                        bar.set_postfix(d=f"{stats['d_loss']:.3f}", g=f"{stats['g_loss']:.3f}",
                                        cls_real=f"{stats['d_class_acc_real']:.2f}")
                    if cfg.max_steps is not None and self.global_step >= cfg.max_steps:
                        break
                    if self.global_step % cfg.checkpoint_every == 0:
                        self.epoch_seconds = time.perf_counter() - started
                        self.save()
                bar.close()
                elapsed = self.epoch_seconds = time.perf_counter() - started
                record = {"epoch": self.epoch + 1, "step": self.global_step, "seconds": round(elapsed, 2),
                          "images_per_s": round(self.step_in_epoch * cfg.batch_size / max(elapsed, 1e-9), 1),
                          **{k: v / max(self.count, 1) for k, v in self.sums.items()}}
                if self.step_in_epoch < steps:  # stopped by --max-steps inside an epoch
                    self.log({**record, "partial_epoch": True})
                    self.save()
                    break
                record.update(self.method.end_of_epoch(self.D, self.G, context, self.epoch))
                self.epoch, self.step_in_epoch, self.sums, self.count = self.epoch + 1, 0, {}, 0
                self.epoch_seconds, started = 0.0, time.perf_counter()
                self.save_grid(f"epoch_{self.epoch:03d}.png")
                self.save_snapshot()
                self.log(record)
                self.save()
        except KeyboardInterrupt:
            self.epoch_seconds = time.perf_counter() - started
            self.save()
            if self.world.main:
                print(f"\nInterrupted: saved step {self.global_step} to {self.run_dir / CHECKPOINT}; "
                      f"continue with: csacgan train --resume {self.run_dir}")
            raise
        finally:
            if self.writer is not None:
                self.writer.close()
        self.save_grid("final.png")
        return self.run_dir


def train(cfg: TrainConfig, data=None) -> Path:
    """Start a new run in ``cfg.out`` (on ``data``, an ImageSet, when given instead of
    ``cfg.dataset``: the fit_resample samplers use this). Under torchrun every rank calls
    this; rank 0 writes the run folder."""
    cfg = cfg.resolved()
    if cfg.data_dir is not None:  # recorded absolute: the run resumes from any folder
        cfg.data_dir = str(Path(cfg.data_dir).expanduser().resolve())
    pick_device(cfg.device)  # a device this machine lacks: its one line before the folder is made
    world, device = distributed.init(cfg.device)
    run_dir = Path(cfg.out)
    try:
        with contextlib.ExitStack() as stack:  # the folder's lock, on rank 0, for the whole run
            # checked before the lock (no lock file is left in a folder of the user's) and again under it
            world.on_main(lambda: (check_run_dir(run_dir), stack.enter_context(lock_run(run_dir, "train")),
                                   prepare_run_dir(run_dir)))
            return _train(cfg, run_dir, data, world, device)
    finally:
        distributed.close(world)


def _train(cfg: TrainConfig, run_dir: Path, data, world, device) -> Path:
    trainer = Trainer(cfg, run_dir, data, world, device)
    trainer.write_config()
    started = time.perf_counter()
    record = trainer.method.before_training(trainer.G, trainer.D, trainer.context)
    if record:
        if world.main:
            append_jsonl({"stage": "before_training", "epoch": 0, "step": 0,
                          "seconds": round(time.perf_counter() - started, 2), **record}, run_dir / "log.jsonl")
        trainer.save()
    return trainer.run()


def prepare_run_dir(run_dir: Path) -> Path:
    """Create ``run_dir`` for a new run: refused when it is a file, already holds a run, or
    holds files of the user's; temporary files a killed run left are removed."""
    check_run_dir(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    remove_temporary(run_dir)
    return run_dir


def check_run_dir(run_dir: Path) -> None:
    """Refuse a ``run_dir`` for a new run that is a file, already holds a run, or holds files
    of the user's."""
    if run_dir.exists() and not run_dir.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "--out must be a folder, and this is a file", str(run_dir))
    if (run_dir / CHECKPOINT).exists():
        raise FileExistsError(f"{run_dir} already holds a run; continue it with --resume {run_dir}, "
                              f"or choose another --out")
    if run_dir.is_dir():
        foreign = sorted(p.name for p in run_dir.iterdir() if p.name not in RUN_FILES and p.suffix != ".tmp")
        if foreign:
            raise FileExistsError(f"--out {run_dir} is not empty and holds no run ({', '.join(foreign[:3])}"
                                  f"{', ...' if len(foreign) > 3 else ''}); choose a new or an empty folder")


def remove_temporary(run_dir: Path) -> None:
    for folder in (run_dir, run_dir / SNAPSHOTS):
        for path in folder.glob("*.tmp"):
            path.unlink(missing_ok=True)


def _cut_logs(run_dir: Path, step: int) -> None:
    """Drop the log lines written after the checkpoint at ``step`` (the resumed run writes
    them again) and records of partial epochs (their time is carried in the checkpoint),
    so that a resumed run's logs equal an uninterrupted run's."""
    for name in ("log.jsonl", "stats.jsonl"):
        path = run_dir / name
        if path.is_file():
            records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            kept = [r for r in records if r["step"] <= step and not r.get("partial_epoch")]
            atomic_write_text("".join(json.dumps(r) + "\n" for r in kept), path)


def resume(run_dir: str | Path, epochs: int | None = None, max_steps: int | None = None,
           progress: bool | None = None, data_dir: str | None = None) -> Path:
    """Continue a run exactly where its last checkpoint left it (RNG states included).

    ``epochs`` and ``max_steps`` may extend it (never shorten it: refused); ``data_dir``
    replaces the recorded data folder (the data must be the same: checked against the
    recorded md5s). A resume with nothing left to train says so and changes nothing."""
    run_dir = Path(run_dir)
    if not (run_dir / CHECKPOINT).is_file():
        load_checkpoint(run_dir)  # its one line ("no checkpoint.pt in ..."), and no folder made
    config = run_dir / "config.json"
    world, device = distributed.init(recorded(run_dir)["config"].get("device", "auto") if config.is_file() else "auto")
    try:
        with contextlib.ExitStack() as stack:  # the folder's lock, on rank 0, for the whole resume
            world.on_main(lambda: stack.enter_context(lock_run(run_dir, "train --resume")))
            return _resume(run_dir, epochs, max_steps, progress, data_dir, world, device)
    finally:
        distributed.close(world)


def _say(world, text: str) -> None:
    if world.main:
        print(f"csacgan: {text}", file=sys.stderr)


def _resume(run_dir, epochs, max_steps, progress, data_dir, world, device) -> Path:
    ckpt = load_checkpoint(run_dir)
    values = dict(ckpt["config"])
    values.setdefault("fake_labels", "uniform")  # runs from before the option drew uniformly
    values["out"] = str(run_dir)  # a run folder copied or moved elsewhere records where it now lives
    step = ckpt["global_step"]
    if epochs is not None:
        if epochs < ckpt["epoch"]:
            raise ValueError(f"--epochs {epochs} is fewer than the {ckpt['epoch']} epochs {run_dir} has "
                             f"trained; give at least {ckpt['epoch']}")
        values["epochs"] = epochs
        if max_steps is None and values.get("max_steps") is not None and values["max_steps"] <= step:
            _say(world, f"--epochs {epochs} lifts the run's --max-steps {values['max_steps']}, which it has reached")
            values["max_steps"] = None
    if max_steps is not None:
        if max_steps < step:
            raise ValueError(f"--max-steps {max_steps} is fewer than the {step} steps {run_dir} has trained; "
                             f"give at least {step}")
        values["max_steps"] = max_steps
    if data_dir is not None:
        values["data_dir"] = str(Path(data_dir).expanduser().resolve())
    if progress is not None:
        values["progress"] = progress
    finished_epochs = ckpt["epoch"] >= values["epochs"]
    if finished_epochs or (values.get("max_steps") is not None and step >= values["max_steps"]):
        limit = (f"its {values['epochs']} epochs" if finished_epochs else f"its --max-steps {values['max_steps']}")
        _say(world, f"{run_dir} has already trained {limit} (step {step}); nothing to do "
                    f"(give --epochs N or --max-steps N beyond it to train more)")
        return run_dir
    cfg = TrainConfig.from_dict(values).resolved()
    trainer = Trainer(cfg, run_dir, None, world, device)
    check_data(run_dir, trainer.data.files, trainer.indices_md5, cfg.data_dir)
    world.on_main(lambda: (remove_temporary(run_dir), _cut_logs(run_dir, step)))
    trainer.restore(ckpt)
    trainer.write_config()
    return trainer.run()
