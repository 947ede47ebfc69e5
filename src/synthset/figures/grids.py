"""Image grids: a set's first images of each class, one row per class."""
from __future__ import annotations

from pathlib import Path

import torch

from ..files import atomic_path
from ..imagesets import ImageSet
from ..pixels import to_tensor


def grid_png(images: ImageSet, path: str | Path, per_class: int = 8) -> Path:
    """One row per class, the first `per_class` images of each."""
    from torchvision.utils import make_grid, save_image  # here: importing torchvision costs every stage a second

    rows = [to_tensor(images.of_class(c)[:per_class]) for c in range(images.num_classes)]
    padded = [torch.cat([r, torch.ones(per_class - len(r), *r.shape[1:])]) if len(r) < per_class else r for r in rows]
    path = Path(path)
    with atomic_path(path) as tmp:
        save_image(make_grid(torch.cat(padded), nrow=per_class, normalize=True, value_range=(-1, 1), pad_value=1),
                   tmp, format="png")
    return path
