"""Finished pieces of a stage's work, kept while the stage runs, so that a stage stopped midway (killed,
its cluster job preempted, the machine restarted) starts again after its last finished piece instead of
from nothing. DVC and Snakemake rerun a stopped stage whole, and on the photo preset a classifier fit
(classify/resume.py) or FID's Inception over a generator's photos (metrics/fidelity.py) takes minutes.

Each piece is a file named by a digest of everything it depends on, so a rerun finds only what it would
make again. The folder goes when the stage ends well; a stage that fails keeps it for the next try.
Outside a stage nothing is kept."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterator

# beside train_gan's checkpoints (git-ignored, no stage's output); not through layout.py, which every stage
# that imports this would then depend on
FOLDER = Path("results") / "checkpoints" / "resume"
_folder: Path | None = None


@contextlib.contextmanager
def keeping(folder: str | Path) -> Iterator[None]:
    """Within it, kept_path names files in `folder`; the folder goes when the block ends without an error."""
    global _folder
    previous, _folder = _folder, Path(folder)
    try:
        yield
        shutil.rmtree(_folder, ignore_errors=True)
    finally:
        _folder = previous


def resumable(main: Callable) -> Callable:
    """A stage's main, run with its finished pieces kept until it ends: one folder per stage and
    arguments (a stage per generator has one per generator), under results/checkpoints/resume."""
    @functools.wraps(main)
    def run(ns, params):
        command = hashlib.sha256("\0".join(sys.argv).encode()).hexdigest()[:12]
        with keeping(FOLDER / f"{Path(sys.argv[0]).stem}-{command}"):
            return main(ns, params)
    return run


def keeping_now() -> bool:
    """Whether a stage keeps its pieces here: outside one, callers compute and need not name anything."""
    return _folder is not None


def kept_path(name: str) -> Path:
    """Where the piece named `name` (a digest of what it depends on) is kept in this stage."""
    if _folder is None:
        raise RuntimeError("kept_path outside a stage that keeps its work (synthset.resumable.keeping)")
    return _folder / name
