"""Several generators behind one G(z, labels), each drawing an equal share of every batch.

DP-MERF fits its generator to one noisy embedding, and nothing else: so several generators, started
from other weights and fitted to the same embedding, cost no further privacy. Each fits it up to its own
errors, and their draws together teach a classifier more than any one's (docs/privacy.md)."""
from __future__ import annotations

import torch
from torch import nn

from . import cdcgan


class PooledGenerator(nn.Module):
    """`members` of cdcgan's generator; row i of a batch is drawn by member i mod members, so every batch
    of `members` rows or more takes an equal share of each class from each (the draw stays reproducible:
    it depends on the row's place, not on chance)."""

    def __init__(self, members: int = 1, **kwargs):
        super().__init__()
        if members < 1:
            raise ValueError(f"a pool needs at least one generator, got {members}")
        self.members = nn.ModuleList(cdcgan.Generator(**kwargs) for _ in range(members))
        self.latent_dim, self.num_classes = self.members[0].latent_dim, self.members[0].num_classes

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        k = len(self.members)
        if k == 1 or len(z) == 0:
            return self.members[0](z, labels)
        parts = [(j, g(z[j::k], labels[j::k])) for j, g in enumerate(self.members) if j < len(z)]
        out = parts[0][1].new_empty((len(z), *parts[0][1].shape[1:]))
        for j, fake in parts:
            out[j::k] = fake
        return out
