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


# Every sampler: the requested counts, originals first and unchanged, X's layout and dtype.
FAST = {"none": {}, "random": {}, "class-weight": {}, "smote": {},
        "latent-smote": dict(autoencoder_epochs=1, batch_size=16),
        "acgan": TINY, "cs-acgan": TINY, "bagan": TINY}


@pytest.mark.parametrize("name", list(FAST))
def test_every_sampler_returns_the_requested_counts_originals_first(name, small_mnist):
    from csacgan.sampler import SAMPLERS
    X, y = small_mnist
    X_before = X.copy()
    options = {"random_state": 0, **FAST[name]}
    sampler = SAMPLERS[name](sampling_strategy={0: 45, 2: 70}, **options)
    X_res, y_res = sampler.fit_resample(X, y)
    assert np.array_equal(X, X_before)
    assert np.array_equal(X_res[:len(X)], X) and np.array_equal(y_res[:len(y)], y)
    assert X_res.dtype == np.uint8 and X_res.shape[1:] == X.shape[1:]
    added = np.bincount(y_res[len(y):], minlength=3).tolist()
    if name in ("none", "class-weight"):  # no new images, whatever the strategy
        assert added == [0, 0, 0]
    else:
        assert added == [35, 0, 10]
        assert sampler.sampling_strategy_ == {0: 35, 2: 10}
    weights = sampler.class_weight(y)
    if name == "class-weight":
        assert weights == pytest.approx(130 / (3 * np.array([10, 60, 60])))
    else:
        assert weights is None


def test_random_oversampling_copies_originals_of_the_class(small_mnist):
    from csacgan.sampler import RandomImageOverSampler
    X, y = small_mnist
    X_res, y_res = RandomImageOverSampler(random_state=1).fit_resample(X, y)
    zeros = {x.tobytes() for x in X[y == 0]}
    assert all(x.tobytes() in zeros for x in X_res[len(X):][y_res[len(y):] == 0])


def test_pixel_smote_blends_two_same_class_images():
    from csacgan.sampler import PixelSMOTE
    # class 0: two images, one black and one white, so every blend is a grey level in between
    X = np.concatenate([np.zeros((1, 28, 28)), np.full((1, 28, 28), 255), np.full((6, 28, 28), 7)]).astype(np.uint8)
    y = np.array([0, 0] + [1] * 6)
    X_res, y_res = PixelSMOTE(random_state=0).fit_resample(X, y)
    new = X_res[len(X):]
    assert len(new) == 4 and (y_res[len(y):] == 0).all()
    for image in new:  # one grey level per image: a point on the segment between the two
        assert image.min() == image.max()


def test_latent_smote_codes_lie_between_same_class_codes():
    """A scripted autoencoder (codes = 4 block means, decoding = a constant image) makes the
    SMOTE points checkable: each synthetic code is a + t (b - a), t in [0, 1], a and b codes
    of one class."""
    from csacgan.sampler import LatentSMOTE

    class Scripted:
        def encode(self, images):
            return images.reshape(len(images), 4, -1).mean(-1).astype(np.float64)

        def decode(self, codes):
            return np.repeat(np.clip(codes.mean(1), 0, 255).astype(np.uint8), 28 * 28).reshape(-1, 1, 28, 28)

    rng = np.random.default_rng(0)
    levels = rng.integers(0, 256, (40, 4), dtype=np.uint8)   # each image: 4 blocks of one level
    X = np.repeat(levels, 28 * 28 // 4, axis=1).reshape(40, 1, 28, 28)
    y = np.array([0] * 5 + [1] * 15 + [2] * 20)
    sampler = LatentSMOTE(autoencoder=Scripted(), k_neighbors=3, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert np.bincount(y_res[len(y):]).tolist() == [15, 5]
    codes, synthetic = sampler.codes_, sampler.synthetic_codes_
    for z, c in zip(synthetic, sampler.synthetic_y_):
        members = codes[y == c]
        best = np.inf
        for a in members:
            for b in members:
                d = b - a
                t = np.clip((z - a) @ d / max(d @ d, 1e-12), 0, 1)
                best = min(best, np.abs(a + t * d - z).max())
        assert best < 1e-6
    assert np.ptp(synthetic, axis=0).min() > 10  # the points differ: a real test of the segments
    np.testing.assert_array_equal(X_res[len(X):], Scripted().decode(synthetic))


def test_latent_smote_trains_or_reuses_bagans_autoencoder(small_mnist, tmp_path):
    from csacgan.sampler import BAGANSampler, LatentSMOTE
    X, y = small_mnist
    X_res, _ = LatentSMOTE(autoencoder_epochs=1, batch_size=16, random_state=0).fit_resample(X, y)
    assert len(X_res) == 180 and X_res[len(X):].std() > 0
    run = tmp_path / "bagan"
    BAGANSampler(work_dir=str(run), **TINY).fit_resample(X, y)
    sampler = LatentSMOTE.from_run(run, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [60, 60, 60]
    with pytest.raises(FileNotFoundError, match="autoencoder.pt"):
        LatentSMOTE.from_run(tmp_path)


def test_gan_sampler_from_a_trained_run(small_mnist, tmp_path):
    X, y = small_mnist
    run = tmp_path / "acgan"
    ACGANSampler(work_dir=str(run), **TINY).fit_resample(X, y)
    X_res, y_res = ACGANSampler.from_run(run, random_state=0).fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [60, 60, 60]
