"""Differentiable augmentation for the discriminator (DiffAugment, Zhao et al. 2020).

With a few thousand private images a discriminator memorises them within a few epochs
and its gradients stop teaching the generator anything. DiffAugment shows it randomly
translated, cut-out and recoloured images, real and generated alike, through operations
the generator's gradient flows back through, so the generator is never taught to
produce augmented images. The operations follow the authors' reference code
(mit-han-lab/data-efficient-gans, DiffAugment_pytorch.py); randomness comes from the
training loop's generator, so runs stay repeatable and resumable.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout", "flip")


def _uniform(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One U(0, 1) value per image, shaped to broadcast over (C, H, W)."""
    return torch.rand(x.size(0), 1, 1, 1, generator=gen).to(device=x.device, dtype=x.dtype)


def color(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Brightness +-0.5, saturation x[0, 2] (a no-op on gray images), contrast x[0.5, 1.5]."""
    x = x + (_uniform(x, gen) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_uniform(x, gen) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform(x, gen) + 0.5) + mean


def translation(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to `ratio` of its size in each direction, zero-padded."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), generator=gen).to(x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), generator=gen).to(x.device)
    b, gy, gx = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                               torch.arange(w, device=x.device), indexing="ij")
    gy = torch.clamp(gy + dy + 1, 0, h + 1)
    gx = torch.clamp(gx + dx + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])
    return padded.permute(0, 2, 3, 1)[b, gy, gx].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """Zero one square of `ratio` of the image's side at a random place in each image."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=gen).to(x.device)
    ox = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=gen).to(x.device)
    b, gy, gx = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(ch, device=x.device),
                               torch.arange(cw, device=x.device), indexing="ij")
    gy = torch.clamp(gy + oy - ch // 2, 0, h - 1)
    gx = torch.clamp(gx + ox - cw // 2, 0, w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[b, gy, gx] = 0
    return x * mask.unsqueeze(1)


def flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2 (photos: a car facing left is still a car;
    not for digits or text)."""
    mirrored = torch.rand(x.size(0), generator=gen).to(x.device) < 0.5
    return torch.where(mirrored[:, None, None, None], x.flip(3), x)


_OPS = {"color": color, "translation": translation, "cutout": cutout, "flip": flip}


def diff_augment(x: torch.Tensor, policy: list[str] | tuple[str, ...], gen: torch.Generator) -> torch.Tensor:
    """Apply the policy's operations in order; an empty policy returns x unchanged."""
    for name in policy:
        if name not in _OPS:
            raise ValueError(f"unknown augmentation {name!r} (known: {', '.join(POLICIES)})")
        x = _OPS[name](x, gen)
    return x
