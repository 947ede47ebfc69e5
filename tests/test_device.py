"""params.yaml's `threads` reaches every thread pool a stage computes with, whichever runner
started it: Snakemake limits BLAS through the environment, `dvc repro` does not."""
from __future__ import annotations

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from synthset.device import use_threads


def blas_threads() -> set[int]:
    np.ones((2, 2)) @ np.ones((2, 2))  # numpy's BLAS is loaded
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_threads_limit_torch_and_blas_alike():
    torch_before = torch.get_num_threads()
    with threadpool_limits(2):  # restores the pools' limits on leaving
        try:
            torch.set_num_threads(2)
            assert blas_threads() == {2}
            use_threads(0)  # torch's default: every pool left as it is
            assert torch.get_num_threads() == 2 and blas_threads() == {2}
            use_threads(1)
            assert torch.get_num_threads() == 1 and blas_threads() == {1}
        finally:
            torch.set_num_threads(torch_before)
