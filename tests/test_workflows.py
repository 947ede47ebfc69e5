"""dvc.yaml and the Snakefile are one DAG: same stages, commands and outputs, both runnable."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from dvc.repo import Repo

from browser import check_page
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
        wildcards = re.search(r"^\s+wildcards: \w+=(\S+)$", block, re.M)
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
                 "results/metrics/ssim/dcgan.json", "results/evaluation/privacy/dcgan/knn_pixels.png",
                 "results/metrics/pca/sample.json", "results/metrics/pca/reconstruct.json",
                 "results/plots/pca/sample.csv", "results/evaluation/pca/reconstruct/grid_n0017.png"]:
        assert (root / path).is_file(), path
    curve = (root / "results/plots/pca/sample.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in curve] == ["n", "1", "4", "17"]
    expect_report(root / "results/report/index.html")


def expect_report(index: Path) -> None:
    """The report as a reader sees it: opened in headless Chromium, every section there,
    every image loaded, nothing in the console."""
    page = check_page(index)
    assert page.errors == []
    assert page.broken_images == []
    assert page.headings == ["Summary", "dcgan", "sngan", "PCA baseline"]
    names = {src for src, _ in page.images}
    for expected in ("real_grid.png", "dcgan_generated.png", "sngan_curves.png", "pca_curve.png",
                     "pca_sample_grid_n0001.png", "dcgan_tstr_mixed.png", "sngan_privacy_knn_pixels.png"):
        assert expected in names, f"{expected} not on the page"
    text = index.read_text()
    for row in ("PCA sample (n=", "PCA reconstruct (n=", "Can I release this?"):
        assert row in text


@pytest.mark.slow
def test_dvc_repro_then_nothing_to_do_then_experiment(project: Path):
    run(["dvc", "repro"], project)
    expect_outputs(project)
    again = run(["dvc", "repro"], project)
    for stage in ("ingest", "preprocess", "train_gan@dcgan", "train_gan@sngan", "sample@sngan", "release@dcgan",
                  "train_classifier", "ssim@dcgan", "fidelity@sngan", "tstr@dcgan", "privacy@sngan",
                  "pca@sample", "pca@reconstruct", "report"):
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
