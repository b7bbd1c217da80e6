"""Where the built-in datasets (MNIST, Fashion-MNIST, CIFAR-10) are looked for, in order:

1. ``--data-dir`` (an explicit folder: if the files are not there, that is an error);
2. ``$CSACGAN_DATA_DIR``;
3. the user cache folder (``$XDG_CACHE_HOME/csacgan`` or ``~/.cache/csacgan``);
4. Debian's ``/usr/share/datasets`` (package ``dataset-fashion-mnist``);
5. otherwise downloaded into the cache, checksum-verified by torchvision.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, TypeVar

from ..runtime import user_cache_dir
from .imageset import DataError

Found = TypeVar("Found")


def search_folders() -> list[Path]:
    """Steps 2-4 of the order above."""
    folders = [Path(os.environ["CSACGAN_DATA_DIR"])] if os.environ.get("CSACGAN_DATA_DIR") else []
    return folders + [user_cache_dir(), Path("/usr/share/datasets")]


def find_dataset(name: str, data_dir, find: Callable[[Path], Found | None], missing_here: str,
                 download: Callable[[Path], None] | None, by_hand: str) -> Found:
    """The search order above for one dataset.

    ``find(folder)`` returns what was found in a folder, or None (and may raise DataError
    for files that are another dataset's: a search folder that does is skipped);
    ``download(root)`` fetches the dataset into ``root``; ``missing_here`` says what
    ``--data-dir`` lacks; ``by_hand`` says how to get the files without a network."""
    if data_dir is not None:
        found = find(Path(data_dir))
        if found is None:
            raise DataError(f"--data-dir {data_dir} does not hold {missing_here}")
        return found
    candidates = search_folders()
    for folder in candidates:
        try:
            found = find(folder)
        except DataError:
            continue  # e.g. $CSACGAN_DATA_DIR holds MNIST and Fashion-MNIST is wanted
        if found is not None:
            return found
    if download is None:
        raise DataError(f"{name} not found in {', '.join(map(str, candidates))}, and download is off.")
    root = user_cache_dir()
    try:
        download(root)
    except Exception as exc:  # network errors come in many types
        raise DataError(f"Could not download {name} into {root} ({exc}). {by_hand}") from exc
    found = find(root)
    if found is None:
        raise DataError(f"Downloaded {name} into {root}, but its files are not where expected.")
    return found
