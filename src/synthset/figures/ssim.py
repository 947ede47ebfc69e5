"""The ssim stage's figures: the scores per class, and the best- and worst-scored images."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..imagesets import ImageSet
from . import plt, save_figure
from .grids import save_grid


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
    order = table.sort_values("ssim", ascending=False, kind="stable")["index"].to_numpy()
    n = min(n, len(order))
    picks = np.concatenate([order[:n], order[len(order) - n:]])
    return save_grid(fake.images[picks], path, n)
