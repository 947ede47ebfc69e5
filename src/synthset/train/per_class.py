"""The adversarial loop for one unconditional DCGAN per class (seed 000).

All classes train side by side, one batch each per step, so every epoch's
progress grid shows every class and one loss curve covers the whole model.
The loop keeps the data in memory as tensors: no per-image decoding while training.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..io import ImageSet
from ..models.dcgan import Discriminator, Generator, PerClassDCGAN, init_weights
from ..params import DCGANParams
from .logging import TrainLog
from .tensors import to_tensor


@dataclass
class ClassGan:
    """One class's generator, discriminator, optimisers and its real images."""

    g: Generator
    d: Discriminator
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    real: torch.Tensor


class NonFiniteLoss(RuntimeError):
    pass


def gan_step(unit: ClassGan, real: torch.Tensor, gen: torch.Generator) -> dict[str, float]:
    """One discriminator and one generator update with the non-saturating BCE loss."""
    z = torch.randn(real.size(0), unit.g.latent_dim, generator=gen, device=gen.device).to(real.device)
    fake = unit.g(z)

    unit.opt_d.zero_grad(set_to_none=True)
    d_real, d_fake = unit.d(real), unit.d(fake.detach())
    loss_d = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
              + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
    loss_d.backward()
    unit.opt_d.step()

    unit.opt_g.zero_grad(set_to_none=True)
    d_gen = unit.d(fake)
    loss_g = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
    loss_g.backward()
    unit.opt_g.step()

    return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
            "d_acc_real": (d_real > 0).float().mean().item(),
            "d_acc_fake": (d_fake < 0).float().mean().item()}


def build_units(train: ImageSet, p: DCGANParams, device: torch.device) -> list[ClassGan]:
    channels, size = train.image_shape[2], train.image_shape[0]
    units = []
    for c in range(train.num_classes):
        g = Generator(p.latent_dim, channels, size, p.width).to(device)
        d = Discriminator(channels, size, p.width, p.leaky_slope).to(device)
        init_weights(g, p.init_std)
        init_weights(d, p.init_std)
        units.append(ClassGan(
            g, d,
            torch.optim.Adam(g.parameters(), lr=p.lr_g, betas=(p.beta1, p.beta2)),
            torch.optim.Adam(d.parameters(), lr=p.lr_d, betas=(p.beta1, p.beta2)),
            to_tensor(train.of_class(c)).to(device)))
    return units


def batches(n: int, batch_size: int, gen: torch.Generator) -> list[torch.Tensor]:
    """Shuffled index batches; the last short batch is dropped (batch norm needs > 1)."""
    bs = min(batch_size, n)
    perm = torch.randperm(n, generator=gen)
    return [perm[i:i + bs] for i in range(0, n - bs + 1, bs)]


def train_per_class(train: ImageSet, p: DCGANParams, device: torch.device, seed: int,
                    log: TrainLog) -> PerClassDCGAN:
    """Train one DCGAN per class; returns the generators behind the G(z, y) interface."""
    torch.manual_seed(seed)
    units = build_units(train, p, device)
    gen = torch.Generator().manual_seed(seed + 1)
    fixed_z = torch.randn(train.num_classes * log.grid_cols, p.latent_dim, generator=gen)
    model = PerClassDCGAN(train.num_classes, p.latent_dim, train.image_shape[2], train.image_shape[0], p.width)
    model.generators = nn.ModuleList(u.g for u in units)
    model.to(device)
    log.progress_grid(model, fixed_z, epoch=0)

    step = 0
    bar = tqdm(range(1, p.epochs + 1), desc="dcgan per class", unit="epoch")
    for epoch in bar:
        t0, seen = time.perf_counter(), 0
        plans = [batches(len(u.real), p.batch_size, gen) for u in units]
        for i in range(max(len(pl) for pl in plans)):
            stats = []
            for unit, plan in zip(units, plans):
                if i < len(plan):
                    real = unit.real[plan[i].to(unit.real.device)]
                    stats.append(gan_step(unit, real, gen))
                    seen += len(real)
            step += 1
            mean = {k: sum(s[k] for s in stats) / len(stats) for k in stats[0]}
            if not all(map(lambda v: v == v and abs(v) < 1e6, mean.values())):
                raise NonFiniteLoss(f"dcgan: loss is {mean} at step {step} (epoch {epoch}); "
                                    "lower the learning rates or check the data")
            log.step(mean)
            bar.set_postfix(loss_d=f"{mean['loss_d']:.3f}", loss_g=f"{mean['loss_g']:.3f}")
        seconds = time.perf_counter() - t0
        log.epoch(epoch, {"epoch_seconds": seconds, "images_per_second": seen / seconds})
        if epoch % p.grid_every == 0 or epoch == p.epochs:
            log.progress_grid(model, fixed_z, epoch=epoch)
    return model
