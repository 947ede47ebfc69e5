"""Debian packages and root commands for the tests that start real system components
(Chromium for the report, SLURM for the cluster path): as root, or with `sudo -n`."""
from __future__ import annotations

import os
import shutil
import subprocess

APT_TIMEOUT_S = 1200


def root_prefix() -> list[str] | str:
    """[] as root, ["sudo", "-n"] where that works without a password, else why neither."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") is None:
        return "not root and sudo not found"
    if subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode != 0:
        return "not root and `sudo -n` needs a password"
    return ["sudo", "-n"]


def _run_apt(prefix: list[str], args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = [*prefix, "apt-get", "-o", "DPkg::Lock::Timeout=300", *args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=APT_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(cmd, 124, e.stdout or "", f"timed out after {APT_TIMEOUT_S} s")


def tail(proc: subprocess.CompletedProcess, lines: int = 6) -> str:
    text = (proc.stderr or proc.stdout or "").strip().splitlines()
    return " | ".join(text[-lines:]) or f"exit status {proc.returncode}"


def apt_install(packages: tuple[str, ...]) -> str | None:
    """Install Debian packages. None on success, else why not."""
    if shutil.which("apt-get") is None:
        return "apt-get not found (not a Debian/Ubuntu system)"
    prefix = root_prefix()
    if isinstance(prefix, str):
        return prefix
    install = ["install", "-y", "--no-install-recommends", *packages]
    tried = f"`{' '.join([*prefix, 'apt-get', *install])}`"
    if _run_apt(prefix, install).returncode == 0:
        return None
    # Stale package lists (a superseded .deb gone from the mirror) are the usual cause.
    update = _run_apt(prefix, ["update"])
    if update.returncode != 0:
        return f"{tried} failed, then `apt-get update` failed: {tail(update)}"
    proc = _run_apt(prefix, install)
    if proc.returncode != 0:
        return f"{tried} failed, also after `apt-get update`: {tail(proc)}"
    return None
