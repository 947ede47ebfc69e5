"""dvc.yaml and the Snakefile are one DAG: same stages, commands and outputs, both runnable."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from dvc.repo import Repo

from conftest import ROOT, run

REDIRECT = re.compile(r"\s+2>\s*\S+$")  # Snakemake sends each rule's stderr to its log file


def dvc_stages(root: Path) -> dict[str, tuple[str, set[str]]]:
    with Repo(str(root)) as repo:
        return {s.addressing: (" ".join(s.cmd.split()), {str(o.def_path) for o in s.outs})
                for s in repo.index.stages}


def snakemake_jobs(root: Path) -> dict[str, tuple[str, set[str]]]:
    """Parse `snakemake -n -p --forceall`: one block per job with its outputs and shell command."""
    text = run(["snakemake", "--forceall", "-n", "-p"], root).stdout
    jobs = {}
    for block in re.split(r"^(?=rule \w+:$)", text, flags=re.M)[1:]:
        name = block.split(":", 1)[0].removeprefix("rule ")
        wildcards = re.search(r"^\s+wildcards: arch=(\S+)$", block, re.M)
        if wildcards:
            name = f"{name}@{wildcards.group(1)}"
        outputs = re.search(r"^\s+output: (.+)$", block, re.M)
        shell = re.search(r"^Shell command: (.+)$", block, re.M)
        if shell and outputs:
            jobs[name] = (" ".join(REDIRECT.sub("", shell.group(1)).split()),
                          {o.strip() for o in outputs.group(1).split(",")})
    return jobs


def test_dvc_and_snakemake_declare_the_same_stages():
    dvc, snake = dvc_stages(ROOT), snakemake_jobs(ROOT)
    assert sorted(dvc) == sorted(snake)
    for name in dvc:
        assert dvc[name][0] == snake[name][0], f"{name}: commands differ"
        assert dvc[name][1] == snake[name][1], f"{name}: outputs differ"


def test_snakemake_lint_and_dry_run_pass():
    lint = run(["snakemake", "--lint"], ROOT)
    assert "Congratulations" in lint.stdout + lint.stderr
    run(["snakemake", "-n"], ROOT)


def expect_outputs(root: Path) -> None:
    for path in ["data/prepared/ingest/train.npz", "data/prepared/preprocess/test.npz",
                 "results/models/dcgan/generator.pt", "results/samples/dcgan/samples.npz",
                 "results/live/train_gan/dcgan/metrics.json", "results/report/index.html",
                 "results/release/sngan/generator.safetensors", "results/release/dcgan/MODEL_CARD.md",
                 "results/metrics/baseline.json", "results/metrics/tstr/sngan.json",
                 "results/metrics/fidelity/dcgan.json", "results/metrics/privacy/sngan.json",
                 "results/metrics/ssim/dcgan.json", "results/evaluation/privacy/dcgan/knn_pixels.png"]:
        assert (root / path).is_file(), path
    page = (root / "results/report/index.html").read_text()
    for src in re.findall(r'src="([^"]+)"', page):
        assert (root / "results/report" / src).is_file(), f"report image {src} missing"


@pytest.mark.slow
def test_dvc_repro_then_nothing_to_do_then_experiment(project: Path):
    run(["dvc", "repro"], project)
    expect_outputs(project)
    again = run(["dvc", "repro"], project)
    for stage in ("ingest", "preprocess", "train_gan@dcgan", "train_gan@sngan", "sample@sngan", "release@dcgan",
                  "train_classifier", "ssim@dcgan", "fidelity@sngan", "tstr@dcgan", "privacy@sngan", "report"):
        assert f"Stage '{stage}' didn't change, skipping" in again.stdout, again.stdout

    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "baseline"], project)
    run(["dvc", "exp", "run", "-S", "gan.dcgan.epochs=3", "-n", "three-epochs"], project)
    shown = json.loads(run(["dvc", "exp", "show", "--json"], project).stdout)
    found = [exp for commit in shown for exp in (commit.get("experiments") or [])
             for rev in exp["revs"] if rev.get("name") == "three-epochs"]
    assert found, "the experiment is not listed by dvc exp show"
    params = found[0]["revs"][0]["data"]["params"]["params.yaml"]["data"]
    assert params["gan"]["dcgan"]["epochs"] == 3
    metrics = found[0]["revs"][0]["data"]["metrics"]
    assert any("train_seconds" in m["data"] for m in metrics.values())


@pytest.mark.slow
def test_snakemake_runs_the_same_pipeline(project: Path):
    run(["snakemake", "--cores", "2"], project)
    expect_outputs(project)
    again = run(["snakemake", "--cores", "2"], project)
    assert "Nothing to be done" in again.stdout + again.stderr
