"""Drawing labelled images from a generator, balanced per class, reproducibly."""
from __future__ import annotations

import numpy as np
import torch

from .filtering import keep_images
from .imagesets import ImageSet
from .pixels import to_uint8


def generator_draw(generator: torch.nn.Module, class_names: list[str], seed: int, batch_size: int = 500):
    """A draw function (filtering.Draw) over one seeded noise stream: successive calls go on
    with fresh noise, and the noise depends on the seed only, not on the device."""
    device = next(generator.parameters()).device
    gen = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def draw(counts: np.ndarray) -> ImageSet:
        labels = torch.arange(len(class_names)).repeat_interleave(torch.as_tensor(counts))
        z = torch.randn(len(labels), generator.latent_dim, generator=gen)
        chunks = [to_uint8(generator(z[i:i + batch_size].to(device), labels[i:i + batch_size].to(device)))
                  for i in range(0, len(labels), batch_size)]
        return ImageSet(np.concatenate(chunks), labels.numpy(), class_names)
    return draw


def sample_per_class(generator: torch.nn.Module, class_names: list[str], per_class: int, seed: int) -> ImageSet:
    """`per_class` images of every class, every draw kept."""
    return generator_draw(generator, class_names, seed)(np.full(len(class_names), per_class))


def sample_kept(generator: torch.nn.Module, class_names: list[str], per_class: int, seed: int, keep: str,
                judge: torch.nn.Module | None, temperature: float | None = None) -> tuple[ImageSet, dict]:
    """`per_class` images of every class as `sample.keep` asks (all draws, or those the filter
    classifier agrees with, with its soft labels at `temperature`), and what the filter kept.
    Its first draw is sample_per_class's."""
    device = next(generator.parameters()).device
    return keep_images(generator_draw(generator, class_names, seed), keep, judge, class_names, per_class, device,
                       temperature)
