"""Seed 000's experience replay: past fakes shown to the discriminator again, against mode collapse."""
from __future__ import annotations

import torch


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
