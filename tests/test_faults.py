"""Faults a data owner's run meets: a killed run, a second run at once, outputs edited by hand,
a folder name with a space. Real make, Snakemake and DVC on the tiny project, nothing mocked."""
import json
import os
import shutil
import signal
import subprocess
import time
from base64 import urlsafe_b64encode
from pathlib import Path

import numpy as np
import yaml

from conftest import BIN, ROOT, run, tool_env
from synthset.params import load_params
from synthset.presets import apply_preset
from synthset.rerun import edited_outputs
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


# Recovery is what is tested here, not the evaluation: one GAN, one classifier seed, no reference model,
# no mixed sets, a short audit, one PCA mode, so that a make run is mostly the cost of starting its jobs
LEANER = {"gan": {"archs": ["dcgan"]}, "classify": {"reference": None, "seeds": 1},
          "evaluate": {"mixed_fractions": [], "audit_bootstrap": 20, "interval_bootstrap": 100,
                       "audit_latent_inits": 4, "audit_latent_restarts": 1, "audit_latent_steps": 5},
          "pca": {"modes": ["sample"]}}


def kill_in_training(project: Path, jobs_only: bool, make: tuple[str, ...] = ("run",)) -> None:
    """Start `make run` (or another target) and SIGKILL it once a GAN trains: make, Snakemake and its
    jobs (a closed terminal, an OOM kill), or only the GAN job's shell and python (jobs_only)."""
    started = subprocess.Popen(["make", *make], cwd=project, env=tool_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    while not (gan := jobs_in(project, "train_gan")):
        assert started.poll() is None and time.monotonic() < deadline, "make run ended before any GAN started"
        time.sleep(0.1)
    time.sleep(1)
    if jobs_only:
        for pid in gan:
            os.kill(pid, signal.SIGKILL)
    else:
        os.killpg(started.pid, signal.SIGKILL)
    assert started.wait() != 0


def test_a_killed_make_run_is_finished_by_the_next_and_runs_never_overlap(project):
    project = with_makefile(project)
    (project.parent / "leaner.yaml").write_text(yaml.safe_dump(LEANER))
    kill_in_training(project, jobs_only=False, make=("preset", f"P={project.parent / 'leaner.yaml'}"))
    assert load_params(project / "params.yaml").classify.seeds == 1  # make preset wrote it before it ran
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
    # release and report built from the old params remain; the next make run must not take those as done.
    # And, before that next run, outputs the change does not touch (the PCA baseline's) edited and
    # truncated by hand: they are made again, not built on nor recorded as valid
    (project.parent / "more.yaml").write_text("gan:\n  dcgan:\n    epochs: 3\n")
    apply_preset(project / "params.yaml", project.parent / "more.yaml")
    kill_in_training(project, jobs_only=True)
    edited, truncated = project / "results/metrics/pca/sample.json", project / "results/evaluation/pca/sample"
    kept_metrics, kept_answers = edited.read_text(), np.load(truncated / "test_correct.npy")
    edited.write_text(edited.read_text().replace('"acc_fake": ', '"acc_fake": -1000 + '))
    with (truncated / "test_correct.npy").open("r+b") as f:  # the answers the summary pairs with the GANs'
        f.truncate(f.seek(0, 2) // 2)

    finished = make_run(project)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    released = json.loads((project / "results/release/dcgan/generator.json").read_text())
    assert released["params"]["epochs"] == 3  # the release now comes from the new params
    for path in (edited, truncated):
        assert f"{path.relative_to(project)} is neither what dvc.lock records" in finished.stderr
    def numbers(text):  # the stages are deterministic on the CPU; how long a PCA fit took is not
        return {k: v for k, v in json.loads(text).items() if not k.endswith("_seconds")}
    assert numbers(edited.read_text()) == numbers(kept_metrics)
    assert np.array_equal(np.load(truncated / "test_correct.npy"), kept_answers)
    assert "-1000" not in (project / "results/report/index.html").read_text()
    assert "up to date" in run(["dvc", "status"], project).stdout

    lock = hold(project)  # and Snakemake, started directly, refuses too while dvc repro (here: we) works
    try:
        direct = run(["snakemake", "--cores", "1", "--forcerun", "report"], project, check=False)
        assert direct.returncode != 0 and "another run is in progress" in direct.stdout + direct.stderr
    finally:
        lock.close()


def snakemake_record(root: Path, output: str, end: float) -> None:
    """What Snakemake 8/9 keeps of the job that wrote `output` (.snakemake/metadata, one JSON a file)."""
    name = urlsafe_b64encode(output.encode()).decode()
    parts = [name[i:i + 254] for i in range(0, len(name), 254)]
    record = root.joinpath(".snakemake", "metadata", *("@" + p for p in parts[:-1]), parts[-1])
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"rule": "x", "starttime": end - 5, "endtime": end}))


def test_only_outputs_changed_after_their_job_ended_count_as_edited(tmp_path):
    long_name = "results/" + "/".join(["d" * 60] * 4) + "/x.json"  # a record name Snakemake splits into folders
    for output in ("results/a.json", "results/b.json", "results/folder/x.npz", "results/new.json", long_name):
        (tmp_path / output).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / output).write_text("{}")
        os.utime(tmp_path / output, (1000, 1000))
    for output in ("results/a.json", "results/b.json", "results/folder", long_name):
        snakemake_record(tmp_path, output, 1000.5)
    os.utime(tmp_path / "results/b.json", (2000, 2000))  # saved by an editor after its job
    os.utime(tmp_path / "results/folder/x.npz", (2000, 2000))  # a file in a folder output
    changed = {"results/a.json": "modified",  # written by a job that make run did not get to commit
               "results/b.json": "modified", "results/folder": "modified",
               "results/new.json": "modified",  # no job of Snakemake's wrote it
               long_name: "modified", "results/gone.json": "deleted"}
    assert edited_outputs(tmp_path, changed) == ["results/b.json", "results/folder", "results/new.json"]
    os.utime(tmp_path / long_name, (2000, 2000))
    assert long_name in edited_outputs(tmp_path, changed)
