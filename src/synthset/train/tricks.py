"""Training tricks that are not part of any one architecture."""
from __future__ import annotations

import copy

import torch
from torch import nn


class ExperienceReplay:
    """Seed 000's replay against mode collapse: keep one past fake per step; when `size`
    are collected, the discriminator sees them all as one extra fake batch, then forgets them."""

    def __init__(self, size: int):
        self.size = size
        self.images: list[torch.Tensor] = []
        self.labels: list[torch.Tensor] = []

    def push(self, fake: torch.Tensor, labels: torch.Tensor, gen: torch.Generator) -> None:
        i = int(torch.randint(len(fake), (1,), generator=gen))
        self.images.append(fake[i].detach().clone())
        self.labels.append(labels[i].clone())

    def full(self) -> bool:
        return len(self.images) >= self.size

    def pop_all(self) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = torch.stack(self.images), torch.stack(self.labels)
        self.images, self.labels = [], []
        return images, labels

    def state_dict(self) -> dict:
        return {"images": list(self.images), "labels": list(self.labels)}

    def load_state_dict(self, state: dict) -> None:
        self.images, self.labels = list(state["images"]), list(state["labels"])


class EMA:
    """Exponential moving average of generator weights, used for sampling (not in the seeds;
    standard in the strongest GANs since Karras et al. 2018)."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for ema_p, p in zip(self.model.parameters(), model.parameters()):
            ema_p.lerp_(p.detach(), 1 - self.decay)
        for ema_b, b in zip(self.model.buffers(), model.buffers()):
            ema_b.copy_(b)
