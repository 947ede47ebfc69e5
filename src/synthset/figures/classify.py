"""Figures of classifier results: confusion matrices and the mixed-data curve."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import plot_with_interval, plt, save_figure


def confusion_png(confusion, class_names: list[str], path: str | Path, title: str) -> Path:
    cm = np.asarray(confusion)
    n = len(class_names)
    fig, ax = plt.subplots(figsize=(0.45 * n + 2.5, 0.45 * n + 2))
    ax.imshow(cm / np.maximum(cm.sum(1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=7,
                        color="white" if cm[i, j] > cm[i].sum() / 2 else "black")
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted", ylabel="true", title=title)
    ax.set_xticklabels(class_names, rotation=90, fontsize=8)
    ax.set_yticklabels(class_names, fontsize=8)
    return save_figure(fig, path)


def mixed_curve_png(curves: dict[str, pd.DataFrame], path: str | Path, title: str) -> Path:
    """Accuracy on real test images against the real share of the training set (0 = all fake),
    one line per generator, with each accuracy's interval as an error bar where it was measured."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for label, curve in curves.items():
        plot_with_interval(ax, curve["real_fraction"] * 100, curve, "accuracy", label=label)
    ax.set(xlabel="real share of the training set (%)", ylabel="accuracy on real test (%)", title=title)
    if len(curves) > 1:
        ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)
