"""The benchmarks still run against the library they measure: an epoch of each loop in
train_throughput.py on a few real digits (no timing: that is the benchmark's job)."""
import contextlib
import importlib.util

import torch
from conftest import ROOT, shipped
from torch.utils.data import DataLoader, TensorDataset

from synthset.data import load_digits, preprocess
from synthset.models.factory import build_pair
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
