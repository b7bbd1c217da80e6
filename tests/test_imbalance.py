import numpy as np
import pytest

from csacgan.data.imbalance import ImbalanceError, make_imbalance

# 10 classes with MNIST-like sizes above the 5000 cap, plus one class below it.
LABELS = np.repeat(np.arange(10), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 4000])


@pytest.mark.parametrize("rho, zeros", [(20, 250), (40, 125), (190, 26)])
def test_ratio_counts_exact(rho, zeros):
    idx, s = make_imbalance(LABELS, imbalance_ratio=rho, max_per_class=5000, seed=0)
    counts = np.bincount(LABELS[idx], minlength=10)
    assert counts[0] == zeros
    assert counts[1:9].tolist() == [5000] * 8 and counts[9] == 4000
    assert s.counts == counts.tolist()
    assert s.imbalance_ratio == pytest.approx(5000 / zeros)
    assert s.minority_fraction == pytest.approx(0.2)  # '0' and the short class 9 are below the max
    assert s.protocol == "ratio"


@pytest.mark.parametrize("fraction, zeros", [(0.6, 2000), (0.8, 1000), (0.95, 250)])
def test_drop_fraction_counts_exact(fraction, zeros):
    idx, s = make_imbalance(LABELS, drop_fraction=fraction, max_per_class=5000, seed=0)
    assert np.bincount(LABELS[idx])[0] == zeros
    assert s.protocol == "drop" and s.requested == fraction


def test_no_cap_and_several_minorities():
    idx, s = make_imbalance(LABELS, minority_classes=[0, 3], imbalance_ratio=10, max_per_class=None)
    counts = np.bincount(LABELS[idx])
    assert counts[0] == counts[3] == round(6742 / 10)
    assert counts[1] == 6742 and counts[5] == 5421


def test_linear_counts():
    labels = np.repeat(np.arange(5), 1000)
    idx, s = make_imbalance(labels, kind="linear", imbalance_ratio=10, max_per_class=None, minority_classes=[4])
    counts = np.bincount(labels[idx])
    assert counts[4] == 100          # the minority is smallest
    assert counts.tolist() == [325, 550, 775, 1000, 100]


def test_deterministic_and_seed_dependent():
    a, _ = make_imbalance(LABELS, imbalance_ratio=190, seed=3)
    b, _ = make_imbalance(LABELS, imbalance_ratio=190, seed=3)
    c, _ = make_imbalance(LABELS, imbalance_ratio=190, seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert len(np.unique(a)) == len(a)


@pytest.mark.parametrize("kwargs, message", [
    (dict(imbalance_ratio=0.5), "rho"),
    (dict(imbalance_ratio=10, minority_classes=[12]), "do not exist"),
    (dict(imbalance_ratio=100000), "would keep no image"),
    (dict(drop_fraction=1.0), "drop_fraction"),
    (dict(), "exactly one"),
    (dict(imbalance_ratio=10, drop_fraction=0.5), "exactly one"),
])
def test_impossible_requests_are_clear_errors(kwargs, message):
    with pytest.raises(ImbalanceError, match=message):
        make_imbalance(LABELS, **kwargs)


def test_real_mnist_rho_190(mnist):
    idx, s = make_imbalance(mnist.train_labels, imbalance_ratio=190, seed=0)
    assert s.counts == [26] + [5000] * 9
    assert s.minority_fraction == pytest.approx(0.1)


def test_deepsmote_counts_exact(mnist):
    from csacgan.data.imbalance import DEEPSMOTE_COUNTS
    idx, s = make_imbalance(mnist.train_labels, kind="counts", counts=DEEPSMOTE_COUNTS, seed=3)
    assert np.bincount(mnist.train_labels.numpy()[idx], minlength=10).tolist() == list(DEEPSMOTE_COUNTS)
    assert s.counts == [4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40]
    assert s.imbalance_ratio == 100 and s.minority_classes == list(range(1, 10)) and s.protocol == "counts"
    again, _ = make_imbalance(mnist.train_labels, kind="counts", counts=DEEPSMOTE_COUNTS, seed=3)
    assert np.array_equal(idx, again)


@pytest.mark.parametrize("counts, message", [
    ([10] * 9, "9 per-class counts given for 10 classes"),
    ([10] * 9 + [0], "at least one image"),
    ([10] * 9 + [4001], "class 9 has 4000 images, 4001 asked"),
    (None, "needs one count per class"),
])
def test_bad_counts_are_clear_errors(counts, message):
    with pytest.raises(ImbalanceError, match=message):
        make_imbalance(LABELS, kind="counts", counts=counts)


def test_counts_through_the_config_and_cli(tmp_path, mnist_path):
    """--imbalance 4000,...,40 (or deepsmote) sets imbalance 'counts'; --validation-fraction
    keeps a stratified share out of the run's training set."""
    import torch

    from csacgan.cli import _imbalance
    from csacgan.config import TrainConfig
    from csacgan.data.training_set import prepare_data, validation_split
    assert _imbalance("deepsmote") == _imbalance("4000,2000,1000,750,500,350,200,100,60,40")
    assert _imbalance("step") == "step"
    cfg = TrainConfig(data_dir=str(mnist_path), class_counts=[50] * 9 + [20], progress=False).resolved()
    assert cfg.imbalance == "counts" and cfg.imbalance_ratio is None and cfg.max_per_class is None
    data, full, _ = prepare_data(cfg)
    assert torch.bincount(data.train_labels[full]).tolist() == [50] * 9 + [20]
    cfg.validation_fraction = 0.1
    _, train, summary = prepare_data(cfg, data)
    assert summary.counts == [45] * 9 + [18]
    kept, held = validation_split(full, data.train_labels, 0.1, cfg.seed)
    assert torch.equal(kept, train) and not set(held.tolist()) & set(train.tolist())
    with pytest.raises(ValueError, match="imbalance 'counts'"):
        TrainConfig(imbalance="counts").resolved()
