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
import torch
from sklearn.decomposition import PCA

from ..filtering import keep_images, temperature_for
from ..imagesets import ImageSet

MODES = ("sample", "reconstruct")


@dataclass
class PCAImages:
    images: ImageSet
    components: int            # the n actually used: capped by the smallest class
    explained_variance: float  # share of pixel variance the n components hold, averaged over classes
    kept_share: float          # share of draws the filter classifier kept (1 without it)


def max_components(train: ImageSet) -> int:
    """PCA of m centred images has at most m - 1 components with non-zero variance."""
    smallest = int(np.bincount(train.labels, minlength=train.num_classes).min())
    return max(1, min(smallest - 1, int(np.prod(train.image_shape))))


def pca_images(train: ImageSet, n: int, mode: str, per_class: int, seed: int, keep: str = "all",
               judge: torch.nn.Module | None = None, device: torch.device = torch.device("cpu"),
               temperature: float | None = None) -> PCAImages:
    """`per_class` images of every class from a PCA with n components fitted on that class.

    reconstruct uses `per_class` distinct train images per class (all of them if the class
    has fewer), so the set holds no duplicates of one private image; it makes no new images,
    so `keep` (sample.keep, filtering.py) and the filter's soft labels at `temperature`
    (sample.label_temperature) apply to sample mode only.
    """
    if mode not in MODES:
        raise ValueError(f"PCA mode must be one of {', '.join(MODES)}, got {mode!r}")
    n = min(n, max_components(train))
    rng = np.random.default_rng(seed)
    shape = train.image_shape
    classes = [train.images[train.labels == c].reshape(-1, int(np.prod(shape))).astype(np.float64)
               for c in range(train.num_classes)]
    pcas = [PCA(n_components=n, svd_solver="full").fit(x) for x in classes]
    explained = float(np.mean([p.explained_variance_ratio_.sum() for p in pcas]))

    def draw(counts: np.ndarray) -> ImageSet:
        made = []
        for x, pca, count in zip(classes, pcas, counts):
            if count == 0:  # a later round of the filter: this class is full
                made.append(np.empty((0, x.shape[1])))
            elif mode == "reconstruct":
                rows = np.sort(rng.choice(len(x), min(count, len(x)), replace=False))
                made.append(pca.inverse_transform(pca.transform(x[rows])))
            else:
                made.append(pca.inverse_transform(rng.standard_normal((count, n)) * np.sqrt(pca.explained_variance_)))
        images = np.clip(np.rint(np.concatenate(made)), 0, 255).astype(np.uint8).reshape(-1, *shape)
        return ImageSet(images, np.repeat(np.arange(len(made)), [len(m) for m in made]), train.class_names)

    filtered = keep if mode == "sample" else "all"
    images, stats = keep_images(draw, filtered, judge, train.class_names, per_class, device,
                                temperature_for(filtered, temperature))
    return PCAImages(images, n, explained, stats["kept_share"])
