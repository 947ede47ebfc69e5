"""The one adversarial loop every architecture trains with.

A "unit" is one generator/discriminator pair with its optimisers and its share of the
real data: conditional archs have one unit over all classes; DCGAN (seed 000) has one
unconditional unit per class, trained side by side so each epoch's progress grid shows
every class. Data lives in memory as tensors: no per-image decoding in the loop.

Checkpoints at epoch ends hold everything that moves (weights, optimiser moments, EMA,
replay buffer, random generators, logs so far, a private discriminator's accountant), so a
run killed at any point and started again ends with the same weights (and the same privacy
spent) as an uninterrupted run on the CPU. A unit with `dp` set trains its discriminator
with DP-SGD (train/dp.py).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

import torch
from torch import nn

from ..imagesets import ImageSet
from ..models import build_pair, sampling_generator
from ..params import ArchParams
from ..pixels import to_tensor
from .augment import diff_augment
from .averaging import EMA, recalibrate_batch_norm
from .checkpoint import Checkpointer
from .dp import PrivateD, make_private
from .epochs import run_epochs
from .losses import d_loss_fake, d_loss_real, g_loss, gradient_penalty, mode_seeking_loss, paired_labels
from .replay import ExperienceReplay
from .trainlog import TrainLog


class NonFiniteLoss(RuntimeError):
    pass


@dataclass
class Unit:
    """One generator/discriminator pair, its optimisers and the real images it learns from."""

    g: nn.Module
    d: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    images: torch.Tensor
    labels: torch.Tensor
    ema: EMA | None = None
    replay: ExperienceReplay | None = None
    d_updates: int = 0  # across epochs, so n_critic > batches per epoch still reaches G
    stats: dict = field(default_factory=dict)
    dp: PrivateD | None = None  # DP-SGD for D: then d is Opacus's GradSampleModule, opt_d its DPOptimizer

    def state_dict(self) -> dict:
        return {"g": self.g.state_dict(), "d": self.d.state_dict(), "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict(), "ema": self.ema.model.state_dict() if self.ema else None,
                "replay": self.replay.state_dict() if self.replay else None, "d_updates": self.d_updates,
                "stats": dict(self.stats), "dp": self.dp.state_dict() if self.dp else None}

    def load_state_dict(self, state: dict) -> None:
        self.g.load_state_dict(state["g"])
        self.d.load_state_dict(state["d"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.ema:
            self.ema.model.load_state_dict(state["ema"])
        if self.replay:
            self.replay.load_state_dict(state["replay"])
        self.d_updates, self.stats = state["d_updates"], dict(state["stats"])
        if self.dp:
            self.dp.load_state_dict(state["dp"])


def build_units(arch: str, train: ImageSet, p: ArchParams, device: torch.device,
                gen: torch.Generator) -> list[Unit]:
    images, labels = to_tensor(train.images), torch.from_numpy(train.labels)
    groups = ([labels == c for c in range(train.num_classes)] if arch == "dcgan"
              else [torch.ones_like(labels, dtype=torch.bool)])
    units = []
    for mask in groups:
        g, d = build_pair(arch, train.num_classes, train.image_shape, p)
        g, d = g.to(device), d.to(device)
        if hasattr(g, "set_reference"):  # virtual batch norm: a fixed reference batch
            ref = torch.randn(p.batch_size, p.latent_dim, generator=gen).to(device)
            ref_labels = labels[mask][torch.randint(int(mask.sum()), (p.batch_size,), generator=gen)].to(device)
            g.set_reference(ref, ref_labels)
        if p.channels_last:  # faster convolutions on CPU (oneDNN) and on CUDA tensor cores
            g, d = g.to(memory_format=torch.channels_last), d.to(memory_format=torch.channels_last)
        opt_d, private = torch.optim.Adam(d.parameters(), lr=p.lr_d, betas=(p.beta1, p.beta2)), None
        if p.dp:
            d, opt_d, private = make_private(arch, d, opt_d, int(mask.sum()), train.num_classes, p, device, gen)
        units.append(Unit(
            g, d,
            torch.optim.Adam(g.parameters(), lr=p.lr_g, betas=(p.beta1, p.beta2)),
            opt_d,
            as_layout(images[mask].to(device), p.channels_last), labels[mask].to(device),
            EMA(g, p.ema_decay) if p.ema_decay else None,
            ExperienceReplay(p.batch_size) if p.replay else None,
            dp=private))
    return units


def as_layout(images: torch.Tensor, channels_last: bool) -> torch.Tensor:
    return images.contiguous(memory_format=torch.channels_last) if channels_last else images


def _clip(module: nn.Module, max_norm: float | None) -> None:
    if max_norm:
        nn.utils.clip_grad_norm_(module.parameters(), max_norm)


def fake_batch(u: Unit, y: torch.Tensor, p: ArchParams, gen: torch.Generator, grad: bool):
    """(images, their labels, their noise) for one step; with mode seeking the labels come in
    pairs (losses.paired_labels)."""
    y = paired_labels(y) if p.mode_seeking else y
    z = torch.randn(len(y), p.latent_dim, generator=gen).to(y.device)
    with torch.set_grad_enabled(grad):
        return u.g(z, y), y, z


def d_step(u: Unit, real: torch.Tensor, y: torch.Tensor, p: ArchParams, gen: torch.Generator, amp,
           keep_fake: bool) -> tuple | None:
    """One discriminator update. With `keep_fake` the fakes keep their graph and are returned
    (as fake_batch gives them) so that the generator step that follows reuses them (as
    pytorch/examples DCGAN does): one G forward per iteration instead of two.

    Under DP each real image is paired with one fake of its label: both forward passes have
    the real batch's size and Opacus sums their per-example gradients pairwise, so one
    clipped example is (real image, its fake). An empty Poisson batch is a noise-only step."""
    if u.dp and len(real) == 0:
        u.dp.noise_only_step(u.d, u.opt_d)
        return None
    with amp():
        fake, y_fake, z = fake_batch(u, y, p, gen, grad=keep_fake)
        real_seen, fake_seen = diff_augment(real, p.augment, gen), diff_augment(fake.detach(), p.augment, gen)
        s_real, s_fake = u.d(real_seen, y), u.d(fake_seen, y_fake)
        loss = d_loss_real(p.loss, s_real, 1.0 - p.label_smoothing) + d_loss_fake(p.loss, s_fake)
        if p.loss == "wasserstein" and p.gp_weight:
            loss = loss + p.gp_weight * gradient_penalty(u.d, real_seen, fake_seen, y_fake, gen)
        if u.replay:
            u.replay.push(fake.detach(), y_fake, gen)
            if u.replay.full():
                old, old_y = u.replay.pop_all()
                loss = loss + d_loss_fake(p.loss, u.d(diff_augment(old, p.augment, gen), old_y))
    u.opt_d.zero_grad(set_to_none=True)
    loss.backward()
    _clip(u.d, p.grad_clip)
    u.opt_d.step()
    u.stats.update(loss_d=loss.item(), d_acc_real=(s_real > 0).float().mean().item(),
                   d_acc_fake=(s_fake < 0).float().mean().item())
    return (fake, y_fake, z) if keep_fake else None


def g_step(u: Unit, y: torch.Tensor, p: ArchParams, gen: torch.Generator, amp, fakes: tuple | None = None) -> None:
    """One generator update, on the discriminator just updated (reusing d_step's `fakes` when
    given). Under DP its labels are drawn uniformly (the real batch's labels are private) and
    D is a fixed function."""
    if u.dp:
        y, fakes = u.dp.fake_labels(p.batch_size, gen, y.device), None
    with u.dp.frozen(u.d) if u.dp else contextlib.nullcontext():
        with amp():
            fake, y_fake, z = fakes if fakes is not None else fake_batch(u, y, p, gen, grad=True)
            loss = g_loss(p.loss, u.d(diff_augment(fake, p.augment, gen), y_fake))
            if p.mode_seeking:
                loss = loss + p.mode_seeking * mode_seeking_loss(fake, z)
        u.opt_g.zero_grad(set_to_none=True)
        loss.backward()
    _clip(u.g, p.grad_clip)
    u.opt_g.step()
    if u.ema:
        u.ema.update(u.g)
    u.stats["loss_g"] = loss.item()


def shuffled_batches(n: int, batch_size: int, gen: torch.Generator) -> list[torch.Tensor]:
    """Index batches of one epoch; a last short batch is dropped (batch norm needs > 1) unless it is the only one."""
    bs = min(batch_size, n)
    perm = torch.randperm(n, generator=gen)
    return [perm[i:i + bs] for i in range(0, n - bs + 1, bs)]


def check_finite(stats: dict, arch: str, step: int, epoch: int) -> None:
    bad = {k: v for k, v in stats.items() if not (abs(v) < 1e6)}  # catches nan and inf too
    if bad:
        raise NonFiniteLoss(f"{arch}: non-finite or exploding loss {bad} at step {step} (epoch {epoch}); "
                            "the last good checkpoint is kept. Lower the learning rates or set grad_clip.")


def unit_step(u: Unit, idx: torch.Tensor, p: ArchParams, gen: torch.Generator, amp) -> int:
    """One D update on the batch `idx` of the unit's images, then G's updates when due; returns the batch size."""
    idx = idx.to(u.labels.device)
    real, y = u.images[idx], u.labels[idx]
    u.d_updates += 1
    update_g = u.d_updates % p.d_steps == 0
    fakes = d_step(u, real, y, p, gen, amp, keep_fake=update_g and not u.dp)
    if update_g:
        for k in range(p.g_steps):
            g_step(u, y, p, gen, amp, fakes if k == 0 else None)
    return len(real)


def units_sampler(arch: str, units: list[Unit]) -> nn.Module:
    """The G(z, labels) that is sampled: each unit's EMA generator when it keeps one."""
    return sampling_generator(arch, [u.ema.model if u.ema else u.g for u in units])


def train_gan(arch: str, train: ImageSet, p: ArchParams, device: torch.device, seed: int,
              log: TrainLog, checkpointer: Checkpointer | None = None,
              on_epoch: Callable[[int, list[Unit]], None] | None = None) -> nn.Module:
    """Train `arch` on the real train split; returns the generator used for sampling."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    units = build_units(arch, train, p, device, gen)
    fixed_z = torch.randn(train.num_classes * log.grid_cols, p.latent_dim, generator=gen)
    sampler = units_sampler(arch, units)

    def draw_grid(epoch: int) -> None:
        """The sampler as it would sample now: fresh batch-norm statistics, eval mode."""
        recalibrate_batch_norm(sampler, train.num_classes, per_class=32, batches=2)
        log.progress_grid(sampler, fixed_z, epoch=epoch)
        for u in units:
            u.g.train()

    use_amp = p.amp and device.type == "cuda"
    amp = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else contextlib.nullcontext

    def run_epoch(epoch: int, step: int, bar) -> tuple[int, int]:
        """Every unit's batches of one epoch, interleaved (one DCGAN per class steps side by side)."""
        seen = 0
        plans = [u.dp.batches(gen) if u.dp else shuffled_batches(len(u.labels), p.batch_size, gen)
                 for u in units]
        for i in range(max(len(plan) for plan in plans)):
            active = [(u, plan[i]) for u, plan in zip(units, plans) if i < len(plan)]
            seen += sum(unit_step(u, idx, p, gen, amp) for u, idx in active)
            step += 1
            logged = [u.stats for u, _ in active if "loss_g" in u.stats and "loss_d" in u.stats]
            if logged:
                mean = {k: sum(s[k] for s in logged) / len(logged) for k in logged[0]}
                check_finite(mean, arch, step, epoch)
                log.step(mean)
                bar.set_postfix(loss_d=f"{mean['loss_d']:.3f}", loss_g=f"{mean['loss_g']:.3f}")
        return seen, step

    def load_state_dict(state: dict) -> None:
        for u, s in zip(units, state["units"]):
            u.load_state_dict(s)

    trainee = SimpleNamespace(run_epoch=run_epoch, draw_grid=draw_grid, load_state_dict=load_state_dict,
                              state_dict=lambda: {"units": [u.state_dict() for u in units]})
    run_epochs(arch, trainee, p.epochs, p.grid_every, p.checkpoint_every, gen, log, checkpointer,
               on_epoch and (lambda epoch: on_epoch(epoch, units)))
    return recalibrate_batch_norm(sampler, train.num_classes)
