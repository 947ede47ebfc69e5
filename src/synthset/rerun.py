"""What `make run` must redo that Snakemake alone would not: outputs a failed run deleted.

When a job fails, Snakemake deletes its outputs; the next run then sees the stale outputs
downstream of them (a release, the report, from the params before the change) and takes the
missing ones for intermediates it need not remake: "Nothing to be done". DVC's record of the
last finished run (dvc.lock) says which outputs are gone; they are handed to Snakemake as
--forcerun targets, so they and everything built from them are made again. Hand-edited
outputs are not caught here: the outputs of a run that failed halfway differ from dvc.lock
too, and must not be redone.

    python -m synthset.rerun    # prints "--forcerun <outputs>", or nothing
"""
from __future__ import annotations

from pathlib import Path


def deleted_outputs(root: str | Path = ".") -> list[str]:
    """Outputs dvc.lock records that are no longer there."""
    from dvc.repo import Repo  # here: importing DVC costs a second

    with Repo(str(root)) as repo:
        status = repo.status()
    return sorted({path for changes in status.values() for change in changes if isinstance(change, dict)
                   for path, state in change.get("changed outs", {}).items() if state == "deleted"})


def main() -> None:
    deleted = deleted_outputs()
    if deleted:
        print("--forcerun " + " ".join(deleted))


if __name__ == "__main__":
    main()
