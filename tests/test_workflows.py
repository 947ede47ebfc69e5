"""dvc.yaml and the Snakefile are one DAG: same stages, commands and outputs, both runnable."""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
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
                 "results/plots/pca/sample.csv", "results/evaluation/pca/reconstruct/grid_n0015.png"]:
        assert (root / path).is_file(), path
    curve = (root / "results/plots/pca/sample.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in curve] == ["n", "1", "4", "15"]
    split = json.loads((root / "data/prepared/ingest/summary.json").read_text())
    baseline = json.loads((root / "results/metrics/baseline.json").read_text())
    assert baseline["train_images"] == split["images"]["train"] + split["images"]["val"], "baseline: train + val"
    expect_report(root / "results/report/index.html")


def expect_report(index: Path) -> None:
    """The report as a reader sees it: opened in headless Chromium, every section there,
    every image loaded, nothing in the console."""
    page = check_page(index)
    assert page.errors == []
    assert page.broken_images == []
    assert page.headings == ["Summary", "dcgan", "sngan", "PCA baseline"]
    names = {src for src, _ in page.images}
    for expected in ("real_grid.png", "dcgan_generated.png", "sngan_curves.png", "pca_curve.png", "mixed_curves.png",
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


def key_columns(arch: str) -> str:
    """README's `dvc exp show --keep` pattern: seed 003's F, D, B and the four numbers to compare."""
    return (rf"Experiment|gan\.{arch}\.(capacity|d_depth|batch_size)$|(.*tstr/{arch}\.json:)?acc_fake$"
            rf"|(.*fidelity/{arch}\.json:)?fid$|(.*privacy/{arch}\.json:)?copy_share$"
            rf"|(.*train_gan/{arch}/metrics\.json:)?train_seconds$")


@pytest.mark.slow
def test_dvc_exp_queued_grid_then_table_and_curves(project: Path):
    """README "Comparing settings with dvc exp": a grid queued with DVC's sweep syntax, run
    with --run-all, compared as a table of params and key metrics and as overlaid curves."""
    queued = run(["dvc", "exp", "run", "--queue", "-S", "gan.archs=[dcgan]", "-S", "pca.modes=[sample]",
                  "-S", "gan.dcgan.capacity=1,2"], project)
    assert queued.stdout.count("Queued experiment") == 2, queued.stdout
    run(["dvc", "exp", "run", "--run-all"], project)

    shown = json.loads(run(["dvc", "exp", "show", "--json"], project).stdout)
    exps = {rev["name"]: rev["data"] for commit in shown for exp in (commit.get("experiments") or [])
            for rev in exp["revs"]}
    by_capacity = {data["params"]["params.yaml"]["data"]["gan"]["dcgan"]["capacity"]: name
                   for name, data in exps.items()}
    assert sorted(by_capacity) == [1, 2], exps.keys()
    for name, data in exps.items():
        assert data["params"]["params.yaml"]["data"]["gan"]["archs"] == ["dcgan"]
        metrics = {path: m["data"] for path, m in data["metrics"].items()}
        for path, key in (("results/metrics/tstr/dcgan.json", "acc_fake"),
                          ("results/metrics/fidelity/dcgan.json", "fid"),
                          ("results/metrics/privacy/dcgan.json", "copy_share"),
                          ("results/live/train_gan/dcgan/metrics.json", "train_seconds")):
            assert isinstance(metrics[path][key], float), (name, path, key)

    table = run(["dvc", "exp", "show", "--drop", ".*", "--keep", key_columns("dcgan"), "--csv"], project).stdout
    # DVC prefixes a metric with its file only where the name is not unique: compare the names after ':'
    rows = [{col.rpartition(":")[2]: value for col, value in row.items()} for row in csv.DictReader(io.StringIO(table))]
    assert sorted(rows[0]) == sorted(["Experiment", "gan.dcgan.capacity", "gan.dcgan.d_depth", "gan.dcgan.batch_size",
                                      "acc_fake", "fid", "copy_share", "train_seconds"]), table
    listed = {row["Experiment"]: row for row in rows if row["Experiment"]}
    assert [listed[by_capacity[c]]["gan.dcgan.capacity"] for c in (1, 2)] == ["1", "2"]
    assert all(float(listed[name][key]) >= 0 for name in exps for key in ("acc_fake", "fid", "train_seconds"))

    plots = json.loads(run(["dvc", "plots", "diff", *exps, "--targets", "results/live/train_gan/dcgan/plots/metrics",
                            "--json"], project).stdout)
    for curve in ("loss_g", "loss_d", "d_acc_real", "d_acc_fake"):
        [plot] = plots["data"][f"results/live/train_gan/dcgan/plots/metrics/train/{curve}.tsv"]
        assert sorted(plot["revisions"]) == sorted(exps)
        assert {point["rev"] for point in plot["content"]["data"]["values"]} == set(exps)


@pytest.mark.slow
def test_snakemake_runs_the_same_pipeline(project: Path):
    run(["snakemake", "--cores", "2"], project)
    expect_outputs(project)
    again = run(["snakemake", "--cores", "2"], project)
    assert "Nothing to be done" in again.stdout + again.stderr
    # the same run, as Snakemake's own report: the outputs marked report(...), offline
    run(["snakemake", "--report", "report.zip"], project)
    expect_snakemake_report(project, project / "report.zip")


# Snakemake report category -> outputs (or files in output folders) it must hold
MARKED = {
    "Data": ["data/prepared/ingest/summary.json"],
    "Training": ["results/figures/dcgan/epoch_0000.png", "results/live/train_gan/sngan/metrics.json"],
    "Samples": ["results/samples/dcgan/grid.png", "results/samples/sngan/grid.png"],
    "Utility (TSTR)": ["results/metrics/baseline.json", "results/classifier/real/confusion.png",
                       "results/metrics/tstr/dcgan.json", "results/evaluation/tstr/sngan/mixed.png"],
    "Realism (SSIM)": ["results/metrics/ssim/sngan.json", "results/evaluation/ssim/dcgan/histogram.png"],
    "Realism (FID family)": ["results/metrics/fidelity/dcgan.json"],
    "Privacy": ["results/metrics/privacy/sngan.json", "results/evaluation/privacy/dcgan/knn_pixels.png"],
    "PCA baseline": ["results/evaluation/pca/sample/curve.png", "results/evaluation/pca/reconstruct/grid_n0015.png",
                     "results/metrics/pca/reconstruct.json", "results/plots/pca/sample.csv"],
    "Release": ["results/release/dcgan/MODEL_CARD.md", "results/release/sngan/MODEL_CARD.md"],
    "Report": ["results/report/index.html"],
}


def report_variable(html: str, name: str):
    """One of the JSON objects the Snakemake report page is built from (`var results = {...};`)."""
    found = re.search(rf"^\s*var {name} = ([{{\"].*);\s*$", html, re.M)
    assert found, f"no `var {name}` in the Snakemake report"
    return json.loads(found.group(1))


def expect_snakemake_report(root: Path, archive: Path) -> None:
    """Every marked result is in its category with its caption, stored byte for byte; the
    pipeline's HTML report travels with its images and still opens with none broken."""
    with zipfile.ZipFile(archive) as zf:
        html = zf.read("report/report.html").decode()
        categories = report_variable(html, "categories")
        results = report_variable(html, "results")
        assert set(MARKED) <= set(categories), sorted(categories)
        for category, paths in MARKED.items():
            listed = {p for sub in categories[category].values() for p in sub}
            for path in paths:
                assert path in listed, f"{path} not in report category {category!r}"
                stored = f"report/{results[path]['data_uri']}"
                assert zf.read(stored) == (root / path).read_bytes(), path
        assert "sngan" in results["results/metrics/tstr/sngan.json"]["caption"]  # captions are rendered
        assert "dcgan, sngan" in report_variable(html, "workflow_desc")
        zf.extractall(archive.parent / "snakemake_report")
    index = archive.parent / "snakemake_report" / "report" / results["results/report/index.html"]["data_uri"]
    beside = {p.name for p in index.parent.iterdir()}
    assert {p.name for p in (root / "results/report").iterdir() if not p.name.startswith(".")} <= beside
    page = check_page(index)
    assert page.broken_images == [] and page.errors == []
    assert "PCA baseline" in page.headings
