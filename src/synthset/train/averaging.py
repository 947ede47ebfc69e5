"""The generator that samples: an exponential moving average of the trained weights, and batch-norm
statistics recomputed for the weights it has."""
from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Exponential moving average of generator weights, used for sampling (not in the seeds;
    standard in the strongest GANs since Karras et al. 2018).

    Only the weights are averaged. Batch-norm running statistics belong to the weights
    that produced them, so the live generator's do not fit the averaged weights (that
    mismatch once gave EMA samples a FID of 195 against 52 without EMA): the sampler's
    statistics are recomputed with `recalibrate_batch_norm` before it is used."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int | None = None) -> None:
        """With `step` (updates so far) the decay warms up as min(decay, (1 + step) / (10 + step)),
        so that a short run's average is not dominated by its random initial weights."""
        decay = self.decay if step is None else min(self.decay, (1 + step) / (10 + step))
        for ema_p, p in zip(self.model.parameters(), model.parameters()):
            ema_p.lerp_(p.detach(), 1 - decay)


def batch_norms(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def recalibrate_batch_norm(g: nn.Module, num_classes: int, per_class: int = 64, batches: int = 8,
                           seed: int = 0) -> nn.Module:
    """Recompute every batch-norm running mean and variance from the generator's current
    weights ("standing statistics", Brock et al. 2019), then leave it in eval mode.

    During training the running statistics trail the weights by ~10 updates (momentum
    0.1), and an EMA generator's were never computed at all; eval-mode samples drawn with
    stale statistics come out washed-out or on a grey background. Here `batches` batches
    of `per_class` noise vectors per class, in train mode, give exact averages (momentum
    None) for the weights as they are. A generator without batch norm is left as it is.
    Its own seeded noise: drawing a progress grid never changes the training run."""
    norms = batch_norms(g)
    if norms:
        device = next(g.parameters()).device
        gen = torch.Generator().manual_seed(seed)
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None
        g.train()
        labels = torch.arange(num_classes, device=device).repeat(per_class)
        for _ in range(batches):
            g(torch.randn(len(labels), g.latent_dim, generator=gen).to(device), labels)
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
    return g.eval()
