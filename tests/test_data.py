import gzip
import os
import shutil

import pytest
import torch

from csacgan.data import DataError
from csacgan.data.idx import read_idx
from csacgan.data import load_dataset
from csacgan.data.mnist import locate


def test_mnist_loads_as_uint8_tensors(mnist):
    assert mnist.train_images.shape == (60000, 1, 28, 28) and mnist.train_images.dtype == torch.uint8
    assert mnist.test_images.shape == (10000, 1, 28, 28)
    assert torch.bincount(mnist.train_labels).tolist()[5] == 5421
    assert mnist.files["train_images"]["md5"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert "note" not in mnist.files["train_images"]


def _copy_mnist(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        if f.name.endswith(".gz"):
            shutil.copy(f, dst / f.name)


def test_truncated_file_is_a_clear_error(mnist_path, tmp_path):
    folder = tmp_path / "m"
    _copy_mnist(mnist_path, folder)
    raw = gzip.decompress((folder / "train-labels-idx1-ubyte.gz").read_bytes())
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz.*truncated"):
        load_dataset("mnist", folder)


def test_corrupt_gzip_is_a_clear_error(mnist_path, tmp_path):
    folder = tmp_path / "m"
    _copy_mnist(mnist_path, folder)
    data = bytearray((folder / "t10k-images-idx3-ubyte.gz").read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz.*(gzip|corrupt)"):
        load_dataset("mnist", folder)


def test_wrong_shape_and_magic(tmp_path):
    labels_as_images = tmp_path / "x"
    labels_as_images.write_bytes(b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + b"\x01\x02\x03")
    with pytest.raises(DataError, match="dimensions, expected 3"):
        read_idx(labels_as_images, expected_ndim=3)
    not_idx = tmp_path / "y"
    not_idx.write_bytes(b"PK\x03\x04 not an idx file")
    with pytest.raises(DataError, match="IDX header"):
        read_idx(not_idx)
    with pytest.raises(DataError, match="not found"):
        read_idx(tmp_path / "missing")


def test_raw_files_read_like_gz(mnist_path, tmp_path):
    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(gzip.decompress((mnist_path / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    assert torch.equal(read_idx(raw), read_idx(mnist_path / "t10k-labels-idx1-ubyte.gz"))


def test_explicit_data_dir_without_files_is_an_error(tmp_path):
    with pytest.raises(DataError, match="does not hold the mnist IDX files"):
        locate("mnist", tmp_path)


def test_mnist_files_are_not_taken_for_fashion(mnist_path, monkeypatch, tmp_path):
    with pytest.raises(DataError, match="is mnist, not fashion-mnist"):
        locate("fashion-mnist", mnist_path)
    # Found through the environment variable, MNIST files are skipped, not loaded as Fashion-MNIST.
    monkeypatch.setenv("CSACGAN_DATA_DIR", str(mnist_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if not os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    found = locate("fashion-mnist", download=False)
    assert str(found["train_images"]).startswith("/usr/share/datasets/fashion-mnist")


def test_unknown_dataset():
    with pytest.raises(DataError, match="Unknown dataset"):
        load_dataset("imagenet")
