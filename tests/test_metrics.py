"""Sanity checks of the metrics against cases whose answer is known."""
import json

import pytest
import torch

from conftest import tiny_config
from csacgan.evaluate import DEFAULT_METRICS, evaluate, format_table
from csacgan.metrics import METRICS, EvalContext
from csacgan.metrics.evaluator import load_or_train_evaluator
from csacgan.train import train

# A quick evaluator for tests: 1 epoch on 12000 images (the real one: 2 epochs on 60000).
QUICK = dict(epochs=1, train_subset=12000)


@pytest.fixture(scope="module")
def evaluator(mnist):
    return load_or_train_evaluator(mnist, seed=0, progress=False, **QUICK)


def balanced_real(mnist, per_class, split="test", offset=0):
    images, labels = (mnist.test_images, mnist.test_labels) if split == "test" else \
        (mnist.train_images, mnist.train_labels)
    idx = torch.cat([torch.nonzero(labels == c).flatten()[offset:offset + per_class] for c in range(10)])
    return images[idx], labels[idx]


def context(mnist, evaluator, images, labels):
    return EvalContext(data=mnist, evaluator=evaluator, images=images, labels=labels, progress=False)


def test_evaluator_is_trained_cached_and_accurate(evaluator, mnist):
    assert evaluator.info["test_accuracy"] > 0.95
    again = load_or_train_evaluator(mnist, seed=0, progress=False, **QUICK)  # from the cache
    assert again.info == evaluator.info


def test_real_test_images_score_close_to_the_evaluator_test_accuracy(evaluator, mnist):
    images, labels = balanced_real(mnist, 300)
    out = METRICS["classifier_accuracy"](context(mnist, evaluator, images, labels))
    assert out["overall"] == pytest.approx(evaluator.info["test_accuracy"], abs=0.02)
    assert set(out["per_class"]) == {str(c) for c in range(10)}


def test_noise_gets_low_evaluator_accuracy(evaluator, mnist):
    g = torch.Generator().manual_seed(0)
    noise = torch.randint(0, 256, (1000, 1, 28, 28), generator=g, dtype=torch.uint8)
    out = METRICS["classifier_accuracy"](context(mnist, evaluator, noise, torch.arange(10).repeat(100)))
    assert out["overall"] < 0.3


def test_real_vs_real_fid_is_near_zero_and_collapse_is_far(evaluator, mnist):
    images, labels = balanced_real(mnist, 300, split="train")
    real = METRICS["fid"](context(mnist, evaluator, images, labels))
    # every class is one image, repeated (labels are sorted by class, 300 each)
    collapsed_images = images[::300].repeat_interleave(300, dim=0)
    collapsed = METRICS["fid"](context(mnist, evaluator, collapsed_images, labels))
    assert collapsed["overall"] > 20 * max(real["overall"], 0.05)
    for c in range(10):
        assert collapsed["per_class"][str(c)] > 5 * real["per_class"][str(c)]
    # real images against real images: the generated score equals the real reference's order
    assert real["overall"] < 2 * real["real"]["overall"] + 0.5


def test_mode_collapse_has_ssim_diversity_near_one(evaluator, mnist):
    images, labels = balanced_real(mnist, 100)
    collapsed = images[:1].repeat(1000, 1, 1, 1)
    out = METRICS["ssim_diversity"](context(mnist, evaluator, collapsed, torch.arange(10).repeat(100)))
    assert out["overall"] > 0.99 and out["ms_ssim"]["overall"] > 0.99
    varied = METRICS["ssim_diversity"](context(mnist, evaluator, images, labels))
    assert varied["overall"] < 0.6
    assert varied["overall"] == pytest.approx(varied["real"]["overall"], abs=0.1)


def test_metrics_json_has_every_metric_for_every_class(tmp_path, mnist_path, evaluator):
    run = train(tiny_config(tmp_path, mnist_path, max_steps=4))
    report = evaluate(run, n_per_class=20, evaluator_epochs=QUICK["epochs"],
                      evaluator_subset=QUICK["train_subset"], progress=False,
                      metric_options={"cas": {"steps": 20}, "augmentation_gain": {"steps": 20, "seeds": 2}})
    saved = json.loads((run / "metrics.json").read_text())
    assert set(saved["metrics"]) == set(DEFAULT_METRICS)
    for name in ("classifier_accuracy", "ssim_diversity", "fid", "kid", "cas"):
        block = saved["metrics"][name]
        assert set(block["per_class"]) == {str(c) for c in range(10)}, name
        assert set(block["real"]["per_class"]) == {str(c) for c in range(10)}, name
        assert all(isinstance(v, float) for v in block["per_class"].values())
    gain = saved["metrics"]["augmentation_gain"]["setups"]
    assert set(gain) == {"imbalanced", "oversampled", "class_weighted", "generated"}
    assert all(len(gain[s]["minority_recall"]["values"]) == 2 for s in gain)
    assert saved["evaluator"]["test_accuracy"] == evaluator.info["test_accuracy"]
    assert "FID" in format_table(report) and "augmentation gain" in format_table(report)
    # deterministic for a seed
    again = evaluate(run, metrics=["classifier_accuracy", "ssim_diversity"], n_per_class=20,
                     evaluator_epochs=QUICK["epochs"], evaluator_subset=QUICK["train_subset"], progress=False)
    assert again["metrics"]["ssim_diversity"] == report["metrics"]["ssim_diversity"]


def test_prdc_separates_fidelity_from_diversity(evaluator, mnist):
    images, labels = balanced_real(mnist, 200, split="train")
    real = METRICS["prdc"](context(mnist, evaluator, images, labels))
    for key in ("precision", "recall", "coverage"):  # real against real: near the reference
        assert abs(real["overall"][key] - real["real"]["overall"][key]) < 0.1, key
    assert real["overall"]["precision"] > 0.9 and real["overall"]["recall"] > 0.9
    # each class one real image repeated: faithful (precision stays high), not diverse
    collapsed = METRICS["prdc"](context(mnist, evaluator, images[::200].repeat_interleave(200, dim=0), labels))
    assert collapsed["overall"]["precision"] > 0.8
    assert collapsed["overall"]["recall"] < 0.1 and collapsed["overall"]["coverage"] < 0.1
    assert set(collapsed["per_class"]) == {str(c) for c in range(10)}


def test_the_snapshot_curve_scores_only_the_epochs_it_has_not_scored(tmp_path, mnist_path, evaluator):
    from csacgan.evaluate import snapshot_curve
    from csacgan.train import resume
    run = train(tiny_config(tmp_path, mnist_path, max_per_class=40, imbalance_ratio=10, epochs=2, max_steps=None))
    score = dict(n_per_class=10, evaluator_epochs=QUICK["epochs"], evaluator_subset=QUICK["train_subset"],
                 progress=False)
    curve = snapshot_curve(run, **score)
    assert [c["epoch"] for c in curve] == [1, 2] and all(len(c["per_class"]) == 10 for c in curve)
    assert curve[1]["train_seconds"] > curve[0]["train_seconds"] > 0
    marked = [dict(c, per_class=[-1.0] * 10) if c["epoch"] == 1 else c for c in curve]
    (run / "curve.json").write_text(json.dumps(marked))  # a score that scoring would never give
    resume(run, epochs=3)
    longer = snapshot_curve(run, **score)
    assert [c["epoch"] for c in longer] == [1, 2, 3]
    assert longer[0]["per_class"] == [-1.0] * 10  # kept, not scored again
    assert longer[1] == curve[1]
    assert snapshot_curve(run, **{**score, "n_per_class": 12})[0]["per_class"] != [-1.0] * 10  # other n: rescored
