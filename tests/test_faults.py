"""Faults a data owner's run meets: a killed run, a second run at once, a folder name with a
space. Real make, Snakemake and DVC on the tiny project, nothing mocked."""
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from conftest import BIN, ROOT, run, tool_env
from synthset.presets import apply_preset
from synthset.runlock import hold


def make_run(project: Path) -> subprocess.CompletedProcess:
    return run(["make", "run"], project, check=False)


def with_makefile(project: Path) -> Path:
    """The project moved to a folder whose name has a space, with the Makefile and this venv as its
    .venv (a link; pyproject.toml copied older than the venv's install mark, so make does not
    reinstall): make's paths go through the shell with the space in them."""
    spaced = project.parent / "my project"
    project.rename(spaced)
    shutil.copy(ROOT / "Makefile", spaced / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", spaced / "pyproject.toml")
    os.utime(spaced / "pyproject.toml", (0, 0))
    (spaced / ".venv").symlink_to(BIN.parent, target_is_directory=True)
    return spaced


def jobs_in(project: Path, stage: str) -> list[int]:
    """The pids of `stage`'s python processes running in `project`."""
    found = subprocess.run(["pgrep", "-f", f"synthset.stages.{stage} "], capture_output=True, text=True).stdout
    return [int(p) for p in found.split() if os.path.realpath(f"/proc/{p}/cwd") == os.path.realpath(project)]


def test_a_killed_make_run_is_finished_by_the_next_and_runs_never_overlap(project):
    project = with_makefile(project)
    started = subprocess.Popen(["make", "run"], cwd=project, env=tool_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    while not list((project / "logs" / "train_gan").glob("*.log")):  # a GAN is training
        assert started.poll() is None and time.monotonic() < deadline, "make run ended before any GAN started"
        time.sleep(0.2)
    os.killpg(started.pid, signal.SIGKILL)  # make, Snakemake and its jobs, as a closed terminal or an OOM kill
    started.wait()
    left = run(["snakemake", "--cores", "1"], project, check=False)
    assert left.returncode != 0 and "cannot be locked" in left.stdout + left.stderr  # what make run must clear

    lock = hold(project)  # another run holds the project: make run and dvc repro refuse, changing nothing
    try:
        refused = make_run(project)
        assert refused.returncode != 0 and "another run is in progress" in refused.stderr
        assert "snakemake" not in refused.stdout  # refused before Snakemake started
        assert "Unable to acquire lock" in run(["dvc", "repro"], project, check=False).stderr
    finally:
        lock.close()

    finished = make_run(project)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert (project / "results/report/index.html").is_file()
    assert "up to date" in run(["dvc", "status"], project).stdout  # DVC recorded the finished run

    # a params change, then only the GAN job killed: the failed job's outputs are gone, while the
    # release and report built from the old params remain; the next make run must not take those as done
    (project.parent / "more.yaml").write_text("gan:\n  dcgan:\n    epochs: 3\n")
    apply_preset(project / "params.yaml", project.parent / "more.yaml")
    started = subprocess.Popen(["make", "run"], cwd=project, env=tool_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    while not (gan := jobs_in(project, "train_gan")):
        assert started.poll() is None, "make run ended before the GAN started"
        time.sleep(0.2)
    time.sleep(1)
    for pid in gan:  # the job's shell and its python
        os.kill(pid, signal.SIGKILL)
    assert started.wait() != 0
    finished = make_run(project)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    released = json.loads((project / "results/release/dcgan/generator.json").read_text())
    assert released["params"]["epochs"] == 3  # the release now comes from the new params
    assert "up to date" in run(["dvc", "status"], project).stdout

    lock = hold(project)  # and Snakemake, started directly, refuses too while dvc repro (here: we) works
    try:
        direct = run(["snakemake", "--cores", "1", "--forcerun", "report"], project, check=False)
        assert direct.returncode != 0 and "another run is in progress" in direct.stdout + direct.stderr
    finally:
        lock.close()
