"""The epoch driver the GAN and diffusion loops share (train/epochs.py): its cadences and its resume,
on a trainee that only counts. The families' exact-resume tests (test_loop, test_dp, test_diffusion)
check it with real training."""
from __future__ import annotations

import torch

from synthset.train.checkpoint import Checkpointer
from synthset.train.epochs import run_epochs
from synthset.train.trainlog import TrainLog


class Counter:
    """Draws a number from the driver's generator each step, so that the generator's state matters."""

    def __init__(self, gen: torch.Generator, stop_after: int | None = None):
        self.gen, self.stop_after = gen, stop_after
        self.total, self.grids, self.epochs = 0.0, [], []

    def run_epoch(self, epoch, step, bar):
        if epoch == self.stop_after:
            raise KeyboardInterrupt  # a kill in the middle of this epoch
        for _ in range(3):
            self.total += torch.rand(1, generator=self.gen).item()
            step += 1
        self.epochs.append(epoch)
        return 12, step

    def draw_grid(self, epoch):
        self.grids.append(epoch)

    def state_dict(self):
        return {"total": self.total}

    def load_state_dict(self, state):
        self.total = state["total"]


def train(tmp_path, stop_after=None, on_epoch=None):
    gen = torch.Generator().manual_seed(1)
    trainee = Counter(gen, stop_after)
    log = TrainLog(tmp_path / "live", tmp_path / "grids", 2)
    checkpointer = Checkpointer(tmp_path / "ckpt", key="run")
    if checkpointer.restore_logs(log.live_dir, log.grid_dir):
        log = TrainLog(tmp_path / "live", tmp_path / "grids", 2, resume=True)
    try:
        run_epochs("counter", trainee, 7, 3, 2, gen, log, checkpointer, on_epoch)
    except KeyboardInterrupt:
        pass
    return trainee


def test_grids_checkpoints_and_on_epoch_at_their_cadence(tmp_path):
    seen = []
    trainee = train(tmp_path, on_epoch=seen.append)
    assert trainee.epochs == seen == [1, 2, 3, 4, 5, 6, 7]
    assert trainee.grids == [0, 3, 6, 7]  # before training, every grid_every epochs, and the last
    assert Checkpointer(tmp_path / "ckpt", "run").latest_epoch() == 6  # every 2 epochs, never the last


def test_a_killed_run_resumes_after_its_last_checkpoint_to_the_same_end(tmp_path):
    whole = train(tmp_path / "whole")
    killed = train(tmp_path / "killed", stop_after=6)  # killed during epoch 6: epoch 4's checkpoint is the last
    assert killed.epochs == [1, 2, 3, 4, 5] and Checkpointer(tmp_path / "killed" / "ckpt", "run").latest_epoch() == 4
    resumed = train(tmp_path / "killed")
    assert resumed.epochs == [5, 6, 7] and resumed.grids == [6, 7]  # no grid 0 again
    assert resumed.total == whole.total  # the state and the generator's draws carried over exactly
