import math

import pytest
import torch
import torch.nn.functional as F

from conftest import tiny_config
from csacgan.nets import build_networks, set_channels_last
from csacgan.nets.fast_layers import Dropout
from csacgan.train import Trainer


def test_dropout_drops_p_of_the_units_independently_and_scales_the_rest():
    torch.manual_seed(0)
    p, n = 0.3, 1 << 22
    drop = Dropout(p)
    x = torch.ones(n, requires_grad=True)
    y = drop(x)
    dropped = y == 0
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs(dropped.float().mean().item() - p) < 5 * sigma
    # each of the four 16-bit draws cut from one random 64-bit word has the same rate...
    per_chunk = dropped.view(-1, 4).float().mean(0)
    assert (per_chunk - p).abs().max().item() < 5 * sigma * 2
    # ...and neighbours are independent: P(both dropped) = p^2
    both = (dropped.view(-1, 4)[:, 0] & dropped.view(-1, 4)[:, 1]).float().mean().item()
    assert abs(both - p * p) < 5 * math.sqrt(p * p * (1 - p * p) / (n // 4))
    assert torch.allclose(y[~dropped], torch.full_like(y[~dropped], 1 / (1 - p)))
    y.sum().backward()
    assert torch.equal(x.grad == 0, dropped)
    # a different mask on the next call; none in eval mode
    assert not torch.equal(drop(torch.ones(4096)) == 0, drop(torch.ones(4096)) == 0)
    drop.eval()
    assert torch.equal(drop(x), x)


def test_dropout_keeps_shape_and_dtype_for_sizes_not_divisible_by_four():
    drop = Dropout(0.3)
    for shape in [(3, 5, 7), (1,), (2, 3)]:
        for dtype in (torch.float32, torch.bfloat16):
            y = drop(torch.ones(shape, dtype=dtype))
            assert y.shape == shape and y.dtype == dtype


@pytest.mark.parametrize("method", ["acgan", "cs-acgan"])
def test_generator_step_ignores_discriminator_gradients(tmp_path, synthetic_path, method):
    """G's update with D frozen equals G's update when D's weight gradients are computed
    too (and thrown away): freezing D during G's backward changes only the speed."""
    cfg = tiny_config(tmp_path, synthetic_path, method=method, precision="fp32", max_per_class=40,
                      imbalance_ratio=4).resolved()
    trainer = Trainer(cfg, tmp_path)
    G0 = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    trainer.train_step()
    assert all(p.requires_grad for p in trainer.D.parameters())
    frozen = {k: v.clone() for k, v in trainer.G.state_dict().items()}

    reference = Trainer(cfg, tmp_path)
    assert all(torch.equal(G0[k], v) for k, v in reference.G.state_dict().items())
    reference.D.requires_grad_ = lambda *_: reference.D  # keep computing D's gradients
    reference.train_step()
    for key, value in reference.G.state_dict().items():
        assert torch.allclose(value, frozen[key], atol=1e-6), key
    assert any(not torch.equal(G0[k], frozen[k]) for k in G0)


def test_dropout_mask_follows_torch_seed_and_is_the_same_in_bf16():
    """The masks' words are seeded from torch's generator (numpy's SFC64 on the CPU):
    the same torch seed gives the same mask; the bf16 mask, built from the scale's bit
    pattern, drops the same units as the fp32 one and keeps bf16(1/(1-p))."""
    drop = Dropout(0.3)
    masks = {}
    for seed, dtype in [(5, torch.float32), (5, torch.bfloat16), (6, torch.float32)]:
        torch.manual_seed(seed)
        masks[seed, dtype] = drop(torch.ones(4, 16, 8, 8, dtype=dtype))
    a, b, c = masks[5, torch.float32], masks[5, torch.bfloat16], masks[6, torch.float32]
    assert torch.equal(a == 0, b == 0) and not torch.equal(a == 0, c == 0)
    assert 0.2 < (a == 0).float().mean().item() < 0.4
    assert torch.equal(b[b != 0], torch.full_like(b[b != 0], 1 / 0.7))  # rounded to bf16 alike
    assert b.dtype == torch.bfloat16


def test_discriminator_heads_read_the_features_in_nchw_order_in_either_layout():
    """D's two heads run as one product on the maps' memory order; same logits and
    gradients as the two heads on the NCHW-flattened features (fp32, eval mode)."""
    torch.manual_seed(0)
    x = torch.randn(6, 1, 28, 28)
    for channels_last in (False, True):
        D = build_networks(10, (1, 28, 28))[1].eval()
        set_channels_last(D, channels_last)
        assert D.feature_maps(x).is_contiguous() != channels_last  # both paths of linear_on_maps
        source, classes = D(x)
        h = torch.nn.Flatten()(D.feature_maps(x))
        assert torch.allclose(source, F.linear(h, D.heads.source.weight, D.heads.source.bias).squeeze(1), atol=1e-5)
        assert torch.allclose(classes, F.linear(h, D.heads.classes.weight, D.heads.classes.bias), atol=1e-5)
        (source.sum() + classes.square().sum()).backward()
        grads = [p.grad.clone() for p in D.parameters()]
        D.zero_grad()
        (F.linear(h, D.heads.source.weight, D.heads.source.bias).sum() + F.linear(h, D.heads.classes.weight, D.heads.classes.bias).square().sum()).backward()
        for g, p in zip(grads, D.parameters()):
            assert torch.allclose(g, p.grad, atol=1e-4)


def test_dropout_keeps_channels_last_layout():
    torch.manual_seed(0)
    x = torch.ones(8, 16, 6, 6).contiguous(memory_format=torch.channels_last)
    y = Dropout(0.3)(x)
    assert y.is_contiguous(memory_format=torch.channels_last) and not y.is_contiguous()
    assert 0.2 < (y == 0).float().mean().item() < 0.4
    # a non-dense view is made contiguous first
    z = Dropout(0.3)(torch.ones(8, 16, 12, 12)[..., ::2, ::2])
    assert z.shape == (8, 16, 6, 6) and 0.2 < (z == 0).float().mean().item() < 0.4


def test_channels_last_networks_compute_the_same_function():
    """Layout is a speed choice only: same weights, same outputs (eval mode, fp32)."""
    torch.manual_seed(0)
    G, D = build_networks(10, (1, 28, 28))
    G.eval(), D.eval()
    z, y = torch.randn(16, 100), torch.arange(16) % 10
    with torch.no_grad():
        images = G(z, y)
        source, classes = D(images)
        set_channels_last(G), set_channels_last(D)
        assert G.body[0].weight.is_contiguous(memory_format=torch.channels_last)
        images_cl = G(z, y)
        source_cl, classes_cl = D(images_cl)
    assert torch.allclose(images, images_cl, atol=1e-5)
    assert torch.allclose(source, source_cl, atol=1e-4) and torch.allclose(classes, classes_cl, atol=1e-4)
    # the state dict loads into a network of either layout
    fresh = build_networks(10, (1, 28, 28))[0].eval()
    fresh.load_state_dict(G.state_dict())
    with torch.no_grad():
        assert torch.allclose(fresh(z, y), images, atol=1e-5)
    set_channels_last(G, False)
    assert G.memory_format == torch.contiguous_format and G.body[0].weight.is_contiguous()


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_checkpoints_from_before_the_layers_were_modules_still_load(spectral_norm):
    """Older discriminators kept body as (conv, LeakyReLU, Dropout) triples and their heads
    as source_head / class_head (the encoder: class_head); their state dicts load as is."""
    from csacgan.nets import Discriminator, Encoder
    torch.manual_seed(0)
    for make, heads in ((lambda: Discriminator(spectral_norm=spectral_norm),
                         {"heads.source.": "source_head.", "heads.classes.": "class_head."}),
                        (lambda: Encoder(latent_dim=7), {"heads.": "class_head."})):
        net, fresh = make(), make()
        old = {}
        for key, value in net.state_dict().items():
            if key.startswith("body."):
                index, rest = key[5:].split(".", 1)
                key = f"body.{int(index) // 2 * 3}.{rest}"
            for new, before in heads.items():
                if key.startswith(new):
                    key = before + key[len(new):]
            old[key] = value
        assert any(k.startswith("body.9.") for k in old)
        fresh.load_state_dict(old)  # strict: every key found
        for (k, a), b in zip(net.state_dict().items(), fresh.state_dict().values()):
            assert torch.equal(a, b), k
