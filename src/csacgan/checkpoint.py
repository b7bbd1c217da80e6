"""Checkpoints that rebuild themselves: network constructor arguments are saved next
to the weights (as diffusers does), and files are written atomically, so a run
killed while saving keeps its previous checkpoint."""
from __future__ import annotations

from pathlib import Path

import torch

from .errors import CsacganError
from .nets import discriminator_from_config, generator_from_config, set_channels_last

CHECKPOINT = "checkpoint.pt"
SNAPSHOTS = "snapshots"  # the generator alone after each epoch: SNAPSHOTS/generator_epoch_NNN.pt


def snapshot_path(run_dir: str | Path, epoch: int) -> Path:
    """Where a run keeps its generator's snapshot after ``epoch``."""
    return Path(run_dir) / SNAPSHOTS / f"generator_epoch_{epoch:03d}.pt"


def snapshot_paths(run_dir: str | Path) -> list[Path]:
    """A run's generator snapshots, oldest first."""
    return sorted((Path(run_dir) / SNAPSHOTS).glob("generator_epoch_*.pt"))


def load_checkpoint(run_dir: str | Path, map_location="cpu") -> dict:
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"no {CHECKPOINT} in {run_dir}: is it a run folder written by "
                                f"'csacgan train'? A run killed before its first checkpoint has none.")
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CsacganError(f"{path} could not be read ({first}); it may be damaged. Resume from a "
                           f"copy or start the run again.") from exc


WEIGHTS = ("sampling", "raw")


def build_generator(saved: dict, device="cpu", weights: str = "sampling"):
    """A generator rebuilt from a checkpoint or snapshot dict, in eval mode. ``weights``:
    "sampling", the EMA of its weights when the run kept one (--g-ema), as every sampler
    should use; "raw", the trained weights themselves (what the run would have drawn
    without the EMA: --g-ema changes nothing in training)."""
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")
    generator = generator_from_config(saved["generator_config"])
    generator.load_state_dict(saved["generator"] if weights == "raw" else saved.get("generator_ema", saved["generator"]))
    return set_channels_last(generator.to(device)).eval()


def load_generator(run_dir: str | Path, device="cpu", weights: str = "sampling"):
    """The trained generator of a run, in eval mode, with the checkpoint's metadata."""
    ckpt = load_checkpoint(run_dir)
    return build_generator(ckpt, device, weights), ckpt


def load_discriminator(run_dir: str | Path, device="cpu"):
    ckpt = load_checkpoint(run_dir)
    discriminator = discriminator_from_config(ckpt["discriminator_config"])
    discriminator.load_state_dict(ckpt["discriminator"])
    return discriminator.to(device).eval()
