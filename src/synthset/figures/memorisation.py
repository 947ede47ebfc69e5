"""The memorisation stage's figures: how close generated images come to training images."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..imagesets import ImageSet
from ..metrics.memorisation import Memorisation, pixel_vectors
from . import plt, save_figure


def dcr_histogram_png(fake_dcr, test_dcr, threshold: float, path: str | Path, title: str) -> Path:
    """Overlaid densities of generated-to-train and test-to-train DCR, with the copy threshold."""
    fake_dcr, test_dcr = np.asarray(fake_dcr, float), np.asarray(test_dcr, float)
    top = max(fake_dcr.max(), test_dcr.max(), threshold, 1e-6)
    bins = np.linspace(0, top * 1.02, 50)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(test_dcr, bins=bins, density=True, alpha=0.5, label=f"real test images, never trained on ({len(test_dcr)})")
    ax.hist(fake_dcr, bins=bins, density=True, alpha=0.5, label=f"generated images ({len(fake_dcr)})")
    ax.axvline(threshold, color="k", ls="--", lw=1, label=f"copy threshold ({threshold:.3g})")
    ax.set(xlabel="distance to the closest training image", ylabel="density", title=title)
    ax.legend(fontsize=8, frameon=False)
    return save_figure(fig, path)


def knn_panel_png(fake: ImageSet, train: ImageSet, neighbours, path: str | Path, rows: int = 8, k: int = 3,
                  dcr: np.ndarray | None = None) -> Path:
    """Each row: a generated image | its k nearest training images, captioned with class and distance.

    Rows are the `rows` generated images with the smallest DCR, most suspicious first,
    because a reader should see the worst cases rather than random ones. `neighbours` is
    a Memorisation result or an (N, >=k) index array; with a bare array, `dcr` ranks the
    rows, or else the pixel distance to each image's first listed neighbour does.
    """
    if isinstance(neighbours, Memorisation):
        dcr = neighbours.fake_dcr if dcr is None else dcr
        neighbours = neighbours.fake_neighbours
    neighbours = np.asarray(neighbours)[:, :k]
    k = neighbours.shape[1]
    if dcr is None:
        dcr = np.linalg.norm(pixel_vectors(fake) - pixel_vectors(train.images[neighbours[:, 0]]), axis=1)
    dcr = np.asarray(dcr, float)
    order = np.argsort(dcr, kind="stable")[:rows]
    gray = fake.images.shape[3] == 1

    def show(ax, image, caption):
        ax.imshow(image[:, :, 0] if gray else image, cmap="gray" if gray else None, vmin=0, vmax=255)
        ax.set_title(caption, fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])

    fig, axes = plt.subplots(len(order), 1 + k, figsize=(1.3 * (1 + k), 1.45 * len(order)), squeeze=False)
    for row, i in zip(axes, order):
        show(row[0], fake.images[i], f"generated: {fake.class_names[fake.labels[i]]}\nDCR {dcr[i]:.3g}")
        for ax, j in zip(row[1:], neighbours[i]):
            show(ax, train.images[j], f"train #{j}: {train.class_names[train.labels[j]]}")
    fig.suptitle("Generated images closest to a training image, with their nearest training images", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, tight=False)
