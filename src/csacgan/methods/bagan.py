"""BAGAN (Mariani et al. 2018, "BAGAN: Data Augmentation with Balancing GAN").

1. An autoencoder (encoder = the discriminator's body, decoder = the generator) is
   trained on the imbalanced set (:mod:`csacgan.methods.autoencoder`).
2. Per class c, the encoder's codes give a mean mu_c and covariance Sigma_c; the
   generator draws its latent from N(mu_c, Sigma_c) (section 3.2).
3. The generator starts as the decoder, the discriminator's body as the encoder.
4. The discriminator has K + 1 outputs, the K classes plus "fake"; it learns to give
   real images their class and generated ones "fake", and the generator learns to make
   it give a generated image its intended class (section 3.3). Generated classes are
   drawn uniformly, which the training loop already does for every method.

With ``adversarial_loss`` "hinge" or "wgan-gp" the K+1 softmax is not a critic, so the
discriminator's source head becomes the critic with that loss and the class head keeps
an auxiliary class loss, as in ACGAN; that is BAGAN-GP in outline (Huang and Jafari
2021). Their version differs in two more ways, not done here: a supervised
autoencoder (the decoder also gets the class label) and a discriminator that takes the
label as an input embedding instead of predicting it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..nets import discriminator_from_config, set_channels_last
from ..nets.bagan_nets import ClassConditionalGenerator, class_conditional_latent, encoder_for
from ..options import option
from .acgan import ACGAN
from .autoencoder import autoencoder_key, encode, train_autoencoder


SECTION = "BAGAN (--method bagan only)"


@dataclass
class BAGANOptions:
    """BAGAN's own options: its autoencoder stage."""
    autoencoder_epochs: int = option(3, SECTION, "epochs of the autoencoder stage (reused from the cache when "
                                     "already trained for the same data, seed and networks)", kind=int, low=1)
    autoencoder_lr: float = option(1e-3, SECTION, "the autoencoder stage's Adam learning rate", kind=float, low=0,
                                   low_in=False, flags=None)


class BAGAN(ACGAN):
    name = "bagan"
    Options = BAGANOptions

    def __init__(self, num_classes: int, adversarial_loss: str = "bce", fake_class_loss_in_d: bool = True,
                 diffaugment: str | None = None, lecam: float = 0.0, ada_target: float = 0.0,
                 class_loss: str = "ce", **options):
        """``options``: BAGANOptions's fields."""
        o = BAGANOptions(**options)
        if class_loss != "ce":
            raise ValueError(f"--class-loss {class_loss} is an option of the ACGAN family (acgan, cs-acgan); "
                             f"BAGAN's discriminator has its own K+1-class loss")
        super().__init__(num_classes, adversarial_loss, fake_class_loss_in_d, diffaugment, lecam, ada_target)
        if o.autoencoder_epochs < 1:
            raise ValueError(f"autoencoder_epochs must be >= 1, got {o.autoencoder_epochs}")
        self.autoencoder_epochs, self.autoencoder_lr = o.autoencoder_epochs, o.autoencoder_lr

    def build_networks(self, generator_args: dict, discriminator_args: dict):
        return (ClassConditionalGenerator(**generator_args),
                discriminator_from_config({**discriminator_args, "num_classes": self.num_classes + 1}))

    def before_training(self, generator, discriminator, data) -> dict:
        encoder = encoder_for(discriminator, generator.latent_dim).to(data.device)
        set_channels_last(encoder, discriminator.memory_format == torch.channels_last)
        key = autoencoder_key(data.data_key, data.seed, encoder.config, generator.decoder.config,
                              self.autoencoder_epochs, data.batch_size, self.autoencoder_lr)
        result = train_autoencoder(encoder, generator.decoder, data.images, epochs=self.autoencoder_epochs,
                                   batch_size=data.batch_size, lr=self.autoencoder_lr, seed=data.seed,
                                   key=key, run_dir=data.run_dir, autocast=data.autocast,
                                   progress=data.progress, world=data.world)
        means, trils = class_conditional_latent(encode(encoder, data.images), data.labels.cpu(),
                                                self.num_classes)
        generator.set_class_latent(means.to(data.device), trils.to(data.device))
        data.world.broadcast(generator)  # every rank computed the same latent; rank 0's, to the bit
        discriminator.body.load_state_dict(encoder.body.state_dict())
        return {"autoencoder_losses": result["losses"], "autoencoder": result["source"]}

    def discriminator_loss(self, discriminator, real, real_labels, fake, fake_labels):
        if self.adversarial_loss != "bce":
            return super().discriminator_loss(discriminator, real, real_labels, fake, fake_labels)
        real_out, fake_out = self.discriminator_outputs(discriminator, real, fake)
        real_class, fake_class = real_out.classes, fake_out.classes
        fake_target = torch.full_like(fake_labels, self.num_classes)
        l_real = F.cross_entropy(real_class.float(), real_labels)
        l_fake = F.cross_entropy(fake_class.float(), fake_target)
        K = self.num_classes
        # D's log-odds of real against fake under its K+1 softmax: its source logit
        odds = [torch.logsumexp(c.float()[:, :K], 1) - c.float()[:, K] for c in (real_class, fake_class)]
        if self.lecam:
            l_fake = l_fake + self.lecam(*odds, self.world)
        with torch.no_grad():
            stats = {**self.observe_real_source(odds[0]), "d_source_loss": l_fake.item(), "d_class_loss": l_real.item(),
                     "d_real_acc": (real_class.argmax(1) != K).float().mean().item(),
                     "d_fake_acc": (fake_class.argmax(1) == K).float().mean().item(),
                     "d_class_acc_real": (real_class[:, :K].argmax(1) == real_labels).float().mean().item()}
        return l_real + l_fake, stats

    def generator_loss(self, discriminator, fake, fake_labels):
        if self.adversarial_loss != "bce":
            return super().generator_loss(discriminator, fake, fake_labels)
        _, fake_class = discriminator(self.augment(fake))
        loss = F.cross_entropy(fake_class.float(), fake_labels)
        with torch.no_grad():
            stats = {"g_source_loss": 0.0, "g_class_loss": loss.item(),
                     "g_class_acc": (fake_class.argmax(1) == fake_labels).float().mean().item()}
        return loss, stats
