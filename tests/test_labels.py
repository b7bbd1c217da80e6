"""The classes the generator is asked for in training (uniform or the class prior p_c)."""
import json

import pytest
import torch

from conftest import tiny_config
from csacgan.config import TrainConfig
from csacgan.data.batches import GeneratedLabels
from csacgan.train import Trainer, resume, train


def test_class_prior_draws_follow_the_training_set_class_distribution():
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate([5000, 250, 1000])])
    sampler = GeneratedLabels(labels, 3, "class-prior")
    drawn = sampler.draw(200_000, torch.Generator().manual_seed(0))
    observed = torch.bincount(drawn, minlength=3).double() / len(drawn)
    expected = torch.tensor([5000, 250, 1000], dtype=torch.float64) / 6250
    # 200k draws: the standard error of a proportion is below 0.0012.
    assert torch.allclose(observed, expected, atol=0.005), observed
    assert torch.equal(sampler.probabilities, expected)


def test_uniform_draws_are_uniform_and_keep_the_old_random_stream():
    labels = torch.cat([torch.zeros(26, dtype=torch.long), torch.ones(5000, dtype=torch.long)])
    drawn = GeneratedLabels(labels, 2, "uniform").draw(1000, torch.Generator().manual_seed(3))
    assert torch.equal(drawn, torch.randint(2, (1000,), generator=torch.Generator().manual_seed(3)))


def test_an_unknown_distribution_is_refused():
    with pytest.raises(ValueError, match="fake_labels must be one of"):
        GeneratedLabels(torch.zeros(4, dtype=torch.long), 2, "balanced")


def test_recipes_choose_the_distribution_and_an_explicit_option_wins():
    assert TrainConfig(recipe="paper").resolved().fake_labels == "class-prior"
    assert TrainConfig(recipe="balanced").resolved().fake_labels == "uniform"
    assert TrainConfig(recipe="paper", fake_labels="uniform").resolved().fake_labels == "uniform"


def test_the_default_recipe_adds_the_ema_of_g_and_the_others_leave_it_off():
    default = TrainConfig().resolved()
    assert (default.recipe, default.g_ema, default.d_spectral_norm) == ("stable", 0.999, False)
    assert (default.sampling, default.fake_labels, default.fake_class_loss_in_d) == ("class-balanced", "uniform", False)
    for recipe in ("balanced", "paper"):  # the paper as written; balanced as its published studies ran
        cfg = TrainConfig(recipe=recipe).resolved()
        assert (cfg.g_ema, cfg.d_spectral_norm) == (0.0, False)
    chosen = TrainConfig(g_ema=0.0, d_spectral_norm=True).resolved()
    assert (chosen.g_ema, chosen.d_spectral_norm) == (0.0, True)  # an explicit option wins
    # a config.json written before the EMA followed the recipe lacks nothing it needs
    old = TrainConfig(recipe="balanced").resolved().to_dict()
    del old["g_ema"]
    assert TrainConfig.from_dict(old).resolved() == TrainConfig(recipe="balanced").resolved()


def test_training_asks_for_classes_in_proportion_and_records_it(tmp_path, synthetic_path, monkeypatch):
    cfg = tiny_config(tmp_path, synthetic_path, recipe="paper", imbalance_ratio=4.0, max_per_class=400).resolved()
    seen = []
    trainer = Trainer(cfg, tmp_path / "run")
    draw = trainer.fake_labels.draw
    monkeypatch.setattr(trainer.fake_labels, "draw", lambda n, g: seen.append(draw(n, g)) or seen[-1])
    for _ in range(40):
        trainer.train_step()
    counts = torch.bincount(torch.cat(seen), minlength=10)
    # class 0 holds 100 of 3700 training images: expected 17 of 640 asked-for labels.
    assert counts[0] < 0.5 * counts[1:].float().mean(), counts
    run = train(tiny_config(tmp_path / "b", synthetic_path, recipe="paper"))
    assert json.loads((run / "config.json").read_text())["config"]["fake_labels"] == "class-prior"


def test_a_run_from_before_the_option_resumes_with_uniform_labels(tmp_path, synthetic_path):
    from csacgan.checkpoint import CHECKPOINT, load_checkpoint
    from csacgan.files import atomic_save
    run = train(tiny_config(tmp_path, synthetic_path, recipe="paper", fake_labels="uniform", epochs=1, max_steps=3))
    ckpt = load_checkpoint(run)
    del ckpt["config"]["fake_labels"]  # as written before the option existed
    atomic_save(ckpt, run / CHECKPOINT)
    resume(run, max_steps=5)
    assert json.loads((run / "config.json").read_text())["config"]["fake_labels"] == "uniform"


def test_method_options_have_their_own_namespace_and_old_configs_migrate():
    cfg = TrainConfig(method="cs-acgan", method_options={"temperature": 0.1}).resolved()
    assert cfg.method_options == {"temperature": 0.1, "momentum": 1.0, "error_source": "real",
                                  "fake_per_class": 500, "costs_in": "both", "update_every": 0,
                                  "held_out_fraction": 0.1, "classifier_steps": 600}
    assert TrainConfig(method="acgan").resolved().method_options == {}
    with pytest.raises(ValueError, match="--method acgan takes no option temperature"):
        TrainConfig(method="acgan", method_options={"temperature": 0.1}).resolved()
    with pytest.raises(ValueError, match="cs-acgan option 'momentum' must be a finite number in"):
        TrainConfig(method_options={"momentum": 0}).resolved()
    old = {**TrainConfig(method="acgan").to_dict(), "temperature": 1.0, "cost_momentum": 1.0,
           "cost_error_source": "real", "autoencoder_epochs": 3}
    del old["method_options"]
    assert TrainConfig.from_dict(old).method_options == {}  # acgan ignored them, as it did then
    old.update(method="cs-acgan", temperature=0.1)
    assert TrainConfig.from_dict(old).method_options == {"temperature": 0.1, "momentum": 1.0, "error_source": "real"}
