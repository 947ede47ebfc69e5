"""make's documented runs besides make run (README "More runs"): a preset as a dvc experiment,
params.yaml left as it is, on the built tiny project with real make, DVC and this venv."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, run
from test_faults import with_makefile


@pytest.mark.slow
def test_make_experiment_runs_a_preset_as_a_named_dvc_experiment(built_project: Path, tmp_path: Path):
    project = with_makefile(built_project)
    (project / "presets").mkdir()
    preset = project / "presets" / "three-per-class.yaml"
    preset.write_text("report:\n  grid_per_class: 3\n")  # the report alone changes
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "baseline"], project)
    params_before = (project / "params.yaml").read_text()

    made = run(["make", "experiment", "P=presets/three-per-class.yaml"], project)
    assert "Running stage 'report'" in made.stdout and "Running stage 'train_gan" not in made.stdout, made.stdout
    shown = json.loads(run(["dvc", "exp", "show", "--json"], project).stdout)
    [exp] = [rev for commit in shown for e in (commit.get("experiments") or []) for rev in e["revs"]
             if rev.get("name") == "three-per-class"]
    assert exp["data"]["params"]["params.yaml"]["data"]["report"]["grid_per_class"] == 3
    # as every workspace experiment, the values stay in the workspace's params.yaml; git keeps the baseline
    assert "grid_per_class: 3" in (project / "params.yaml").read_text()
    assert run(["git", "show", "HEAD:params.yaml"], project).stdout == params_before

    # make diffusion and make dp are the same target on the shipped presets
    for target, archs in (("diffusion", "ddpm"), ("dp", "cdcgan_dp")):
        planned = run(["make", "-n", target], project).stdout
        assert f"experiment P=presets/{target}.yaml" in planned
        assert archs in (ROOT / "presets" / f"{target}.yaml").read_text()
    refused = run(["make", "experiment"], project, check=False)
    assert refused.returncode != 0 and "make experiment P=<file>" in refused.stderr
