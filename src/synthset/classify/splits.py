"""Training sets for the utility test: fake, and real/fake mixtures at equal size (seed 003)."""
from __future__ import annotations

import numpy as np

from ..imagesets import ImageSet


def _take(s: ImageSet, c: int, n: int, rng: np.random.Generator) -> np.ndarray:
    idx = np.flatnonzero(s.labels == c)
    if n > len(idx):
        raise ValueError(f"class {s.class_names[c]!r}: {n} images asked for, only {len(idx)} available")
    return rng.choice(idx, n, replace=False)


def fake_subset(fake: ImageSet, per_class: int | None, seed: int) -> ImageSet:
    """A balanced subset of the generated set (all of it when per_class is None)."""
    if per_class is None:
        return fake
    rng = np.random.default_rng(seed)
    return fake.subset(np.sort(np.concatenate([_take(fake, c, per_class, rng) for c in range(fake.num_classes)])))


def mixed_set(real: ImageSet, fake: ImageSet, real_fraction: float, seed: int) -> ImageSet:
    """Per class, as many images as the smaller of the real and generated sets has,
    `real_fraction` of them real and the rest generated: every mixed set has the same size,
    so accuracy moves with the share of real data, not with the amount (seed 003)."""
    if real.class_names != fake.class_names:
        raise ValueError("real and generated sets have different classes")
    rng = np.random.default_rng(seed)
    parts = []
    for c in range(real.num_classes):
        n = int(min((real.labels == c).sum(), (fake.labels == c).sum()))
        n_real = int(round(real_fraction * n))
        parts += [real.subset(_take(real, c, n_real, rng)), fake.subset(_take(fake, c, n - n_real, rng))]
    return parts[0].concat(*parts[1:])
