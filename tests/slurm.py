"""A real single-node SLURM for the cluster test, started the way the browser test gets Chromium.

    from slurm import ensure_slurm, slurm_jobs
    ensure_slurm()                      # or pytest.skip with the reason
    jobs = slurm_jobs(workdir)          # the scheduler's own record of the jobs run there

Debian's `slurm-wlm` and `munge` are installed when missing (as root, or with `sudo -n`).
When no SLURM answers, one is configured as the cluster these tests assume: one node with
this machine's CPUs and memory and a count-only GPU generic resource (`Gres=gpu:1`,
`File=/dev/null`: no GPU is needed to check a GPU request), `proctrack/linuxproc`,
`task/none`, no accounting, and a day of `MinJobAge` so that `squeue --states=all` still
lists finished jobs. An existing /etc/slurm/slurm.conf that these tests did not write is
never touched.
"""
from __future__ import annotations

import atexit
import functools
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from system_packages import apt_install, root_prefix, tail

APT_PACKAGES = ("slurm-wlm", "munge")
CONF_DIR = Path("/etc/slurm")
MARK = "# written by synthset's tests (tests/slurm.py)"
STATE = Path("/var/tmp/synthset-slurm")


def _answers() -> bool:
    """A controller answers and this node is up (idle, mixed or allocated)."""
    try:
        out = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and any(s.strip("*~#") in ("idle", "mixed", "allocated") for s in out.stdout.split())


def _config() -> tuple[str, str]:
    host = socket.gethostname().split(".")[0]
    cpus = os.cpu_count() or 1
    mem_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20 - 1024
    conf = f"""{MARK}
ClusterName=synthset
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={STATE}/state
SlurmdSpoolDir={STATE}/spool
SlurmctldPidFile={STATE}/slurmctld.pid
SlurmdPidFile={STATE}/slurmd.pid
SlurmctldLogFile={STATE}/slurmctld.log
SlurmdLogFile={STATE}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
MinJobAge=86400
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName={host} CPUs={cpus} RealMemory={mem_mb} Gres=gpu:1 State=UNKNOWN
PartitionName=main Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""
    return conf, f"{MARK}\nNodeName={host} Name=gpu Count=1 File=/dev/null\n"


def _start(prefix: list[str]) -> str | None:
    """Configure and start munged, slurmctld and slurmd. None when SLURM answers, else why not."""
    conf = CONF_DIR / "slurm.conf"
    if conf.exists() and MARK not in conf.read_text():
        return f"{conf} exists and was not written by these tests; SLURM is not answering (sinfo)"
    text, gres = _config()
    steps = [["mkdir", "-p", str(CONF_DIR), f"{STATE}/state", f"{STATE}/spool", "/run/munge"],
             ["tee", str(conf)], ["tee", str(CONF_DIR / "gres.conf")], ["chown", "munge:munge", "/run/munge"]]
    inputs = [None, text, gres, None]
    for cmd, stdin in zip(steps, inputs):
        proc = subprocess.run([*prefix, *cmd], input=stdin, capture_output=True, text=True)
        if proc.returncode != 0:
            return f"`{' '.join(cmd)}` failed: {tail(proc)}"
    started = []
    for daemon in (["runuser", "-u", "munge", "--", "/usr/sbin/munged"], ["/usr/sbin/slurmctld"],
                   ["/usr/sbin/slurmd"]):
        name = Path(daemon[-1]).name
        if subprocess.run(["pgrep", "-x", name], capture_output=True).returncode == 0:
            continue  # already running (a munged from the package, or an earlier session)
        proc = subprocess.run([*prefix, *daemon], capture_output=True, text=True)
        if proc.returncode != 0:
            return f"`{' '.join(daemon)}` failed: {tail(proc)}"
        started.append(name)
    atexit.register(_stop, prefix, started)  # leave the machine as the tests found it
    for _ in range(30):
        if _answers():
            return None
        time.sleep(1)
    return f"started munged, slurmctld and slurmd, but sinfo shows no usable node (logs: {STATE}/*.log)"


def _stop(prefix: list[str], daemons: list[str]) -> None:
    for name in reversed(daemons):
        subprocess.run([*prefix, "pkill", "-x", name], capture_output=True)


@functools.cache
def _resolve() -> str | None:
    """None when a SLURM answers here (found or started), else why not. Cached: apt runs once."""
    if _answers():
        return None
    if shutil.which("slurmctld") is None and not Path("/usr/sbin/slurmctld").exists():
        if why := apt_install(APT_PACKAGES):
            return f"tried to install {' '.join(APT_PACKAGES)} from apt but {why}"
    prefix = root_prefix()
    if isinstance(prefix, str):
        return f"starting SLURM's daemons needs root: {prefix}"
    return _start(prefix)


def ensure_slurm() -> None:
    """A running single-node SLURM, or the calling test is skipped with the reason."""
    if why := _resolve():
        pytest.skip(f"no SLURM to submit to: {why}")


def slurm_jobs(workdir: Path) -> list[dict[str, str]]:
    """`scontrol show job` for every job the scheduler still holds that ran in `workdir`
    (finished ones stay listed for MinJobAge)."""
    out = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True, check=True).stdout
    jobs = []
    for line in out.splitlines():
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        if Path(fields.get("WorkDir", "")) == Path(workdir):
            jobs.append(fields)
    return jobs
