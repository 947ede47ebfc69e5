"""DVC experiments as docs/experiments.md runs them: a queued grid, compared as a table and as curves.
Its own file, so that xdist (--dist loadfile) runs it beside test_workflows.py's pipeline tests."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import run
from synthset.metric_registry import summary_keys as arch_summary_keys


def key_columns(arch: str) -> str:
    """docs/experiments.md's `dvc exp show --keep` pattern: seed 003's F, D, B and the four numbers to compare."""
    return (rf"Experiment|gan\.{arch}\.(capacity|d_depth|batch_size)$"
            rf"|(.*summary\.json:)?{arch}\.(acc_fake|fid|copy_share|train_seconds)$")


@pytest.mark.slow
def test_dvc_exp_queued_grid_then_table_and_curves(built_project: Path):
    """docs/experiments.md, "A grid": after the baseline run, committed, a grid queued with DVC's
    sweep syntax, run with --run-all, compared as a table of params and key metrics and as overlaid
    curves. The stages a grid point does not change come from DVC's run cache, not run again. The
    swept key is one the GAN's block leaves to gan.defaults: `+` adds it to the block."""
    project = built_project
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "baseline"], project)
    queued = run(["dvc", "exp", "run", "--queue", "-S", "gan.archs=[dcgan]", "-S", "+gan.dcgan.capacity=1,2"], project)
    assert queued.stdout.count("Queued experiment") == 2, queued.stdout
    ran = run(["dvc", "exp", "run", "--run-all"], project)
    for stage in ("ingest", "preprocess", "train_classifier", "pca@sample", "pca@reconstruct"):  # the baseline's
        assert ran.stdout.count(f"Stage '{stage}' didn't change, skipping") == 2, ran.stdout

    shown = json.loads(run(["dvc", "exp", "show", "--json"], project).stdout)
    exps = {rev["name"]: rev["data"] for commit in shown for exp in (commit.get("experiments") or [])
            for rev in exp["revs"]}
    by_capacity = {data["params"]["params.yaml"]["data"]["gan"]["dcgan"]["capacity"]: name
                   for name, data in exps.items()}
    assert sorted(by_capacity) == [1, 2], exps.keys()
    for name, data in exps.items():
        assert data["params"]["params.yaml"]["data"]["gan"]["archs"] == ["dcgan"]
        summary = data["metrics"]["results/metrics/summary.json"]["data"]
        assert sorted(summary) == ["dcgan", "pca_reconstruct", "pca_sample", "real"]
        for key in arch_summary_keys():
            assert isinstance(summary["dcgan"][key], float), (name, key)

    table = run(["dvc", "exp", "show", "--drop", ".*", "--keep", key_columns("dcgan"), "--csv"], project).stdout
    # DVC prefixes a metric with its file only where the name is not unique: compare the names after ':'
    rows = [{col.rpartition(":")[2]: value for col, value in row.items()} for row in csv.DictReader(io.StringIO(table))]
    # d_depth: not swept here, and left to gan.defaults, so dcgan's block has none to show
    assert sorted(rows[0]) == sorted(["Experiment", "gan.dcgan.capacity", "gan.dcgan.batch_size",
                                      "dcgan.acc_fake", "dcgan.fid", "dcgan.copy_share", "dcgan.train_seconds"]), table
    listed = {row["Experiment"]: row for row in rows if row["Experiment"]}
    assert [listed[by_capacity[c]]["gan.dcgan.capacity"] for c in (1, 2)] == ["1", "2"]
    assert all(float(listed[name][f"dcgan.{key}"]) >= 0 for name in exps for key in ("acc_fake", "fid", "train_seconds"))

    plots = json.loads(run(["dvc", "plots", "diff", *exps, "--targets", "results/live/train_gan/dcgan/plots/metrics",
                            "--json"], project).stdout)
    for curve in ("loss_g", "loss_d", "d_acc_real", "d_acc_fake"):
        [plot] = plots["data"][f"results/live/train_gan/dcgan/plots/metrics/train/{curve}.tsv"]
        assert sorted(plot["revisions"]) == sorted(exps)
        assert {point["rev"] for point in plot["content"]["data"]["values"]} == set(exps)
    mixed = json.loads(run(["dvc", "plots", "diff", *exps, "--targets", "results/plots/mixed/dcgan.csv", "--json"],
                           project).stdout)
    [plot] = mixed["data"]["results/plots/mixed/dcgan.csv"]
    assert {point["rev"] for point in plot["content"]["data"]["values"]} == set(exps)
