"""What a run folder records, read in one place (:class:`RunFolder`: its config.json,
log.jsonl, metrics.json, checkpoint and snapshots), and the checks every command that
reads a run's data makes against it. (train.py writes the folder.)"""
from __future__ import annotations

import errno
import json
from pathlib import Path

from .errors import CsacganError
from .files import LOCK, FolderLock, read_json


class RunFolder:
    """A run folder written by ``csacgan train``, read without knowing its file layout."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    @property
    def finished(self) -> bool:
        """Whether the run reached its planned length (it drew its final sample grid)."""
        return (self.path / "samples" / "final.png").is_file()

    @property
    def record(self) -> dict:
        """config.json: options, environment, data md5s, imbalance summary."""
        return recorded(self.path)

    @property
    def config(self) -> dict:
        """The run's options (config.json's "config")."""
        return self.record["config"]

    def log(self, name: str = "log.jsonl") -> list[dict]:
        """The records of log.jsonl (one per epoch; epoch 0: a method's stage before training)
        or of stats.jsonl; [] when the run has none yet."""
        path = self.path / name
        if not path.is_file():
            return []
        try:
            return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise CsacganError(f"{path} is damaged ({exc}); restore it from a copy") from None

    def epoch_seconds(self) -> dict[int, float]:
        """Training seconds of each epoch, summed over its records (an epoch stopped and
        resumed has two); epoch 0 is a method's stage before training (BAGAN's autoencoder)."""
        seconds: dict[int, float] = {}
        for record in self.log():
            seconds[record["epoch"]] = seconds.get(record["epoch"], 0.0) + record.get("seconds", 0.0)
        return seconds

    def metrics(self, name: str = "metrics.json") -> dict:
        """What ``csacgan evaluate`` wrote ({} before it ran)."""
        path = self.path / name
        return read_json(path) if path.is_file() else {}

    def checkpoint(self, map_location="cpu") -> dict:
        from .checkpoint import load_checkpoint
        return load_checkpoint(self.path, map_location)

    def snapshots(self) -> list[Path]:
        """The generator saved after each epoch, oldest first."""
        from .checkpoint import snapshot_paths
        return snapshot_paths(self.path)


def images_digest(images, labels) -> str:
    """An md5 of a set of labelled images whatever their order: the sorted md5s of each
    image's bytes with its class index (uint8 (N, C, H, W) and (N,) integer arrays or tensors)."""
    import hashlib

    import numpy as np
    images, labels = np.ascontiguousarray(np.asarray(images)), np.asarray(labels).astype(np.int64)
    each = sorted(hashlib.md5(image.tobytes() + label.tobytes()).digest() for image, label in zip(images, labels))
    return hashlib.md5(b"".join(each)).hexdigest()


def check_images(run_dir: str | Path, images, labels) -> None:
    """Refuse images and labels other than those the run trained on (config.json's
    ``training_images_md5``; runs recorded before it are taken as they are)."""
    wanted = recorded(run_dir).get("data", {}).get("training_images_md5")
    if wanted is not None and images_digest(images, labels) != wanted:
        raise CsacganError(f"the {len(labels)} images given differ from the ones {run_dir} was trained on "
                           f"(md5 of the labelled images); sample the run with the images it saw")


def lock_run(run_dir: str | Path, command: str) -> FolderLock:
    """The run folder's lock (files.FolderLock on RUN/.lock), for a whole train, resume or
    evaluate; the folder is created if missing, refused if it is a file."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "--out must be a folder, and this is a file", str(run_dir))
    return FolderLock(run_dir / LOCK, command)


def recorded(run_dir: str | Path) -> dict:
    """The run's config.json: options, environment, data md5s, imbalance summary."""
    return read_json(Path(run_dir) / "config.json", "a run folder written by 'csacgan train' has one")


def check_data(run_dir: str | Path, files: dict, indices_md5: str | None = None, where: str | None = None) -> None:
    """Refuse data that differs from what the run trained on: the md5 of every file (or
    folder listing) the run recorded in config.json, and the kept indices' md5 when given.
    ``files``: the loaded dataset's own record (ImageSet.files); ``where``: the data
    location, for the message."""
    data = recorded(run_dir).get("data", {})
    changed = [k for k, v in data.get("files", {}).items()
               if isinstance(v, dict) and v.get("md5") != files.get(k, {}).get("md5")]
    if indices_md5 is not None and data.get("kept_indices_md5") not in (None, indices_md5):
        changed.append("kept indices")
    if changed:
        raise CsacganError(f"the data in {where or 'the default location'} differs from the data {run_dir} was "
                           f"trained on ({', '.join(changed)}: md5 changed); point --data-dir to the same files")


__all__ = ["LOCK", "RunFolder", "check_data", "check_images", "images_digest", "lock_run", "recorded"]
