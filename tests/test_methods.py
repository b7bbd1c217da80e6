import json

import pytest
import torch
from torch import nn

from csacgan.methods import ACGAN, CostSensitiveACGAN, build_method
from csacgan.methods.class_costs import ClassCosts
from csacgan.nets.acgan_nets import build_networks
from csacgan.train import EpochContext


def _batch(seed=0, n=32, K=10):
    g = torch.Generator().manual_seed(seed)
    real = torch.rand(n, 1, 28, 28, generator=g) * 2 - 1
    fake = torch.rand(n, 1, 28, 28, generator=g) * 2 - 1
    return real, torch.randint(K, (n,), generator=g), fake, torch.randint(K, (n,), generator=g)


@pytest.mark.parametrize("fake_in_d", [True, False])
def test_uniform_costs_give_exactly_acgan_losses(fake_in_d):
    torch.manual_seed(0)
    _, D = build_networks(10, (1, 28, 28))
    D.eval()  # dropout off, so both methods see the same network
    real, labels, fake, fake_labels = _batch()
    acgan = ACGAN(10, fake_class_loss_in_d=fake_in_d)
    cs = CostSensitiveACGAN(10, fake_class_loss_in_d=fake_in_d)
    assert torch.equal(cs.class_costs.costs, torch.full((10,), 0.1))
    d_a, _ = acgan.discriminator_loss(D, real, labels, fake, fake_labels)
    d_c, _ = cs.discriminator_loss(D, real, labels, fake, fake_labels)
    g_a, _ = acgan.generator_loss(D, fake, fake_labels)
    g_c, _ = cs.generator_loss(D, fake, fake_labels)
    assert torch.equal(d_a, d_c) and torch.equal(g_a, g_c)
    # ... and non-uniform costs do change the class loss.
    cs.class_costs.update(torch.linspace(0, 1, 10))
    d_w, _ = cs.discriminator_loss(D, real, labels, fake, fake_labels)
    assert not torch.equal(d_a, d_w)


def test_costs_weight_each_sample_by_its_class():
    cs = CostSensitiveACGAN(3)
    cs.class_costs.costs = torch.tensor([0.5, 0.3, 0.2])
    w = cs.class_weights(torch.tensor([0, 1, 2, 2]))
    assert torch.allclose(w, torch.tensor([1.5, 0.9, 0.6, 0.6]))


class ScriptedDiscriminator(nn.Module):
    """Predicts the class written in pixel (0, 0), whatever the true label."""

    def forward(self, x):
        predicted = ((x[:, 0, 0, 0] + 1) * 127.5).round().long()
        return torch.zeros(len(x)), nn.functional.one_hot(predicted, 4).float() * 10


def scripted_images(wrong):
    """Class c has 10 images; the first ``wrong[c]`` of them carry a wrong prediction for
    ScriptedDiscriminator."""
    images, labels = [], []
    for c, w in enumerate(wrong):
        for i in range(10):
            img = torch.zeros(1, 28, 28, dtype=torch.uint8)
            img[0, 0, 0] = (c + 1) % 4 if i < w else c
            images.append(img)
            labels.append(c)
    return torch.stack(images), torch.tensor(labels)


def test_cost_update_is_softmax_of_measured_errors():
    wrong = [0, 3, 5, 10]
    ctx = EpochContext(*scripted_images(wrong), 0, torch.device("cpu"), None)
    errors = torch.tensor(wrong) / 10
    for tau in (1.0, 0.1):
        cs = CostSensitiveACGAN(4, temperature=tau)
        out = cs.end_of_epoch(ScriptedDiscriminator(), nn.Identity(), ctx, epoch=0)
        assert torch.allclose(torch.tensor(out["class_errors"]), errors)
        assert torch.allclose(cs.class_costs.costs, torch.softmax(errors / tau, 0))
        assert abs(sum(out["class_costs"]) - 1) < 1e-6


def test_tau_one_bounds_the_cost_ratio_by_e():
    costs = ClassCosts(10)
    w = costs.update(torch.tensor([1.0] + [0.0] * 9))
    assert w[0] / w[1] == pytest.approx(torch.e.item() if hasattr(torch.e, "item") else 2.718281828, rel=1e-5)


def test_momentum_smooths_costs():
    costs = ClassCosts(2, temperature=1.0, momentum=0.5)
    w = costs.update(torch.tensor([1.0, 0.0]))
    target = torch.softmax(torch.tensor([1.0, 0.0]), 0)
    assert torch.allclose(w, 0.5 * torch.tensor([0.5, 0.5]) + 0.5 * target)


@pytest.mark.parametrize("kwargs", [dict(temperature=0), dict(momentum=0), dict(error_source="test")])
def test_bad_cost_options(kwargs):
    with pytest.raises(ValueError):
        CostSensitiveACGAN(10, **kwargs)


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown method"):
        build_method("gan", 10)


def test_online_costs_follow_the_errors_of_the_last_n_steps():
    cs = CostSensitiveACGAN(3, update_every=2, error_source="fake")
    logits = lambda preds: torch.nn.functional.one_hot(torch.tensor(preds), 3).float()  # noqa: E731
    real = (logits([0, 1]), torch.tensor([0, 1]))
    # two steps: class 0 right 1 of 2, class 1 wrong 2 of 2, class 2 not seen
    cs.observe(*real, logits([0, 0]), torch.tensor([0, 1]))
    assert torch.equal(cs.class_costs.costs, torch.full((3,), 1 / 3))  # not yet: every 2 steps
    cs.observe(*real, logits([1, 2]), torch.tensor([0, 1]))
    errors = torch.tensor([0.5, 1.0, 0.0])
    assert torch.allclose(cs.class_costs.costs, torch.softmax(errors, 0))
    # next window: class 2 seen and right, classes 0 and 1 absent keep their errors
    cs.observe(*real, logits([2]), torch.tensor([2]))
    cs.observe(*real, logits([2]), torch.tensor([2]))
    assert torch.allclose(cs.class_costs.costs, torch.softmax(errors, 0))
    out = cs.end_of_epoch(None, None, None, 0)  # the epoch rule is off
    assert torch.allclose(torch.tensor(out["class_costs"]), torch.softmax(errors, 0))


@pytest.mark.parametrize("costs_in, d_weighted, g_weighted", [("both", True, True), ("d", True, False),
                                                              ("g", False, True)])
def test_costs_act_where_asked(costs_in, d_weighted, g_weighted):
    cs = CostSensitiveACGAN(2, costs_in=costs_in)
    cs.class_costs.update(torch.tensor([1.0, 0.0]))
    labels = torch.tensor([0, 1])
    weighted = cs.class_costs.sample_weights(labels)
    assert torch.equal(cs.class_weights(labels, "d"), weighted if d_weighted else torch.ones(2))
    assert torch.equal(cs.class_weights(labels, "g"), weighted if g_weighted else torch.ones(2))
    with pytest.raises(ValueError):
        CostSensitiveACGAN(2, costs_in="e")


def test_held_out_split_is_stratified_and_never_trained_on():
    from csacgan.data.training_set import hold_out
    labels = torch.tensor([0] * 26 + [1] * 100 + [2] * 1 + [3] * 2)
    indices = torch.arange(len(labels))
    train_idx, held = hold_out(indices, labels, 0.1, seed=0)
    assert torch.bincount(labels[held], minlength=4).tolist() == [3, 10, 0, 1]  # never a class's last image
    assert not set(train_idx.tolist()) & set(held.tolist()) and len(train_idx) + len(held) == len(labels)
    assert torch.equal(train_idx, torch.sort(train_idx).values)  # the training set keeps its order
    assert torch.equal(hold_out(indices, labels, 0.1, seed=0)[1], held)  # deterministic for a seed


def test_held_out_signal_is_the_class_error_on_the_held_out_images():
    wrong = [0, 3, 5, 10]
    held_images, held_labels = scripted_images(wrong)
    ctx = EpochContext(torch.zeros(4, 1, 28, 28, dtype=torch.uint8), torch.arange(4), 0, torch.device("cpu"), None,
                       held_out_images=held_images, held_out_labels=held_labels)
    cs = CostSensitiveACGAN(4, error_source="held-out")
    assert cs.held_out_fraction() == 0.1 and CostSensitiveACGAN(4).held_out_fraction() == 0.0
    out = cs.end_of_epoch(ScriptedDiscriminator(), nn.Identity(), ctx, epoch=0)
    assert torch.allclose(torch.tensor(out["class_errors"]), torch.tensor(wrong) / 10)


class _ClassOfIntensity(nn.Module):
    """A classifier reading the class off an image's mean intensity (K levels)."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x):
        level = ((x.float().mean((1, 2, 3)) + 1) / 2 * (self.k - 1)).round().long().clamp(0, self.k - 1)
        return nn.functional.one_hot(level, self.k).float()


class _GeneratorMixingUp(nn.Module):
    """Draws class c as a flat image at c's intensity, except class 0, drawn as class 1's."""
    latent_dim = 4

    def forward(self, z, y):
        level = torch.where(y == 0, torch.ones_like(y), y).float() / 3 * 2 - 1
        return level.view(-1, 1, 1, 1).expand(len(y), 1, 28, 28)


def test_the_classifier_signal_is_a_separate_classifiers_error_on_generated_images():
    from csacgan.methods.class_costs import classifier_class_errors
    errors = classifier_class_errors(_ClassOfIntensity(4), _GeneratorMixingUp(), 4, 20, 4, torch.device("cpu"),
                                     torch.Generator().manual_seed(0))
    assert errors.tolist() == [1.0, 0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="no online update"):
        CostSensitiveACGAN(4, error_source="classifier", update_every=5)


def test_the_cost_classifier_is_trained_before_the_gan_and_resumes_with_the_run(tmp_path, synthetic_path):
    from conftest import tiny_config
    from csacgan.train import resume, train
    cfg = tiny_config(tmp_path, synthetic_path, method="cs-acgan", max_steps=None, max_per_class=40, imbalance_ratio=20.0,
                      method_options={"error_source": "classifier", "classifier_steps": 40, "fake_per_class": 20})
    run = train(cfg)
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert records[0]["cost_classifier_steps"] == 40
    assert len(records[1]["class_errors"]) == 10 and records[1]["class_costs"] != [0.1] * 10
    ckpt = torch.load(run / "checkpoint.pt", weights_only=False)
    assert "classifier" in ckpt["method"]
    resume(run, epochs=2)  # the classifier comes back from the checkpoint, not retrained
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert len(records) == 3 and "class_errors" in records[2]
    # the classifier's training leaves the GAN's random stream alone: with the costs still
    # uniform in epoch 1, the run computes ACGAN's epoch 1 exactly
    acgan = train(tiny_config(tmp_path / "acgan", synthetic_path, method="acgan", max_steps=None, max_per_class=40,
                              imbalance_ratio=20.0))
    first = json.loads((acgan / "log.jsonl").read_text().splitlines()[0])
    assert first["epoch"] == 1 and (first["d_loss"], first["g_loss"]) == (records[1]["d_loss"], records[1]["g_loss"])
