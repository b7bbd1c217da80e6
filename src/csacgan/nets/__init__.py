"""Networks. A saved generator names its class in ``config["kind"]`` (absent for the
ACGAN generator), so a checkpoint rebuilds the right one."""
from .acgan_nets import Discriminator, Generator, build_networks, network_arguments
from .fast_layers import set_channels_last
from .bagan_nets import ClassConditionalGenerator, Encoder

GENERATORS = {"acgan": Generator, "bagan": ClassConditionalGenerator}


def generator_from_config(config: dict):
    config = dict(config)
    kind = config.pop("kind", "acgan")
    if kind not in GENERATORS:
        raise ValueError(f"unknown generator kind {kind!r} in a checkpoint; this csacgan knows {list(GENERATORS)}")
    return GENERATORS[kind](**config)


__all__ = ["Discriminator", "Encoder", "Generator", "ClassConditionalGenerator", "GENERATORS",
           "build_networks", "generator_from_config", "network_arguments", "set_channels_last"]
