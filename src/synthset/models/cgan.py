"""Conditional GAN, multilayer perceptrons (Mirza & Osindero 2014; seeds 000, 002, 004).

The one-hot label is concatenated with z at G's input and with the flattened image at
D's input. Layer sizes follow the common PyTorch port of the paper's MNIST model, with
w = width * capacity (w = 128 gives it exactly):
  G: [z, y] -> w -> 2w -> 4w -> 8w -> channels * size^2, tanh; LeakyReLU(0.2), batch
     norm (or virtual batch norm) on every hidden layer but the first.
  D: [x, y] -> 4w -> (depth + 1) more layers of 4w -> 1; LeakyReLU, dropout 0.5 after
     every hidden layer but the first (the paper's D used dropout 0.5; its maxout units
     are LeakyReLU here). Works at any image size.
"""
from __future__ import annotations

import torch
from torch import nn

from .layers import GeneratorBase, VirtualBatchNorm, one_hot

G_SLOPE = 0.2
DROPOUT = 0.5


class Generator(GeneratorBase):
    def __init__(self, num_classes: int, latent_dim: int, channels: int, image_size: int, width: int = 64,
                 capacity: int = 1, norm: str = "batch"):
        super().__init__(latent_dim, num_classes, norm)
        w = width * capacity
        sizes = [w, 2 * w, 4 * w, 8 * w]
        norm_layer = {"batch": nn.BatchNorm1d, "virtual": VirtualBatchNorm}[norm]
        layers: list[nn.Module] = [nn.Linear(latent_dim + num_classes, sizes[0]), nn.LeakyReLU(G_SLOPE, True)]
        for a, b in zip(sizes, sizes[1:]):
            layers += [nn.Linear(a, b, bias=False), norm_layer(b), nn.LeakyReLU(G_SLOPE, True)]
        layers += [nn.Linear(sizes[-1], channels * image_size ** 2), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.image_shape = (channels, image_size, image_size)

    def generate(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        x = self.net(torch.cat([z, one_hot(labels, self.num_classes, z.dtype)], 1))
        return x.view(-1, *self.image_shape)


class Discriminator(nn.Module):
    def __init__(self, num_classes: int, channels: int, image_size: int, width: int = 64, capacity: int = 1,
                 depth: int = 1, leaky_slope: float = 0.2):
        super().__init__()
        h = 4 * width * capacity
        layers: list[nn.Module] = [nn.Linear(channels * image_size ** 2 + num_classes, h),
                                   nn.LeakyReLU(leaky_slope, True)]
        for _ in range(depth + 1):
            layers += [nn.Linear(h, h), nn.Dropout(DROPOUT), nn.LeakyReLU(leaky_slope, True)]
        self.net = nn.Sequential(*layers, nn.Linear(h, 1))
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x.flatten(1), one_hot(labels, self.num_classes, x.dtype)], 1)).view(-1)
