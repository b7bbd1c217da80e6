"""Latent SMOTE, DeepSMOTE's idea (Dablain, Krawczyk and Chawla 2022): encode the images,
draw SMOTE points between codes of the same class, decode them.

The autoencoder is BAGAN's first stage (:mod:`csacgan.methods.autoencoder`: encoder = the
discriminator's body and a linear map to the code, decoder = the unconditional generator,
mean squared error), trained on the sampler's (X, y), or taken from a BAGAN run with
:meth:`LatentSMOTE.from_run`. DeepSMOTE's own autoencoder differs: other networks, and a
second loss term that asks the decoder to reconstruct an image from a permuted order of
same-class codes.
"""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import numpy as np
import torch
from imblearn.over_sampling import SMOTE

from ..data.batches import to_uint8
from ..nets import Generator
from ..nets.bagan_nets import Encoder
from .base import ImageOverSampler
from .simple import smote_neighbours, targets


class Autoencoder:
    """``encode(uint8 images) -> float codes`` and ``decode(codes) -> uint8 images`` of a
    trained encoder and decoder (BAGAN's)."""

    def __init__(self, encoder: torch.nn.Module, decoder: torch.nn.Module):
        self.encoder, self.decoder = encoder.eval(), decoder.eval()

    def encode(self, images_uint8: np.ndarray) -> np.ndarray:
        from ..methods.autoencoder import encode
        return encode(self.encoder, torch.from_numpy(np.ascontiguousarray(images_uint8))).numpy()

    @torch.no_grad()
    def decode(self, codes: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        codes = torch.as_tensor(np.asarray(codes), dtype=torch.float32)
        parts = [to_uint8(self.decoder(codes[s:s + batch_size], None)) for s in range(0, len(codes), batch_size)]
        return torch.cat(parts).numpy() if parts else np.zeros((0,), np.uint8)

    @classmethod
    def load(cls, path: str | Path) -> "Autoencoder":
        """The autoencoder a BAGAN run saved (``RUN_DIR/autoencoder.pt``)."""
        state = torch.load(path, map_location="cpu", weights_only=False)
        body = dict(state["encoder_config"])
        encoder = Encoder(latent_dim=body.pop("num_classes"), **body)
        encoder.load_state_dict(state["encoder"])
        decoder = Generator(**state["decoder_config"])
        decoder.load_state_dict(state["decoder"])
        return cls(encoder, decoder)


def train_autoencoder_on(images: np.ndarray, num_classes: int, *, epochs: int, batch_size: int, lr: float,
                         latent_dim: int, seed: int, progress: bool, work_dir=None) -> Autoencoder:
    """BAGAN's autoencoder trained on uint8 (N, C, H, W) images (kept in the user cache, so
    another sampler on the same images and seed reuses it)."""
    from ..methods.autoencoder import autoencoder_key, train_autoencoder
    from ..runtime import autocast_factory, pick_precision
    _, channels, size, _ = images.shape
    torch.manual_seed(seed)
    encoder = Encoder(latent_dim=latent_dim, in_channels=channels, image_size=size)
    decoder = Generator(num_classes=num_classes, latent_dim=latent_dim, out_channels=channels, image_size=size,
                        conditional=False)
    data_key = hashlib.md5(np.ascontiguousarray(images).tobytes()).hexdigest()
    key = autoencoder_key(data_key, seed, encoder.config, decoder.config, epochs, batch_size, lr)
    device = torch.device("cpu")
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(work_dir) if work_dir else Path(tmp)
        run_dir.mkdir(parents=True, exist_ok=True)
        train_autoencoder(encoder, decoder, torch.from_numpy(np.ascontiguousarray(images)), epochs=epochs,
                          batch_size=min(batch_size, len(images)), lr=lr, seed=seed, key=key, run_dir=run_dir,
                          autocast=autocast_factory(device, pick_precision("auto", device)), progress=progress)
    return Autoencoder(encoder, decoder)


class LatentSMOTE(ImageOverSampler):
    """SMOTE between same-class codes of an autoencoder, decoded to images.

    ``autoencoder``: anything with ``encode`` and ``decode`` (an :class:`Autoencoder`); None
    trains BAGAN's on (X, y) for ``autoencoder_epochs``. After ``fit_resample``, ``codes_``
    holds the originals' codes and ``synthetic_codes_`` the new ones (with ``synthetic_y_``).
    """

    _needs_network_size = True

    def __init__(self, sampling_strategy="auto", k_neighbors=5, autoencoder=None, autoencoder_epochs=10,
                 batch_size=64, lr=1e-3, latent_dim=100, random_state=None, progress=False, work_dir=None):
        self.sampling_strategy = sampling_strategy
        self.k_neighbors = k_neighbors
        self.autoencoder = autoencoder
        self.autoencoder_epochs = autoencoder_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.latent_dim = latent_dim
        self.random_state = random_state
        self.progress = progress
        self.work_dir = work_dir

    @classmethod
    def from_run(cls, run_dir: str | Path, **kwargs) -> "LatentSMOTE":
        """Latent SMOTE on the autoencoder of a BAGAN run (trained on the same images)."""
        path = Path(run_dir) / "autoencoder.pt"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not a BAGAN run folder (no autoencoder.pt)")
        return cls(autoencoder=Autoencoder.load(path), **kwargs)

    def _new_images(self, images, y, wanted):
        seed = self._seed()
        self.autoencoder_ = self.autoencoder or train_autoencoder_on(
            images, len(self.classes_), epochs=self.autoencoder_epochs, batch_size=self.batch_size, lr=self.lr,
            latent_dim=self.latent_dim, seed=seed, progress=self.progress, work_dir=self.work_dir)
        self.codes_ = np.asarray(self.autoencoder_.encode(images), dtype=np.float64)
        counts = dict(zip(*np.unique(y, return_counts=True)))
        k = smote_neighbours(counts, self.k_neighbors, wanted)
        smote = SMOTE(sampling_strategy=targets(y, wanted), k_neighbors=k, random_state=seed)
        codes, codes_y = smote.fit_resample(self.codes_, y)
        self.synthetic_codes_, self.synthetic_y_ = codes[len(y):], codes_y[len(y):]
        new = np.asarray(self.autoencoder_.decode(self.synthetic_codes_))
        return {c: new[self.synthetic_y_ == c] for c in wanted}
