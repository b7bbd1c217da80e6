"""Fitting outside the GAN's loop (train.py has its own): one pass of optimizer steps over
batches (:func:`fit`), shared by BAGAN's autoencoder stage and the classifiers, and the
classifiers' recipe (:func:`train_classifier`): the evaluator, the small CNN of CAS and
the augmentation study, and CostSensitive-ACGAN's separate classifier."""
from __future__ import annotations

import contextlib
import itertools
from pathlib import Path
from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from .files import atomic_save
from .optim import Adam
from .runtime import autocast_factory, pick_precision


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


def normalise(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 -> float centred on 0, the evaluator's input."""
    return images_uint8.float().div(255).sub(0.5).div(0.5)


SHIFT = 2  # pixels


def _random_shift(x: torch.Tensor, dx: int, dy: int, pad: int = SHIFT) -> torch.Tensor:
    """Shift every image of the batch by (dx, dy) pixels, filling with the background."""
    return torch.roll(F.pad(x, (pad,) * 4, value=x.min().item()), (dy, dx), (2, 3))[..., pad:-pad, pad:-pad]


def _batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int, g: torch.Generator, shift: bool = True,
             device=None, skip: int = 0, weights: torch.Tensor | None = None):
    """Endless shuffled epochs of full batches of normalised uint8 images (drawn with ``g``),
    each batch shifted by up to 2 pixels unless ``shift`` is False (one shift per batch:
    cheap and enough), moved to ``device``. The first ``skip`` batches are drawn but not
    built: the stream a resumed training continues is the one it left."""
    order, position = torch.randperm(len(images), generator=g), 0
    while True:
        if position + batch_size > len(order):
            order, position = torch.randperm(len(images), generator=g), 0
        idx = order[position:position + batch_size]
        position += batch_size
        dx, dy = torch.randint(-SHIFT, SHIFT + 1, (2,), generator=g).tolist() if shift else (0, 0)
        if skip:
            skip -= 1
            continue
        x = normalise(images[idx].to(device))
        x = _random_shift(x, dx, dy) if shift else x
        yield (x, labels[idx].to(device)) if weights is None else (x, labels[idx].to(device), weights[idx].to(device))


def _class_error(model: nn.Module, class_weights: torch.Tensor | None, loss=None):
    """The (class-weighted) cross-entropy of ``model`` on a batch (x, y), or ``loss(logits,
    y, step)`` (csacgan.classifier_losses) with the steps counted from 0."""
    steps = iter(itertools.count())

    def error(batch):
        x, y, *w = batch  # w: the batch's sample weights, where there are any
        if loss is not None:
            return loss(model(x), y, next(steps), *w)
        return F.cross_entropy(model(x).float(), y, weight=class_weights)
    return error


def _counted(batches: Iterable, bar):
    """The batches, the bar moved by one as each is taken."""
    for batch in batches:
        yield batch
        bar.update(1)


def train_classifier(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, epochs: float,
                     seed: int, batch_size: int = 128, lr: float = 2e-3, progress: bool = True,
                     desc: str = "classifier", class_weights: torch.Tensor | None = None,
                     shift: bool = True, checkpoint: Path | None = None, checkpoint_every: int = 50) -> nn.Module:
    """Adam with a one-cycle schedule; uint8 images are normalised per batch.

    With ``checkpoint`` (a file) the model, optimizer, schedule and step are saved there
    every ``checkpoint_every`` steps and a killed training resumes from it, exactly (the
    evaluator trains for an hour on a slow CPU); the file is removed when training ends.
    """
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    steps_per_epoch = max(1, len(images) // batch_size)
    total = max(1, int(round(epochs * steps_per_epoch)))
    opt = Adam(model.parameters(), lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=total)
    step = 0
    if checkpoint is not None and Path(checkpoint).is_file():
        saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
        if saved["plan"] == [total, batch_size, lr, seed, len(images)]:
            model.load_state_dict(saved["model"])
            opt.load_state_dict(saved["optimizer"])
            sched.load_state_dict(saved["scheduler"])
            torch.set_rng_state(saved["torch_rng"])
            step = saved["step"]
    batches = _batches(images, labels, batch_size, g, shift, skip=step)
    autocast = autocast_factory(torch.device("cpu"), pick_precision("auto", torch.device("cpu")))
    error = _class_error(model, class_weights)
    chunk = checkpoint_every if checkpoint is not None else total

    from tqdm.auto import tqdm
    model.train()
    with tqdm(total=total, initial=step, desc=desc, disable=not progress, unit="step", leave=False,
              dynamic_ncols=True) as bar:
        while step < total:
            n = min(chunk, total - step)
            fit(error, _counted(itertools.islice(batches, n), bar), opt, scheduler=sched, autocast=autocast)
            step += n
            if checkpoint is not None and step < total:
                atomic_save({"plan": [total, batch_size, lr, seed, len(images)], "step": step,
                             "model": model.state_dict(), "optimizer": opt.state_dict(),
                             "scheduler": sched.state_dict(), "torch_rng": torch.get_rng_state()}, checkpoint)
    if checkpoint is not None:
        Path(checkpoint).unlink(missing_ok=True)
    return model.eval()


@torch.no_grad()
def predict(model: nn.Module, images_uint8: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """Predicted classes of uint8 images (on the model's device, the CPU for one with no
    parameters; returned on the CPU)."""
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    autocast = autocast_factory(device, pick_precision("auto", device))
    model.eval()
    with autocast():
        return torch.cat([model(normalise(images_uint8[s:s + batch_size].to(device))).argmax(1).cpu()
                          for s in range(0, len(images_uint8), batch_size)])


def train_until_stable(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, score: Callable, *,
                       seed: int, max_steps: int, check_every: int, patience: int, batch_size: int = 128,
                       lr: float = 1e-3, class_weights: torch.Tensor | None = None, progress: bool = False,
                       desc: str = "classifier", loss=None, sample_weights: torch.Tensor | None = None) -> dict:
    """Train until ``score(model)`` (higher is better, e.g. balanced accuracy on a validation
    split) has not improved for ``patience`` checks, one check every ``check_every`` steps,
    at most ``max_steps``; the model ends with the weights of its best check.

    Adam with a cosine decay of ``lr`` over ``max_steps``; every batch is shifted by up to 2
    pixels (the augmentation). ``loss``: a csacgan.classifier_losses object instead of the
    (``class_weights``-weighted) cross-entropy; checks before its ``defer_step`` (DRW's
    re-weighting) are recorded but neither kept nor counted against the patience, so the
    model returned has trained with the loss in its final form. ``sample_weights`` (one per
    image, with ``loss``): each image's weight in the loss (generated images down-weighted).
    Returns {"best_step", "best_score", "steps", "checks"}.
    """
    import copy
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt = Adam(model.parameters(), lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max_steps)
    device = next(model.parameters()).device  # the images move there batch by batch
    autocast = autocast_factory(device, pick_precision("auto", device))
    if class_weights is not None:
        class_weights = class_weights.to(device)
    if sample_weights is not None and loss is None:
        raise ValueError("sample weights go with a loss object (csacgan.classifier_losses)")
    batches = _batches(images, labels, min(batch_size, len(images)), g, device=device, weights=sample_weights)
    error = _class_error(model, class_weights, loss)
    start = min(loss.defer_step, max_steps) if loss is not None else 0
    best = {"best_step": 0, "best_score": float("-inf"), "steps": 0, "checks": []}
    best_state, waited = None, 0

    from tqdm.auto import tqdm
    bar = tqdm(total=max_steps, desc=desc, disable=not progress, unit="step", leave=False, dynamic_ncols=True)
    while best["steps"] < max_steps and waited < patience:
        n = min(check_every, max_steps - best["steps"])
        model.train()
        fit(error, itertools.islice(batches, n), opt, scheduler=sched, autocast=autocast)
        best["steps"] += n
        bar.update(n)
        model.eval()
        value = float(score(model))
        best["checks"].append([best["steps"], round(value, 5)])
        if best["steps"] < start:
            continue
        if value > best["best_score"]:
            best.update(best_step=best["steps"], best_score=value)
            best_state, waited = copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
        bar.set_postfix(score=f"{value:.4f}", best=f"{best['best_score']:.4f}")
    bar.close()
    model.load_state_dict(best_state)
    model.eval()
    return best


def fit_small_cnn(images, labels, num_classes: int, steps: int, seed: int, progress=False,
                  class_weights=None, desc="small CNN") -> nn.Module:
    from .nets.small_cnn import small_cnn
    torch.manual_seed(seed)
    model = small_cnn(images.shape[1], num_classes, images.shape[-1])
    batch_size = 128
    epochs = steps * batch_size / len(images)
    return train_classifier(model, images, labels, epochs, seed, batch_size=batch_size, lr=3e-3,
                            progress=progress, desc=desc, class_weights=class_weights)
