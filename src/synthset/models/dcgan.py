"""DCGAN (Radford et al. 2016) at any size b * 2^k, trained once per class (seed 000).

The generator starts from a b x b map (b in 3..7: 7 for 28 px, 4 for 32/64/128 px)
and doubles k times with strided transposed convolutions; the discriminator mirrors
it. Channels halve at every doubling, ending at `width` before the image layer, as
in the pytorch/examples DCGAN (width = ngf = ndf = 64).
"""
from __future__ import annotations

import torch
from torch import nn


def size_factors(image_size: int) -> tuple[int, int]:
    """Split image_size into (base b, doublings k) with image_size = b * 2^k."""
    base, k = image_size, 0
    while base % 2 == 0 and base > 7:
        base, k = base // 2, k + 1
    if k == 0 or base > 7:
        raise ValueError(f"image size {image_size} is not b * 2^k with b in 3..7 and k >= 1")
    return base, k


def init_weights(module: nn.Module, std: float) -> None:
    """DCGAN init: conv weights N(0, std), batch-norm scales N(1, std), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self, latent_dim: int, channels: int, image_size: int, width: int = 64):
        super().__init__()
        base, k = size_factors(image_size)
        ch = [width * 2 ** (k - 1 - i) for i in range(k)]  # e.g. 512, 256, 128, 64 at 64 px
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, ch[0], base, 1, 0, bias=False),
            nn.BatchNorm2d(ch[0]), nn.ReLU(True),
        ]
        for c_in, c_out in zip(ch, ch[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(ch[-1], channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.latent_dim = latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.size(0), -1, 1, 1))


class Discriminator(nn.Module):
    """Returns one logit per image (BCE-with-logits is the stable form of the sigmoid + BCE)."""

    def __init__(self, channels: int, image_size: int, width: int = 64, leaky_slope: float = 0.2):
        super().__init__()
        base, k = size_factors(image_size)
        ch = [width * 2 ** i for i in range(k)]  # e.g. 64, 128, 256, 512 at 64 px
        layers: list[nn.Module] = [nn.Conv2d(channels, ch[0], 4, 2, 1, bias=False), nn.LeakyReLU(leaky_slope, True)]
        for c_in, c_out in zip(ch, ch[1:]):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(leaky_slope, True)]
        layers += [nn.Conv2d(ch[-1], 1, base, 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


class PerClassDCGAN(nn.Module):
    """One unconditional DCGAN generator per class behind the conditional interface G(z, y)."""

    def __init__(self, num_classes: int, latent_dim: int, channels: int, image_size: int, width: int = 64):
        super().__init__()
        self.latent_dim = latent_dim
        self.generators = nn.ModuleList(
            Generator(latent_dim, channels, image_size, width) for _ in range(num_classes))

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        out = None
        for c in labels.unique().tolist():
            mask = labels == c
            fake = self.generators[c](z[mask])
            if out is None:
                out = fake.new_empty((len(z), *fake.shape[1:]))
            out[mask] = fake
        return out
