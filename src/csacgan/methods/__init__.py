"""Training methods. Each is an object with ``discriminator_loss``,
``generator_loss``, ``class_weights`` and ``end_of_epoch``; the training loop never
asks which method it runs."""
from .acgan import ACGAN
from .cost_sensitive import CostSensitiveACGAN

METHODS = {"acgan": ACGAN, "cs-acgan": CostSensitiveACGAN}


def build_method(name: str, num_classes: int, **options):
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
    cls = METHODS[name]
    if cls is ACGAN:
        options = {k: v for k, v in options.items()
                   if k in ("adversarial_loss", "fake_class_loss_in_d", "diffaugment")}
    return cls(num_classes, **options)


__all__ = ["ACGAN", "CostSensitiveACGAN", "METHODS", "build_method"]
