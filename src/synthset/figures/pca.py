"""Seed 003's PCA figure: how good the baseline's images are as n grows."""
from __future__ import annotations

from pathlib import Path

import matplotlib.ticker
import pandas as pd

from . import plot_with_interval, plt, save_figure


def pca_curve_png(curves: dict[str, pd.DataFrame], acc_real: float | None, path: str | Path) -> Path:
    """Per mode: accuracy of a classifier trained on its images (solid, with its interval over the
    test images where measured) and GAN-test (dashed) against n, next to the share of its images
    that are copies of training images."""
    fig, (ax_acc, ax_copy) = plt.subplots(1, 2, figsize=(10, 3.4))
    for i, (mode, df) in enumerate(curves.items()):
        colour = f"C{i}"
        plot_with_interval(ax_acc, df["n"], df, "acc_fake", color=colour, label=f"{mode}: trained on its images")
        ax_acc.plot(df["n"], df["gan_test_accuracy"] * 100, "s--", color=colour, alpha=0.6,
                    label=f"{mode}: GAN-test")
        ax_copy.plot(df["n"], df["copy_share"] * 100, "o-", color=colour, label=mode)
    if acc_real is not None:
        ax_acc.axhline(acc_real * 100, color="k", lw=0.8, ls=":", label="trained on real images")
    ax_acc.set(xscale="log", xlabel="PCA components per class (n)", ylabel="accuracy on real test (%)",
               title="PCA baseline: utility")
    ax_copy.set(xscale="log", xlabel="PCA components per class (n)", ylabel="copies of train images (%)",
                title="PCA baseline: memorisation")
    for ax in (ax_acc, ax_copy):
        ax.set_xticks(sorted({int(n) for df in curves.values() for n in df["n"]}))
        ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.minorticks_off()
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)
