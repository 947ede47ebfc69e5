"""The epoch loop every generator family shares: resume from a checkpoint, a progress bar, each
epoch's time and speed, the fixed-noise grids and the checkpoints at their cadence, `on_epoch`.

A family (the GANs in loop.py, the diffusion model in diffusion.py) supplies only what differs,
as a `Trainee`: one epoch of its own steps, its grid, and its state. What the driver adds to a
checkpoint (the random generators, epoch, step, log position) is the same for all, so a run
killed anywhere and started again ends with the weights of an uninterrupted run.
"""
from __future__ import annotations

import time
from typing import Callable, Protocol

import torch
from tqdm.auto import tqdm

from .checkpoint import Checkpointer
from .trainlog import TrainLog


class Trainee(Protocol):
    def run_epoch(self, epoch: int, step: int, bar) -> tuple[int, int]:
        """Train one epoch from global step `step`; return (images seen, the step reached)."""

    def draw_grid(self, epoch: int) -> None:
        """The fixed-noise progress grid of the model as it would sample now."""

    def state_dict(self) -> dict:
        """The family's own training state (weights, optimisers, EMA...), top-level checkpoint keys."""

    def load_state_dict(self, state: dict) -> None: ...


def run_epochs(name: str, trainee: Trainee, epochs: int, grid_every: int, checkpoint_every: int,
               gen: torch.Generator, log: TrainLog, checkpointer: Checkpointer | None = None,
               on_epoch: Callable[[int], None] | None = None) -> None:
    """Epochs 1..`epochs` (from the checkpoint's next one when `checkpointer` holds one)."""
    start, step = 1, 0
    state = checkpointer.load() if checkpointer else None
    if state:
        trainee.load_state_dict(state)
        gen.set_state(state["gen"])
        torch.set_rng_state(state["torch_rng"])
        start, step = state["epoch"] + 1, state["step"]
        log.resumed(state["epoch"], state["log_step"])
    else:
        trainee.draw_grid(0)

    bar = tqdm(range(start, epochs + 1), initial=start - 1, total=epochs, desc=name, unit="epoch")
    for epoch in bar:
        t0 = time.perf_counter()
        seen, step = trainee.run_epoch(epoch, step, bar)
        seconds = time.perf_counter() - t0
        log.epoch(epoch, {"epoch_seconds": seconds, "images_per_second": seen / seconds})
        if epoch % grid_every == 0 or epoch == epochs:
            trainee.draw_grid(epoch)
        if on_epoch:  # before the checkpoint: one saved after epoch e holds e's on_epoch done (validate's
            on_epoch(epoch)  # score, and whatever random state it drew), so a resumed run repeats none of it
        if checkpointer and epoch % checkpoint_every == 0 and epoch < epochs:
            checkpointer.save({**trainee.state_dict(), "gen": gen.get_state(), "torch_rng": torch.get_rng_state(),
                               "epoch": epoch, "step": step, "log_step": log.live.step}, log)
