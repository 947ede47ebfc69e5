"""One run at a time in a project: `make run`, `snakemake` and `dvc repro` share one lock.

Two runners at once would train the same GAN into the same folders. DVC holds its repo lock
(.dvc/tmp/lock, an fcntl lock through zc.lockfile) for as long as `dvc repro` runs; the
Snakefile takes the same lock when its jobs start, so each runner refuses while the other
works. The kernel drops an fcntl lock when its holder dies, so a kill -9 never leaves it
behind; and while it is free no run is going, so `make run` may clear the lock and the
incomplete marks a killed Snakemake left (its own lock would otherwise refuse every later run).

    python -m synthset.runlock    # exit 0 when no run holds the project, else 3 and who holds it
"""
from __future__ import annotations

import sys
from pathlib import Path

import zc.lockfile

LOCK = Path(".dvc") / "tmp" / "lock"


class RunInProgress(RuntimeError):
    pass


def hold(root: str | Path = ".") -> zc.lockfile.LockFile:
    """The project's run lock, held until the returned object is closed or this process ends."""
    path = Path(root) / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return zc.lockfile.LockFile(str(path))
    except zc.lockfile.LockError:
        holder = path.read_text(errors="replace").strip() or "unknown"
        raise RunInProgress(f"another run is in progress in this project (make run, snakemake or dvc repro; "
                            f"process {holder}): wait for it to finish, or stop it, then run again") from None


def main() -> None:
    try:
        hold().close()
    except RunInProgress as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
