"""Reading the IDX files that MNIST and Fashion-MNIST ship in (LeCun et al. 1998).

torchvision's ``read_sn3_pascalvincent_tensor`` reads only uncompressed files and
checks the header with bare ``assert``s, so a truncated or wrong file gives an
AssertionError with no file name. This module parses the same format itself so
that every failure names the file and says what to do.
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import torch

from .imageset import DataError

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path, expected_ndim: int | None = None) -> torch.Tensor:
    """Read one IDX file (``.gz`` or raw) into a tensor.

    Raises
    ------
    DataError
        If the file is missing, truncated, not gzip/IDX, or has the wrong number of
        dimensions. The message names the file and suggests a fix.
    """
    path = Path(path)
    hint = "Delete it and let csacgan download it again, or point --data-dir at a good copy."
    if not path.is_file():
        raise DataError(f"IDX file not found: {path}")
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(f"{path} is not a readable gzip file ({exc}). {hint}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path} does not start with an IDX header (magic 0x0000). {hint}")
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_DTYPES or ndim == 0:
        raise DataError(f"{path} has an unknown IDX type 0x{type_code:02x} or 0 dimensions. {hint}")
    if expected_ndim is not None and ndim != expected_ndim:
        raise DataError(f"{path} has {ndim} dimensions, expected {expected_ndim} "
                        f"(images have 3, labels 1): is it the right file? {hint}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated inside its header. {hint}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(f"{path} holds {len(raw) - header} data bytes but its header {shape} "
                        f"needs {expected}: the file is truncated or corrupt. {hint}")
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return torch.from_numpy(array.astype(dtype.newbyteorder("="), copy=True))
