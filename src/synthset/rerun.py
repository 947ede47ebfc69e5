"""What `make run` must redo that Snakemake alone would not: outputs a failed run deleted, and
outputs changed by hand.

When a job fails, Snakemake deletes its outputs; the next run then sees the stale outputs
downstream of them (a release, the report, from the params before the change) and takes the
missing ones for intermediates it need not remake: "Nothing to be done". An output edited or
truncated by hand is newer than its inputs, so Snakemake remakes only what reads it, from the
edited file, and `dvc commit` would record that as valid.

DVC's record of the last finished run (dvc.lock) says which outputs are gone or differ. One
that differs is either a job's work that `make run` did not get to commit (it was stopped after
the job) or an edit: Snakemake's record of the job that wrote it tells them apart, since a file
changed after that job ended was changed by something else. Both kinds are handed to Snakemake
as --forcerun targets, so they and everything built from them are made again.

    python -m synthset.rerun    # prints "--forcerun <outputs>", or nothing
"""
from __future__ import annotations

import json
import sys
from base64 import urlsafe_b64encode
from pathlib import Path

SLACK_SECONDS = 2.0  # a file's time stamp against Snakemake's record of the job's end
NAME_MAX = 255  # Snakemake splits a longer record name into folders ("@" + part), as here


def changed_outputs(root: str | Path = ".") -> dict[str, str]:
    """Outputs dvc.lock records that are no longer as recorded: {path: "deleted" or "modified"}."""
    from dvc.repo import Repo  # here: importing DVC costs a second

    with Repo(str(root)) as repo:
        status = repo.status()
    return {path: state for changes in status.values() for change in changes if isinstance(change, dict)
            for path, state in change.get("changed outs", {}).items()}


def job_end(root: str | Path, output: str) -> float | None:
    """When the Snakemake job that last wrote `output` ended (its metadata record), if one did."""
    name = urlsafe_b64encode(output.encode()).decode()
    parts = [name[i:i + NAME_MAX - 1] for i in range(0, len(name), NAME_MAX - 1)]
    record = Path(root, ".snakemake", "metadata", *("@" + p for p in parts[:-1]), parts[-1])
    try:
        end = json.loads(record.read_text()).get("endtime")
    except (OSError, ValueError):
        return None
    return end if isinstance(end, (int, float)) else None


def last_change(path: Path) -> float:
    """The newest time stamp of a file, or of anything in a folder (the folder's own included)."""
    if not path.is_dir():
        return path.stat().st_mtime
    return max([path.stat().st_mtime, *(p.stat().st_mtime for p in path.rglob("*"))])


def edited_outputs(root: str | Path, changed: dict[str, str]) -> list[str]:
    """The modified outputs that no Snakemake job left as they are: changed after the job that wrote
    them ended, or never written by one (a `dvc repro` run records its outputs as it goes)."""
    edited = []
    for output, state in changed.items():
        path = Path(root) / output
        if state != "modified" or not path.exists():
            continue
        end = job_end(root, output)
        if end is None or last_change(path) > end + SLACK_SECONDS:
            edited.append(output)
    return sorted(edited)


def main() -> None:
    changed = changed_outputs()
    edited = edited_outputs(".", changed)
    for output in edited:
        print(f"synthset: {output} is neither what dvc.lock records nor what the job that wrote it left "
              "(edited by hand?): making it again", file=sys.stderr)
    redo = sorted({p for p, state in changed.items() if state == "deleted"} | set(edited))
    if redo:
        print("--forcerun " + " ".join(redo))


if __name__ == "__main__":
    main()
