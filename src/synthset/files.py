"""Writing files atomically (JSON, .npz arrays, anything through atomic_path) and reading them back.

A crash must never leave a half-written file that looks complete, so every writer
goes through a temporary name in the same folder and an atomic rename.
"""
from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import re
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np


@functools.cache
def _host() -> str:
    """This host as 8 hex digits of its name's hash: a host name may be long, and a file name may not."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def _writer_tag() -> str:
    """This host and process, as written into each temporary name: which writer a temporary is."""
    return f"{_host()}-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temporaries(path: Path, suffix: str) -> list[Path]:
    """Temporaries of `path` whose writer, on this host, has died (a kill -9 skips atomic_path's own
    clean-up): a checkpoint or a fit can weigh megabytes, and a run killed again and again would pile
    them up. A live writer's temporary (its process still runs) and one from another host (its
    process cannot be seen from here, e.g. a SLURM job on a shared disk) are left alone."""
    host = _host()
    # exactly mkstemp's names for this path (8 random characters), not another file's that starts alike
    ours = re.compile(rf"\.{re.escape(path.name)}\.{re.escape(host)}-(\d+)\.[a-z0-9_]{{8}}{re.escape(suffix)}")
    stale = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.{host}-*"):
        match = ours.fullmatch(tmp.name)
        if match and not _alive(int(match[1])):
            tmp.unlink(missing_ok=True)
            stale.append(tmp)
    return stale


@contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only on success, with the
    permissions any tool gives a new file under the user's umask (mkstemp's are owner-only,
    which would keep a release or a report from the people it is handed to). The temporary's
    name says which host and process writes it, so a later writer of `path` can remove what a
    killed one left (remove_stale_temporaries)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix or path.suffix
    remove_stale_temporaries(path, suffix)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_writer_tag()}.", suffix=suffix)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        if tmp.exists():
            os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def displayable(name: str) -> str:
    """A file-system name as text every writer takes: bytes that are not UTF-8 (Python holds them
    as lone surrogates, which no UTF-8 file, JSON reader or figure accepts) shown as \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def current_umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def write_json(path: str | Path, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())


def write_npz(path: str | Path, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def read_npz(path: str | Path, made_by: str) -> dict[str, np.ndarray]:
    """Every array of an .npz written by `write_npz` (no pickle); a missing file names its maker."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such image set (run {made_by} first)")
    with np.load(path, allow_pickle=False) as z:
        return {name: z[name] for name in z.files}
