"""Training methods. Each is an object with ``build_networks``, ``before_training``,
``discriminator_loss``, ``generator_loss`` and ``end_of_epoch``; the training loop
never asks which method it runs."""
import inspect

from .acgan import ADVERSARIAL_LOSSES, ACGAN
from .bagan import BAGAN
from .cost_sensitive import CostSensitiveACGAN

METHODS = {"acgan": ACGAN, "cs-acgan": CostSensitiveACGAN, "bagan": BAGAN}


def build_method(name: str, num_classes: int, **options):
    """The method ``name``; options it does not take (another method's) are ignored."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
    cls = METHODS[name]
    accepted = inspect.signature(cls.__init__).parameters
    return cls(num_classes, **{k: v for k, v in options.items() if k in accepted})


__all__ = ["ACGAN", "ADVERSARIAL_LOSSES", "BAGAN", "CostSensitiveACGAN", "METHODS", "build_method"]
