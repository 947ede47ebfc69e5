"""The cluster path for real: the tiny pipeline through `snakemake --profile profiles/slurm`
on a running single-node SLURM, checked against the scheduler's own record."""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import rule_blocks, run, tool_env
from slurm import ensure_slurm, slurm_jobs

from synthset.files import read_json
from synthset.imagesets import ImageSet
from synthset.params import load_params
from synthset.presets import apply_preset


def declared(threads: int) -> dict[str, dict]:
    """Per rule: threads, mem_mb and gpu as rules/*.smk declare them (absent: 1, the profile's, 0);
    a torch rule reserves THREADS, params.yaml's `threads`."""
    out = {}
    for rule, body in rule_blocks().items():
        torch_rule = re.search(r"^\s+threads: THREADS$", body, re.M)
        mem = re.search(r"^\s+mem_mb=(\d+),$", body, re.M)
        out[rule] = {"threads": threads if torch_rule else 1, "mem_mb": int(mem.group(1)) if mem else None,
                     "gpu": bool(re.search(r"^\s+gpu=1,$", body, re.M))}
    return out


@pytest.mark.slow
def test_pipeline_runs_as_slurm_jobs_with_the_rules_requests(project: Path, tiny_built: Path):
    """The whole tiny pipeline as SLURM jobs, each with the resources its rule declares, giving the
    numbers the same pipeline gives on this machine (tiny_built: the same project, run locally). Every
    rule runs, for one GAN and one PCA mode: the others are more jobs of the same rules, and a
    generator's outputs do not depend on which others run beside it."""
    ensure_slurm()
    one_each = project.parent / "one-each.yaml"
    one_each.write_text("gan:\n  archs: [dcgan]\npca:\n  modes: [sample]\n")
    apply_preset(project / "params.yaml", one_each)

    run(["snakemake", "--profile", "profiles/slurm", "--latency-wait", "10",
         "--slurm-init-seconds-before-status-checks", "1"], project, slurm=True)
    jobs = slurm_jobs(project)
    rules = declared(load_params(project / "params.yaml").threads)
    planned = run(["snakemake", "--forceall", "-n", "--quiet", "rules"], project).stdout
    expected = {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", planned, re.M) if rule not in ("all", "total")}

    # every job ran as a SLURM job, and finished
    ran: dict[str, int] = {}
    for job in jobs:
        rule = re.match(r"rule_(\w+?)(_wildcards_.*)?$", job["Comment"]).group(1)
        ran[rule] = ran.get(rule, 0) + 1
        assert job["JobState"] == "COMPLETED", job
        r = rules[rule]
        # the rule's requests reached the submission: CPUs, memory, and a GPU only where declared
        assert int(job["NumCPUs"]) == r["threads"], (rule, job["NumCPUs"])
        assert job["MinMemoryNode"] == f"{r['mem_mb'] or 2000}M", (rule, job["MinMemoryNode"])
        assert ("gres:gpu:1" in job.get("TresPerJob", "") + job.get("TresPerNode", "")) == r["gpu"], (rule, job)
    assert ran == expected and set(ran) == set(rules) - {"all"}  # every rule, each as often as planned

    # the same outputs as the same pipeline run locally (built once for the whole test session)
    samples = ["results/samples/dcgan/samples.npz"]
    metrics = ["results/metrics/baseline.json", "results/metrics/tstr/dcgan.json",
               "results/metrics/fidelity/dcgan.json", "results/metrics/memorisation/dcgan.json",
               "results/metrics/audit/dcgan.json", "results/metrics/pca/sample.json"]
    local = tiny_built
    for path in samples:
        a, b = (ImageSet.load(root / path) for root in (project, local))
        assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels), path
    for path in metrics:
        slurm_side, local_side = read_json(project / path), read_json(local / path)
        for key in ("accuracy", "acc_fake", "fid", "copy_share", "auc"):
            if key in local_side:
                assert slurm_side[key] == local_side[key], (path, key)
    assert (project / "results/report/index.html").is_file()


@pytest.mark.slow
def test_a_cancelled_training_job_reruns_and_resumes_from_its_checkpoint(project: Path, tmp_path: Path):
    """scancel mid-training: Snakemake drops the incomplete output, and the rerun's job
    continues from the last epoch checkpoint instead of starting over."""
    ensure_slurm()
    # long enough to cancel mid-run (tenths of a second an epoch), a checkpoint every epoch; the rerun
    # trains what is left, so every epoch more here is CI time
    epochs = 40
    longer = tmp_path / "longer.yaml"
    longer.write_text(f"gan:\n  archs: [dcgan]\n  dcgan:\n    epochs: {epochs}\n    checkpoint_every: 1\n")
    apply_preset(project / "params.yaml", longer)
    target = ["snakemake", "--profile", "profiles/slurm", "--retries", "0", "--latency-wait", "10",
              "--slurm-init-seconds-before-status-checks", "1", "results/models/dcgan"]
    first = subprocess.Popen(target, cwd=project, env=tool_env(slurm=True), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    latest = project / "results/checkpoints/dcgan/latest.json"
    deadline = time.monotonic() + 300
    while not (latest.exists() and read_json(latest)["epoch"] >= 3):
        assert time.monotonic() < deadline and first.poll() is None, "no checkpoint of epoch 3 in time"
        time.sleep(0.5)
    [job] = [j for j in slurm_jobs(project) if j["Comment"] == "rule_train_gan_wildcards_dcgan"
             and j["JobState"] == "RUNNING"]
    subprocess.run(["scancel", job["JobId"]], check=True)
    output, _ = first.communicate(timeout=300)
    assert first.returncode != 0, output
    assert not (project / "results/models/dcgan").exists(), "the incomplete output was left behind"
    cancelled_at = read_json(latest)["epoch"]
    assert 3 <= cancelled_at < epochs - 1

    run(target, project, slurm=True)
    log = (project / "logs/train_gan/dcgan.log").read_text()
    resumed = re.search(r"resuming from the checkpoint of epoch (\d+)", log)
    assert resumed and int(resumed.group(1)) >= cancelled_at, log[-2000:]
    assert (project / "results/models/dcgan/generator.pt").is_file()
    assert not latest.exists()  # checkpoints are cleared once the run completes
