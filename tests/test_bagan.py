"""BAGAN: the class-conditional latent, the autoencoder stage, and every method with
every adversarial loss."""
import json

import pytest
import torch

from conftest import tiny_config
from csacgan.checkpoint import load_checkpoint, load_generator
from csacgan.generate import generate
from csacgan.methods import ADVERSARIAL_LOSSES, METHODS
from csacgan.nets.bagan_nets import ClassConditionalGenerator, class_conditional_latent
from csacgan.train import resume, train


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_class_latent_statistics_match_the_codes():
    g = torch.Generator().manual_seed(0)
    d = 4
    # class 0: 500 codes around (3, 0, 0, 0) with a known correlation; class 1: 3 codes (singular)
    mix = torch.tensor([[1.0, 0, 0, 0], [0.8, 0.6, 0, 0], [0, 0, 2.0, 0], [0, 0, 0, 0.5]])
    c0 = torch.randn(500, d, generator=g) @ mix.T + torch.tensor([3.0, 0, 0, 0])
    c1 = torch.randn(3, d, generator=g) - 5
    codes, labels = torch.cat([c0, c1]), torch.tensor([0] * 500 + [1] * 3)
    jitter = 1e-3
    means, trils = class_conditional_latent(codes, labels, 2, jitter=jitter)
    assert torch.allclose(means[0], c0.mean(0), atol=1e-5)
    assert torch.allclose(means[1], c1.mean(0), atol=1e-5)
    ridge = jitter * codes.var(0).mean() * torch.eye(d)
    assert torch.allclose(trils[0] @ trils[0].T, torch.cov(c0.T) + ridge, atol=1e-4)
    assert torch.allclose(trils[1] @ trils[1].T, torch.cov(c1.T) + ridge, atol=1e-4)
    assert torch.all(trils[0].triu(1) == 0)

    # the generator's latent, fed N(0, I), has those statistics
    G = ClassConditionalGenerator(num_classes=2, latent_dim=d, channels=(8, 4, 4, 4, 4))
    G.set_class_latent(means, trils)
    z = torch.randn(20000, d, generator=g)
    latent = G.latent(z, torch.zeros(20000, dtype=torch.long))
    assert torch.allclose(latent.mean(0), means[0], atol=0.05)
    assert torch.allclose(torch.cov(latent.T), torch.cov(c0.T) + ridge, atol=0.12)


def test_class_without_images_is_a_clear_error():
    with pytest.raises(ValueError, match="class 2 has no images"):
        class_conditional_latent(torch.randn(10, 3), torch.tensor([0] * 5 + [1] * 5), 3)


def test_autoencoder_reconstruction_improves_and_is_reused(tmp_path, synthetic_path):
    cfg = tiny_config(tmp_path, synthetic_path, method="bagan", method_options={"autoencoder_epochs": 3}, max_steps=1,
                      max_per_class=200, imbalance_ratio=10, batch_size=32)
    run = train(cfg)
    stage = json.loads((run / "log.jsonl").read_text().splitlines()[0])
    losses = stage["autoencoder_losses"]
    assert stage["autoencoder"] == "trained" and len(losses) == 3
    assert losses[-1] < 0.8 * losses[0], losses
    assert (run / "autoencoder.pt").is_file()
    # a second run on the same data and seed reuses the cached autoencoder
    again = train(tiny_config(tmp_path / "again", synthetic_path, method="bagan", method_options={"autoencoder_epochs": 3},
                              max_steps=1, max_per_class=200, imbalance_ratio=10, batch_size=32,
                              adversarial_loss="hinge"))
    stage2 = json.loads((again / "log.jsonl").read_text().splitlines()[0])
    assert stage2["autoencoder"].startswith("reused") and stage2["autoencoder_losses"] == losses


@pytest.mark.parametrize("loss", ADVERSARIAL_LOSSES)
@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_trains_with_every_adversarial_loss(tmp_path, synthetic_path, method, loss):
    run = train(tiny_config(tmp_path, synthetic_path, method=method, adversarial_loss=loss,
                            method_options={"autoencoder_epochs": 1} if method == "bagan" else {},
                            max_per_class=200, max_steps=4))
    ckpt = load_checkpoint(run)
    assert ckpt["global_step"] == 4
    assert all(torch.isfinite(v).all() for v in ckpt["generator"].values() if v.is_floating_point())
    out = generate(run, 0, 12, tmp_path / "zeros.npz")
    import numpy as np
    images = np.load(out)["images"]
    assert images.shape == (12, 28, 28) and images.std() > 0


def test_bagan_checkpoint_rebuilds_its_class_latent_and_resumes(tmp_path, synthetic_path):
    run = train(tiny_config(tmp_path, synthetic_path, method="bagan", method_options={"autoencoder_epochs": 1},
                            max_per_class=200, max_steps=3))
    G, ckpt = load_generator(run)
    assert isinstance(G, ClassConditionalGenerator)
    classes = [v for k, v in ckpt["discriminator"].items() if k.startswith("heads.classes.") and v.dim() == 2]
    assert [w.shape[0] for w in classes] == [11]  # K classes + "fake" (the weight, spectrally normalised or not)
    means = G.class_means.clone()
    assert means.abs().sum() > 0 and not torch.allclose(means[0], means[1])
    resume(run, max_steps=6)
    G2, ckpt2 = load_generator(run)
    assert ckpt2["global_step"] == 6
    assert torch.equal(G2.class_means, means)  # fitted once, kept by the checkpoint
