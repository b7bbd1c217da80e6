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
