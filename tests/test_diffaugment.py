import pytest
import torch

from csacgan.methods import ACGAN
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
