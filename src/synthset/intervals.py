"""How far an accuracy could move: over the test images drawn and over the classifier's seed.

An accuracy on 1,000 test images has a standard error near 0.6 points; another classifier
seed moves it by as much again. Each accuracy is kept as a (seeds, test images) table of
right and wrong answers, and a percentile bootstrap draws both: the test images with
replacement (the same draw for every seed) and the seeds with replacement.

Comparisons are paired: two classifiers are scored on the same draw of test images, so the
shared hard and easy images cancel and the interval is that of the difference, narrower
than two separate intervals would suggest. Two tables with as many seeds are paired by seed
too (seed k of each used the same initialisation), so two identical tables differ by
exactly 0 in every resample.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ANSWERS = "test_correct.npy"  # beside a classifier's outputs: (seeds, test images), True where right
ANSWER_SETS = "test_correct.npz"  # the same for several training sets (tstr: fake, mixed_*, ...), one array each
CHUNK = 100  # resamples drawn at once: (seeds, CHUNK, test images) booleans stay small


@dataclass(frozen=True)
class Interval:
    """A point estimate with the bounds of its percentile bootstrap interval."""

    value: float
    low: float
    high: float

    def covers(self, x: float) -> bool:
        return self.low <= x <= self.high

    def as_dict(self, prefix: str) -> dict[str, float]:
        return {prefix: self.value, f"{prefix}_low": self.low, f"{prefix}_high": self.high}


def as_table(correct) -> np.ndarray:
    """Right (1) and wrong (0) answers as (seeds, test images) floats; one seed may be a flat list."""
    table = np.asarray(correct, dtype=np.float64)
    if table.ndim == 1:
        table = table[None]
    if table.ndim != 2 or table.shape[1] == 0:
        raise ValueError(f"expected (seeds, test images) answers, got shape {table.shape}")
    return table


def _seed_weights(rng: np.random.Generator, seeds: int, resamples: int) -> np.ndarray:
    """(resamples, seeds): how often each seed was drawn, over the number of seeds."""
    drawn = rng.integers(0, seeds, (resamples, seeds))
    return (drawn[:, :, None] == np.arange(seeds)).sum(axis=1) / seeds


def _resampled_means(tables: list[np.ndarray], resamples: int, seed: int) -> list[np.ndarray]:
    """Each table's mean accuracy in every resample; the images drawn are shared by all tables,
    and tables with as many seeds share their seed draws."""
    rng = np.random.default_rng(seed)
    n = tables[0].shape[1]
    if any(t.shape[1] != n for t in tables):
        raise ValueError(f"paired answers must be on the same test images: {[t.shape[1] for t in tables]}")
    seed_counts = {t.shape[0] for t in tables}
    means = [np.empty(resamples) for _ in tables]
    for start in range(0, resamples, CHUNK):
        size = min(CHUNK, resamples - start)
        images = rng.integers(0, n, (size, n))
        drawn = {s: _seed_weights(rng, s, size) for s in sorted(seed_counts)}
        for t, out in zip(tables, means):
            per_seed = t[:, images].mean(axis=2)  # (seeds, size)
            out[start:start + size] = np.einsum("bs,sb->b", drawn[t.shape[0]], per_seed)
    return means


def _bounds(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1 - confidence) / 2
    low, high = np.quantile(samples, [tail, 1 - tail])
    return float(low), float(high)


def accuracy_interval(correct, resamples: int, confidence: float, seed: int) -> Interval:
    """Mean accuracy over seeds and test images, with its interval."""
    table = as_table(correct)
    [means] = _resampled_means([table], resamples, seed)
    return Interval(float(table.mean()), *_bounds(means, confidence))


def paired_difference(correct_a, correct_b, resamples: int, confidence: float, seed: int) -> Interval:
    """Accuracy of a minus accuracy of b on the same test images, with its interval."""
    a, b = as_table(correct_a), as_table(correct_b)
    means_a, means_b = _resampled_means([a, b], resamples, seed)
    return Interval(float(a.mean() - b.mean()), *_bounds(means_a - means_b, confidence))
