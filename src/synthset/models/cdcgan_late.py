"""Conditional DCGAN with late concatenation (seed 004's cDCGAN2).

Noise and label each go through their own first block and are concatenated after it:
in G, z -> ConvT -> BN -> ReLU and one-hot -> ConvT -> BN -> ReLU each give half of the
b x b maps; in D, the image and the one-hot label planes each go through their own
strided conv + LeakyReLU and give half of the first level's maps. The rest is DCGAN.
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
        nf, c = norm_factory(norm), ch[-1]
        self.z_in = nn.Sequential(*up_block(latent_dim, c - c // 2, nf, base, 1, 0))
        self.y_in = nn.Sequential(*up_block(num_classes, c // 2, nf, base, 1, 0))
        self.net = nn.Sequential(*up_stack(ch, channels, nf))

    def generate(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        y = one_hot(labels, self.num_classes, z.dtype)
        return self.net(torch.cat([self.z_in(z[:, :, None, None]), self.y_in(y[:, :, None, None])], 1))


class Discriminator(nn.Module):
    def __init__(self, num_classes: int, channels: int, image_size: int, width: int = 64, capacity: int = 1,
                 depth: int = 1, leaky_slope: float = 0.2):
        super().__init__()
        base, ch = level_plan(image_size, width, capacity)
        self.num_classes, self.image_size = num_classes, image_size
        self.x_in = nn.Sequential(*conv_block(channels, ch[0] - ch[0] // 2, leaky_slope))
        self.y_in = nn.Sequential(*conv_block(num_classes, ch[0] // 2, leaky_slope))
        self.net = nn.Sequential(*down_stack(ch, leaky_slope, depth, nn.BatchNorm2d), score_head(ch[-1], base))

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        maps = one_hot_maps(labels, self.num_classes, self.image_size, x.dtype)
        return self.net(torch.cat([self.x_in(x), self.y_in(maps)], 1)).view(-1)
