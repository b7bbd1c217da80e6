"""Networks, in two families (``architecture``): the paper's Table 2 networks
(acgan_nets.py, the default) and residual networks for colour images (resnet_nets.py).
A saved network names its class in ``config["kind"]`` (absent for the Table 2 ones), so
a checkpoint rebuilds the right one."""
from .acgan_nets import Discriminator, Generator, build_networks
from .acgan_nets import network_arguments as table2_arguments
from .fast_layers import set_channels_last
from .bagan_nets import ClassConditionalGenerator, Encoder
from .heads import CLASS_HEADS, DiscriminatorOutput
from .resnet_nets import ResNetDiscriminator, ResNetGenerator

GENERATORS = {"acgan": Generator, "bagan": ClassConditionalGenerator, "resnet": ResNetGenerator}
DISCRIMINATORS = {"acgan": Discriminator, "resnet": ResNetDiscriminator}
ARCHITECTURES = ("table2", "resnet")
RESNET_WIDTHS = {"g": 64, "d": 64}  # sized for 2 CPU cores: SNGAN's CIFAR widths are 256 (G) and 128 (D)


def _from_config(config: dict, registry: dict, what: str):
    config = dict(config)
    kind = config.pop("kind", "acgan")
    if kind not in registry:
        raise ValueError(f"unknown {what} kind {kind!r} in a checkpoint; this csacgan knows {list(registry)}")
    return registry[kind](**config)


def generator_from_config(config: dict):
    return _from_config(config, GENERATORS, "generator")


def discriminator_from_config(config: dict):
    return _from_config(config, DISCRIMINATORS, "discriminator")


def network_arguments(num_classes: int, image_shape, g_channels=None, d_channels=None, d_strides=None,
                      latent_dim: int = 100, g_batch_norm: bool = True, d_spectral_norm: bool = False,
                      d_dropout: float = 0.3, d_minibatch_std: int = 0, architecture: str = "table2"):
    """Constructor arguments (with ``kind``) of the generator and discriminator for this data shape.

    The residual family is sized by one width each (``g_channels``, ``d_channels`` of one
    element); its discriminator always has spectral normalisation and no dropout, and
    takes no strides or minibatch standard deviation."""
    if architecture == "table2":
        for name, given, length in (("g", g_channels, 5), ("d", d_channels, 4)):
            if given and len(given) != length:
                raise ValueError(f"--{name}-channels takes {length} widths with the Table 2 networks, got "
                                 f"{','.join(map(str, given))}")
        return table2_arguments(num_classes, image_shape, g_channels, d_channels, d_strides, latent_dim,
                                g_batch_norm, d_spectral_norm, d_dropout, d_minibatch_std)
    if architecture != "resnet":
        raise ValueError(f"unknown architecture {architecture!r}; choose one of {', '.join(ARCHITECTURES)}")
    c, h, w = image_shape
    if h != w or h not in (28, 32, 64):
        raise ValueError(f"images must be 28x28, 32x32 or 64x64, got {h}x{w}")
    if d_strides or d_minibatch_std:
        raise ValueError("--d-strides and --d-minibatch-std are options of the Table 2 networks, "
                         "not of --architecture resnet")
    for name, given in (("g", g_channels), ("d", d_channels)):
        if given and len(given) != 1:
            raise ValueError(f"--{name}-channels takes one width with --architecture resnet, got "
                             f"{','.join(map(str, given))}")
    g = dict(kind="resnet", num_classes=num_classes, latent_dim=latent_dim, out_channels=c, image_size=h,
             channels=int(g_channels[0]) if g_channels else RESNET_WIDTHS["g"])
    d = dict(kind="resnet", num_classes=num_classes, in_channels=c, image_size=h,
             channels=int(d_channels[0]) if d_channels else RESNET_WIDTHS["d"])
    return g, d


__all__ = ["ARCHITECTURES", "CLASS_HEADS", "DISCRIMINATORS", "Discriminator", "DiscriminatorOutput", "Encoder",
           "Generator", "ClassConditionalGenerator", "GENERATORS", "ResNetDiscriminator", "ResNetGenerator",
           "build_networks", "discriminator_from_config", "generator_from_config", "network_arguments",
           "set_channels_last"]
