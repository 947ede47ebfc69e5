"""Where tensors live, and the seeding that makes CPU runs repeatable."""
from __future__ import annotations

import random

import numpy as np
import torch


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` is CUDA when a GPU is visible, else CPU; `cuda` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was asked for in params.yaml but no CUDA GPU is visible (use auto or cpu)")
    return torch.device(name)


def use_threads(threads: int) -> None:
    """torch's CPU threads: params.yaml's `threads`; 0 keeps torch's (every core)."""
    if threads:
        torch.set_num_threads(threads)


def seed_everything(seed: int, threads: int = 0) -> torch.Generator:
    """Seed python, numpy and torch; make CPU kernels deterministic. Returns a torch generator."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    use_threads(threads)
    return torch.Generator().manual_seed(seed)
