"""Finished classifier fits kept while a stage runs, so that a stage stopped midway (killed, its
cluster job preempted, the machine restarted) starts again after its last finished fit instead of
from nothing: the photo preset's tstr makes several ResNet-14 fits of minutes each, its
filter_references four more, and DVC and Snakemake rerun a stopped stage whole.

A fit is found again only under the same recipe, seed, device, thread count, training images (their
bytes, shape, labels, soft labels and class names) and code, and it brings back the random state the
fit left behind, so a resumed stage writes what an uninterrupted one writes. The folder goes when the
stage ends well; a stage that fails keeps it for the next try. Outside a stage nothing is kept, and
nothing is hashed."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterator

import torch

from ..files import atomic_path
from ..imagesets import ImageSet

# beside train_gan's checkpoints (git-ignored, no stage's output); not through layout.py, which every stage that
# imports `classify` would then depend on
FITS = Path("results") / "checkpoints" / "fits"
_folder: Path | None = None


@contextlib.contextmanager
def kept_fits(folder: str | Path) -> Iterator[None]:
    """Within it, fit_kept keeps each finished fit in `folder` and reuses those a stopped run left."""
    global _folder
    previous, _folder = _folder, Path(folder)
    try:
        yield
        shutil.rmtree(_folder, ignore_errors=True)
    finally:
        _folder = previous


def keeping_fits(main: Callable) -> Callable:
    """A stage's main, run with its finished fits kept until it ends: one folder per stage and
    arguments (a stage per generator has one per generator), under results/checkpoints/fits."""
    @functools.wraps(main)
    def run(ns, params):
        command = hashlib.sha256("\0".join(sys.argv).encode()).hexdigest()[:12]
        with kept_fits(FITS / f"{Path(sys.argv[0]).stem}-{command}"):
            return main(ns, params)
    return run


@functools.cache
def _code() -> bytes:
    """The code a fit runs (this package and the augmentations): an edit between the stopped run and the
    next one must not bring back weights the new code would not make."""
    package = Path(__file__).parent
    files = sorted(package.glob("*.py")) + [package.parent / "train" / "augment.py"]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).digest()


def fit_key(train: ImageSet, recipe: dict, device: torch.device) -> str:
    """Names a fit by everything its weights depend on."""
    h = hashlib.sha256(json.dumps({**recipe, "device": str(device), "threads": torch.get_num_threads(),
                                   "shape": train.images.shape, "classes": train.class_names},
                                  sort_keys=True, default=str).encode())
    h.update(_code())
    for array in (train.images, train.labels, train.soft):
        h.update(b"none" if array is None else array.tobytes())
    return h.hexdigest()[:24]


def fit_kept(train: ImageSet, recipe: dict, device: torch.device, fit: Callable[[], torch.nn.Module],
             fresh: Callable[[], torch.nn.Module], desc: str) -> torch.nn.Module:
    """`fit()`, or, when a stopped run of this stage finished the same fit (of `recipe` on `train`),
    its weights in `fresh()` (the same architecture, on the device) with the random state that fit left."""
    if _folder is None:
        return fit()
    path = _folder / f"{fit_key(train, recipe, device)}.pt"
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
