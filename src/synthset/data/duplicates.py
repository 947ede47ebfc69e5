"""Exact duplicates: images whose decoded pixels are identical.

Real collections hold them (a photo scraped twice, saved as PNG and JPEG of the same
pixels, a scan filed under two names). A copy on both sides of a split makes a "held-out"
image one the generator learnt from: the copy check and any membership audit would then
lie, and the test accuracy would flatter. So ingest keeps every group of copies inside one
split and lists the groups in its summary.
"""
from __future__ import annotations

import hashlib
from typing import Iterable

import numpy as np


def duplicate_groups(images: Iterable[np.ndarray]) -> np.ndarray:
    """A group id per image, numbered in order of first appearance: copies share one.

    The key is a hash of the pixels and the shape, so the same picture stored in two
    formats or under two names is one group, and a crop or a re-encode that changes a
    pixel is not (near-duplicates are not caught here)."""
    ids: dict[bytes, int] = {}
    groups = []
    for image in images:
        image = np.ascontiguousarray(image)
        key = hashlib.blake2b(image.tobytes() + repr(image.shape).encode(), digest_size=16).digest()
        groups.append(ids.setdefault(key, len(ids)))
    return np.asarray(groups, dtype=np.int64)


def group_split(labels: np.ndarray, groups: np.ndarray, split) -> tuple[np.ndarray, np.ndarray]:
    """`split(labels) -> (kept, held_out)` applied to one representative per group (its first
    image), then each group follows its representative: no group spans both parts. Without
    duplicates this is `split(labels)` itself."""
    first = np.unique(groups, return_index=True)[1]  # group g's first image, g = 0, 1, ...
    _, held_groups = split(np.asarray(labels)[first])
    held = np.isin(groups, held_groups)
    return np.flatnonzero(~held), np.flatnonzero(held)


def describe(groups: np.ndarray, labels: np.ndarray, names: list[str], class_names: list[str],
             examples: int = 5) -> dict:
    """The summary's account of the copies: how many groups and images, how many groups
    carry more than one label (a copy filed under two classes), and a few of each by name."""
    sizes = np.bincount(groups)
    copied = np.flatnonzero(sizes > 1)
    members = {int(g): np.flatnonzero(groups == g) for g in copied}
    conflicting = [g for g, idx in members.items() if len(set(labels[idx].tolist())) > 1]
    return {
        "groups": len(copied),
        "images": int(sizes[copied].sum()),
        "label_conflicts": len(conflicting),
        "examples": [[names[i] for i in members[g]] for g in list(members)[:examples]],
        "conflict_examples": [[f"{names[i]} ({class_names[labels[i]]})" for i in members[g]]
                              for g in conflicting[:examples]],
    }
