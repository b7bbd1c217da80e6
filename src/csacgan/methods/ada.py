"""Adaptive discriminator augmentation (Karras, Aittala, Hellsten, Laine, Lehtinen and
Aila 2020, "Training Generative Adversarial Networks with Limited Data", section 3).

Every discriminator input, real and generated, is augmented (methods/diffaugment.py's
transforms) with a probability p that training adjusts: the overfitting heuristic

    r_t = E[sign(D(x_real))]

is measured over every ``interval`` steps' real batches; p grows when r_t is above
``target`` (D is sure of the real images it has memorised) and shrinks below it, by
(images seen in those steps) / ``speed_images`` each time, so that p could go from 0
to 1 within ``speed_images`` images (the paper: target 0.6, interval 4, 500k images).
p starts at 0 and stays in [0, 1). Because the same augmentation is applied with
p < 1 to both sides, the generator cannot learn to draw augmented images (the paper's
"non-leaking" argument). Written here because no maintained PyTorch library provides
the controller; it is a few lines.
"""
from __future__ import annotations

import torch

from ..distributed import SINGLE
from .diffaugment import DiffAugment

DEFAULT_POLICY = "translation,cutout"


class AdaptiveAugment(DiffAugment):
    def __init__(self, target: float, policy: str | None = None, interval: int = 4,
                 speed_images: int = 500_000):
        if not 0 < target < 1 or interval < 1 or speed_images < 1:
            raise ValueError(f"adaptive augmentation needs 0 < target < 1, interval >= 1 and "
                             f"speed_images >= 1, got {target}, {interval}, {speed_images}")
        super().__init__(policy or DEFAULT_POLICY, probability=0.0)
        self.target, self.interval, self.speed_images = target, interval, speed_images
        self.sign_sum, self.seen, self.steps = 0.0, 0, 0

    @torch.no_grad()
    def observe(self, real_logits: torch.Tensor, world=SINGLE) -> None:
        """Accumulate sign(D(real)) of one step's real batch (over ``world``'s global batch);
        every ``interval`` steps, move p."""
        local = torch.stack([torch.sign(real_logits.float()).sum(),
                             torch.tensor(float(real_logits.numel()), device=real_logits.device)])
        sign_sum, seen = world.sum(local).tolist()  # one device sync
        self.sign_sum += sign_sum
        self.seen += int(round(seen))
        self.steps += 1
        if self.steps % self.interval == 0:
            r_t = self.sign_sum / max(self.seen, 1)
            step = self.seen / self.speed_images
            self.probability = min(max(self.probability + (step if r_t > self.target else -step), 0.0), 1.0 - 1e-6)
            self.sign_sum, self.seen = 0.0, 0

    def state_dict(self) -> dict:
        return {"probability": self.probability, "sign_sum": self.sign_sum, "seen": self.seen, "steps": self.steps}

    def load_state_dict(self, state: dict) -> None:
        self.probability, self.sign_sum = state["probability"], state["sign_sum"]
        self.seen, self.steps = state["seen"], state["steps"]
