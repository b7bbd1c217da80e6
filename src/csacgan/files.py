"""Files: atomic writes, logs, and the lock every command takes on the folder it writes.

Below checkpoint.py (which rebuilds networks from files) and everything that saves state,
so that nothing low in the package imports the networks to write a file."""
from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sys
import time
from pathlib import Path

import torch

from .errors import CsacganError, FolderInUse

LOCK = ".lock"


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary name beside ``path``; renamed to ``path`` when the block ends, removed
    if it fails. A write that fails (a full disk, no permission) becomes one OSError naming
    ``path``: torch.save reports a full disk as a RuntimeError from its zip writer."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}", str(path)) from exc
        full = shutil.disk_usage(path.parent).free < 64 * 2**20
        why = "no space left on the device" if full else str(exc).splitlines()[0]
        raise OSError(errno.ENOSPC if full else errno.EIO, f"cannot write {path}: {why}", str(path)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_save(obj, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def atomic_write_text(text: str, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(obj, path: str | Path) -> None:
    atomic_write_text(json.dumps(obj, indent=2, default=str) + "\n", path)


def append_jsonl(record: dict, path: str | Path) -> None:
    """One JSON line appended to a log (log.jsonl, stats.jsonl)."""
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def read_json(path: str | Path, what: str = "") -> dict:
    """A JSON file, or one line naming the file when it is missing, truncated or not JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CsacganError(f"{path}: no such file{f' ({what})' if what else ''}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CsacganError(f"{path} is damaged or not JSON ({exc}); restore it from a copy") from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class FolderLock:
    """An exclusive lock for one command on a folder it writes: ``path`` is the lock file
    (FOLDER/.lock for run and study folders, .NAME.lock beside an output that appears
    whole, such as augment's).

    fcntl.flock on an open file, so the kernel releases it when the process ends however it
    ends (kill -9 included); the file keeps the holder's PID and command, for the refusal's
    one line, and is emptied on release. A lock file that names a process no longer
    running is stale: it is taken over, and said so."""

    def __init__(self, path: str | Path, command: str):
        self.path, self.command, self.file = Path(path), command, None

    def __enter__(self) -> "FolderLock":
        import fcntl
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            for _ in range(20):  # the holder writes its PID just after it locks: give it a moment
                self.file.seek(0)
                holder = self.file.read().split(maxsplit=1)
                if holder:
                    break
                time.sleep(0.05)
            self.file.close()
            self.file = None
            who = f"process {holder[0]} ({holder[1].strip()})" if len(holder) == 2 else "another process"
            raise FolderInUse(f"{self.path.parent} is in use by {who}; wait for it to end, or stop it") from None
        self.file.seek(0)
        previous = self.file.read().split(maxsplit=1)
        if previous and previous[0].isdigit() and int(previous[0]) != os.getpid() and not _alive(int(previous[0])):
            print(f"csacgan: {self.path} was left by process {previous[0]}, no longer running; taking it over",
                  file=sys.stderr)
        self.file.seek(0)
        self.file.truncate()
        self.file.write(f"{os.getpid()} csacgan {self.command}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        self.file.flush()
        return self

    def __exit__(self, *exc) -> None:
        import fcntl
        if self.file is not None:
            self.file.truncate(0)
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None
