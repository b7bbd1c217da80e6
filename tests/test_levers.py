"""The levers for GANs on little data: each on its own, on the synthetic digits."""
import pytest
import torch

from conftest import tiny_config
from csacgan.checkpoint import load_checkpoint, load_generator
from csacgan.methods.regularizers import LeCam
from csacgan.nets import Discriminator
from csacgan.train import Trainer, resume, train


def test_generator_ema_is_the_average_and_is_what_samplers_use(tmp_path, synthetic_path):
    cfg = tiny_config(tmp_path, synthetic_path, g_ema=0.9, max_steps=3).resolved()
    trainer = Trainer(cfg, tmp_path / "run")
    expected = None
    for t in range(3):  # the decay warms up: min(0.9, (1 + t) / (10 + t)) at step t
        trainer.train_step()
        w = trainer.G.fc.weight.detach().clone()
        decay = min(0.9, (1 + t) / (10 + t))
        expected = w if expected is None else decay * expected + (1 - decay) * w
        trainer.global_step += 1
    assert torch.allclose(trainer.G_ema.module.fc.weight, expected, atol=1e-6)
    assert not torch.equal(trainer.G_ema.module.fc.weight, trainer.G.fc.weight)
    trainer.global_step = 1000  # warmed up: the decay asked for
    trainer.train_step()
    expected = 0.9 * expected + 0.1 * trainer.G.fc.weight.detach()
    assert torch.allclose(trainer.G_ema.module.fc.weight, expected, atol=1e-6)
    run = train(tiny_config(tmp_path / "b", synthetic_path, g_ema=0.9, max_steps=4))
    ckpt = load_checkpoint(run)
    generator, _ = load_generator(run)
    assert torch.equal(generator.fc.weight, ckpt["generator_ema"]["fc.weight"])
    assert not torch.equal(generator.fc.weight, ckpt["generator"]["fc.weight"])


def test_the_ema_changes_nothing_in_training_and_its_raw_weights_are_scored_apart(tmp_path, synthetic_path):
    import json

    from csacgan.evaluate import evaluate
    plain = train(tiny_config(tmp_path / "plain", synthetic_path, g_ema=0.0, max_steps=4))
    kept = train(tiny_config(tmp_path / "ema", synthetic_path, g_ema=0.9, max_steps=4))
    raw, _ = load_generator(kept, weights="raw")
    for name, value in load_generator(plain)[0].state_dict().items():  # bit for bit the run without the EMA
        assert torch.equal(raw.state_dict()[name], value), name
    with pytest.raises(ValueError, match="weights"):
        load_generator(kept, weights="average")
    options = dict(metrics=["classifier_accuracy"], n_per_class=4, evaluator_epochs=0.05, evaluator_subset=200,
                   progress=False)
    evaluate(kept, **options)
    evaluate(kept, weights="raw", **options)
    evaluate(plain, weights="raw", **options)  # no EMA kept: raw is what it draws, into metrics.json
    ema_report, raw_report = (json.loads((kept / f).read_text()) for f in ("metrics.json", "metrics-raw.json"))
    assert (ema_report["weights"], raw_report["weights"]) == ("ema", "raw")
    assert raw_report["metrics"] == json.loads((plain / "metrics.json").read_text())["metrics"]
    assert not (plain / "metrics-raw.json").exists()


def test_every_lever_together_resumes_exactly(tmp_path, synthetic_path):
    levers = dict(g_ema=0.99, d_spectral_norm=True, lecam=0.3, ada_target=0.6, lr_d=4e-4, lr_g=1e-4, method="cs-acgan",
                  max_per_class=40, imbalance_ratio=4, epochs=2, max_steps=None)
    straight = train(tiny_config(tmp_path / "a", synthetic_path, **levers))
    part = train(tiny_config(tmp_path / "b", synthetic_path, **{**levers, "max_steps": 30}))
    resumed = resume(part, max_steps=10_000)
    a, b = load_checkpoint(straight), load_checkpoint(resumed)
    for key in ("generator", "generator_ema", "discriminator"):
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), (key, name)
    assert a["method"]["lecam"]["anchor_real"] == b["method"]["lecam"]["anchor_real"]
    assert a["method"]["ada"] == b["method"]["ada"] and a["method"]["ada"]["probability"] > 0
    assert a["opt_d"]["param_groups"][0]["lr"] == 4e-4 and a["opt_g"]["param_groups"][0]["lr"] == 1e-4


def test_spectral_norm_bounds_every_layer_of_the_discriminator():
    torch.manual_seed(0)
    D = Discriminator(spectral_norm=True).train()
    for _ in range(20):  # power iterations run in training passes
        D(torch.randn(4, 1, 28, 28))
    convs = [m for m in D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 4 and all(hasattr(m, "parametrizations") for m in convs)
    for m in convs + [D.heads.source, D.heads.classes]:
        sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2)
        assert sigma < 1.05, sigma
    rebuilt = Discriminator(**D.config)
    rebuilt.load_state_dict(D.state_dict())  # a checkpoint rebuilds it from its config


def test_lecam_pulls_each_side_towards_the_other_anchor():
    reg = LeCam(weight=2.0, decay=0.5)
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, -3.0])
    first = reg(real, fake)  # anchors start at the first means: a_R = 2, a_F = -2
    assert first.item() == pytest.approx(2.0 * (((1 + 2) ** 2 + (3 + 2) ** 2) / 2 + ((-1 - 2) ** 2 + (-3 - 2) ** 2) / 2))
    reg(torch.tensor([0.0]), torch.tensor([0.0]))
    assert reg.anchor_real.item() == pytest.approx(1.0) and reg.anchor_fake.item() == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        LeCam(weight=-1)


def test_online_costs_resume_exactly(tmp_path, synthetic_path):
    options = dict(method="cs-acgan", method_options={"update_every": 7, "error_source": "both", "costs_in": "g"},
                   max_per_class=40, imbalance_ratio=4, epochs=2, max_steps=None)
    straight = train(tiny_config(tmp_path / "a", synthetic_path, **options))
    resumed = resume(train(tiny_config(tmp_path / "b", synthetic_path, **{**options, "max_steps": 30})),
                     max_steps=10_000)
    a, b = load_checkpoint(straight)["method"], load_checkpoint(resumed)["method"]
    assert torch.equal(a["class_costs"]["costs"], b["class_costs"]["costs"])
    assert not torch.equal(a["class_costs"]["costs"], torch.full((10,), 0.1))  # updated online
    assert all(torch.equal(a["online"][k], b["online"][k]) for k in ("wrong", "total", "errors"))


def test_a_held_out_cost_signal_keeps_its_images_out_of_training(tmp_path, synthetic_path):
    import json
    run = train(tiny_config(tmp_path, synthetic_path, method="cs-acgan", max_per_class=40, imbalance_ratio=4,
                            method_options={"error_source": "held-out"}, epochs=1, max_steps=None))
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["held_out_counts"] == [1] + [4] * 9  # 10% of 10 zeros and of 40 of each other digit
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == (370 - 37) // 16 and len(log[-1]["class_errors"]) == 10
    resume(run, epochs=2)  # the same split again: the kept-indices md5 matches


def test_minibatch_std_sees_a_batch_of_lookalikes_and_never_mixes_real_with_fake():
    from csacgan.nets.acgan_nets import MinibatchStd
    layer = MinibatchStd(4)
    torch.manual_seed(0)
    real = torch.randn(8, 3, 4, 4)
    fake = torch.randn(1, 3, 4, 4).expand(8, 3, 4, 4)  # one image eight times: a collapsed batch
    out = layer(torch.cat([real, fake]))
    assert out.shape == (16, 4, 4, 4) and torch.equal(out[:, :3], torch.cat([real, fake]))
    extra = out[:, 3]
    assert torch.all(extra == extra[:, :1, :1])  # constant over each image
    assert extra[:8].min() > 0.5 and extra[8:].max() < 1e-3  # varied real groups, identical fakes
    expected = real[:4].var(dim=0, unbiased=False).add(1e-8).sqrt().mean()
    assert torch.allclose(extra[0, 0, 0], expected)
    six = layer(real[:6])[:, 3, 0, 0]  # 6 images: groups of 3, within each half
    assert torch.allclose(six[:3], real[:3].var(dim=0, unbiased=False).add(1e-8).sqrt().mean())
    assert torch.allclose(six[3:], real[3:6].var(dim=0, unbiased=False).add(1e-8).sqrt().mean())
    D = Discriminator(in_channels=3, image_size=32, minibatch_std=4)
    assert D.config["minibatch_std"] == 4 and "minibatch_std" not in Discriminator().config
    source, classes = D(torch.randn(10, 3, 32, 32))
    assert source.shape == (10,) and classes.shape == (10, 10)
    rebuilt = Discriminator(**D.config)
    rebuilt.load_state_dict(D.state_dict())


def test_a_run_with_minibatch_std_trains_and_resumes_exactly(tmp_path, synthetic_path):
    opts = dict(d_minibatch_std=4, max_per_class=40, imbalance_ratio=4, epochs=2, max_steps=None)
    straight = train(tiny_config(tmp_path / "a", synthetic_path, **opts))
    part = train(tiny_config(tmp_path / "b", synthetic_path, **{**opts, "max_steps": 5}))
    a, b = load_checkpoint(straight), load_checkpoint(resume(part, max_steps=10_000))
    assert a["discriminator_config"]["minibatch_std"] == 4
    for name in a["discriminator"]:
        assert torch.equal(a["discriminator"][name], b["discriminator"][name]), name
    bagan = train(tiny_config(tmp_path / "c", synthetic_path, **{**opts, "method": "bagan", "max_steps": 3},
                              method_options={"autoencoder_epochs": 1}))
    assert load_checkpoint(bagan)["discriminator_config"]["minibatch_std"] == 4  # its encoder has the same body


def test_mode_seeking_loss_is_the_inverse_distance_ratio_of_pairs():
    from csacgan.methods.regularizers import mode_seeking_loss
    z = torch.randn(6, 4)
    assert mode_seeking_loss(2 * z.view(6, 1, 2, 2), z).item() == pytest.approx(1 / (2 + 1e-5), rel=1e-5)
    same = torch.randn(1, 3, 2, 2).repeat(7, 1, 1, 1)  # every noise gives one image; the 7th is unpaired
    assert mode_seeking_loss(same, torch.randn(7, 4)).item() == pytest.approx(1e5)


def test_mode_seeking_asks_g_for_pairs_of_one_class_and_trains(tmp_path, synthetic_path):
    cfg = tiny_config(tmp_path, synthetic_path, mode_seeking=1.0, max_steps=2).resolved()
    trainer = Trainer(cfg, tmp_path / "run")
    seen, loss = [], trainer.method.generator_loss
    trainer.method.generator_loss = lambda D, fake, labels: (seen.append(labels.clone()), loss(D, fake, labels))[1]
    stats = trainer.train_step()
    labels = seen[0]
    assert torch.equal(labels[0::2], labels[1::2]) and len(labels.unique()) > 1
    assert 0 < stats["g_mode_seeking"] < 1e5
