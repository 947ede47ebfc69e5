"""DCGAN (Radford et al. 2016) at any size b * 2^k, trained once per class (seed 000).

The generator starts from a b x b map (b in 3..7: 7 for 28 px, 4 for 32/64/128 px)
and doubles k times with strided transposed convolutions; the discriminator mirrors
it. Channels halve at every doubling, ending at `width` before the image layer, as
in the pytorch/examples DCGAN (width = ngf = ndf = 64). Seed 003's capacity F
multiplies every layer's channels and its depth D adds stride-1 convs to the
discriminator; F = D = 1 is the plain DCGAN.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from .layers import (ConditionalNorm, GeneratorBase, VirtualBatchNorm, conv_block, down_stack, level_channels,
                     norm_factory, score_head, up_block, up_stack)


def size_factors(image_size: int) -> tuple[int, int]:
    """Split image_size into (base b, doublings k) with image_size = b * 2^k."""
    base, k = image_size, 0
    while base % 2 == 0 and base > 7:
        base, k = base // 2, k + 1
    if k == 0 or base > 7:
        raise ValueError(f"image size {image_size} is not b * 2^k with b in 3..7 and k >= 1")
    return base, k


def level_plan(image_size: int, width: int, capacity: int) -> tuple[int, list[int]]:
    """(base b, channels of the k levels, next to the image first) for image_size = b * 2^k."""
    base, k = size_factors(image_size)
    return base, level_channels(width, capacity, k)


def init_weights(module: nn.Module, std: float) -> None:
    """DCGAN init: conv/linear weights N(0, std), norm scales N(1, std), biases 0.

    Per-class norm scales get N(1, std) too, so the label already matters at step 0;
    spectrally normalised layers get their raw weight initialised (`weight` is computed),
    the projection discriminator's class embedding included: left at nn.Embedding's
    N(0, 1), 50 times the other layers' scale, Adam's fixed-size steps moved it 50 times
    more slowly relative to its size once spectral norm divides the scale away."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) or (
                isinstance(m, nn.Embedding) and parametrize.is_parametrized(m, "weight")):
            weight = (m.parametrizations.weight.original if parametrize.is_parametrized(m, "weight")
                      else m.weight)
            nn.init.normal_(weight, 0.0, std)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, VirtualBatchNorm)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
        elif isinstance(m, ConditionalNorm):
            nn.init.normal_(m.scale.weight, 1.0, std)
            nn.init.zeros_(m.shift.weight)


class Generator(GeneratorBase):
    """Unconditional: `labels` are accepted (the training loop passes them) and ignored."""

    def __init__(self, latent_dim: int, channels: int, image_size: int, width: int = 64, capacity: int = 1,
                 norm: str = "batch"):
        super().__init__(latent_dim, None, norm)
        base, ch = level_plan(image_size, width, capacity)  # ch e.g. 64, 128, 256, 512 at 64 px
        nf = norm_factory(norm)
        self.net = nn.Sequential(*up_block(latent_dim, ch[-1], nf, base, 1, 0), *up_stack(ch, channels, nf))

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z.view(z.size(0), -1, 1, 1))


class Discriminator(nn.Module):
    """Returns one logit per image (BCE-with-logits is the stable form of the sigmoid + BCE)."""

    def __init__(self, channels: int, image_size: int, width: int = 64, leaky_slope: float = 0.2,
                 capacity: int = 1, depth: int = 1):
        super().__init__()
        base, ch = level_plan(image_size, width, capacity)
        self.net = nn.Sequential(*conv_block(channels, ch[0], leaky_slope),
                                 *down_stack(ch, leaky_slope, depth, nn.BatchNorm2d),
                                 score_head(ch[-1], base))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).view(-1)


class PerClassDCGAN(nn.Module):
    """One unconditional DCGAN generator per class behind the conditional interface G(z, y)."""

    def __init__(self, num_classes: int, latent_dim: int, channels: int, image_size: int, width: int = 64,
                 capacity: int = 1, norm: str = "batch"):
        super().__init__()
        self.latent_dim = latent_dim
        self.generators = nn.ModuleList(
            Generator(latent_dim, channels, image_size, width, capacity, norm) for _ in range(num_classes))

    @classmethod
    def of(cls, generators: list[nn.Module]) -> "PerClassDCGAN":
        """Wrap already-built per-class generators (the training loop's, or their EMA copies)."""
        model = cls(0, generators[0].latent_dim, 1, 8)
        model.generators = nn.ModuleList(generators)
        return model

    @property
    def num_classes(self) -> int:
        return len(self.generators)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        out = None
        for c in labels.unique().tolist():
            mask = labels == c
            fake = self.generators[c](z[mask])
            if out is None:
                out = fake.new_empty((len(z), *fake.shape[1:]))
            out[mask] = fake
        return out
