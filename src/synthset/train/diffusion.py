"""Training the diffusion baseline: predict the noise added to a real image at a random
timestep (Ho et al. 2020), with the label dropped for `label_dropout` of the images so that
one network is both the conditional and the unconditional model classifier-free guidance
mixes (Ho & Salimans 2022). An EMA of the weights (warmed up) is what gets sampled.

Checkpoints at epoch ends hold the weights, the EMA, Adam's moments, the learning-rate
schedule and the random generators, so a run killed at any point and started again ends
with exactly the weights of an uninterrupted run on the CPU.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Callable

import torch
import torch.nn.functional as F

from ..imagesets import ImageSet
from ..models.ddpm import DiffusionGenerator
from ..models.factory import generator_kwargs
from ..params import DiffusionParams
from ..pixels import to_tensor
from .averaging import EMA
from .checkpoint import Checkpointer
from .epochs import run_epochs
from .loop import check_finite, shuffled_batches
from .trainlog import TrainLog


def denoising_loss(model: DiffusionGenerator, noising, x0: torch.Tensor, labels: torch.Tensor, p: DiffusionParams,
                   gen: torch.Generator) -> torch.Tensor:
    """Ho et al.'s loss on one batch: the noise added at a random step, predicted back; a share of the labels
    replaced by the null label, so the same model also learns unconditionally (for guidance)."""
    y = labels.clone()
    y[(torch.rand(len(y), generator=gen) < p.label_dropout).to(y.device)] = model.null_label
    noise = torch.randn(x0.shape, generator=gen).to(x0.device)
    t = torch.randint(0, p.timesteps, (len(y),), generator=gen).to(x0.device)
    return F.mse_loss(model.predict_noise(noising.add_noise(x0, noise, t), t, y), noise)


def _optimiser(model: torch.nn.Module, p: DiffusionParams):
    """Adam with a linear learning-rate warm-up over p.warmup_steps."""
    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / (p.warmup_steps + 1)))


def train_diffusion(arch: str, train: ImageSet, p: DiffusionParams, device: torch.device, seed: int,
                    log: TrainLog, checkpointer: Checkpointer | None = None,
                    on_epoch: Callable[[int, DiffusionGenerator], None] | None = None) -> DiffusionGenerator:
    """Train on the real train split; returns the model to sample from (the EMA when on), in eval mode."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model = DiffusionGenerator(**generator_kwargs(train.num_classes, train.image_shape, p)).to(device)
    ema = EMA(model, p.ema_decay) if p.ema_decay else None
    sampler = ema.model if ema else model
    opt, warmup = _optimiser(model, p)
    noising = model.noise_scheduler()
    images, labels = to_tensor(train.images).to(device), torch.from_numpy(train.labels).to(device)
    fixed_z = torch.randn(train.num_classes * log.grid_cols, model.latent_dim, generator=gen)

    def run_epoch(epoch: int, step: int, bar) -> tuple[int, int]:
        seen = 0
        model.train()
        for idx in shuffled_batches(len(labels), p.batch_size, gen):
            idx = idx.to(device)
            loss = denoising_loss(model, noising, images[idx], labels[idx], p, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            warmup.step()
            if ema:
                ema.update(model, step)
            step += 1
            seen += len(idx)
            stats = {"loss": loss.item(), "lr": warmup.get_last_lr()[0]}
            check_finite(stats, arch, step, epoch)
            log.step(stats)
            bar.set_postfix(loss=f"{stats['loss']:.4f}")
        return seen, step

    def state_dict() -> dict:
        return {"model": model.state_dict(), "ema": ema.model.state_dict() if ema else None,
                "opt": opt.state_dict(), "warmup": warmup.state_dict()}

    def load_state_dict(state: dict) -> None:
        model.load_state_dict(state["model"])
        if ema:
            ema.model.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        warmup.load_state_dict(state["warmup"])

    trainee = SimpleNamespace(run_epoch=run_epoch, state_dict=state_dict, load_state_dict=load_state_dict,
                              draw_grid=lambda epoch: log.progress_grid(sampler, fixed_z, epoch=epoch))
    run_epochs(arch, trainee, p.epochs, p.grid_every, p.checkpoint_every, gen, log, checkpointer,
               on_epoch and (lambda epoch: on_epoch(epoch, sampler)))
    return sampler.eval()
