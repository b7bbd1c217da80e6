"""CostSensitive-ACGAN (the paper's section 3.3 and Algorithm 1).

ACGAN whose class loss L_c is weighted per sample by the cost w_c of its class, in
both the discriminator's and the generator's losses. After each epoch the costs are
reset from the per-class error of the updated discriminator's auxiliary classifier,
measured on the real training images of each class (``error_source="real"``, the
default), on generated images (``"fake"``) or on both (their mean).
"""
from __future__ import annotations

import torch

from .acgan import ACGAN
from .class_costs import ERROR_SOURCES, ClassCosts, fake_class_errors, real_class_errors


class CostSensitiveACGAN(ACGAN):
    name = "cs-acgan"

    def __init__(self, num_classes: int, adversarial_loss: str = "bce",
                 fake_class_loss_in_d: bool = True, diffaugment: str | None = None, lecam: float = 0.0,
                 temperature: float = 1.0, momentum: float = 1.0, error_source: str = "real",
                 fake_per_class: int = 500):
        super().__init__(num_classes, adversarial_loss, fake_class_loss_in_d, diffaugment, lecam)
        if error_source not in ERROR_SOURCES:
            raise ValueError(f"error_source must be one of {ERROR_SOURCES}, got {error_source!r}")
        self.class_costs = ClassCosts(num_classes, temperature, momentum)
        self.error_source, self.fake_per_class = error_source, fake_per_class

    def class_weights(self, labels: torch.Tensor) -> torch.Tensor:
        return self.class_costs.sample_weights(labels)

    def end_of_epoch(self, discriminator, generator, data, epoch: int) -> dict:
        was_training = discriminator.training, generator.training
        discriminator.eval()
        generator.eval()
        try:
            parts = []
            if self.error_source in ("real", "both"):
                parts.append(real_class_errors(discriminator, data.images, data.labels,
                                               self.num_classes, autocast=data.autocast))
            if self.error_source in ("fake", "both"):
                g = torch.Generator().manual_seed(data.seed * 7919 + epoch)
                parts.append(fake_class_errors(discriminator, generator, self.num_classes,
                                               self.fake_per_class, generator.latent_dim,
                                               data.device, g, autocast=data.autocast))
            errors = torch.stack(parts).mean(0)
        finally:
            discriminator.train(was_training[0])
            generator.train(was_training[1])
        costs = self.class_costs.update(errors)
        return {"class_errors": errors.tolist(), "class_costs": costs.tolist()}

    def state_dict(self) -> dict:
        return {**super().state_dict(), "class_costs": self.class_costs.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.class_costs.load_state_dict(state["class_costs"])
