"""LeakyReLU followed by dropout as one operation (the discriminator's activation, CPU, bf16).

Written by hand, in C++ (``leaky_relu_dropout.cpp``, compiled on first use with
torch.utils.cpp_extension and cached), because eager PyTorch runs each step as its own
pass over memory: per layer and training pass, LeakyReLU, the mask's three integer
passes and the multiply forward, the multiply and leaky_relu_backward backward, plus
numpy's random words; and torch.compile's CPU code for these bf16 and int16 loops was
slower than eager (benchmarks/bench.py, docs/benchmarks.md). One loop forward (random
numbers, LeakyReLU, mask, scale; it stores one byte per unit for the backward pass) and
one loop backward were 2.1-2.2x faster than the unfused ops on the discriminator's
activations (2-core Xeon, bf16, channels_last, batch 128), and the whole training step
1.18x faster (30 interleaved rounds).

The values are bitwise those of ``F.leaky_relu`` followed by :class:`~csacgan.nets.fast_layers.Dropout` given the
same mask, forward and backward (tests/test_fused.py); only the random numbers differ:
SplitMix64 (Steele, Lea and Flood 2014) as a counter-based generator seeded by one
64-bit draw of torch's default generator per call, so seeding, checkpoints and resumed
runs see the same masks. It can be differentiated twice (WGAN-GP's penalty). The
unfused path is used on other devices, in fp32, in evaluation mode, under torch.compile,
when ``CSACGAN_FUSED_KERNEL=0``, or when the kernel cannot be built (no C++ compiler: a
warning says so once). :class:`csacgan.nets.fast_layers.LeakyReLUDropout` picks the path.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sys
import warnings
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("leaky_relu_dropout.cpp")
_kernel = None
_unavailable: str | None = None


def _cpu_key() -> str:
    """The CPU's flags, hashed: the kernel is built with -march=native, so a build cache
    shared between different machines must not hand one machine's build to another."""
    try:
        flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("flags")), "")
    except OSError:
        flags = ""
    return hashlib.md5(flags.encode()).hexdigest()[:8]


def _built(name: str) -> bool:
    """Whether torch's extension cache already holds a build of ``name`` (for the message only)."""
    try:
        from torch.utils.cpp_extension import _get_build_directory  # private: a failure only costs the message
        return any(Path(_get_build_directory(name, verbose=False)).glob("*.so"))
    except Exception:
        return False


def kernel():
    """The compiled kernel, or None when it is unavailable (see :func:`unavailable_reason`)."""
    global _kernel, _unavailable
    if _kernel is not None or _unavailable is not None:
        return _kernel
    if os.environ.get("CSACGAN_FUSED_KERNEL", "1") == "0":
        _unavailable = "disabled by CSACGAN_FUSED_KERNEL=0"
        return None
    try:
        cpp_log = logging.getLogger("torch.utils.cpp_extension")
        level = cpp_log.level
        cpp_log.setLevel(logging.ERROR)  # its import warns that a CPU-only machine has no CUDA
        try:
            from torch.utils.cpp_extension import load
        finally:
            cpp_log.setLevel(level)
        name = f"csacgan_leaky_relu_dropout_{_cpu_key()}"
        if not _built(name):
            print("csacgan: compiling the fused LeakyReLU-dropout CPU kernel (once per machine, about 30 s)",
                  file=sys.stderr, flush=True)
        _kernel = load(name=name, sources=[str(SOURCE)], extra_cflags=["-O3", "-march=native", "-fopenmp"])
    except Exception as exc:  # no compiler, no ninja, unsupported platform: the unfused ops still work
        _unavailable = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        warnings.warn(f"csacgan: the fused LeakyReLU-dropout kernel is unavailable ({_unavailable}); "
                      f"using the unfused PyTorch ops (same model, slower training on the CPU)", stacklevel=2)
    return _kernel


def unavailable_reason() -> str | None:
    """Why the kernel is not used (None when it is, or has not been asked for yet)."""
    return _unavailable


def dense(x: torch.Tensor) -> bool:
    """Whether ``x`` is contiguous in NCHW or channels_last order: what a mask laid over its
    flat memory (here and in :class:`csacgan.nets.fast_layers.Dropout`) needs."""
    return x.is_contiguous() or (x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last))


def usable(x: torch.Tensor, dropout) -> bool:
    """Whether the fused operation applies to ``x`` before ``dropout`` (a csacgan Dropout)."""
    return (x.device.type == "cpu" and x.dtype == torch.bfloat16 and dropout.draws_masks()
            and dense(x) and kernel() is not None)


class LeakyReLUDropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, slope: float, threshold: int, scale: float):
        seed = torch.empty((), dtype=torch.int64).random_().item()  # torch's generator: seeded, checkpointed
        y, code = _kernel.forward(x, seed, threshold, scale, slope)
        ctx.save_for_backward(code)
        ctx.slope, ctx.scale = slope, scale
        return y

    @staticmethod
    def backward(ctx, grad):
        code, = ctx.saved_tensors
        if torch.is_grad_enabled():
            # create_graph=True (WGAN-GP's gradient penalty differentiates D's input gradient
            # again): the backward is linear in grad, its factor (0, the scale, or the scale
            # times the slope per unit) computed by the kernel and multiplied in by autograd
            factor = _kernel.backward(torch.ones_like(code, dtype=torch.bfloat16), code, ctx.scale, ctx.slope)
            return grad * factor, None, None, None
        if grad.dtype != torch.bfloat16 or grad.stride() != code.stride():
            grad = torch.empty_like(code, dtype=torch.bfloat16).copy_(grad)  # empty_like keeps code's strides
        return _kernel.backward(grad, code, ctx.scale, ctx.slope), None, None, None


def leaky_relu_dropout(x: torch.Tensor, slope: float, dropout) -> torch.Tensor:
    """``dropout(F.leaky_relu(x, slope))`` in one pass; call only where :func:`usable` is true."""
    return LeakyReLUDropout.apply(x, slope, dropout.threshold, dropout.bf16_scale)
