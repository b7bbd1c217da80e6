"""The residual network family, the ACGAN family's class losses (TAC, D2D-CE), gSR, and the
colour metrics (hue spread, the real-against-real reference)."""
import math

import pytest
import torch
import torch.nn.functional as F

from csacgan.methods import ACGAN, CostSensitiveACGAN, build_method
from csacgan.methods.class_losses import data_to_data_cross_entropy
from csacgan.methods.regularizers import group_spectral_norm
from csacgan.nets import (DiscriminatorOutput, ResNetDiscriminator, ResNetGenerator, discriminator_from_config,
                          generator_from_config, network_arguments)


@pytest.mark.parametrize("shape", [(3, 32, 32), (1, 28, 28), (3, 64, 64)])
def test_residual_networks_draw_and_judge_every_size_and_rebuild_from_their_config(shape):
    torch.manual_seed(0)
    g_args, d_args = network_arguments(5, shape, g_channels=[16], d_channels=[16], architecture="resnet")
    G, D = generator_from_config(g_args), discriminator_from_config(d_args)
    assert isinstance(G, ResNetGenerator) and isinstance(D, ResNetDiscriminator)
    z, y = torch.randn(6, 100), torch.arange(6) % 5
    x = G(z, y)
    assert x.shape == (6, *shape) and x.abs().max() <= 1
    source, classes = D(x)
    assert source.shape == (6,) and classes.shape == (6, 5)
    G2, D2 = generator_from_config(G.config), discriminator_from_config(D.config)
    G2.load_state_dict(G.state_dict())
    D2.load_state_dict(D.state_dict())
    G.eval(), G2.eval(), D.eval(), D2.eval()
    assert torch.equal(G(z, y), G2(z, y)) and torch.equal(D(x)[1], D2(x)[1])


def test_the_generator_is_class_conditional_through_its_batchnorm_and_d_is_spectrally_normalised():
    torch.manual_seed(0)
    G = ResNetGenerator(3, 8, 3, 32, channels=8, conditioning="embedding").eval()
    with torch.no_grad():
        G.blocks[0].bn1.gain.weight[1] += 1.0  # class 1 alone gets another gain
    z = torch.randn(2, 8)
    a, b = G(z, torch.tensor([0, 0])), G(z, torch.tensor([1, 1]))
    assert not torch.allclose(a, b)
    assert torch.equal(G(z, torch.tensor([0, 2])), G(z, torch.tensor([0, 2])))
    D = ResNetDiscriminator(3, 3, 32, channels=8)
    assert all(hasattr(m, "parametrizations") for m in D.modules() if isinstance(m, torch.nn.Conv2d))
    # BigGAN's shared embedding: each block's gain and bias read the class and a chunk of the noise
    G = ResNetGenerator(3, 16, 3, 32, channels=8).eval()
    assert G.chunks == [4, 4, 4, 4] and G.blocks[0].bn1.gain.in_features == 64 + 4
    with torch.no_grad():
        G.blocks[1].bn1.gain.weight.normal_()
    z = torch.randn(1, 16).repeat(2, 1)
    z[1, 8:12] += 1.0  # only block 1's chunk differs
    x = G(z, torch.tensor([0, 0]))
    assert not torch.allclose(x[0], x[1])


def test_auto_picks_the_papers_choices_for_grey_images_and_the_colour_studys_for_colour_ones():
    from csacgan.config import COLOUR_CHOICES, COLOUR_MODE_SEEKING, TrainConfig, resolve_auto
    grey, line = resolve_auto(TrainConfig(dataset="npz"), (1, 28, 28))
    assert line is None and (grey.method, grey.architecture, grey.class_loss) == ("cs-acgan", "table2", "ce")
    colour, line = resolve_auto(TrainConfig(dataset="npz"), (3, 32, 32))
    assert (colour.method, colour.architecture, colour.mode_seeking) == (
        COLOUR_CHOICES["method"], COLOUR_CHOICES["architecture"], COLOUR_MODE_SEEKING)
    assert line.startswith(f"colour images: --method {colour.method} --architecture {colour.architecture}")
    named, line = resolve_auto(TrainConfig(dataset="npz", method="cs-acgan"), (3, 32, 32))
    assert named.class_loss == COLOUR_CHOICES["class_loss"] and named.mode_seeking == 0  # asked for by name
    given, line = resolve_auto(TrainConfig(dataset="npz", method="bagan", g_channels=[8, 8, 8, 8, 8]), (3, 32, 32))
    assert (given.architecture, given.class_loss) == ("table2", "ce")
    assert TrainConfig(dataset="mnist").resolved().method == "cs-acgan"  # the built-in grey sets: before loading
    with pytest.raises(ValueError, match="takes no option temperature"):
        resolve_auto(TrainConfig(dataset="npz", method_options={"temperature": 0.5}), (3, 32, 32))
    with pytest.raises(ValueError, match="one width"):
        network_arguments(3, (3, 32, 32), g_channels=[8, 8], architecture="resnet")
    with pytest.raises(ValueError, match="5 widths"):
        network_arguments(3, (3, 32, 32), g_channels=[8], architecture="table2")


def test_the_projection_term_makes_the_source_logit_depend_on_the_label():
    torch.manual_seed(0)
    D = ResNetDiscriminator(4, 3, 32, channels=8, projection=True).eval()
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    a = D.outputs(x, torch.tensor([0, 1, 2])).source
    b = D.outputs(x, torch.tensor([3, 3, 3])).source
    assert not torch.allclose(a, b)
    assert torch.equal(D.outputs(x).classes, D.outputs(x, torch.tensor([3, 3, 3])).classes)


def test_d2d_ce_on_a_constructed_case():
    # two images of two classes, orthogonal, each on its own proxy: the positive term is 0
    # (cosine 1 >= m_p) and the negative one 0 (cosine 0 <= m_n): loss log(1 + e^0) = log 2
    f = torch.eye(2)
    loss = data_to_data_cross_entropy(f, f, torch.tensor([0, 1]))
    assert torch.allclose(loss, torch.full((2,), math.log(2)))
    # an image of the same class is never a negative: alone with its proxy the loss is 0
    assert torch.allclose(data_to_data_cross_entropy(torch.eye(2)[[0, 0]], f, torch.tensor([0, 0])),
                          torch.zeros(2), atol=1e-6)
    # far from its proxy (cosine 0): a = 0.98 / 0.5; negatives identical to it: b = 0.98 / 0.5
    f = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    proxies = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    a = 0.98 / 0.5
    expected = a + math.log(math.exp(-a) + math.exp(a))
    assert torch.allclose(data_to_data_cross_entropy(f, proxies, torch.tensor([0, 1])), torch.full((2,), expected))


def _batch(shape=(3, 32, 32), n=16, K=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, *shape, generator=g) * 2 - 1, torch.randint(K, (n,), generator=g),
            torch.rand(n, *shape, generator=g) * 2 - 1, torch.randint(K, (n,), generator=g))


@pytest.mark.parametrize("class_loss", ["ce", "tac", "d2d-ce"])
@pytest.mark.parametrize("architecture", ["table2", "resnet"])
def test_uniform_costs_give_exactly_acgan_for_every_class_loss(class_loss, architecture):
    g_args, d_args = network_arguments(4, (3, 32, 32), g_channels=[8] if architecture == "resnet" else None,
                                       d_channels=[8] if architecture == "resnet" else None,
                                       architecture=architecture)
    acgan, cs = ACGAN(4, class_loss=class_loss), CostSensitiveACGAN(4, class_loss=class_loss)
    torch.manual_seed(0)
    _, D = acgan.build_networks(g_args, d_args)
    D.eval()
    real, labels, fake, fake_labels = _batch()
    d_a, _ = acgan.discriminator_loss(D, real, labels, fake, fake_labels)
    d_c, _ = cs.discriminator_loss(D, real, labels, fake, fake_labels)
    g_a, _ = acgan.generator_loss(D, fake, fake_labels)
    g_c, _ = cs.generator_loss(D, fake, fake_labels)
    assert torch.equal(d_a, d_c) and torch.equal(g_a, g_c)
    cs.class_costs.update(torch.tensor([1.0, 0.0, 0.0, 0.0]))  # the costs weigh this class loss too
    d_w, _ = cs.discriminator_loss(D, real, labels, fake, fake_labels)
    g_w, _ = cs.generator_loss(D, fake, fake_labels)
    assert not torch.equal(d_a, d_w) and not torch.equal(g_a, g_w)


def test_tac_trains_the_twin_on_generated_images_and_g_maximises_its_cross_entropy():
    torch.manual_seed(0)
    tac = ACGAN(4, class_loss="tac", fake_class_loss_in_d=False)
    _, D = tac.build_networks(*network_arguments(4, (3, 32, 32), g_channels=[8], d_channels=[8],
                                                 architecture="resnet"))
    D.eval()
    real, labels, fake, fake_labels = _batch()
    out = D.outputs(fake, fake_labels)
    ce = lambda logits, y: F.cross_entropy(logits.float(), y)  # noqa: E731
    g, _ = tac.generator_loss(D, fake, fake_labels)
    source = F.binary_cross_entropy_with_logits(out.source, torch.ones(16))
    assert torch.allclose(g, source + ce(out.classes, fake_labels) - ce(out.twin, fake_labels), atol=1e-5)
    d, stats = tac.discriminator_loss(D, real, labels, fake, fake_labels)
    real_out = D.outputs(real, labels)
    assert math.isclose(stats["d_class_loss"], (ce(real_out.classes, labels) + ce(out.twin, fake_labels)).item(),
                        rel_tol=1e-4)


def test_bagan_takes_the_residual_networks_and_refuses_another_class_loss():
    g_args, d_args = network_arguments(3, (3, 32, 32), g_channels=[8], d_channels=[8], architecture="resnet")
    bagan = build_method("bagan", 3)
    G, D = bagan.build_networks(g_args, d_args)
    assert G.config["decoder_kind"] == "resnet" and D.config["num_classes"] == 4
    assert type(generator_from_config(G.config).decoder) is ResNetGenerator
    from csacgan.nets.bagan_nets import encoder_for
    encoder = encoder_for(D, 100)
    assert encoder(torch.zeros(2, 3, 32, 32)).shape == (2, 100)
    D.body.load_state_dict(encoder.body.state_dict())  # BAGAN's D starts as the encoder
    with pytest.raises(ValueError, match="ACGAN family"):
        build_method("bagan", 3, class_loss="tac")


def test_group_spectral_norm_is_zero_at_initialisation_and_exact_on_a_constructed_case():
    G = ResNetGenerator(2, 8, 3, 32, channels=32, conditioning="embedding")
    assert group_spectral_norm(G).item() == 0.0
    with torch.no_grad():
        G.blocks[0].bn1.gain.weight[0] += 1.0  # class 0's offset: all ones, as a 16 x 2 matrix: sigma = sqrt(32)
    # averaged over the 2 classes, summed over the gains and biases of every layer
    assert math.isclose(group_spectral_norm(G).item(), math.sqrt(32) / 2, rel_tol=1e-5)
    shared = ResNetGenerator(2, 8, 3, 32, channels=32)  # the classes' part of BigGAN's linear gains
    gains, biases = shared.class_parameters()[0]
    assert gains.shape == biases.shape == (2, 32) and group_spectral_norm(shared).item() > 0


def test_discriminator_outputs_split_per_batch_keeps_the_proxies_whole():
    from csacgan.methods.acgan import split
    out = DiscriminatorOutput(torch.arange(4.0), torch.ones(4, 3), embedding=torch.ones(4, 2),
                              proxies=torch.zeros(3, 2))
    real, fake = split(out, 1)
    assert real.source.tolist() == [0.0] and fake.source.tolist() == [1.0, 2.0, 3.0]
    assert real.proxies.shape == fake.proxies.shape == (3, 2) and fake.embedding.shape == (3, 2)
    assert real.twin is None


def _context(train_counts, test_counts, generated):
    from types import SimpleNamespace

    from csacgan.metrics import EvalContext

    def images(counts, offset):  # image i of a split: every pixel = its index, to tell images apart
        labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
        return (torch.arange(len(labels)) + offset).view(-1, 1, 1, 1).expand(-1, 3, 2, 2).clone(), labels
    train_images, train_labels = images(train_counts, 0)
    test_images, test_labels = images(test_counts, 10_000)
    data = SimpleNamespace(train_images=train_images, train_labels=train_labels, test_images=test_images,
                           test_labels=test_labels, num_classes=len(train_counts), name="constructed")
    labels = torch.arange(len(train_counts)).repeat_interleave(generated)
    return EvalContext(data=data, evaluator=None, images=torch.zeros(len(labels), 3, 2, 2), labels=labels)


def test_the_real_reference_counts_as_many_images_as_the_generated_side_and_never_scores_an_image_against_itself():
    from csacgan.metrics.fid import reference_split
    # class 0 has 100 training images, class 1 (rare) 5: its reference is half its 40 test images
    ctx = _context([100, 5], [40, 40], generated=20)
    ref = reference_split(ctx)
    assert ref.counts == [20, 20]
    assert ref.labels.tolist() == [0] * 20 + [1] * 20
    assert (ref.images[:20] < 10_000).all()  # class 0: training images
    stats = ctx.data.test_images[ref.statistics][:, 0, 0, 0]
    assert len(set(stats.tolist()) & set(ref.images[20:, 0, 0, 0].tolist())) == 0  # disjoint halves
    assert (ctx.data.test_labels[ref.statistics] == 0).sum() == 40  # class 0's whole test split
    assert (ctx.data.test_labels[ref.statistics] == 1).sum() == 20
    # few test images too: the halves are as large as the data allow
    assert reference_split(_context([100, 5], [40, 6], generated=20)).counts == [20, 3]


def test_hue_spread_in_evaluate_shows_one_palette_and_the_real_spread_beside_it():
    from csacgan.metrics.hue_spread import hue_spread
    from matplotlib.colors import hsv_to_rgb
    ctx = _context([10, 10], [60, 60], generated=60)
    wheel = torch.from_numpy(hsv_to_rgb([[h / 60, 0.8, 0.9] for h in range(60)])).float()
    garments = torch.full((60, 3, 8, 8), 0.1)
    garments[:, :, 2:6, 2:6] = wheel[:, :, None, None]
    ctx.data.test_images = (garments.repeat(2, 1, 1, 1) * 255).round().to(torch.uint8)
    one = garments.clone()
    one[:, :, 2:6, 2:6] = wheel[:1, :, None, None]
    ctx.images = (torch.cat([one, garments]) * 255).round().to(torch.uint8)
    out = hue_spread(ctx)
    assert out["per_class"]["0"] < 1e-3 and out["per_class"]["1"] > 0.95
    assert out["real"]["per_class"]["0"] > 0.95
    # chroma: the wheel's colours (saturation 0.8, value 0.9): 0.72; washed out to grey: near 0
    assert math.isclose(out["chroma"]["per_class"]["1"], 0.72, abs_tol=0.01)
    washed = garments.clone()
    washed[:, :, 2:6, 2:6] = 0.8 + 0.02 * wheel[:, :, None, None]
    ctx.images = (torch.cat([washed, garments]) * 255).round().to(torch.uint8)
    out = hue_spread(ctx)
    assert out["per_class"]["0"] > 0.5 and out["chroma"]["per_class"]["0"] < 0.03  # spread of noise, no colour
    grey = _context([10], [10], generated=10)
    grey.images = torch.zeros(10, 1, 4, 4, dtype=torch.uint8)
    assert math.isnan(hue_spread(grey)["per_class"]["0"])


@pytest.mark.parametrize("options", [dict(method="cs-acgan", class_loss="tac", gsr=0.1),
                                     dict(method="acgan", class_loss="d2d-ce", d_projection=True),
                                     dict(method="bagan"), dict(architecture="auto")])
def test_colour_runs_of_every_family_train_resume_and_generate(tmp_path, capsys, options):
    import json

    import numpy as np

    from csacgan.config import TrainConfig
    from csacgan.generate import generate
    from csacgan.train import resume, train
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], [8, 24, 24])
    images = (rng.random((len(labels), 32, 32, 3)) * 80 + labels[:, None, None, None] * 60).astype(np.uint8)
    np.savez(tmp_path / "colour.npz", images=images, labels=labels)
    auto = options.get("architecture") == "auto"
    widths = {} if auto else dict(architecture="resnet", g_channels=[8], d_channels=[8])
    cfg = TrainConfig(out=str(tmp_path / "run"), dataset="npz", data_dir=str(tmp_path / "colour.npz"), epochs=1,
                      max_steps=3, batch_size=8, progress=False,
                      method_options={"autoencoder_epochs": 1} if options.get("method") == "bagan" else {},
                      **{**widths, **options})
    run = train(cfg)
    err = capsys.readouterr().err
    recorded = json.loads((run / "config.json").read_text())["config"]
    assert recorded["architecture"] != "auto" and recorded["class_loss"] != "auto"  # recorded resolved
    assert ("colour images: --method bagan --architecture table2" in err) == auto
    resume(run, max_steps=4)
    assert "colour images" not in capsys.readouterr().err  # resolved once, recorded
    generate(run, 0, 4, tmp_path / "g.npz")
    assert np.load(tmp_path / "g.npz")["images"].shape == (4, 32, 32, 3)
