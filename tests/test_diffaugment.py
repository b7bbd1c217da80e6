import pytest
import torch

from csacgan.methods import ACGAN
from csacgan.methods.ada import AdaptiveAugment
from csacgan.methods.diffaugment import DiffAugment, cutout, translation


def test_translation_shifts_whole_images_and_keeps_gradients():
    torch.manual_seed(0)
    x = torch.full((64, 1, 28, 28), -1.0)
    x[:, :, 10:18, 10:18] = 1.0  # a bright square in the middle
    x.requires_grad_(True)
    y = translation(x)
    assert y.shape == x.shape
    assert torch.allclose((y > 0).sum((1, 2, 3)).float(), torch.full((64,), 64.0))  # nothing is cut off
    moved = [(torch.nonzero(img[0] > 0).float().mean(0) - 13.5).abs().max().item() for img in y.detach()]
    assert max(moved) <= 4 and max(moved) >= 1  # shifts of up to round(28 / 8) = 4 pixels happen
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_cutout_blanks_a_square():
    torch.manual_seed(0)
    x = torch.ones(32, 3, 28, 28)
    y = cutout(x)
    blanked = (y == -1).all(1).sum((1, 2))
    assert (blanked > 0).all() and (blanked <= 14 * 14).all()


def test_no_policy_is_the_identity_and_bad_policy_is_an_error():
    x = torch.randn(4, 1, 28, 28)
    assert torch.equal(DiffAugment(None)(x), x) and not DiffAugment("")
    with pytest.raises(ValueError, match="unknown DiffAugment policy"):
        ACGAN(10, diffaugment="flip")


def test_a_probability_below_one_augments_each_image_on_its_own_draw():
    torch.manual_seed(0)
    x = torch.ones(2000, 1, 8, 8)
    assert torch.equal(DiffAugment("cutout", probability=0.0)(x), x)
    changed = (DiffAugment("cutout", probability=0.25)(x) != x).flatten(1).any(1).float().mean()
    assert 0.22 < changed < 0.28  # cutout touches every image it is applied to


def test_ada_moves_p_towards_its_target_by_the_images_seen():
    ada = AdaptiveAugment(target=0.6, interval=2, speed_images=100)
    confident = torch.full((10,), 3.0)  # sign(D(real)) = 1 > 0.6: D overfits, p must grow
    ada.observe(confident)
    assert ada.probability == 0.0  # moved only every `interval` steps
    ada.observe(confident)
    assert ada.probability == pytest.approx(20 / 100)  # 2 steps x 10 images / 100
    for _ in range(4):
        ada.observe(-confident)  # r_t = -1 < 0.6: p shrinks, and never below 0
    assert ada.probability == 0.0
    for _ in range(40):
        ada.observe(confident)
    assert 0.99 < ada.probability < 1.0
    saved = ada.state_dict()
    again = AdaptiveAugment(target=0.6, interval=2, speed_images=100)
    again.load_state_dict(saved)
    assert again.state_dict() == saved and again.policy == ["translation", "cutout"]
    with pytest.raises(ValueError, match="0 < target < 1"):
        AdaptiveAugment(target=1.5)


@pytest.mark.parametrize("method", ["acgan", "bagan"])
def test_every_method_feeds_ada_its_real_logits(method):
    from csacgan.methods import build_method
    from csacgan.nets import Discriminator
    torch.manual_seed(0)
    m = build_method(method, 10, ada_target=0.6)
    D = Discriminator(num_classes=11 if method == "bagan" else 10)
    real, fake = torch.randn(8, 1, 28, 28), torch.randn(8, 1, 28, 28)
    labels = torch.randint(0, 10, (8,))
    _, stats = m.discriminator_loss(D, real, labels, fake, labels)
    assert stats["ada_p"] == 0.0 and m.augment.steps == 1 and m.augment.seen == 8
    assert "ada" in m.state_dict()
