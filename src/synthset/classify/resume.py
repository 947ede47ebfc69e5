"""Finished classifier fits kept while a stage runs (synthset.resumable): a stage stopped midway starts
again after its last finished fit. The photo preset's tstr makes several ResNet-14 fits of minutes each,
its filter_references four more.

A fit is found again only under the same recipe, seed, device, thread count, training images (their
bytes, shape, labels, soft labels and class names) and code, and it brings back the random state the
fit left behind, so a resumed stage writes what an uninterrupted one writes. Outside a stage nothing is
kept, and nothing is hashed."""
from __future__ import annotations

import functools
import hashlib
import json
import sys
from pathlib import Path
from typing import Callable

import torch

from ..files import atomic_path
from ..imagesets import ImageSet
from ..params import ClassifyParams
from ..resumable import kept_path, keeping_now


@functools.cache
def _code() -> bytes:
    """The code a fit runs (this package and the augmentations): an edit between the stopped run and the
    next one must not bring back weights the new code would not make."""
    package = Path(__file__).parent
    files = sorted(package.glob("*.py")) + [package.parent / "train" / "augment.py"]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).digest()


def fit_key(train: ImageSet, c, device: torch.device) -> str:
    """Names a fit of the `classify` settings `c` by everything its weights depend on: the recipe's keys
    (ClassifyParams.RECIPE; more `seeds` is the same fit), device, threads, images and code."""
    recipe = {k: getattr(c, k) for k in ClassifyParams.RECIPE}
    h = hashlib.sha256(json.dumps({**recipe, "device": str(device), "threads": torch.get_num_threads(),
                                   "shape": train.images.shape, "classes": train.class_names},
                                  sort_keys=True, default=str).encode())
    h.update(_code())
    for array in (train.images, train.labels, train.soft):
        h.update(b"none" if array is None else array.tobytes())
    return h.hexdigest()[:24]


def fit_kept(train: ImageSet, c, device: torch.device, fit: Callable[[], torch.nn.Module],
             fresh: Callable[[], torch.nn.Module], desc: str) -> torch.nn.Module:
    """`fit()`, or, when a stopped run of this stage finished the same fit (of the settings `c` on `train`),
    its weights in `fresh()` (the same architecture, on the device) with the random state that fit left."""
    if not keeping_now():  # nothing is kept, so nothing is hashed
        return fit()
    path = kept_path(f"fit-{fit_key(train, c, device)}.pt")
    if path.exists():
        kept = torch.load(path, weights_only=True)
        model = fresh()
        model.load_state_dict(kept["weights"])
        torch.set_rng_state(kept["rng"])
        if kept["cuda_rng"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(kept["cuda_rng"])
        print(f"{desc}: a fit finished before this stage was stopped, reused", file=sys.stderr, flush=True)
        return model.eval()
    model = fit()
    with atomic_path(path) as tmp:
        torch.save({"weights": model.state_dict(), "rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}, tmp)
    return model
