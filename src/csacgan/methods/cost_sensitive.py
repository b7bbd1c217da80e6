"""CostSensitive-ACGAN (the paper's section 3.3 and Algorithm 1).

ACGAN whose class loss L_c is weighted per sample by the cost w_c of its class, in
both the discriminator's and the generator's losses. After each epoch the costs are
reset from the per-class error of the updated discriminator's auxiliary classifier,
measured on the real training images of each class (``error_source="real"``, the
default), on generated images (``"fake"``) or on both (their mean), or on a stratified
``held_out_fraction`` of the real training images that training never sees
(``"held-out"``: at rho 190 with 0.1, 3 of the 26 zeros; see data.training_set.hold_out),
or the error on generated images of a separate small CNN trained once, before the GAN, on
the real training images with class-weighted loss (``"classifier"``: a judge of G's images
that is neither D nor the evaluator that scores results, nets/small_cnn.py).

Beyond the paper: ``costs_in`` puts the costs on D's class loss, G's, or both (the
paper's); ``update_every`` N > 0 replaces the once-per-epoch update by an online one,
every N steps, from the auxiliary classifier's errors on the last N steps' training
batches (real, generated or both, as ``error_source`` says; a class absent from those
batches keeps its previous error), smoothed by ``momentum``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..options import option
from .acgan import ACGAN
from ..fit import fit_small_cnn
from ..nets.small_cnn import small_cnn
from .class_costs import ERROR_SOURCES, ClassCosts, classifier_class_errors, fake_class_errors, real_class_errors

COSTS_IN = ("both", "d", "g")
SECTION = "CostSensitive-ACGAN costs w_c (--method cs-acgan only)"


@dataclass
class CostOptions:
    """CostSensitive-ACGAN's own options (Algorithm 1's costs), each declared once."""
    temperature: float = option(1.0, SECTION, "w = softmax(error / tau); the paper uses 1", kind=float, low=0,
                                low_in=False, flags=("--temperature", "--tau"))
    momentum: float = option(1.0, SECTION, "w <- (1-m) w + m softmax(error/tau); 1 is the paper's rule",
                             kind=float, low=0, high=1, low_in=False, flags=("--cost-momentum",))
    error_source: str = option("real", SECTION, "images on which each class's error is measured after every "
                               "epoch", choices=ERROR_SOURCES, flags=("--cost-error-source",))
    costs_in: str = option("both", SECTION, "which class losses the costs weight: D's, G's or both (the paper's)",
                           choices=COSTS_IN, flags=("--costs-in",))
    update_every: int = option(0, SECTION, "update the costs online every N steps from the last N steps' batches "
                               "instead of after every epoch (0: the paper's per-epoch rule)", kind=int, low=0,
                               flags=("--cost-update-every",), metavar="N")
    held_out_fraction: float = option(0.1, SECTION, "with --cost-error-source held-out: the stratified fraction "
                                      "of each class kept out of training to measure it", kind=float, low=0, high=1,
                                      low_in=False, high_in=False, flags=("--cost-held-out",), metavar="FRACTION",
                                      only_with=("error_source", "held-out"))
    classifier_steps: int = option(600, SECTION, "with --cost-error-source classifier: training steps of the "
                                   "separate small CNN that judges G's images", kind=int, low=1,
                                   flags=("--cost-classifier-steps",), metavar="N",
                                   only_with=("error_source", "classifier"))
    fake_per_class: int = option(500, SECTION, "generated images per class on which the fake error is measured",
                                 kind=int, low=1, flags=None)


class CostSensitiveACGAN(ACGAN):
    name = "cs-acgan"
    Options = CostOptions

    def __init__(self, num_classes: int, adversarial_loss: str = "bce",
                 fake_class_loss_in_d: bool = True, diffaugment: str | None = None, lecam: float = 0.0,
                 ada_target: float = 0.0, class_loss: str = "ce", **options):
        """``options``: CostOptions's fields (tau, momentum, error source, ...)."""
        super().__init__(num_classes, adversarial_loss, fake_class_loss_in_d, diffaugment, lecam, ada_target,
                         class_loss)
        o = CostOptions(**options)
        if o.error_source not in ERROR_SOURCES:
            raise ValueError(f"error_source must be one of {ERROR_SOURCES}, got {o.error_source!r}")
        if o.costs_in not in COSTS_IN:
            raise ValueError(f"costs_in must be one of {COSTS_IN}, got {o.costs_in!r}")
        if o.update_every < 0:
            raise ValueError(f"update_every must be >= 0, got {o.update_every}")
        self.class_costs = ClassCosts(num_classes, o.temperature, o.momentum)
        self.error_source, self.fake_per_class = o.error_source, o.fake_per_class
        self.costs_in, self.update_every = o.costs_in, o.update_every
        self._held_out = o.held_out_fraction
        if o.error_source in ("held-out", "classifier") and o.update_every:
            raise ValueError(f"the {o.error_source} error is measured after each epoch; it has no online update")
        self.classifier_steps, self.classifier = o.classifier_steps, None
        self.online = {"wrong": torch.zeros(num_classes), "total": torch.zeros(num_classes),
                       "errors": torch.zeros(num_classes), "steps": 0}

    def held_out_fraction(self) -> float:
        return self._held_out if self.error_source == "held-out" else 0.0

    def class_weights(self, labels: torch.Tensor, network: str = "d") -> torch.Tensor:
        if self.costs_in not in ("both", network):
            return super().class_weights(labels, network)
        return self.class_costs.sample_weights(labels)

    def before_training(self, generator, discriminator, data) -> dict:
        if self.error_source != "classifier":
            return super().before_training(generator, discriminator, data)
        images, labels = data.images.cpu(), data.labels.cpu()
        counts = torch.bincount(labels, minlength=self.num_classes).float()
        weights = len(labels) / (self.num_classes * counts.clamp(min=1))  # scikit-learn's "balanced"
        with torch.random.fork_rng():  # the GAN's random stream stays ACGAN's: runs pair seed for seed
            self.classifier = fit_small_cnn(images, labels, self.num_classes, self.classifier_steps,
                                            data.seed, class_weights=weights, desc="cost classifier",
                                            progress=data.progress and data.world.main)
        data.world.broadcast(self.classifier)
        return {"cost_classifier_steps": self.classifier_steps}

    def observe(self, real_class, real_labels, fake_class, fake_labels) -> None:
        if not self.update_every:
            return
        s = self.online
        sides = {"real": [(real_class, real_labels)], "fake": [(fake_class, fake_labels)],
                 "both": [(real_class, real_labels), (fake_class, fake_labels)]}[self.error_source]
        for logits, labels in sides:
            labels = labels.cpu()
            s["wrong"].index_add_(0, labels, (logits.argmax(1).cpu() != labels).float())
            s["total"].index_add_(0, labels, torch.ones(len(labels)))
        s["steps"] += 1
        if s["steps"] % self.update_every == 0:
            wrong, total = self.world.sum(s["wrong"].clone()), self.world.sum(s["total"].clone())  # all ranks' batches
            s["errors"] = torch.where(total > 0, wrong / total.clamp(min=1), s["errors"])
            self.class_costs.update(s["errors"])
            s["wrong"], s["total"] = torch.zeros_like(s["wrong"]), torch.zeros_like(s["total"])

    def end_of_epoch(self, discriminator, generator, data, epoch: int) -> dict:
        if self.update_every:  # updated online during the epoch
            return {"class_errors": self.online["errors"].tolist(),
                    "class_costs": self.class_costs.costs.tolist()}
        was_training = discriminator.training, generator.training
        discriminator.eval()
        generator.eval()
        try:  # a source measured on several sets (both: real and generated) takes their mean
            errors = torch.stack([measure(self, discriminator, generator, data, epoch)
                                  for measure in ERROR_MEASURES[self.error_source]]).mean(0)
        finally:
            discriminator.train(was_training[0])
            generator.train(was_training[1])
        costs = self.class_costs.update(errors)
        return {"class_errors": errors.tolist(), "class_costs": costs.tolist()}

    def state_dict(self) -> dict:
        extra = {"classifier": self.classifier.state_dict()} if self.classifier is not None else {}
        return {**super().state_dict(), **extra, "class_costs": self.class_costs.state_dict(),
                "online": {k: v.clone() if torch.is_tensor(v) else v for k, v in self.online.items()}}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.class_costs.load_state_dict(state["class_costs"])
        if "classifier" in state:  # the classifier error source's CNN, trained before the GAN
            first = state["classifier"]["0.weight"]
            self.classifier = small_cnn(first.shape[1], self.num_classes, _image_size(state["classifier"]))
            self.classifier.load_state_dict(state["classifier"])
            self.classifier.eval()
        if "online" in state:
            self.online = {k: v.clone() if torch.is_tensor(v) else v for k, v in state["online"].items()}


# -- where the per-class errors come from: ``--cost-error-source``, each a list of measures ------
def _noise(data, epoch: int) -> torch.Generator:
    """The generated images' noise of an epoch's measurement: the same for every source."""
    return torch.Generator().manual_seed(data.seed * 7919 + epoch)


def real_errors(method, discriminator, generator, data, epoch):
    """D's auxiliary classifier on the real training images (the paper's Algorithm 1)."""
    return real_class_errors(discriminator, data.images, data.labels, method.num_classes,
                             autocast=data.autocast, world=data.world)


def held_out_errors(method, discriminator, generator, data, epoch):
    """D's auxiliary classifier on real images training never sees."""
    return real_class_errors(discriminator, data.held_out_images, data.held_out_labels, method.num_classes,
                             autocast=data.autocast, world=data.world)


def fake_errors(method, discriminator, generator, data, epoch):
    """D's auxiliary classifier on ``fake_per_class`` generated images of each class."""
    return fake_class_errors(discriminator, generator, method.num_classes, method.fake_per_class,
                             generator.latent_dim, data.device, _noise(data, epoch), autocast=data.autocast,
                             world=data.world)


def classifier_errors(method, discriminator, generator, data, epoch):
    """A separate small CNN, trained before the GAN on the real images, on generated ones."""
    return classifier_class_errors(method.classifier, generator, method.num_classes, method.fake_per_class,
                                   generator.latent_dim, data.device, _noise(data, epoch), autocast=data.autocast,
                                   world=data.world)


ERROR_MEASURES = {"real": [real_errors], "fake": [fake_errors], "both": [real_errors, fake_errors],
                  "held-out": [held_out_errors], "classifier": [classifier_errors]}
assert set(ERROR_MEASURES) == set(ERROR_SOURCES)


def _image_size(cnn_state: dict) -> int:
    """The input size of a saved small CNN: its first Linear reads 64 x (size/4)^2 features."""
    features = next(v for k, v in cnn_state.items() if k.endswith(".weight") and v.dim() == 2).shape[1]
    return int(round((features / 64) ** 0.5)) * 4
