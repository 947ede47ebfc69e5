"""Conditional DCGAN with early concatenation (seeds 002, 003, 004's cDCGAN).

The one-hot label joins the noise before the generator's first layer, and joins the
image as num_classes constant planes before the discriminator's first conv (seed 004;
seed 003's CCGAN maps the label through a dense layer instead). Otherwise the plain
DCGAN: ReLU + batch norm in G, LeakyReLU + batch norm (not on the first conv) in D.
"""
from __future__ import annotations

import torch
from torch import nn

from .dcgan import level_plan
from .layers import (GeneratorBase, conv_block, down_stack, norm_factory, one_hot, one_hot_maps,
                     score_head, up_block, up_stack)


class Generator(GeneratorBase):
    def __init__(self, num_classes: int, latent_dim: int, channels: int, image_size: int, width: int = 64,
                 capacity: int = 1, norm: str = "batch"):
        super().__init__(latent_dim, num_classes, norm)
        base, ch = level_plan(image_size, width, capacity)
        nf = norm_factory(norm)
        self.net = nn.Sequential(*up_block(latent_dim + num_classes, ch[-1], nf, base, 1, 0),
                                 *up_stack(ch, channels, nf))

    def generate(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        zy = torch.cat([z, one_hot(labels, self.num_classes, z.dtype)], 1)
        return self.net(zy[:, :, None, None])


class Discriminator(nn.Module):
    norm = "batch"  # WGAN-GP's critic is this one with layer norm

    def __init__(self, num_classes: int, channels: int, image_size: int, width: int = 64, capacity: int = 1,
                 depth: int = 1, leaky_slope: float = 0.2):
        super().__init__()
        base, ch = level_plan(image_size, width, capacity)
        bias = self.norm != "batch"  # batch norm's shift makes a conv bias redundant; layer norm's does not
        self.num_classes, self.image_size = num_classes, image_size
        self.net = nn.Sequential(*conv_block(channels + num_classes, ch[0], leaky_slope, bias=bias),
                                 *down_stack(ch, leaky_slope, depth, norm_factory(self.norm), bias=bias),
                                 score_head(ch[-1], base))

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        maps = one_hot_maps(labels, self.num_classes, self.image_size, x.dtype)
        return self.net(torch.cat([x, maps], 1)).view(-1)
