import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def mnist_dir() -> Path | None:
    for candidate in (os.environ.get("CSACGAN_DATA_DIR"), REPO.parent / "shared" / "data" / "mnist"):
        if candidate and (Path(candidate) / "train-labels-idx1-ubyte.gz").exists():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    path = mnist_dir()
    if path is None:
        pytest.skip("real MNIST not found: set CSACGAN_DATA_DIR to a folder with the IDX files")
    return path


# A 5x7 bitmap glyph per class: the synthetic stand-in for digits 0-9.
GLYPHS = ["01110100011001110101110011000101110", "00100011000010000100001000010001110",
          "01110100010000100010001000100011111", "11111000100010000010000011000101110",
          "00010001100101010010111110001000010", "11111100001111000001000011000101110",
          "00110010001000011110100011000101110", "11111000010001000100010000100001000",
          "01110100011000101110100011000101110", "01110100011000101111000010001001100"]


def synthetic_digits(per_class: int, seed: int) -> tuple:
    """uint8 (N, 28, 28) images and labels: each class's glyph scaled 3x, shifted by up to
    3 pixels, at a random intensity, over noise. Seeded; classes are easy to tell apart."""
    import numpy as np
    rng = np.random.default_rng(seed)
    glyphs = [np.kron(np.array([int(b) for b in g]).reshape(7, 5), np.ones((3, 3))) for g in GLYPHS]
    labels = np.repeat(np.arange(10), per_class)
    rng.shuffle(labels)
    images = rng.integers(0, 40, (len(labels), 28, 28)).astype(np.float64)
    for i, c in enumerate(labels):
        dy, dx = rng.integers(0, 8, 2)
        images[i, dy:dy + 21, dx:dx + 15] += glyphs[c] * rng.uniform(150, 215)
    return images.clip(0, 255).astype(np.uint8), labels.astype(np.uint8)


def _write_idx(path: Path, array) -> None:
    import gzip
    import numpy as np
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(gzip.compress(header + np.ascontiguousarray(array).tobytes(), mtime=0))


@pytest.fixture(scope="session")
def synthetic_path(tmp_path_factory) -> Path:
    """A folder of MNIST-format IDX files of synthetic digits (1000 training and 200 test
    images per class), readable as ``--dataset mnist --data-dir``: the logic tests run on
    it on any machine; tests that need real MNIST use ``mnist_path`` and are marked real_data."""
    folder = tmp_path_factory.mktemp("synthetic-mnist")
    for split, per_class, seed, prefix in (("train", 1000, 0, "train"), ("test", 200, 1, "t10k")):
        images, labels = synthetic_digits(per_class, seed)
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder


def pytest_configure(config):
    """Under pytest-xdist (the suite's default, ``-n auto``), each worker gets its share of
    the cores: torch's default of one thread per core in every worker oversubscribes them,
    and the suite's many tiny ops then slow down several-fold. Subprocesses inherit it."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        import torch
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        threads = max(1, cores // int(workers))
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)
        torch.set_num_threads(threads)


# The longest files first, in this order, so that xdist's two workers (each is handed
# two files at the start, then one whenever it is free) end together: on one thread of
# a 2-core AMD EPYC they took about 710 s (metrics: the evaluator is trained, and all
# its tests run, in one worker), 250 s (reproduce), 175 s (distributed) and 265 s
# (downstream); every other file under 60 s.
LONGEST_FIRST = ("test_metrics.py", "test_reproduce.py", "test_distributed.py", "test_downstream.py")


def pytest_collection_modifyitems(items):
    for item in items:  # every test that reads real MNIST, whatever it is called, is slow too
        if {"mnist_path", "mnist"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.real_data)
            item.add_marker(pytest.mark.slow)
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


@pytest.fixture(scope="session")
def mnist(mnist_path):
    from csacgan.data import load_dataset
    return load_dataset("mnist", mnist_path)


def tiny_config(tmp_path, mnist_path, **overrides):
    """A run small enough for a unit test: narrow networks, a few steps."""
    from csacgan.config import TrainConfig
    values = dict(out=str(tmp_path / "run"), data_dir=str(mnist_path), imbalance_ratio=190.0,
                  epochs=1, max_steps=6, batch_size=16, g_channels=[16, 8, 8, 8, 4],
                  d_channels=[8, 8, 16, 16], checkpoint_every=1000, progress=False, device="cpu")
    values.update(overrides)
    return TrainConfig(**values)
