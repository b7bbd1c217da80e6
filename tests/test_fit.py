"""The classifiers' training (csacgan.fit): a killed training resumes exactly."""
import pytest
import torch
from torch import nn

import csacgan.fit as fit_module
from csacgan.fit import train_classifier


def _data(n=300):
    g = torch.Generator().manual_seed(1)
    labels = torch.arange(n) % 3
    images = (torch.rand(n, 1, 8, 8, generator=g) * 80 + labels.view(-1, 1, 1, 1) * 60).to(torch.uint8)
    return images, labels


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 3))


def test_killed_classifier_training_resumes_exactly(tmp_path, monkeypatch):
    images, labels = _data()
    plain = train_classifier(_model(), images, labels, 3, seed=4, batch_size=32, progress=False)
    checkpoint = tmp_path / "partial.pt"
    uninterrupted = train_classifier(_model(), images, labels, 3, seed=4, batch_size=32, progress=False,
                                     checkpoint=checkpoint, checkpoint_every=5)
    assert not checkpoint.exists(), "the partial checkpoint is removed when training ends"

    saves, real_save = [], fit_module.atomic_save

    def save_then_die(obj, path):
        real_save(obj, path)
        saves.append(obj["step"])
        if len(saves) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(fit_module, "atomic_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_classifier(_model(), images, labels, 3, seed=4, batch_size=32, progress=False,
                         checkpoint=checkpoint, checkpoint_every=5)
    monkeypatch.setattr(fit_module, "atomic_save", real_save)
    assert checkpoint.is_file() and saves == [5, 10]
    resumed = train_classifier(_model(), images, labels, 3, seed=4, batch_size=32, progress=False,
                               checkpoint=checkpoint, checkpoint_every=5)
    for a, b, c in zip(plain.state_dict().values(), uninterrupted.state_dict().values(),
                       resumed.state_dict().values()):
        assert torch.equal(a, b) and torch.equal(a, c)
    # the resumed run did learn: a model trained from scratch is far from it
    assert not torch.equal(_model()[1].weight, resumed[1].weight)


def test_a_checkpoint_of_another_plan_is_not_resumed(tmp_path):
    images, labels = _data()
    checkpoint = tmp_path / "partial.pt"
    torch.save({"plan": [1, 2, 3, 4, 5], "step": 7}, checkpoint)
    trained = train_classifier(_model(), images, labels, 1, seed=4, batch_size=32, progress=False,
                               checkpoint=checkpoint)
    plain = train_classifier(_model(), images, labels, 1, seed=4, batch_size=32, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(trained.state_dict().values(), plain.state_dict().values()))
