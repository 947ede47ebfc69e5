"""Image grids written as PNGs: a set's first images of each class, one row per class, and any
rows of images (the SSIM stage's best and worst)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..files import atomic_path
from ..imagesets import ImageSet


def save_grid(images: np.ndarray, path: str | Path, per_row: int) -> Path:
    """uint8 (N, H, W, C) images, `per_row` to a row on a white grid, written atomically."""
    from torchvision.utils import make_grid, save_image  # here: importing torchvision costs every stage a second

    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255
    with atomic_path(path) as tmp:
        save_image(make_grid(x, nrow=max(per_row, 1), pad_value=1), tmp, format="png")
    return Path(path)


def grid_png(images: ImageSet, path: str | Path, per_class: int = 8) -> Path:
    """One row per class, the first `per_class` images of each (a class with fewer: white fill)."""
    rows = []
    for c in range(images.num_classes):
        row = images.of_class(c)[:per_class]
        rows += [row, np.full((per_class - len(row), *images.image_shape), 255, np.uint8)]
    return save_grid(np.concatenate(rows), path, per_class)
