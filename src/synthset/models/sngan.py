"""SN-GAN with a projection discriminator (Miyato et al. 2018; Miyato & Koyama 2018; seed 000).

Discriminator: every conv, the linear output and the class embedding carry spectral
normalisation (each layer 1-Lipschitz, which steadied seed 000's training); no batch
norm; LeakyReLU (0.1 in the SN-GAN paper's CNN, the arch's default slope). DCGAN's
strided 4x4 convs (depth=2 adds the paper's stride-1 3x3 convs), then, as in the SN-GAN
paper's standard CNN, the b x b maps flattened to h and the projection score
linear(h) + <embed(y), h>.

Why flattened and not summed over space (the ResNet variant's global sum pooling):
after two or three convolutions a feature's receptive field is a few pixels, and what
tells a 6 from a 9 is where the strokes are. Summed over the map, h kept no layout, the
label term could not separate the classes, the discriminator separated real from fake
without the label and the generator ignored it (GAN-test 12 % on MNIST, chance 10 %).

Generator: the DCGAN generator on the noise alone, the label entering through
conditional batch norm (per-class scale and shift in every norm layer), as in Miyato &
Koyama's generator.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .dcgan import level_plan
from .layers import (GeneratorBase, LabelSequential, conv_block, down_stack, norm_factory,
                     up_block, up_stack)


class Generator(GeneratorBase):
    def __init__(self, num_classes: int, latent_dim: int, channels: int, image_size: int, width: int = 64,
                 capacity: int = 1, norm: str = "batch"):
        super().__init__(latent_dim, num_classes, norm)
        base, ch = level_plan(image_size, width, capacity)
        nf = norm_factory(f"conditional_{norm}", num_classes)
        self.net = LabelSequential(*up_block(latent_dim, ch[-1], nf, base, 1, 0), *up_stack(ch, channels, nf))

    def generate(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None], labels)


class Discriminator(nn.Module):
    def __init__(self, num_classes: int, channels: int, image_size: int, width: int = 64, capacity: int = 1,
                 depth: int = 1, leaky_slope: float = 0.1):
        super().__init__()
        base, ch = level_plan(image_size, width, capacity)
        self.features = nn.Sequential(*conv_block(channels, ch[0], leaky_slope, sn=True, bias=True),
                                      *down_stack(ch, leaky_slope, depth, sn=True, bias=True), nn.Flatten())
        h = ch[-1] * base * base
        self.linear = spectral_norm(nn.Linear(h, 1))
        self.embed = spectral_norm(nn.Embedding(num_classes, h))

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        return self.linear(h).view(-1) + (self.embed(labels) * h).sum(1)
