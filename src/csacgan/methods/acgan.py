"""ACGAN (Odena, Olah and Shlens 2017), the base of every method here.

The discriminator maximises L_s + L_c and the generator maximises L_c - L_s
(paper eqs. 1-2); written as losses to minimise:

    D: BCE(source(real), 1) + BCE(source(fake), 0) + CE_w(class(real), c) [+ CE_w(class(fake), c)]
    G: BCE(source(fake), 1) + CE_w(class(fake), c)      (non-saturating generator loss)

CE_w is the per-sample cross-entropy multiplied by a per-sample weight and averaged
over the batch. ``adversarial_loss`` swaps the BCE terms for the hinge loss (Lim and
Ye 2017) or the Wasserstein loss with gradient penalty (Gulrajani et al. 2017, lambda
10, penalty on random interpolates of real and generated images); the class terms
stay the same (methods/losses.py). ACGAN's weight is 1; CostSensitive-ACGAN overrides
``class_weights`` and nothing else, so the two share every line of loss code.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..distributed import SINGLE
from ..nets import Discriminator, Generator
from .ada import AdaptiveAugment
from .diffaugment import DiffAugment
from .losses import adversarial_loss as adversarial_loss_factory
from .regularizers import LeCam


def class_loss(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """L_c (eq. 2): per-sample cross-entropy times its class's weight, averaged."""
    return (F.cross_entropy(logits.float(), labels, reduction="none") * weights).mean()


class ACGAN:
    """ACGAN losses and hooks.

    Parameters
    ----------
    num_classes : K.
    adversarial_loss : "bce" (the paper's), "hinge" or "wgan-gp".
    fake_class_loss_in_d : apply L_c to generated images in the discriminator's loss
        too, as ACGAN and the paper do. False trains the auxiliary classifier on real
        images only, which stops it from learning to call bad fakes by their label.
    diffaugment : DiffAugment policy applied to every discriminator input during
        training, e.g. "translation,cutout"; None for none.
    lecam : weight of LeCam regularisation on D's source logits (methods/regularizers.py);
        0 for none.
    ada_target : adaptive discriminator augmentation (methods/ada.py): the target of its
        overfitting heuristic E[sign(D(real))], e.g. 0.6; the ``diffaugment`` policy (default
        translation and cutout) is then applied with the probability it adjusts. 0 for none.
    """

    name = "acgan"
    world = SINGLE  # the ranks of a torchrun run; the trainer sets it

    def __init__(self, num_classes: int, adversarial_loss: str = "bce",
                 fake_class_loss_in_d: bool = True, diffaugment: str | None = None, lecam: float = 0.0,
                 ada_target: float = 0.0):
        self.num_classes = num_classes
        self.adversarial_loss = adversarial_loss
        self.source_loss = adversarial_loss_factory(adversarial_loss)  # L_s (methods/losses.py)
        self.fake_class_loss_in_d = fake_class_loss_in_d
        self.ada = AdaptiveAugment(ada_target, diffaugment) if ada_target else None
        self.augment = self.ada if self.ada is not None else DiffAugment(diffaugment)
        self.lecam = LeCam(lecam) if lecam else None

    # -- what subclasses change ------------------------------------------------------
    def build_networks(self, generator_args: dict, discriminator_args: dict):
        """(generator, discriminator) from the constructor arguments the data implies."""
        return Generator(**generator_args), Discriminator(**discriminator_args)

    def before_training(self, generator, discriminator, data) -> dict:
        """Hook run once at the start of a new run (not on resume); returns values to log."""
        return {}

    def class_weights(self, labels: torch.Tensor, network: str = "d") -> torch.Tensor:
        """Per-sample weight of L_c in ``network``'s loss ("d" or "g"); 1 for ACGAN."""
        return torch.ones(labels.shape, dtype=torch.float32, device=labels.device)

    def end_of_epoch(self, discriminator, generator, data, epoch: int) -> dict:
        """Hook run after every epoch with the updated models; returns values to log."""
        return {}

    def held_out_fraction(self) -> float:
        """Fraction of each class's real training images to keep out of training for the
        method to measure (0: none)."""
        return 0.0

    def observe(self, real_class, real_labels, fake_class, fake_labels) -> None:
        """Hook given D's class logits of every training step (no gradient)."""

    def state_dict(self) -> dict:
        state = {"lecam": self.lecam.state_dict()} if self.lecam else {}
        if self.ada is not None:
            state["ada"] = self.ada.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        if self.lecam:
            self.lecam.load_state_dict(state["lecam"])
        if self.ada is not None:
            self.ada.load_state_dict(state["ada"])

    def observe_real_source(self, real_source: torch.Tensor) -> dict:
        """Adaptive augmentation's overfitting signal: D's real-or-fake logit on the real
        batch; returns the augmentation probability to log, if it adapts."""
        if self.ada is None:
            return {}
        self.ada.observe(real_source, self.world)
        return {"ada_p": self.ada.probability}

    # -- shared losses -----------------------------------------------------------------
    def discriminator_outputs(self, discriminator, real, fake):
        """D on the real and the generated batch: (real_source, real_class, fake_source, fake_class).

        One pass over both batches concatenated: D has no batch statistics (no
        BatchNorm), so this equals two passes, and on the CPU it is faster (fewer,
        larger operator calls)."""
        both = torch.cat([self.augment(real), self.augment(fake).to(real.dtype)])
        source, classes = discriminator(both)
        n = len(real)
        return source[:n], classes[:n], source[n:], classes[n:]

    def discriminator_loss(self, discriminator, real, real_labels, fake, fake_labels):
        real_source, real_class, fake_source, fake_class = self.discriminator_outputs(discriminator, real, fake)
        l_s = self.source_loss.discriminator(real_source, fake_source, discriminator, real, fake)
        if self.lecam:
            l_s = l_s + self.lecam(real_source, fake_source, self.world)
        l_c = class_loss(real_class, real_labels, self.class_weights(real_labels, "d"))
        if self.fake_class_loss_in_d:
            l_c = l_c + class_loss(fake_class, fake_labels, self.class_weights(fake_labels, "d"))
        with torch.no_grad():
            self.observe(real_class, real_labels, fake_class, fake_labels)
            stats = {**self.observe_real_source(real_source),
                "d_source_loss": l_s.item(), "d_class_loss": l_c.item(),
                "d_real_acc": (real_source > 0).float().mean().item(),
                "d_fake_acc": (fake_source < 0).float().mean().item(),
                "d_class_acc_real": (real_class.argmax(1) == real_labels).float().mean().item(),
            }
        return l_s + l_c, stats

    def generator_loss(self, discriminator, fake, fake_labels):
        fake_source, fake_class = discriminator(self.augment(fake))
        l_s = self.source_loss.generator(fake_source)
        l_c = class_loss(fake_class, fake_labels, self.class_weights(fake_labels, "g"))
        with torch.no_grad():
            stats = {"g_source_loss": l_s.item(), "g_class_loss": l_c.item(),
                     "g_class_acc": (fake_class.argmax(1) == fake_labels).float().mean().item()}
        return l_s + l_c, stats
