"""The fused LeakyReLU-dropout kernel (csacgan/nets/fused.py) against the unfused ops."""
import math
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from csacgan.methods.losses import gradient_penalty
from csacgan.nets import Discriminator, fused, set_channels_last
from csacgan.nets.fast_layers import Dropout

CL = torch.channels_last


@pytest.fixture(scope="module", autouse=True)
def kernel():
    if fused.kernel() is None:
        if shutil.which("g++") or shutil.which("c++"):
            pytest.fail(f"a C++ compiler is here but the kernel did not build: {fused.unavailable_reason()}")
        pytest.skip(f"no C++ compiler: {fused.unavailable_reason()}")


def splitmix64_draws(seed: int, n: int) -> torch.Tensor:
    """The kernel's signed 16-bit draws, recomputed with numpy: word i = mix(seed + (i + 1) * gamma)."""
    i = np.arange(1, (n + 3) // 4 + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed % 2**64) + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return torch.from_numpy(z.view(np.int16)[:n].copy())


def fused_with_seed(x, drop, torch_seed):
    torch.manual_seed(torch_seed)
    seed = torch.empty((), dtype=torch.int64).random_().item()  # what the kernel draws
    torch.manual_seed(torch_seed)
    return fused.leaky_relu_dropout(x, 0.2, drop), seed


@pytest.mark.parametrize("shape,layout", [((64, 32, 16, 16), CL), ((3, 5, 7, 11), torch.contiguous_format),
                                          ((2, 3, 41, 29), CL)])
def test_values_and_gradients_equal_leaky_relu_then_dropout_bitwise_given_the_same_mask(shape, layout):
    torch.manual_seed(0)
    drop = Dropout(0.3)
    x0 = (torch.randn(shape) * 3).to(torch.bfloat16).contiguous(memory_format=layout)
    x0[0, 0] = 0.0  # exact zeros take the negative slope's gradient, as leaky_relu_backward gives them
    x = x0.clone().requires_grad_(True)
    y, seed = fused_with_seed(x, drop, 7)
    assert y.dtype == torch.bfloat16 and y.stride() == x0.stride()
    # the mask in memory order, as the kernel and Dropout both lay it out
    keep = (splitmix64_draws(seed, x0.numel()) >= drop.threshold).as_strided(x0.shape, x0.stride())
    ref_x = x0.clone().requires_grad_(True)
    ref = F.leaky_relu(ref_x, 0.2) * (keep.to(torch.bfloat16) * drop.bf16_scale)
    assert torch.equal(y, ref)
    grad = torch.randn(shape).to(torch.bfloat16).contiguous(memory_format=layout)
    y.backward(grad)
    ref.backward(grad)
    assert torch.equal(x.grad, ref_x.grad)


def test_masks_drop_p_of_the_units_independently_and_follow_torchs_seed():
    drop, n = Dropout(0.3), 1 << 22
    x = torch.ones(n // 1024, 1024, dtype=torch.bfloat16)
    torch.manual_seed(1)
    dropped = fused.leaky_relu_dropout(x, 0.2, drop).flatten() == 0
    p, sigma = drop.drops / 65536, math.sqrt(0.3 * 0.7 / n)
    assert abs(dropped.float().mean().item() - p) < 5 * sigma
    pairs = dropped.view(-1, 4)  # four draws cut from one random word: independent of each other
    both = (pairs[:, 0] & pairs[:, 1]).float().mean().item()
    assert abs(both - p * p) < 5 * math.sqrt(p * p * (1 - p * p) / (n // 4))
    torch.manual_seed(1)
    assert torch.equal(fused.leaky_relu_dropout(x, 0.2, drop).flatten() == 0, dropped)  # same seed, same mask
    assert not torch.equal(fused.leaky_relu_dropout(x, 0.2, drop).flatten() == 0, dropped)


def test_a_gradient_in_another_layout_is_read_in_the_masks_layout():
    torch.manual_seed(0)
    drop = Dropout(0.3)
    x0 = torch.randn(4, 8, 6, 6).to(torch.bfloat16).contiguous(memory_format=CL)
    grad = torch.randn(4, 8, 6, 6).to(torch.bfloat16)  # NCHW
    grads = []
    for g in (grad, grad.contiguous(memory_format=CL)):
        x = x0.clone().requires_grad_(True)
        y, _ = fused_with_seed(x, drop, 3)
        y.backward(g)
        grads.append(x.grad)
    assert torch.equal(grads[0], grads[1])


def test_the_discriminator_fuses_only_in_bf16_training(monkeypatch):
    calls = []
    original = fused.LeakyReLUDropout.apply
    monkeypatch.setattr(fused.LeakyReLUDropout, "apply", lambda *a: calls.append(1) or original(*a))
    torch.manual_seed(0)
    D = set_channels_last(Discriminator())
    x = torch.randn(8, 1, 28, 28)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        source, classes = D(x)
    assert len(calls) == 4  # one per layer
    (source.float().sum() + classes.float().sum()).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in D.parameters())
    calls.clear()
    D(x)  # fp32
    D.eval()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        D(x)
    assert calls == []
    # WGAN-GP's penalty differentiates through the fused backward and reaches D's weights
    D.train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        penalty = gradient_penalty(D, torch.randn(8, 1, 28, 28), torch.randn(8, 1, 28, 28))
    assert len(calls) == 4
    penalty.backward()
    assert D.body[0].weight.grad.abs().sum() > 0


def test_a_second_derivative_through_the_fused_backward_equals_the_unfused_ones():
    """d/dw of ||d/dx sum(w * f(x))||^2 with f the fused operation, against the same
    expression with LeakyReLU and the kernel's own mask written out (bf16 rounding apart)."""
    torch.manual_seed(0)
    drop = Dropout(0.3)
    x0 = (torch.randn(4, 8, 6, 6) * 3).to(torch.bfloat16).contiguous(memory_format=CL)
    w0 = torch.randn(4, 8, 6, 6)
    grads = []
    for use_kernel in (True, False):
        x, w = x0.clone().requires_grad_(True), w0.clone().requires_grad_(True)
        if use_kernel:
            y, seed = fused_with_seed(x, drop, 5)
        else:
            keep = (splitmix64_draws(seed, x0.numel()) >= drop.threshold).as_strided(x0.shape, x0.stride())
            y = F.leaky_relu(x, 0.2) * (keep.to(torch.bfloat16) * drop.bf16_scale)
        gx, = torch.autograd.grad((w * y.float()).sum(), x, create_graph=True)
        gx.float().square().sum().backward()
        grads.append(w.grad)
    assert grads[0].abs().sum() > 0
    torch.testing.assert_close(grads[0], grads[1], rtol=2e-2, atol=1e-2)


def test_without_a_compiler_the_unfused_ops_run_after_one_warning(monkeypatch):
    import torch.utils.cpp_extension as cpp_extension

    def fail(**_):
        raise RuntimeError("Error building extension 'csacgan_leaky_relu_dropout'")
    monkeypatch.setattr(fused, "_kernel", None)
    monkeypatch.setattr(fused, "_unavailable", None)
    monkeypatch.setattr(cpp_extension, "load", fail)
    with pytest.warns(UserWarning, match="unavailable"):
        assert fused.kernel() is None
    assert fused.unavailable_reason().startswith("RuntimeError: Error building extension")
    D = set_channels_last(Discriminator())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        source, classes = D(torch.randn(4, 1, 28, 28))
    (source.float().sum() + classes.float().sum()).backward()
    assert torch.isfinite(D.body[0].weight.grad).all()
