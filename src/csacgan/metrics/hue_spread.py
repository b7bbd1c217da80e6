"""Hue spread: do the generated colours of a class vary as the real ones do?

A generator that draws a whole class in one palette can still score well on the
evaluator's accuracy and on FID-all; the hue spread shows it at once. Each image's
foreground colour is the mean RGB of its brightest quarter of pixels (the garment on
colour Fashion-MNIST, the object on a dark background in general); a class's hue spread
is the circular variance of those colours' hues, 1 - |mean of exp(2 pi i hue)|: 0 when
every image has one hue, near 1 for hues spread round the colour wheel (Mardia and Jupp,
"Directional Statistics", section 2.3.1). "real" beside it is the same statistic of the
class's real test images. Grey images have no hue: the metric gives NaN for them.

A hue is only as meaningful as the colour is strong: near-grey images have hues that are
noise, and a spread of noise looks like variety. So beside it stands each class's mean
chroma (max - min of the foreground RGB, 0 for grey), with real images' beside that: a
hue spread near real's at a small fraction of real chroma is washed-out colour, not a
palette kept.

No maintained library computes a circular variance of hues (scipy.stats.circvar uses
another definition, 1 - R on angles, the same for full circles; matplotlib converts
RGB to HSV, used here).
"""
from __future__ import annotations

import torch

from . import EvalContext, per_class, register


def foreground_colours(images: torch.Tensor) -> torch.Tensor:
    """(N, 3) mean RGB in [0, 1] of each image's brightest quarter of pixels; images (N, 3, H, W) uint8."""
    x = images.float() / 255
    luminance = x.mean(dim=1).flatten(1)
    bright = luminance >= luminance.quantile(0.75, dim=1, keepdim=True)
    return (x.flatten(2) * bright[:, None]).sum(-1) / bright.sum(-1, keepdim=True)


def hue_spread_of(images: torch.Tensor) -> float:
    """The circular variance of the images' foreground hues (NaN for fewer than 2 images or grey ones)."""
    from matplotlib.colors import rgb_to_hsv
    if images.shape[1] != 3 or len(images) < 2:
        return float("nan")
    hue = torch.from_numpy(rgb_to_hsv(foreground_colours(images).numpy())[:, 0])
    angle = 2 * torch.pi * hue
    return float(1 - torch.hypot(angle.cos().mean(), angle.sin().mean()))


def chroma_of(images: torch.Tensor) -> float:
    """The mean chroma (max - min channel, in [0, 1]) of the images' foreground colours."""
    if images.shape[1] != 3 or len(images) < 1:
        return float("nan")
    colours = foreground_colours(images)
    return float((colours.max(1).values - colours.min(1).values).mean())


@register("hue_spread")
def hue_spread(ctx: EvalContext) -> dict:
    K = ctx.num_classes

    def both(images, labels):
        return ([hue_spread_of(images[labels == c]) for c in range(K)],
                [chroma_of(images[labels == c]) for c in range(K)])
    fake, fake_chroma = both(ctx.images, ctx.labels)
    real, real_chroma = ctx.shared(("hue_spread_real",), lambda: both(ctx.data.test_images, ctx.data.test_labels))
    mean = lambda v: float(torch.tensor(v).nanmean())  # noqa: E731
    return {"overall": mean(fake), "per_class": per_class(fake),
            "real": {"overall": mean(real), "per_class": per_class(real)},
            "chroma": {"overall": mean(fake_chroma), "per_class": per_class(fake_chroma),
                       "real": {"overall": mean(real_chroma), "per_class": per_class(real_chroma)}}}
