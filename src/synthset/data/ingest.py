"""The ingest stage: raw source -> capped, checked, split RaggedImageSets on disk.

Bad files are skipped and listed in skipped.csv rather than stopping the run, but a
class too small to learn from stops it with one line naming the class.
"""
from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from synthset.data import sources
from synthset.data.duplicates import describe, duplicate_groups, group_split
from synthset.files import atomic_path, write_json
from synthset.imagesets import RaggedImageSet
from synthset.params import DataParams

log = logging.getLogger("synthset.ingest")


def stratified_split(labels, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split keeping each class's share in both parts; sorted indices.

    The held-out part gets at least one image per class (a class missing from it could
    never be scored), so on tiny sets it is larger than `test_fraction`."""
    labels = np.asarray(labels)
    classes = len(np.unique(labels))
    held_out = max(classes, int(np.ceil(test_fraction * len(labels))))
    if len(labels) - held_out < classes:
        raise ValueError(f"{len(labels)} images in {classes} classes are too few to hold out "
                         f"{test_fraction:.0%} with every class on both sides")
    train, test = train_test_split(np.arange(len(labels)), test_size=held_out,
                                   stratify=labels, random_state=seed)
    return np.sort(train), np.sort(test)


def cap_per_class(labels, max_per_class: int, seed: int) -> np.ndarray:
    """Sorted indices keeping at most `max_per_class` of each class, chosen at random (seeded)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        keep.append(rng.choice(idx, max_per_class, replace=False) if len(idx) > max_per_class else idx)
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, np.int64)


def subset(ragged: RaggedImageSet, idx) -> RaggedImageSet:
    """The images at `idx`, in that order, with their labels and names."""
    idx = np.asarray(idx, dtype=np.int64)
    images = list(ragged)
    return RaggedImageSet.from_images([images[i] for i in idx], ragged.labels[idx], ragged.class_names,
                                      [ragged.names[i] for i in idx])


def select_classes(ragged: RaggedImageSet, classes: list[str]) -> RaggedImageSet:
    """Only the images of `classes` (names of ragged's classes), relabelled 0..k-1 in that order."""
    keep = [ragged.class_names.index(c) for c in classes]
    new_label = np.full(len(ragged.class_names), -1, np.int64)
    new_label[keep] = np.arange(len(keep))
    picked = subset(ragged, np.flatnonzero(np.isin(ragged.labels, keep)))
    return RaggedImageSet(picked.pixels, picked.shapes, new_label[picked.labels], list(classes), picked.names)


def class_counts(ragged: RaggedImageSet) -> dict[str, int]:
    counts = np.bincount(ragged.labels, minlength=len(ragged.class_names))
    return {name: int(n) for name, n in zip(ragged.class_names, counts)}


def _check_min(ragged: RaggedImageSet, minimum: int, where: str) -> None:
    for name, n in class_counts(ragged).items():
        if n < minimum:
            raise ValueError(f"{where}: class {name!r} has {n} images, fewer than data.min_per_class = {minimum}")


def _read(params: DataParams, color: str, where: str):
    """The source's images (only data.classes when set) as {"all": set} or {"train", "test"},
    plus skipped files."""
    if params.source == "folder":  # filters while reading: unwanted class folders are never decoded
        ragged, skipped = sources.load_folder(params.path, color, params.classes)
        return {"all": ragged}, skipped
    if params.source == "mnist5k":
        sets = {"all": sources.load_mnist5k()}
    elif params.source == "digits":
        sets = {"all": sources.load_digits()}
    else:
        sets = sources.load_idx(params.path)
    if params.classes is not None:
        keep = sources.check_classes(next(iter(sets.values())).class_names, params.classes, where)
        sets = {k: select_classes(s, keep) for k, s in sets.items()}
    return sets, []


SPLITS = ("train", "val", "test")


def split_keeping_copies_together(sets: dict[str, RaggedImageSet], params: DataParams):
    """{"train", "test"} with every group of identical images on one side, and the summary's
    account of the copies. A source with its own split (idx) keeps it, minus the test images
    that copy a train image: a copy of a member is no non-member."""
    if "all" in sets:
        whole = sets["all"]
        groups = duplicate_groups(whole)
        train_idx, test_idx = group_split(whole.labels, groups,
                                          lambda labels: stratified_split(labels, params.test_fraction, params.seed))
        copies = describe(groups, whole.labels, whole.names, whole.class_names)
        return {"train": subset(whole, train_idx), "test": subset(whole, test_idx)}, copies
    train, test = sets["train"], sets["test"]
    groups = duplicate_groups([*train, *test])
    copies = describe(groups, np.concatenate([train.labels, test.labels]), [*train.names, *test.names],
                      train.class_names)
    leaked = np.isin(groups[len(train):], groups[:len(train)])
    copies["dropped_from_test"] = int(leaked.sum())
    return {"train": train, "test": subset(test, np.flatnonzero(~leaked))}, copies


def _check_train_left(train, where: str) -> None:
    """What the splits leave to learn from: PCA fits each class on its train images (one image
    has no variance: NaN further on), so a class needs two, said here rather than as a NaN."""
    counts = np.bincount(train.labels, minlength=len(train.class_names))
    if counts.min() < 2:
        name = train.class_names[int(counts.argmin())]
        raise ValueError(f"{where}: class {name!r} keeps {counts.min()} train image(s) after the test and validation "
                         "splits; every class needs at least 2: add images, raise data.min_per_class, or lower "
                         "data.test_fraction or data.val_fraction")


def _write_skipped(skipped: list, path: Path, source: str) -> None:
    """The files that could not be read, with why: a user fixes or removes them and reruns."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["path", "reason"])
            writer.writerows(skipped)
    if skipped:
        log.warning("skipped %d unreadable image file(s) under %s; see %s", len(skipped), source, path)
    else:
        log.info("skipped 0 files; %s", path)


def ingest(params: DataParams, color: str, out_dir: str | Path) -> dict:
    """Read, check, cap and split the source; write train/val/test .npz, skipped.csv, summary.json.

    test is held out from everything but the reported numbers; val is carved from the
    train split for every choice made from data (PCA's n, selection thresholds), so that
    no choice is ever made on test. Identical images stay together in one split
    (data/duplicates.py), listed under "duplicates". Generators learn from train alone; the real baseline
    classifier learns from train and val (nothing is chosen for it)."""
    out_dir = Path(out_dir)
    where = f"{params.source} source" + (f" at {params.path}" if params.source in ("idx", "folder") else "")
    sets, skipped = _read(params, color, where)
    # Minimum is checked on what the source has, before any cap for quick runs.
    _check_min(sets["train"] if "train" in sets else sets["all"], params.min_per_class, where)
    if params.max_per_class:
        sets = {k: subset(s, cap_per_class(s.labels, params.max_per_class, params.seed)) for k, s in sets.items()}
    sets, copies = split_keeping_copies_together(sets, params)
    try:
        train_idx, val_idx = group_split(sets["train"].labels, duplicate_groups(sets["train"]),
                                         lambda labels: stratified_split(labels, params.val_fraction, params.seed))
    except ValueError as err:
        raise ValueError(f"{where}: data.val_fraction: {err}") from None
    sets = {"train": subset(sets["train"], train_idx), "val": subset(sets["train"], val_idx),
            "test": sets["test"]}
    _check_train_left(sets["train"], where)

    out_dir.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        sets[split].save(out_dir / f"{split}.npz")
    _write_skipped(skipped, out_dir / "skipped.csv", params.path)
    summary = {
        "source": params.source,
        "path": params.path if params.source in ("idx", "folder") else None,
        "images": {split: len(s) for split, s in sets.items()},
        "per_class": {split: class_counts(s) for split, s in sets.items()},
        "skipped": len(skipped),
        "duplicates": copies,
        "class_names": sets["train"].class_names,
    }
    if copies["groups"]:
        log.warning("%d groups of identical images (%d images) kept each inside one split%s; names in %s",
                    copies["groups"], copies["images"],
                    f", {copies['dropped_from_test']} test copies of train images dropped"
                    if copies.get("dropped_from_test") else "", out_dir / "summary.json")
    write_json(out_dir / "summary.json", summary)
    return summary
