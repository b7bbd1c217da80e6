"""The long-tail losses of the downstream classifiers, each on a constructed case whose
value is known, and ResNet-32."""
import math

import pytest
import torch
import torch.nn.functional as F

from csacgan.classifier_losses import (CLASSIFIER_LOSSES, classifier_loss, effective_number_weights)

COUNTS = [1000, 100, 10]


def test_cross_entropy_of_zero_logits_is_log_k_and_class_weights_follow_scikit_learn():
    logits, labels = torch.zeros(3, 3), torch.tensor([0, 1, 2])
    assert math.isclose(classifier_loss("ce", COUNTS, 100)(logits, labels, 0).item(), math.log(3), rel_tol=1e-6)
    from sklearn.utils.class_weight import compute_class_weight
    import numpy as np
    y = np.repeat([0, 1, 2], COUNTS)
    expected = compute_class_weight("balanced", classes=np.arange(3), y=y)
    assert torch.allclose(classifier_loss("class-weight", COUNTS, 100).weights(0), torch.tensor(expected).float())


def test_drw_is_plain_cross_entropy_until_it_defers_then_effective_number_weights():
    loss = classifier_loss("drw", COUNTS, 100)
    assert loss.defer_step == 80 and loss.weights(79) is None
    w = effective_number_weights(torch.tensor(COUNTS, dtype=torch.float32))
    beta = 0.9999
    raw = [(1 - beta) / (1 - beta ** n) for n in COUNTS]
    assert torch.allclose(w, torch.tensor([r / sum(raw) * 3 for r in raw]).float())
    assert torch.equal(loss.weights(80), w)
    logits, labels = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    assert torch.allclose(loss(logits, labels, 10), F.cross_entropy(logits, labels))
    assert torch.allclose(loss(logits, labels, 90), F.cross_entropy(logits, labels, weight=w))


def test_ldam_lowers_the_true_logit_by_a_margin_proportional_to_n_to_the_minus_quarter():
    loss = classifier_loss("ldam-drw", COUNTS, 100)
    assert loss.normed_head
    margins = torch.tensor(COUNTS, dtype=torch.float32) ** -0.25
    margins = margins / margins.max() * 0.5   # the rarest class's margin is 0.5
    logits, labels = torch.zeros(3, 3), torch.tensor([0, 1, 2])
    adjusted = loss.adjusted(logits, labels)
    assert torch.allclose(adjusted.diagonal(), -30 * margins)
    assert adjusted.sum() == adjusted.diagonal().sum()  # the other logits untouched
    # the value at zero logits, before DRW: -log softmax of the true class with its margin
    m = margins[2].item()
    expected = -math.log(math.exp(-30 * m) / (math.exp(-30 * m) + 2))
    assert math.isclose(loss(logits[2:], labels[2:], 0).item(), expected, rel_tol=1e-5)


def test_logit_adjustment_and_balanced_softmax_add_the_log_priors_and_are_the_same_loss():
    la, bs = classifier_loss("logit-adjusted", COUNTS, 100), classifier_loss("balanced-softmax", COUNTS, 100)
    logits, labels = torch.zeros(1, 3), torch.tensor([2])
    prior = torch.tensor(COUNTS, dtype=torch.float32) / sum(COUNTS)
    assert math.isclose(la(logits, labels, 0).item(), -math.log(prior[2].item()), rel_tol=1e-5)
    x, y = torch.randn(8, 3), torch.randint(3, (8,))
    assert torch.allclose(la(x, y, 0), bs(x, y, 0), atol=1e-5)
    with pytest.raises(ValueError, match="unknown classifier loss"):
        classifier_loss("focal", COUNTS, 100)
    assert set(CLASSIFIER_LOSSES) >= {"drw", "ldam-drw", "logit-adjusted", "balanced-softmax"}


def test_resnet32_has_the_cifar_resnets_shape_and_a_cosine_head_for_ldam():
    from csacgan.nets.resnet32 import ResNet32
    model = ResNet32(3, 10)
    assert 0.46e6 < sum(p.numel() for p in model.parameters()) < 0.47e6  # He et al.: 0.46 M
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert ResNet32(1, 10)(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    cosine = ResNet32(3, 10, normed_head=True)(torch.randn(4, 3, 32, 32))
    assert cosine.abs().max() <= 1 + 1e-5


def test_early_stopping_waits_for_drws_reweighting(tmp_path):
    from csacgan.fit import train_until_stable
    from csacgan.nets.small_cnn import small_cnn
    torch.manual_seed(0)
    images = torch.randint(0, 255, (64, 1, 8, 8), dtype=torch.uint8)
    labels = torch.arange(64) % 2
    loss = classifier_loss("drw", [48, 16], 40)
    scores = iter([0.9, 0.1, 0.2, 0.3, 0.1])  # the best check comes before the deferral: not kept
    best = train_until_stable(small_cnn(1, 2, 8), images, labels, lambda m: next(scores), seed=0, max_steps=40,
                              check_every=8, patience=1, loss=loss)
    assert best["best_step"] >= loss.defer_step and best["best_score"] == 0.3


def test_sample_weights_reweigh_each_image_as_class_weights_do():
    logits, labels = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    loss = classifier_loss("class-weight", COUNTS, 100)
    ones = loss(logits, labels, 0, torch.ones(6))
    assert torch.allclose(ones, loss(logits, labels, 0), atol=1e-6)  # weights of 1: the loss itself
    half = torch.tensor([1, 1, 1, 0.5, 0.5, 0.5])
    w = loss.weights(0)[labels] * half
    per = F.cross_entropy(logits, labels, reduction="none")
    assert torch.allclose(loss(logits, labels, 0, half), (per * w).sum() / w.sum(), atol=1e-6)
    zero = torch.tensor([1, 1, 1, 0, 0, 0.0])  # weight 0: as if those images were not there
    assert torch.allclose(loss(logits, labels, 0, zero), loss(logits[:3], labels[:3], 0), atol=1e-6)
