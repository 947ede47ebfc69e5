"""The ssim stage's figures: the scores per class, and the best- and worst-scored images."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..files import atomic_path
from ..imagesets import ImageSet
from . import plt, save_figure


def ssim_histogram_png(table: pd.DataFrame, path: str | Path, title: str) -> Path:
    """Overlaid per-class histograms of the scores, written atomically."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    bins = np.linspace(min(table.ssim.min(), 0.0), max(table.ssim.max(), 1.0), 41)
    for name, group in table.groupby("class_name", sort=False):
        ax.hist(group.ssim, bins=bins, histtype="step", label=str(name))
    ax.set(xlabel="mean SSIM to real images of the same class", ylabel="generated images", title=title)
    ax.legend(fontsize=7, ncol=2, frameon=False)
    return save_figure(fig, path)


def best_worst_png(fake: ImageSet, table: pd.DataFrame, path: str | Path, n: int = 8) -> Path:
    """Top row: the n best-scored generated images; bottom row: the n worst."""
    from torchvision.utils import make_grid, save_image  # here: importing torchvision costs every stage a second

    order = table.sort_values("ssim", ascending=False, kind="stable")["index"].to_numpy()
    n = min(n, len(order))
    picks = np.concatenate([order[:n], order[len(order) - n:]])
    images = torch.from_numpy(fake.images[picks]).permute(0, 3, 1, 2).float() / 255
    with atomic_path(path) as tmp:
        save_image(make_grid(images, nrow=max(n, 1), pad_value=1), tmp, format="png")
    return Path(path)
