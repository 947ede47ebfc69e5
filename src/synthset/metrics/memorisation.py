"""Does the generator copy its private training images? Nearest-neighbour checks.

For each generated image, the distance to its closest training record (DCR), in pixel
space or in a feature space the caller supplies (e.g. a classifier's penultimate layer).
The yardstick is the same distance for real images the generator never saw (the test
split): a generated image closer to the training set than all but `quantile` of unseen
real images is counted as a copy. Neighbours are searched over the whole train split,
not only the same class: a copy that carries the wrong label still leaks a private image.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..imagesets import ImageSet


def nearest(query: np.ndarray, reference: np.ndarray, k: int = 1, batch_size: int = 1024
            ) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean k nearest reference rows of every query row: (distances, indices), both (N, k),
    closest first, ties broken by the lower index.

    Memory stays at batch_size x M distances. torch.cdist's fast matrix-product form loses
    precision exactly where it matters here (near-copies, distances close to 0), so it only
    shortlists candidates; their distances are then recomputed as norms of differences.
    """
    q = torch.as_tensor(np.asarray(query), dtype=torch.float32)
    r = torch.as_tensor(np.asarray(reference), dtype=torch.float32)
    if q.ndim != 2 or r.ndim != 2 or q.shape[1] != r.shape[1]:
        raise ValueError(f"need (N, D) and (M, D) arrays, got {tuple(q.shape)} and {tuple(r.shape)}")
    if not 1 <= k <= len(r):
        raise ValueError(f"k={k} neighbours asked of {len(r)} reference rows")
    shortlist = min(len(r), k + 16)
    dist, idx = np.empty((len(q), k)), np.empty((len(q), k), dtype=np.int64)
    for i in range(0, len(q), batch_size):
        qb = q[i:i + batch_size]
        cand = torch.cdist(qb, r).topk(shortlist, dim=1, largest=False).indices  # (B, shortlist)
        exact = torch.stack([(qb - r[c]).norm(dim=1) for c in cand.T], dim=1).double().numpy()
        cand = cand.numpy()
        order = np.lexsort((cand, exact), axis=1)[:, :k]  # by distance, then by index
        dist[i:i + batch_size] = np.take_along_axis(exact, order, 1)
        idx[i:i + batch_size] = np.take_along_axis(cand, order, 1)
    return dist, idx


def pixel_vectors(images: ImageSet | np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, C) images (or an ImageSet) -> float32 (N, H*W*C) in [0, 1]."""
    array = images.images if isinstance(images, ImageSet) else np.asarray(images)
    if array.dtype != np.uint8:
        raise ValueError(f"pixel_vectors needs uint8 images, got {array.dtype}")
    return array.reshape(len(array), -1).astype(np.float32) / 255


@dataclass
class Memorisation:
    """Result of `memorisation`: JSON-ready `summary` plus per-image arrays for figures."""

    summary: dict
    fake_dcr: np.ndarray         # (N_fake,) distance of each generated image to its closest train image
    test_dcr: np.ndarray         # (N_test,) the same for each real test image
    fake_neighbours: np.ndarray  # (N_fake, k) train indices, closest first
    threshold: float             # pooled copy threshold: `quantile` of test_dcr


def _stats(d: np.ndarray) -> dict:
    return {"median": float(np.median(d)), "p05": float(np.quantile(d, 0.05))}


def memorisation(train_vecs, train_labels, test_vecs, test_labels, fake_vecs, fake_labels, class_names,
                 quantile: float = 0.05, k: int = 3) -> Memorisation:
    """Share of generated images closer to the train split than all but `quantile` of real test images.

    "Closer or equal" counts as a copy, so exact duplicates are flagged even if the
    threshold is 0. Overall numbers use the pooled threshold; per-class numbers use that
    class's own test-to-train threshold (classes differ a lot in how tightly they cluster,
    e.g. MNIST ones vs eights). A class with no test or no generated images gets None.
    """
    train_labels, test_labels, fake_labels = (np.asarray(a, dtype=np.int64)
                                              for a in (train_labels, test_labels, fake_labels))
    if not len(fake_labels) or not len(test_labels):
        raise ValueError("memorisation needs at least one generated and one test image")
    fake_d, fake_idx = nearest(fake_vecs, train_vecs, k)
    test_d, test_idx = nearest(test_vecs, train_vecs, 1)
    fake_dcr, test_dcr = fake_d[:, 0], test_d[:, 0]
    threshold = float(np.quantile(test_dcr, quantile))

    per_class, own_threshold = {}, np.full(len(fake_dcr), np.nan)
    for c, name in enumerate(class_names):
        t, f = test_dcr[test_labels == c], fake_dcr[fake_labels == c]
        entry = {"n_fake": int(len(f)), "n_test": int(len(t)), "threshold": None, "copy_share": None,
                 "test_share": None}
        if len(t):
            t_c = float(np.quantile(t, quantile))
            own_threshold[fake_labels == c] = t_c
            entry.update(threshold=t_c, test_share=float((t <= t_c).mean()))
            if len(f):
                entry["copy_share"] = float((f <= t_c).mean())
        per_class[name] = entry

    judged = ~np.isnan(own_threshold)  # generated images whose class has test images
    summary = {
        "quantile": float(quantile),
        "k": int(k),
        "n_train": int(len(train_labels)), "n_test": int(len(test_labels)), "n_fake": int(len(fake_labels)),
        "threshold": threshold,
        "copy_share": float((fake_dcr <= threshold).mean()),
        "test_share": float((test_dcr <= threshold).mean()),
        # never 0: the threshold is at least the closest test image's distance
        "copy_ratio": float((fake_dcr <= threshold).mean() / (test_dcr <= threshold).mean()),
        "copy_share_own_class_thresholds": (float((fake_dcr[judged] <= own_threshold[judged]).mean())
                                            if judged.any() else None),
        "copy_share_per_class": {name: e["copy_share"] for name, e in per_class.items()},
        "per_class": per_class,
        # a nearest training image of another class: either a mislabelled copy or a poor class match
        "fake_nearest_same_class": float((train_labels[fake_idx[:, 0]] == fake_labels).mean()),
        "test_nearest_same_class": float((train_labels[test_idx[:, 0]] == test_labels).mean()),
        "fake_dcr": _stats(fake_dcr),
        "test_dcr": _stats(test_dcr),
    }
    return Memorisation(summary, fake_dcr, test_dcr, fake_idx, threshold)


def copy_share_interval(fake_dcr: np.ndarray, test_dcr: np.ndarray, quantile: float, resamples: int,
                        confidence: float, seed: int) -> dict:
    """The bounds of the copy share and of its ratio to unseen real images' share (memorisation's `copy_share`,
    `copy_ratio`): a percentile bootstrap
    over the generated images and over the test images whose `quantile` of distances is the threshold. That
    threshold rests on few images (a 5 % quantile of 640 test photos on 32), so it moves the share more than
    the thousands of generated images do, and a ratio near the policy's bars (report.release.copies_ok,
    copies_max) may sit on either side of them."""
    fake_dcr, test_dcr = np.asarray(fake_dcr, np.float64), np.asarray(test_dcr, np.float64)
    rng = np.random.default_rng(seed)
    shares, ratios = [], []
    for start in range(0, resamples, 100):  # 100 resamples at a time: (100, generated images) stays small
        m = min(100, resamples - start)
        test = test_dcr[rng.integers(0, len(test_dcr), (m, len(test_dcr)))]
        fake = fake_dcr[rng.integers(0, len(fake_dcr), (m, len(fake_dcr)))]
        threshold = np.quantile(test, quantile, axis=1)[:, None]
        share = (fake <= threshold).mean(1)
        shares.append(share)
        ratios.append(share / (test <= threshold).mean(1))  # at least the closest test image: never 0
    shares, ratios = np.concatenate(shares), np.concatenate(ratios)
    tail = (1 - confidence) / 2 * 100
    return {"copy_share_low": float(np.percentile(shares, tail)),
            "copy_share_high": float(np.percentile(shares, 100 - tail)),
            "copy_ratio_low": float(np.percentile(ratios, tail)),
            "copy_ratio_high": float(np.percentile(ratios, 100 - tail))}
