"""Users' own data: image folders (RGB and grayscale), CIFAR-10's batches, long-tailed
imbalance, and ``csacgan augment`` writing a rebalanced copy with a manifest."""
import csv
import hashlib
import json
import pickle

import numpy as np
import pytest
from PIL import Image

from csacgan.cli import main
from csacgan.data.folders import load_image_folder
from csacgan.data import DataError
from csacgan.data.imbalance import make_imbalance
from csacgan.data import load_dataset

NARROW = ["--g-channels", "16,8,8,8,4", "--d-channels", "8,8,16,16", "--batch-size", "16",
          "--no-progress", "--device", "cpu"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _blob(rng, size, colour, mode):
    """A bright disc of one colour on a dark background, at a random place."""
    w, h = size
    yy, xx = np.mgrid[:h, :w]
    cy, cx, r = rng.integers(h // 4, 3 * h // 4), rng.integers(w // 4, 3 * w // 4), min(w, h) // 4
    disc = ((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r)[..., None]
    image = np.where(disc, np.array(colour, np.uint8), rng.integers(0, 40, (h, w, 3), dtype=np.uint8))
    picture = Image.fromarray(image.astype(np.uint8))
    return picture.convert("L") if mode == "L" else picture


def make_folder(root, counts, mode="RGB", sizes=((40, 30), (32, 32), (50, 50))):
    """Class folders of PNG/JPEG images of mixed sizes; returns {file: md5}."""
    rng = np.random.default_rng(0)
    colours = {"defect": (250, 40, 40), "ok": (40, 250, 40), "scratch": (40, 40, 250)}
    md5 = {}
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            path = root / name / f"img{i:03d}.{'jpg' if i % 5 == 4 else 'png'}"
            _blob(rng, sizes[i % len(sizes)], colours[name], mode).save(path)
            md5[path] = hashlib.md5(path.read_bytes()).hexdigest()
    return md5


def test_rgb_folder_trains_evaluates_and_augments(tmp_path, capsys):
    data = tmp_path / "photos"
    originals = make_folder(data, {"defect": 6, "ok": 60, "scratch": 40})
    run, out = tmp_path / "run", tmp_path / "balanced"
    main(["train", "--dataset", "imagefolder", "--data-dir", str(data), "--image-size", "32",
          "--minority", "defect", "--max-steps", "4", "--out", str(run), *NARROW])
    assert "csacgan: colour images: --method bagan --architecture table2 --mode-seeking 0.5 (" in \
        capsys.readouterr().err  # auto says what it picked for colour images, and why
    config = json.loads((run / "config.json").read_text())
    assert config["config"]["imbalance"] == "none"             # a user's data is kept as given
    assert config["imbalance"]["counts"] == [5, 47, 32]  # about 80% of each class (stratified hold-out)

    from csacgan.evaluate import evaluate
    report = evaluate(run, ["classifier_accuracy", "fid", "ssim_diversity"], n_per_class=8,
                      evaluator_epochs=1, evaluator_subset=85, progress=False)
    info = report["evaluator"]
    assert info["class_weighted_loss"] and set(info["test_accuracy_per_class"]) == {"defect", "ok", "scratch"}
    assert report["class_names"] == ["defect", "ok", "scratch"]
    assert report["metrics"]["classifier_accuracy"]["per_class"].keys() == {"0", "1", "2"}
    assert np.isfinite(report["metrics"]["fid"]["overall"])
    assert np.isnan(report["metrics"]["fid"]["per_class"]["0"])   # one real test 'defect': no covariance

    main(["augment", "--run", str(run), "--out", str(out)])
    assert "defect" in capsys.readouterr().out
    for path, md5 in originals.items():                       # sources untouched, copies identical
        assert hashlib.md5(path.read_bytes()).hexdigest() == md5
        assert hashlib.md5((out / path.relative_to(data)).read_bytes()).hexdigest() == md5
    counts = {c: len(list((out / c).iterdir())) for c in ("defect", "ok", "scratch")}
    assert counts == {"defect": 60, "ok": 60, "scratch": 60}
    synthetic = sorted((out / "defect").glob("synthetic-run-defect-*.png"))
    assert len(synthetic) == 54
    image = Image.open(synthetic[0])
    assert image.size == (32, 32) and image.mode == "RGB"
    rows = list(csv.DictReader(open(out / "manifest.csv")))
    assert len(rows) == 180 and sum(r["synthetic"] == "1" for r in rows) == 54 + 20
    assert {r["run"] for r in rows} == {str(run.resolve())} and {r["seed"] for r in rows} == {"0"}
    summary = json.loads((out / "augment.json").read_text())
    assert summary["counts_after"] == counts

    with pytest.raises(SystemExit, match="already exists"):   # never overwrites
        main(["augment", "--run", str(run), "--out", str(out)])


def test_grayscale_split_folder_and_a_dict_strategy(tmp_path):
    data = tmp_path / "scans"
    make_folder(data / "train", {"defect": 4, "ok": 30}, mode="L", sizes=((28, 28),))
    make_folder(data / "test", {"defect": 3, "ok": 5}, mode="L", sizes=((28, 28),))
    image_set = load_image_folder(data)
    assert image_set.image_shape == (1, 28, 28) and image_set.class_names == ("defect", "ok")
    assert len(image_set.train_labels) == 34 and len(image_set.test_labels) == 8

    run, out = tmp_path / "run", tmp_path / "copy"
    main(["train", "--dataset", "imagefolder", "--data-dir", str(data), "--max-steps", "3",
          "--method", "bagan", "--autoencoder-epochs", "1", "--out", str(run), *NARROW])
    main(["augment", "--run", str(run), "--out", str(out), "--strategy", '{"defect": 10}'])
    assert len(list((out / "train" / "defect").iterdir())) == 10
    assert len(list((out / "train" / "ok").iterdir())) == 30
    assert sorted(p.name for p in (out / "test").rglob("*.*")) == sorted(p.name for p in (data / "test").rglob("*.*"))
    synthetic = next((out / "train" / "defect").glob("synthetic-*.png"))
    assert Image.open(synthetic).mode == "L"


def test_npz_augment_keeps_arrays_and_flags_synthetic(tmp_path, capsys):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 255, (70, 32, 32, 3), dtype=np.uint8)
    labels = np.array(["rare"] * 10 + ["common"] * 60)
    test_images, test_labels = images[:6].copy(), labels[:6].copy()
    np.savez(tmp_path / "mine.npz", images=images, labels=labels, test_images=test_images, test_labels=test_labels)
    run, out = tmp_path / "run", tmp_path / "out"
    main(["train", "--dataset", "npz", "--data-dir", str(tmp_path / "mine.npz"), "--max-steps", "2",
          "--out", str(run), *NARROW])
    main(["augment", "--run", str(run), "--out", str(out), "--strategy", "minority"])
    result = np.load(out / "mine-rebalanced.npz")
    assert np.array_equal(result["images"][:70], images) and np.array_equal(result["labels"][:70], labels)
    assert result["images"].shape == (120, 32, 32, 3) and result["images"].dtype == np.uint8
    assert (result["labels"] == "rare").sum() == 60 and result["synthetic"].sum() == 50
    assert result["synthetic"][70:].all() and np.array_equal(result["test_images"], test_images)
    with open(out / "manifest.csv") as f:
        assert sum(1 for _ in f) == 121


def test_augment_with_smote_instead_of_the_generator(tmp_path, capsys):
    rng = np.random.default_rng(2)
    images = rng.integers(0, 255, (70, 28, 28), dtype=np.uint8)
    labels = np.array([7] * 10 + [3] * 60)
    np.savez(tmp_path / "mine.npz", images=images, labels=labels)
    run, out = tmp_path / "run", tmp_path / "out"
    main(["train", "--dataset", "npz", "--data-dir", str(tmp_path / "mine.npz"), "--max-steps", "1",
          "--out", str(run), *NARROW])
    main(["augment", "--run", str(run), "--out", str(out), "--sampler", "smote", "--seed", "1"])
    result = np.load(out / "mine-rebalanced.npz")
    assert np.array_equal(result["images"][:70], images) and (result["labels"] == 7).sum() == 60
    new = result["images"][70:].astype(int)
    rare = images[labels == 7].astype(int)
    assert (new >= rare.min(0) - 1).all() and (new <= rare.max(0) + 1).all()  # blends of rare originals
    summary = json.loads((out / "augment.json").read_text())
    assert summary["method"].startswith("PixelSMOTE") and summary["generated"] == {"3": 0, "7": 50}


def _cifar_batches(folder, per_class=12):
    """Files in CIFAR-10's python format (random pixels): data_batch_1..5, test_batch, batches.meta."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for name, n in [(f"data_batch_{i}", per_class) for i in range(1, 6)] + [("test_batch", 4)]:
        labels = np.repeat(np.arange(10), n).tolist()
        data = rng.integers(0, 255, (len(labels), 3072), dtype=np.uint8)
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, "labels": labels}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                     "horse", "ship", "truck"]}, f)


def test_cifar10_batches_and_long_tailed_imbalance(tmp_path):
    _cifar_batches(tmp_path / "cifar-10-batches-py")
    data = load_dataset("cifar10", tmp_path)
    assert data.image_shape == (3, 32, 32) and data.num_classes == 10
    assert data.class_names[9] == "truck" and len(data.train_labels) == 600 and len(data.test_labels) == 40
    assert "official" in data.files["data_batch_1"]["note"]      # not the official files, and said so
    assert load_dataset("cifar10", tmp_path, image_size=64).image_shape == (3, 64, 64)
    # CIFAR-10-LT (Cao et al. 2019): n_max * rho^(-i/9) for class i, floored
    labels = np.repeat(np.arange(10), 5000)
    _, summary = make_imbalance(labels, kind="exponential", imbalance_ratio=100, minority_classes=[9])
    assert summary.counts == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    _, summary = make_imbalance(data.train_labels, kind="exponential", imbalance_ratio=10, minority_classes=[9])
    assert summary.counts[0] == 60 and summary.counts[9] == 6 and summary.imbalance_ratio == 10


def test_bad_folders_name_the_file(tmp_path):
    data = tmp_path / "data"
    make_folder(data, {"defect": 3, "ok": 3}, sizes=((32, 32),))
    (data / "ok" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="broken.png: unreadable image"):
        load_image_folder(data)
    (data / "ok" / "broken.png").unlink()
    (data / "scratch").mkdir()
    with pytest.raises(DataError, match="scratch: class folder with no images"):
        load_image_folder(data)
    (data / "scratch").rmdir()
    Image.new("RGB", (40, 40)).save(data / "ok" / "big.png")
    with pytest.raises(DataError, match="mixed image sizes.*big.png is 40x40.*--image-size"):
        load_image_folder(data)
    assert load_image_folder(data, image_size=32).image_shape == (3, 32, 32)
    with pytest.raises(DataError, match="no such folder"):
        load_image_folder(tmp_path / "nowhere")
    with pytest.raises(SystemExit, match="needs --data-dir"):
        main(["train", "--dataset", "imagefolder", "--out", str(tmp_path / "r"), *NARROW])
    with pytest.raises(SystemExit, match="class 'missing' does not exist"):
        main(["train", "--dataset", "imagefolder", "--data-dir", str(data), "--image-size", "32",
              "--imbalance", "step", "--minority", "missing", "--out", str(tmp_path / "r2"), *NARROW])


@pytest.mark.parametrize("shape", [(3, 32, 32), (3, 64, 64), (1, 64, 64)])
def test_networks_for_each_shape(shape):
    import torch

    from csacgan.nets import build_networks
    G, D = build_networks(4, shape)
    x = G(torch.randn(2, 100), torch.tensor([0, 3]))
    source, classes = D(x)
    assert x.shape == (2,) + shape and classes.shape == (2, 4) and source.shape == (2,)
    assert D.feature_dim == 128 * 8 * 8                           # same feature maps as at 32x32


@pytest.mark.parametrize("method", ["acgan", "bagan"])
def test_64_pixel_rgb_trains_for_every_method(tmp_path, method):
    from csacgan.checkpoint import load_generator
    rng = np.random.default_rng(2)
    np.savez(tmp_path / "big.npz", images=rng.integers(0, 255, (40, 3, 64, 64), dtype=np.uint8),
             labels=np.arange(40) % 2)
    main(["train", "--dataset", "npz", "--data-dir", str(tmp_path / "big.npz"), "--method", method,
          "--max-steps", "2", *(["--autoencoder-epochs", "1"] if method == "bagan" else []),
          "--out", str(tmp_path / "run"), *NARROW])
    generator, _ = load_generator(tmp_path / "run")
    import torch
    assert generator(torch.randn(2, 100), torch.tensor([0, 1])).shape == (2, 3, 64, 64)
