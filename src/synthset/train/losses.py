"""Adversarial losses, as (discriminator loss, generator loss) on raw D scores.

bce: the original minimax game (G minimises log(1 - D(G(z)))); nonsaturating: G
maximises log D(G(z)) instead (Goodfellow et al.'s practical fix, DCGAN's choice);
hinge: SN-GAN's; wasserstein: WGAN-GP's critic loss (the penalty is added by the loop).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("bce", "nonsaturating", "hinge", "wasserstein")


def d_loss_real(kind: str, real: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """`real_target` < 1 is one-sided label smoothing (seed 003); BCE losses only."""
    if kind in ("bce", "nonsaturating"):
        return F.binary_cross_entropy_with_logits(real, torch.full_like(real, real_target))
    if kind == "hinge":
        return F.relu(1 - real).mean()
    if kind == "wasserstein":
        return -real.mean()
    raise ValueError(f"unknown loss {kind!r} (known: {', '.join(LOSSES)})")


def d_loss_fake(kind: str, fake: torch.Tensor) -> torch.Tensor:
    if kind in ("bce", "nonsaturating"):
        return F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    if kind == "hinge":
        return F.relu(1 + fake).mean()
    if kind == "wasserstein":
        return fake.mean()
    raise ValueError(f"unknown loss {kind!r} (known: {', '.join(LOSSES)})")


def g_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    if kind == "bce":
        return -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    if kind == "nonsaturating":
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if kind in ("hinge", "wasserstein"):
        return -fake.mean()
    raise ValueError(f"unknown loss {kind!r} (known: {', '.join(LOSSES)})")


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor,
                     gen: torch.Generator) -> torch.Tensor:
    """Gulrajani et al.: (||grad D(x_hat)|| - 1)^2 on random interpolates of real and fake."""
    alpha = torch.rand(real.size(0), 1, 1, 1, generator=gen).to(real.device)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(x_hat, labels)
    grad, = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
