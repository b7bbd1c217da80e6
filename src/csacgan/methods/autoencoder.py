"""BAGAN's first stage (Mariani et al. 2018, section 3.1): an autoencoder trained on
the imbalanced set, encoder = the discriminator's body, decoder = the generator.

The stage checkpoints itself after every epoch in ``RUN_DIR/autoencoder.pt`` and
resumes from there; a finished autoencoder is also kept in the user cache under a key
made of the data (kept-indices md5), seed, architecture and schedule, so another run on
the same data and seed (another adversarial loss, say) reuses it instead of training
it again. Each epoch seeds its own batch order and dropout, so a resumed stage equals
an uninterrupted one, and the global RNG is left as it was.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import torch
import torch.nn.functional as F

from ..files import atomic_save
from ..data.batches import to_unit_range
from ..distributed import SINGLE
from ..fit import fit
from ..optim import Adam
from ..runtime import user_cache_dir


def autoencoder_key(data_key: str, seed: int, encoder_config: dict, decoder_config: dict,
                    epochs: int, batch_size: int, lr: float) -> str:
    text = json.dumps([data_key, seed, encoder_config, decoder_config, epochs, batch_size, lr], sort_keys=True)
    return hashlib.md5(text.encode()).hexdigest()[:16]


def cached_autoencoder_path(key: str) -> Path:
    return user_cache_dir() / "autoencoders" / f"autoencoder-{key}.pt"


def train_autoencoder(encoder, decoder, images_uint8: torch.Tensor, *, epochs: int, batch_size: int,
                      lr: float, seed: int, key: str, run_dir: Path, autocast, progress: bool = True,
                      world=SINGLE) -> dict:
    """Train (or load) the autoencoder in place; returns {"losses": [...], "source": ...}.

    The loss is the mean squared error between an image in [-1, 1] and its reconstruction.
    Under torchrun each rank takes its share of every batch, the gradients are averaged, and
    rank 0 writes the files; every rank ends with rank 0's weights.
    """
    result = _train_autoencoder(encoder, decoder, images_uint8, epochs, batch_size, lr, seed, key, run_dir,
                                autocast, progress and world.main, world)
    world.broadcast(encoder)
    world.broadcast(decoder)
    return result


def _train_autoencoder(encoder, decoder, images_uint8, epochs, batch_size, lr, seed, key, run_dir, autocast,
                       progress, world) -> dict:
    local = run_dir / "autoencoder.pt"
    cached = cached_autoencoder_path(key)

    def reuse():  # rank 0 decides, so that every rank trains or none does (the weights are broadcast)
        for path, source in ((local, "run folder"), (cached, "cache")):
            if path.is_file():
                state = torch.load(path, map_location="cpu", weights_only=False)
                if state.get("key") == key and state["epoch"] >= epochs:
                    encoder.load_state_dict(state["encoder"])
                    decoder.load_state_dict(state["decoder"])
                    if path != local:
                        shutil.copyfile(path, local)
                    return {"losses": state["losses"], "source": f"reused from the {source} ({path})"}
        return None

    reused = world.gather(world.on_main(reuse))[0]
    if reused is not None:
        return reused

    params = list(encoder.parameters()) + list(decoder.parameters())
    opt = Adam(params, lr)
    start, losses = 0, []
    if local.is_file():
        state = torch.load(local, map_location="cpu", weights_only=False)
        if state.get("key") == key:
            encoder.load_state_dict(state["encoder"])
            decoder.load_state_dict(state["decoder"])
            opt.load_state_dict(state["opt"])
            start, losses = state["epoch"], state["losses"]
    steps = len(images_uint8) // batch_size
    if steps < 1:
        raise ValueError(f"the training set ({len(images_uint8)} images) is smaller than one batch ({batch_size})")
    device = images_uint8.device
    encoder.train()
    decoder.train()

    def average_gradients():  # torchrun: the global batch's gradient on every rank
        world.average_gradients(encoder)
        world.average_gradients(decoder)

    def reconstruction_error(idx):
        x = to_unit_range(images_uint8[world.share(idx)])
        return F.mse_loss(decoder(encoder(x), None).float(), x)

    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        for epoch in range(start, epochs):
            torch.manual_seed(seed * 1_000_033 + epoch)
            order = torch.randperm(len(images_uint8), generator=torch.Generator().manual_seed(seed + epoch))
            order = order[:steps * batch_size].view(steps, batch_size).to(device)
            loss = fit(reconstruction_error, order, opt, autocast=autocast, progress=progress,
                       desc=f"autoencoder {epoch + 1}/{epochs}", after_backward=average_gradients)
            losses.append(world.mean(torch.tensor(loss, dtype=torch.float64)).item())
            if world.main:
                atomic_save({"key": key, "epoch": epoch + 1, "encoder": encoder.state_dict(),
                             "decoder": decoder.state_dict(), "opt": opt.state_dict(), "losses": losses,
                             "encoder_config": encoder.config, "decoder_config": decoder.config}, local)
    if world.main:
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, cached)
    return {"losses": losses, "source": "trained"}


@torch.no_grad()
def encode(encoder, images_uint8: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Latent codes of every image, dropout off, in float32."""
    was_training = encoder.training
    encoder.eval()
    codes = [encoder(to_unit_range(images_uint8[s:s + batch_size])).float().cpu()
             for s in range(0, len(images_uint8), batch_size)]
    encoder.train(was_training)
    return torch.cat(codes)
