"""Shared test fixtures: the project root, and a copy of the project to run pipelines in."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from filelock import FileLock

from synthset.params import DataParams, Params, load_params
from synthset.presets import apply_preset

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SHIPPED = ROOT / "params.yaml"  # the one source of settings; tests override it, never replace it
VEHICLES = ROOT.parent / "shared" / "data" / "vehicles"  # the real RGB photos beside the repo; a clean clone has none

# Under pytest-xdist (`make test`) every worker gets its share of the cores: torch's default,
# every core in every worker, would oversubscribe them (on 2 cores, two one-thread processes
# trained LeNet 1.5 times as fast as one two-thread process)
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    _share = max(1, _cores // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    os.environ["OMP_NUM_THREADS"] = str(_share)  # and in the pipelines the tests start
    torch.set_num_threads(_share)


def shipped(overrides: dict | None = None) -> Params:
    """The shipped params.yaml with `overrides` on top, as a preset would apply them."""
    return load_params(SHIPPED, overrides or {})


def shipped_data(**data) -> DataParams:
    return shipped({"data": data}).data


# Small enough for seconds on 2 CPU cores, real enough to exercise every stage:
# scikit-learn's real 8x8 digits, a few images per class, one short epoch. A preset: applied
# on top of the shipped params.yaml, so every other setting is the shipped one.
TINY_PARAMS = {
    "device": "cpu",
    "threads": 1,
    "data": {"source": "digits", "max_per_class": 24, "test_fraction": 0.25, "val_fraction": 0.11,
             "min_per_class": 10},
    "preprocess": {"image_size": 8, "color": "gray"},
    "gan": {"archs": ["dcgan", "sngan"], "dcgan": {"epochs": 2, "width": 8, "batch_size": 6, "latent_dim": 16},
            "sngan": {"epochs": 2, "width": 8, "batch_size": 16, "latent_dim": 16}},
    "sample": {"per_class": 6, "keep": "all"},  # two epochs draw blobs the filter rightly refuses (test_filtering)
    "classify": {"model": "softmax", "epochs": 2, "reference": "lenet", "seeds": 2},
    # two mixed sets and both PCA modes: more than the default run has, so every path stays tested
    "evaluate": {"kid_subsets": 5, "ssim_k": 3, "mixed_fractions": [0.1, 0.5]},
    "pca": {"modes": ["sample", "reconstruct"],
            "n_components": [1, 4, 64]},  # 64 is capped at the 15 a class of 16 train images allows
    "report": {"grid_per_class": 4},
}


def rule_blocks(root: Path = ROOT) -> dict[str, str]:
    """Each rule's text in rules/*.smk, by rule name."""
    text = "\n".join(p.read_text() for p in sorted((root / "rules").glob("*.smk")))
    return dict(re.findall(r"^rule (\w+):$(.*?)(?=^rule |\Z)", text, re.M | re.S))


def tool_env(slurm: bool = False) -> dict[str, str]:
    """The environment the real tools run in: this venv's first on PATH, git and DVC quiet.

    Without `slurm`, SLURM's client tools read an empty configuration and fail at once: the SLURM
    executor plugin (installed for the cluster test) runs `scontrol show config` whenever Snakemake
    starts, and where a slurm.conf names a controller that is not running (this suite's own, after
    the cluster test) that waits 9 s, on every Snakemake command of every test."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    if not slurm:
        env["SLURM_CONF"] = os.devnull
    return env


def run(cmd: list[str], cwd: Path, check: bool = True, slurm: bool = False) -> subprocess.CompletedProcess:
    """Run a real command with this venv's tools first on PATH (and SLURM's, with `slurm`); show its
    output on failure."""
    proc = subprocess.run(cmd, cwd=cwd, env=tool_env(slurm), capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def make_project(dst: Path) -> Path:
    """A copy of the project's workflow files with tiny params at `dst`, in its own git + DVC repo."""
    dst.mkdir(parents=True)
    for name in ("dvc.yaml", "Snakefile", ".gitignore", ".dvcignore"):
        shutil.copy(ROOT / name, dst / name)
    for folder in ("rules", "schemas", "envs", "report", "profiles"):  # report/: captions of `snakemake --report`
        shutil.copytree(ROOT / folder, dst / folder)
    # the code the stages depend on (they run the installed package, whose source this is)
    shutil.copytree(ROOT / "src" / "synthset", dst / "src" / "synthset",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (dst / "data" / "raw").mkdir(parents=True)
    shutil.copy(ROOT / "data" / "raw" / "README.md", dst / "data" / "raw" / "README.md")
    shutil.copy(SHIPPED, dst / "params.yaml")
    tiny = dst.parent / f"{dst.name}-tiny.yaml"
    tiny.write_text(yaml.safe_dump(TINY_PARAMS, sort_keys=False))
    apply_preset(dst / "params.yaml", tiny)
    run(["git", "init", "-q"], dst)
    run(["dvc", "init", "-q"], dst)
    run(["dvc", "config", "core.analytics", "false"], dst)
    run(["git", "add", "-A"], dst)
    run(["git", "commit", "-qm", "tiny project"], dst)
    return dst


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's workflow files with tiny params, in its own git + DVC repo, nothing run."""
    return make_project(tmp_path / "project")


@pytest.fixture(scope="session")
def tiny_built(tmp_path_factory) -> Path:
    """The tiny project after make run's two steps, `snakemake --cores 2` and `dvc commit`: built once
    per test session and shared by every xdist worker (the first to ask builds it, under a file lock,
    while the others wait), instead of once by each pipeline test. Read it, never change it: a test
    that changes a built project takes `built_project`, its own copy."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the workers' common folder
    target, done = shared / "tiny-built" / "project", shared / "tiny-built.done"
    with FileLock(str(shared / "tiny-built.lock")):
        if not done.exists():
            shutil.rmtree(target.parent, ignore_errors=True)
            make_project(target)
            run(["snakemake", "--cores", "2"], target)
            run(["dvc", "commit", "--force", "--quiet"], target)
            done.touch()
    return target


@pytest.fixture
def built_project(tiny_built: Path, tmp_path: Path) -> Path:
    """A private copy of the built tiny project (git, DVC's cache and lock, Snakemake's records and the
    files' times as they were), to run more on."""
    return Path(shutil.copytree(tiny_built, tmp_path / "project", symlinks=True))
