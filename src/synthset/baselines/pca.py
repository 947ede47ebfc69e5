"""Seed 003's generative baseline: one PCA per class, n components.

A GAN is only worth its training time if it beats this linear model of each class.
Two ways to make images with it:
  - reconstruct: project real train images onto n components and back (seed 003). The
    result is a blurred copy of a private image, so it leaks by construction.
  - sample: draw coefficients from the per-class Gaussian the PCA fitted (each component
    independently, with its explained variance) and map them back: new images.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA

from ..io import ImageSet

MODES = ("sample", "reconstruct")


@dataclass
class PCAImages:
    images: ImageSet
    components: int            # the n actually used: capped by the smallest class
    explained_variance: float  # share of pixel variance the n components hold, averaged over classes


def max_components(train: ImageSet) -> int:
    """PCA of m centred images has at most m - 1 components with non-zero variance."""
    smallest = int(np.bincount(train.labels, minlength=train.num_classes).min())
    return max(1, min(smallest - 1, int(np.prod(train.image_shape))))


def pca_images(train: ImageSet, n: int, mode: str, per_class: int, seed: int) -> PCAImages:
    """`per_class` images of every class from a PCA with n components fitted on that class.

    reconstruct uses `per_class` distinct train images per class (all of them if the class
    has fewer), so the set holds no duplicates of one private image.
    """
    if mode not in MODES:
        raise ValueError(f"PCA mode must be one of {', '.join(MODES)}, got {mode!r}")
    n = min(n, max_components(train))
    rng = np.random.default_rng(seed)
    shape = train.image_shape
    images, labels, explained = [], [], []
    for c in range(train.num_classes):
        x = train.images[train.labels == c].reshape(-1, int(np.prod(shape))).astype(np.float64)
        pca = PCA(n_components=n, svd_solver="full").fit(x)
        explained.append(float(pca.explained_variance_ratio_.sum()))
        if mode == "reconstruct":
            rows = np.sort(rng.choice(len(x), min(per_class, len(x)), replace=False))
            made = pca.inverse_transform(pca.transform(x[rows]))
        else:
            coefficients = rng.standard_normal((per_class, n)) * np.sqrt(pca.explained_variance_)
            made = pca.inverse_transform(coefficients)
        images.append(np.clip(np.rint(made), 0, 255).astype(np.uint8).reshape(-1, *shape))
        labels.append(np.full(len(made), c))
    made_set = ImageSet(np.concatenate(images), np.concatenate(labels), train.class_names)
    return PCAImages(made_set, n, float(np.mean(explained)))
