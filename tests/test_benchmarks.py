"""The benchmarks still run against the library they measure: an epoch of each loop in
train_throughput.py on a few real digits (no timing: that is the benchmark's job)."""
import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from conftest import ROOT, shipped
from torch.utils.data import DataLoader, TensorDataset

from synthset.data import load_digits, preprocess
from synthset.models.factory import build_pair
from synthset.params import load_params
from synthset.pixels import to_tensor
from synthset.train.loop import build_units


def load_benchmark(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_both_training_loops_of_the_throughput_benchmark_train_an_epoch():
    bench = load_benchmark("train_throughput")
    data = preprocess(load_digits(), 8, "gray")
    p = shipped({"gan": {"cdcgan": {"width": 8, "batch_size": 64, "latent_dim": 16}}}).arch("cdcgan")
    cpu, amp = torch.device("cpu"), contextlib.nullcontext
    torch.manual_seed(0)
    g, d = build_pair("cdcgan", data.num_classes, data.image_shape, p)
    opts = [torch.optim.Adam(m.parameters(), lr=p.lr_g) for m in (g, d)]
    loader = DataLoader(TensorDataset(to_tensor(data.images), torch.from_numpy(data.labels)),
                        batch_size=p.batch_size, shuffle=True, drop_last=True)
    before = [w.clone() for w in g.parameters()]
    assert bench.reference_epoch(g, d, *opts, loader, p.latent_dim, cpu, amp) == len(loader) * p.batch_size
    assert any(not torch.equal(a, b) for a, b in zip(before, g.parameters()))

    gen = torch.Generator().manual_seed(0)
    (unit,) = build_units("cdcgan", data, p, cpu, gen)
    before = [w.clone() for w in unit.g.parameters()]
    assert bench.ours_epoch(unit, p, gen, amp) == len(data) // p.batch_size * p.batch_size
    assert any(not torch.equal(a, b) for a, b in zip(before, unit.g.parameters()))


def test_the_ssim_benchmark_imports():
    assert callable(load_benchmark("ssim_scoring").main)


def gpu_widths_project(tmp_path):
    """gpu_photo_widths.sh in a folder of its own (it writes validate's results/ beside itself), with a kit
    of tiny digit splits, a filter trained on them and no wheels: what `kit` leaves, minus the photos."""
    from synthset.classify import fit_recipe
    from synthset.classify.load import save_classifier
    from test_validation import split, validate_project

    (tmp_path / "benchmarks").mkdir()
    shutil.copy(ROOT / "benchmarks" / "gpu_photo_widths.sh", tmp_path / "benchmarks")
    (tmp_path / "src").symlink_to(ROOT / "src")
    kit = tmp_path / "kit"
    train, val = split(30, 10)
    tiny = {"epochs": 2, "batch_size": 32, "latent_dim": 16}
    validate_project(kit, train, val, {"device": "cpu", "threads": 1, "gan": {
        "archs": ["sngan", "cdcgan"], "sngan": tiny, "cdcgan": tiny}, "sample": {"per_class": 20, "keep": "all",
        "label_temperature": None}, "classify": {"epochs": 1}})
    save_classifier(fit_recipe(train, load_params(kit / "params.yaml").classify, torch.device("cpu")),
                    "lenet", train, kit / "filter")
    (kit / "wheels").mkdir()
    return kit


def test_the_gpu_widths_benchmark_scores_each_width_against_the_first_on_a_cpu(tmp_path):
    """The script a GPU session runs once (issue 28), run here on a CPU end to end: each width trained and
    scored by `synthset validate` at each epoch asked, the first width the baseline of the others."""
    kit = gpu_widths_project(tmp_path)
    env = {**os.environ, "KIT": str(kit), "DEVICE": "cpu", "AT": "1,2", "PYTHONPATH": "",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}  # python3: this environment's
    out = tmp_path / "out"
    done = subprocess.run(["bash", str(tmp_path / "benchmarks" / "gpu_photo_widths.sh"), "run", str(out), "8 16"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    for width in (8, 16):
        results = [json.loads(line) for line in (out / f"width{width}.jsonl").read_text().splitlines()]
        assert [r["epoch"] for r in results] == [1, 2]
        assert all(r["set"] == ["device=cpu", f"gan.sngan.width={width}"] for r in results)
    rows = [line for line in done.stdout.splitlines() if line.startswith("width")]
    assert len(rows) == 4 and all("x the baseline's training time" in row for row in rows[2:]), done.stdout
    assert not any("baseline's" in row for row in rows[:2])  # the baseline is not compared with itself


def test_the_gpu_widths_benchmark_fails_loudly_when_a_width_fails(tmp_path):
    """A width validate refuses (0 channels) ends the script with an error and that run's last lines, after
    the other width has finished: a GPU session learns what broke, not a silent half table. (Asked of
    cdcgan: ARCH picks another arch of the preset.)"""
    kit = gpu_widths_project(tmp_path)
    env = {**os.environ, "KIT": str(kit), "DEVICE": "cpu", "AT": "2", "PYTHONPATH": "", "ARCH": "cdcgan",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}  # python3: this environment's
    done = subprocess.run(["bash", str(tmp_path / "benchmarks" / "gpu_photo_widths.sh"), "run",
                           str(tmp_path / "out"), "8 0"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode != 0
    assert "width0.log" in done.stderr and "width" in done.stderr
    [scored] = [json.loads(line) for line in (tmp_path / "out" / "width8.jsonl").read_text().splitlines()]
    assert scored["set"] == ["device=cpu", "gan.cdcgan.width=8"]  # the good width still scored, as cdcgan
    assert "cdcgan on the vehicles' validation photos" in done.stdout
