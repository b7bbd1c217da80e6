"""Data-parallel training across processes started by torchrun (``torchrun --nproc_per_node N
-m csacgan train ...``): gloo on the CPU, NCCL on CUDA, one device per rank.

Every rank draws the same global batch (the batch indices, the noise and the generated
labels are pure functions of the seed, epoch and step) and takes its contiguous share of
it; after each backward pass the gradients are averaged over the ranks, so every rank
holds the same weights and, with equal shares, the step is the single-process step on the
global batch. Gradients are averaged by one all_reduce over all of a network's gradients
flattened, as StyleGAN2-ADA's training loop does, rather than by wrapping the networks in
DistributedDataParallel: D is used in both the D and the G step, frozen in the second,
which DDP's bucketed hooks do not expect. The generator's BatchNorm statistics are
computed over the global batch (:class:`SyncBatchNorm`).

What differs from one process: each rank draws its own dropout masks, gradient-penalty
interpolates and DiffAugment transforms (rank r's random stream is seeded from the seed
and r), and sums are reduced in another order, so N ranks and one process agree to
float rounding only where no random draw is involved (tests/test_distributed.py).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class World:
    """This process's place among the ranks; ``World()`` is a single process."""
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Whether this rank writes the run folder (rank 0)."""
        return self.rank == 0

    def share(self, t: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous share of ``t`` along dim 0 (shares differ by at most one row)."""
        return t if self.size == 1 else t.tensor_split(self.size)[self.rank]

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` summed over the ranks, in place."""
        if self.size > 1:
            torch.distributed.all_reduce(t)
        return t

    def mean(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` averaged over the ranks, in place."""
        return self.sum(t).div_(self.size) if self.size > 1 else t

    def average_gradients(self, module: nn.Module) -> None:
        """Every parameter's gradient averaged over the ranks, in one all_reduce."""
        if self.size == 1:
            return
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if not grads:
            return
        flat = self.mean(torch.cat([g.flatten() for g in grads]))
        for g, part in zip(grads, flat.split([g.numel() for g in grads])):
            g.copy_(part.view_as(g))

    def broadcast(self, module: nn.Module) -> None:
        """Rank 0's parameters and buffers on every rank."""
        if self.size > 1:
            for t in [*module.parameters(), *module.buffers()]:
                torch.distributed.broadcast(t.data, 0)

    def gather(self, obj) -> list:
        """Every rank's ``obj``, in rank order, on every rank."""
        if self.size == 1:
            return [obj]
        out = [None] * self.size
        torch.distributed.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        if self.size > 1:
            torch.distributed.barrier()

    def on_main(self, fn):
        """``fn()`` on rank 0, its result on rank 0 and None elsewhere; an error it raises is
        raised on every rank (rather than leaving the others waiting for rank 0)."""
        result, error = None, None
        if self.main:
            try:
                result = fn()
            except Exception as exc:  # re-raised below, on every rank
                error = exc
        if self.size > 1:
            failed = self.gather(f"{type(error).__name__}: {error}" if error else None)[0]
            if failed and not self.main:
                raise RuntimeError(f"rank 0 failed: {failed}")
        if error:
            raise error
        return result


SINGLE = World()


def launched() -> bool:
    """Whether torchrun (or another launcher setting WORLD_SIZE > 1) started this process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init(device_name: str = "auto") -> tuple[World, str]:
    """Join the process group torchrun set up; returns (world, device name for this rank).

    gloo on the CPU, NCCL on CUDA with one GPU per rank (``cuda:LOCAL_RANK``)."""
    if not launched():
        return SINGLE, device_name
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device_name in ("auto", "cuda") and torch.cuda.is_available()
    if device_name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda under torchrun, but this machine has no CUDA device")
    if cuda:
        torch.cuda.set_device(local)
        device_name = f"cuda:{local}"
    elif device_name == "auto":
        device_name = "cpu"
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if cuda else "gloo")
    return World(rank, size, local), device_name


def close(world: World) -> None:
    if world.size > 1 and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


class _SumOverRanks(torch.autograd.Function):
    """all_reduce(SUM) whose gradient is the all_reduce of the gradients (each rank's loss
    depends on every rank's input). torch.distributed.nn.functional.all_reduce is this, but
    deprecated in torch 2.14 in favour of a private module, hence these few lines."""

    @staticmethod
    def forward(ctx, x):
        x = x.clone()
        torch.distributed.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        torch.distributed.all_reduce(grad)
        return grad


class SyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm whose training statistics are the global batch's: the per-rank sums are
    all-reduced differentiably, so the backward pass is the global batch's too.
    torch.nn.SyncBatchNorm does this on CUDA only (its CPU forward raises), hence this one
    on the CPU; same parameters, buffers and state-dict keys as nn.BatchNorm1d/2d, so a
    checkpoint loads into the single-process generator."""

    def _check_input_dim(self, x):
        if x.dim() not in (2, 4):
            raise ValueError(f"expected 2-d or 4-d input, got {x.dim()}-d")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and torch.distributed.is_initialized()):
            return super().forward(x)
        all_reduce = _SumOverRanks.apply
        dims = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        xf = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x  # statistics in fp32 at least
        count = torch.tensor(float(xf.numel() // xf.shape[1]), device=x.device)
        stats = all_reduce(torch.cat([xf.sum(dims), count.view(1)]))
        n = stats[-1]
        mean = stats[:-1] / n
        var = all_reduce((xf - mean.view(shape)).square().sum(dims)) / n  # two passes: no cancellation
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
            self.running_mean.mul_(1 - m).add_(mean.detach() * m)
            self.running_var.mul_(1 - m).add_(var.detach() * (n / (n - 1)) * m)
        y = (xf - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(x.dtype)


def sync_batch_norm(module: nn.Module, device: torch.device) -> nn.Module:
    """``module`` with every BatchNorm computing global-batch statistics: torch's
    SyncBatchNorm on CUDA, :class:`SyncBatchNorm` on the CPU (weights and buffers kept)."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    for name, child in module.named_children():
        if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
            sync = SyncBatchNorm(child.num_features, child.eps, child.momentum, child.affine,
                                 child.track_running_stats).to(device)
            sync.load_state_dict(child.state_dict())
            setattr(module, name, sync)
        else:
            sync_batch_norm(child, device)
    return module
