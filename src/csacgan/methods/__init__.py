"""Training methods. Each is an object with ``build_networks``, ``before_training``,
``discriminator_loss``, ``generator_loss`` and ``end_of_epoch``; the training loop
never asks which method it runs.

Every method takes the shared options (``SHARED_OPTIONS``); its own options (for
CostSensitive-ACGAN the costs' tau, momentum and error source, for BAGAN the autoencoder
stage) are declared once in its ``Options`` dataclass (type, range, default, help, flag),
and TrainConfig holds them in ``method_options``.
"""
from dataclasses import asdict

from ..options import check_all

from .acgan import ACGAN
from .bagan import BAGAN
from .cost_sensitive import CostSensitiveACGAN
from .class_losses import CLASS_LOSSES
from .losses import ADVERSARIAL_LOSSES

METHODS = {"acgan": ACGAN, "cs-acgan": CostSensitiveACGAN, "bagan": BAGAN}
SHARED_OPTIONS = ("adversarial_loss", "fake_class_loss_in_d", "diffaugment", "lecam", "ada_target", "class_loss")


def _method(name: str):
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
    return METHODS[name]


def method_options_class(name: str):
    """The dataclass declaring method ``name``'s own options."""
    return _method(name).Options


def method_defaults(name: str) -> dict:
    """The options of method ``name`` beyond the shared ones, with their defaults."""
    return asdict(method_options_class(name)())


def check_method_options(name: str, options: dict) -> dict:
    """``options`` over the method's defaults, each checked against its declaration; an
    option the method does not take is an error."""
    defaults = method_defaults(name)
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        takes = ", ".join(defaults) or "none"
        raise ValueError(f"--method {name} takes no option {', '.join(unknown)} (its own options: {takes})")
    return check_all(method_options_class(name), {**defaults, **options},
                     label=lambda k: f"{name} option {k!r}")


def build_method(name: str, num_classes: int, method_options: dict | None = None, **shared):
    """The method ``name`` with the shared options and its own ``method_options``."""
    return _method(name)(num_classes, **shared, **check_method_options(name, method_options or {}))


__all__ = ["ACGAN", "ADVERSARIAL_LOSSES", "BAGAN", "CLASS_LOSSES", "CostSensitiveACGAN", "METHODS", "SHARED_OPTIONS",
           "build_method", "check_method_options", "method_defaults",
           "method_options_class"]
