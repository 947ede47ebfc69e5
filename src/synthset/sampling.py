"""Drawing labelled images from a generator, balanced per class, reproducibly."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torchvision.utils import make_grid, save_image

from .io import ImageSet, atomic_path
from .train.tensors import to_tensor, to_uint8


@torch.no_grad()
def sample_per_class(generator: torch.nn.Module, class_names: list[str], per_class: int, seed: int,
                     batch_size: int = 500) -> ImageSet:
    """`per_class` images of every class; the noise depends on the seed only, not on the device."""
    device = next(generator.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(len(class_names)).repeat_interleave(per_class)
    z = torch.randn(len(labels), generator.latent_dim, generator=gen)
    chunks = [to_uint8(generator(z[i:i + batch_size].to(device), labels[i:i + batch_size].to(device)))
              for i in range(0, len(labels), batch_size)]
    return ImageSet(np.concatenate(chunks), labels.numpy(), class_names)


def grid_png(images: ImageSet, path: str | Path, per_class: int = 8) -> Path:
    """One row per class, the first `per_class` images of each."""
    rows = [to_tensor(images.of_class(c)[:per_class]) for c in range(images.num_classes)]
    padded = [torch.cat([r, torch.ones(per_class - len(r), *r.shape[1:])]) if len(r) < per_class else r for r in rows]
    path = Path(path)
    with atomic_path(path) as tmp:
        save_image(make_grid(torch.cat(padded), nrow=per_class, normalize=True, value_range=(-1, 1), pad_value=1),
                   tmp, format="png")
    return path
