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

from dataclasses import dataclass

import torch

from ..distributed import SINGLE
from ..nets import DiscriminatorOutput, discriminator_from_config, generator_from_config
from .ada import AdaptiveAugment
from .class_losses import class_loss as class_loss_factory
from .diffaugment import DiffAugment
from .losses import adversarial_loss as adversarial_loss_factory
from .regularizers import LeCam


def split(out: DiscriminatorOutput, n: int) -> tuple[DiscriminatorOutput, DiscriminatorOutput]:
    """D's outputs on [real; fake] as the real batch's and the generated batch's."""
    parts = [{}, {}]
    for name, value in vars(out).items():
        for part, piece in zip(parts, (value, value) if value is None or name == "proxies"
                               else (value[:n], value[n:])):
            part[name] = piece
    return DiscriminatorOutput(**parts[0]), DiscriminatorOutput(**parts[1])


@dataclass
class NoOptions:
    """ACGAN has no options of its own."""


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
    class_loss : L_c: "ce" (ACGAN's, the paper's), "tac" (TAC-GAN's twin classifier) or
        "d2d-ce" (ReACGAN's data-to-data cross-entropy); methods/class_losses.py.
    """

    name = "acgan"
    Options = NoOptions  # the method's own options (a dataclass of options.option fields)
    world = SINGLE  # the ranks of a torchrun run; the trainer sets it

    def __init__(self, num_classes: int, adversarial_loss: str = "bce",
                 fake_class_loss_in_d: bool = True, diffaugment: str | None = None, lecam: float = 0.0,
                 ada_target: float = 0.0, class_loss: str = "ce"):
        self.num_classes = num_classes
        self.class_loss = class_loss_factory(class_loss)  # L_c (methods/class_losses.py)
        self.adversarial_loss = adversarial_loss
        self.source_loss = adversarial_loss_factory(adversarial_loss)  # L_s (methods/losses.py)
        self.fake_class_loss_in_d = fake_class_loss_in_d
        self.ada = AdaptiveAugment(ada_target, diffaugment) if ada_target else None
        self.augment = self.ada if self.ada is not None else DiffAugment(diffaugment)
        self.lecam = LeCam(lecam) if lecam else None

    # -- what subclasses change ------------------------------------------------------
    def build_networks(self, generator_args: dict, discriminator_args: dict):
        """(generator, discriminator) from the constructor arguments the data implies."""
        extra = {"class_head": self.class_loss.head} if self.class_loss.head != "linear" else {}
        return generator_from_config(generator_args), discriminator_from_config({**discriminator_args, **extra})

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
    def discriminator_outputs(self, discriminator, real, fake, real_labels=None, fake_labels=None):
        """D on the real and the generated batch: (real outputs, generated outputs), each a
        nets.DiscriminatorOutput; the labels feed a projection head.

        One pass over both batches concatenated: D has no batch statistics (no
        BatchNorm), so this equals two passes, and on the CPU it is faster (fewer,
        larger operator calls)."""
        both = torch.cat([self.augment(real), self.augment(fake).to(real.dtype)])
        labels = torch.cat([real_labels, fake_labels]) if real_labels is not None else None
        return split(discriminator.outputs(both, labels), len(real))

    def discriminator_loss(self, discriminator, real, real_labels, fake, fake_labels):
        real_out, fake_out = self.discriminator_outputs(discriminator, real, fake, real_labels, fake_labels)
        real_source, fake_source = real_out.source, fake_out.source
        l_s = self.source_loss.discriminator(real_source, fake_source, discriminator, real, fake)
        if self.lecam:
            l_s = l_s + self.lecam(real_source, fake_source, self.world)
        l_c = self.class_loss.discriminator(real_out, real_labels, self.class_weights(real_labels, "d"),
                                            fake_out, fake_labels, self.class_weights(fake_labels, "d"),
                                            self.fake_class_loss_in_d)
        real_class, fake_class = real_out.classes, fake_out.classes
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
        out = discriminator.outputs(self.augment(fake), fake_labels)
        l_s = self.source_loss.generator(out.source)
        l_c = self.class_loss.generator(out, fake_labels, self.class_weights(fake_labels, "g"))
        with torch.no_grad():
            stats = {"g_source_loss": l_s.item(), "g_class_loss": l_c.item(),
                     "g_class_acc": (out.classes.argmax(1) == fake_labels).float().mean().item()}
        return l_s + l_c, stats
