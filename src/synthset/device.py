"""Where tensors live, and the seeding that makes CPU runs repeatable."""
from __future__ import annotations

import random

import numpy as np
import torch
from threadpoolctl import threadpool_limits


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` is CUDA when a GPU is visible, else CPU; `cuda` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was asked for in params.yaml but no CUDA GPU is visible (use auto or cpu)")
    return torch.device(name)


def use_threads(threads: int) -> None:
    """torch's CPU threads and those of numpy's BLAS and OpenMP (PCA, distances): params.yaml's
    `threads`; 0 keeps their defaults (every core). Snakemake limits the BLAS ones through the
    environment (OMP_NUM_THREADS and kin) of each job; limiting them here too gives `dvc repro`
    the same pools, and so the same numbers, since a thread count changes the order of sums."""
    if threads:
        torch.set_num_threads(threads)
        threadpool_limits(threads)


def seed_everything(seed: int, threads: int = 0) -> torch.Generator:
    """Seed python, numpy and torch; make CPU kernels deterministic. Returns a torch generator."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    use_threads(threads)
    return torch.Generator().manual_seed(seed)
