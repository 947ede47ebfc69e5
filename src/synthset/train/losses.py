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


def paired_labels(labels: torch.Tensor) -> torch.Tensor:
    """The labels of a batch of fakes for mode seeking: the last len // 2 repeat the first
    len // 2, so image i and image i + ceil(len / 2) share a label and differ in noise alone.
    Drawn from a shuffled real batch, the labels' distribution is unchanged."""
    half = len(labels) // 2
    return torch.cat([labels[:len(labels) - half], labels[:half]])


def mode_seeking_loss(fake: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """MSGAN's term (Mao et al. 2019, their code's form): 1 / (mean |G(z1, y) - G(z2, y)| /
    mean |z1 - z2|) over the pairs paired_labels makes. Minimised by G, it pays for images
    that move with the noise: the remedy for a conditional G that draws one template per label."""
    half = len(fake) // 2
    if half == 0:
        raise ValueError("mode seeking needs at least 2 images a batch")
    first = len(fake) - half
    ratio = (fake[:half] - fake[first:]).abs().mean() / (z[:half] - z[first:]).abs().mean()
    return 1 / (ratio + 1e-5)
