"""Training logs: per-step metrics through dvclive, fixed-noise progress grids as PNG."""
from __future__ import annotations

import time
from pathlib import Path

import torch
from dvclive import Live
from torchvision.utils import make_grid, save_image

from ..files import atomic_path


class TrainLog:
    """dvclive for numbers (so `dvc plots` and `dvc exp show` see them), PNGs for grids."""

    def __init__(self, live_dir: str | Path, grid_dir: str | Path, num_classes: int, grid_cols: int = 8,
                 resume: bool = False):
        self.live_dir, self.grid_dir = Path(live_dir), Path(grid_dir)
        self.live = Live(str(live_dir), resume=resume, save_dvc_exp=False, dvcyaml=None, report=None)
        self.grid_dir.mkdir(parents=True, exist_ok=True)
        self.num_classes, self.grid_cols = num_classes, grid_cols
        self.started = time.perf_counter()

    def step(self, metrics: dict[str, float]) -> None:
        """One row per metric in its TSV history. The step counter is advanced by hand, not by
        Live.next_step(): that also re-reads every history file to prepare a DVC Studio
        update (even with Studio off), which grew quadratically with the steps and took
        about a third of a 60-epoch CPU run. The summary is written once per epoch."""
        for name, value in metrics.items():
            self.live.log_metric(f"train/{name}", value)
        self.live.step += 1

    def epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        for name, value in metrics.items():
            self.live.log_metric(f"epoch/{name}", value, plot=False)
        self.live.log_metric("epoch/epoch", epoch, plot=False)
        self.live.make_summary()

    def resumed(self, epoch: int, log_step: int) -> None:
        self.live.step = log_step  # dvclive's own resume guesses one step too far
        print(f"resuming from the checkpoint after epoch {epoch}")

    def flush(self) -> None:
        self.live.make_summary()

    @torch.no_grad()
    def progress_grid(self, model: torch.nn.Module, fixed_z: torch.Tensor, epoch: int) -> Path:
        """Rows are classes, columns fixed noise vectors: the same faces every epoch."""
        was_training = model.training
        model.eval()
        device = next(model.parameters()).device
        labels = torch.arange(self.num_classes).repeat_interleave(self.grid_cols)
        images = model(fixed_z.to(device), labels.to(device)).float().cpu()
        model.train(was_training)
        path = self.grid_dir / f"epoch_{epoch:04d}.png"
        with atomic_path(path) as tmp:
            save_image(make_grid(images, nrow=self.grid_cols, normalize=True, value_range=(-1, 1), pad_value=1),
                       tmp, format="png")
        return path

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def finish(self, summary: dict[str, float]) -> None:
        for name, value in summary.items():
            self.live.summary[name] = value
        self.live.end()
