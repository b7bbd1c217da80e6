"""fit_resample samplers and user arrays (.npz): balanced output, originals untouched,
imbalanced-learn conventions, clear errors."""
import numpy as np
import pytest

from csacgan.data.arrays import image_set_from_arrays, load_npz
from csacgan.data import DataError
from csacgan.sampler import ACGANSampler, BAGANSampler, CostSensitiveACGANSampler

TINY = dict(batch_size=16, max_steps=3, g_channels=[16, 8, 8, 8, 4], d_channels=[8, 8, 16, 16],
            device="cpu", random_state=0)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def small_mnist(mnist):
    """Digits 0, 1, 2 with 10, 60 and 60 images: '0' is the rare class."""
    x, y = mnist.train_images[:, 0].numpy(), mnist.train_labels.numpy()
    idx = np.concatenate([np.flatnonzero(y == 0)[:10], np.flatnonzero(y == 1)[:60], np.flatnonzero(y == 2)[:60]])
    return x[idx], y[idx]


def test_fit_resample_balances_and_keeps_the_originals(small_mnist):
    X, y = small_mnist
    X_before = X.copy()
    X_res, y_res = CostSensitiveACGANSampler(**TINY).fit_resample(X, y)
    assert np.array_equal(X, X_before)                      # input untouched
    assert np.array_equal(X_res[:len(X)], X) and np.array_equal(y_res[:len(y)], y)
    assert X_res.dtype == np.uint8 and X_res.shape[1:] == (28, 28)
    assert np.bincount(y_res).tolist() == [60, 60, 60]
    assert X_res[len(X):].std() > 0


def test_dict_strategy_string_labels_and_channels_last_float_rgb():
    rng = np.random.default_rng(0)
    X = rng.random((80, 32, 32, 3)).astype(np.float32)    # (N, H, W, C) floats in [0, 1]
    y = np.array(["defect"] * 8 + ["ok"] * 72)
    sampler = ACGANSampler(sampling_strategy={"defect": 40}, **TINY)
    X_res, y_res = sampler.fit_resample(X, y)
    assert X_res.shape == (112, 32, 32, 3) and X_res.dtype == np.float32
    assert (y_res == "defect").sum() == 40 and (y_res == "ok").sum() == 72
    assert 0 <= X_res.min() and X_res.max() <= 1
    assert sampler.sampling_strategy_ == {"defect": 32} and list(sampler.classes_) == ["defect", "ok"]


def test_bagan_sampler_and_minority_strategy(small_mnist):
    X, y = small_mnist
    X_res, y_res = BAGANSampler(sampling_strategy="minority", **TINY).fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [60, 60, 60]


def test_imbalanced_learn_conventions():
    sampler = CostSensitiveACGANSampler(epochs=7, random_state=3)
    assert sampler.get_params()["epochs"] == 7 and sampler.get_params()["sampling_strategy"] == "auto"
    sampler.set_params(epochs=2)
    assert sampler.epochs == 2
    assert not [k for k in vars(sampler) if k.endswith("_")]  # nothing learned before fit


def test_pipeline_example(small_mnist):
    from imblearn.pipeline import make_pipeline
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import FunctionTransformer
    X, y = small_mnist
    flatten = FunctionTransformer(lambda a: a.reshape(len(a), -1) / 255.0)
    model = make_pipeline(CostSensitiveACGANSampler(**TINY), flatten, LogisticRegression(max_iter=200))
    model.fit(X, y)
    assert model.score(X, y) > 0.5


@pytest.mark.parametrize("X, y, message", [
    (np.zeros((10, 28, 28), np.uint8), np.zeros(9), "labels of shape"),
    (np.zeros((10, 30, 30), np.uint8), np.arange(10) % 2, "28, 32, 64"),
    (np.full((10, 28, 28), 2.0), np.arange(10) % 2, r"\[0, 1\]"),
    (np.zeros((10, 5, 28, 28), np.uint8), np.arange(10) % 2, "channels"),
    (np.zeros((10, 28, 28), np.uint8), np.zeros(10), "two classes"),
])
def test_bad_arrays_are_clear_errors(X, y, message):
    with pytest.raises(DataError, match=message):
        image_set_from_arrays("arrays", X, y)


def test_npz_dataset(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "defects.npz"
    np.savez(path, images=rng.integers(0, 255, (50, 32, 32, 3), dtype=np.uint8), labels=np.arange(50) % 5)
    data = load_npz(path)
    assert data.image_shape == (3, 32, 32) and data.num_classes == 5
    assert len(data.train_labels) == 40 and len(data.test_labels) == 10     # stratified 20% held out
    assert data.files["npz"]["md5"]
    bad = tmp_path / "bad.npz"
    np.savez(bad, pictures=np.zeros((4, 28, 28), np.uint8))
    with pytest.raises(DataError, match="bad.npz: missing array"):
        load_npz(bad)
    with pytest.raises(DataError, match="no such file"):
        load_npz(tmp_path / "absent.npz")
