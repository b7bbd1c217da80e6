"""One pass of optimizer steps over batches: the loop the autoencoder stage and the
classifiers (the evaluator, the small CNN) share; the GAN has its own (train.py)."""
from __future__ import annotations

import contextlib
from typing import Callable, Iterable

import torch


def fit(loss: Callable[..., torch.Tensor], batches: Iterable, optimizer: torch.optim.Optimizer, *,
        scheduler=None, autocast=contextlib.nullcontext, progress: bool = False, desc: str = "",
        total: int | None = None, after_backward=None) -> float:
    """``loss(batch)`` minimised by one optimizer (and scheduler) step per batch, under
    ``autocast``, with a tqdm bar; ``after_backward()`` runs between the backward pass and
    the step (torchrun: the gradients' average over the ranks). Returns the mean loss."""
    from tqdm.auto import tqdm
    summed, steps = 0.0, 0
    for batch in tqdm(batches, desc=desc, total=total, disable=not progress, unit="step", leave=False,
                      dynamic_ncols=True):
        with autocast():
            value = loss(batch)
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        if after_backward is not None:
            after_backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        summed, steps = summed + value.item(), steps + 1
    return summed / max(steps, 1)
