"""What a run folder records, read in one place: its config.json, and the checks every
command that reads a run's data makes against it. (train.py writes the folder.)"""
from __future__ import annotations

import errno
from pathlib import Path

from .errors import CsacganError
from .files import LOCK, FolderLock, read_json


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


__all__ = ["LOCK", "check_data", "lock_run", "recorded"]
