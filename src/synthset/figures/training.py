"""The training figures of a generator's section: losses and discriminator accuracy per step (a
diffusion model: its loss and learning rate; DP-MERF: its distance to the private embedding), and the
fixed-noise progression frames."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..files import read_json
from . import plt, save_figure


def read_live_metric(live: Path, name: str) -> pd.DataFrame:
    path = Path(live) / "plots" / "metrics" / f"{name}.tsv"
    if not path.exists():
        raise FileNotFoundError(f"{path}: missing (train_gan writes it)")
    return pd.read_csv(path, sep="\t")


def training_curves_png(live: Path, path: Path, title: str) -> Path:
    """G/D losses and D accuracy on real and fake, per step (a diffusion model: its loss and
    learning rate)."""
    if (Path(live) / "plots" / "metrics" / "train" / "loss.tsv").exists():
        return diffusion_curves_png(live, path, title)
    if (Path(live) / "plots" / "metrics" / "train" / "mmd.tsv").exists():
        return merf_curve_png(live, path, title)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.2))
    for name, label in (("loss_d", "D loss"), ("loss_g", "G loss")):
        df = read_live_metric(live, f"train/{name}")
        ax_loss.plot(df["step"], df[name], label=label, lw=0.8)
    for name, label in (("d_acc_real", "D acc. on real"), ("d_acc_fake", "D acc. on fake")):
        df = read_live_metric(live, f"train/{name}")
        ax_acc.plot(df["step"], df[name], label=label, lw=0.8)
    ax_loss.set(xlabel="step", ylabel="loss", title=f"{title}: losses")
    ax_acc.set(xlabel="step", ylabel="accuracy", ylim=(-0.02, 1.02), title=f"{title}: discriminator")
    for ax in (ax_loss, ax_acc):
        ax.legend(frameon=False)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path, tight=False)
    return path


def diffusion_curves_png(live: Path, path: Path, title: str) -> Path:
    """The denoising loss per step (noisy: each batch draws its own timesteps) with its
    running mean over an epoch-sized window, and the warmed-up learning rate."""
    loss, lr = read_live_metric(live, "train/loss"), read_live_metric(live, "train/lr")
    fig, (ax_loss, ax_lr) = plt.subplots(1, 2, figsize=(10, 3.2))
    ax_loss.plot(loss["step"], loss["loss"], lw=0.5, alpha=0.4, label="per step")
    ax_loss.plot(loss["step"], loss["loss"].rolling(50, min_periods=1).mean(), lw=1.2, label="mean of 50 steps")
    ax_loss.set(xlabel="step", ylabel="noise prediction MSE", yscale="log", title=f"{title}: denoising loss")
    ax_lr.plot(lr["step"], lr["lr"], lw=1.0)
    ax_lr.set(xlabel="step", ylabel="learning rate", title=f"{title}: learning rate")
    ax_loss.legend(frameon=False)
    for ax in (ax_loss, ax_lr):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path, tight=False)
    return path


def merf_curve_png(live: Path, path: Path, title: str) -> Path:
    """DP-MERF's loss per step: the squared distance of the generated images' embedding to the noisy
    private one. It cannot reach 0: the noise is part of the target, and the line of its expected
    share (the training's summary) shows how much of what is left is the noise's."""
    mmd = read_live_metric(live, "train/mmd")
    summary = Path(live) / "metrics.json"
    floor = read_json(summary).get("mmd_noise_floor") if summary.exists() else None
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(mmd["step"], mmd["mmd"], lw=0.5, alpha=0.4, label="per step")
    ax.plot(mmd["step"], mmd["mmd"].rolling(50, min_periods=1).mean(), lw=1.2, label="mean of 50 steps")
    if floor:
        ax.axhline(floor, color="black", ls="--", lw=0.8, label="the noise's share (expected)")
    ax.set(xlabel="step", ylabel="distance to the private embedding", yscale="log", title=f"{title}: MMD")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path, tight=False)
    return path


def progress_frames(figures: Path, most: int = 6) -> list[Path]:
    """First, last and evenly spaced epochs between them."""
    frames = sorted(Path(figures).glob("epoch_*.png"))
    if len(frames) <= most:
        return frames
    picks = {round(i * (len(frames) - 1) / (most - 1)) for i in range(most)}
    return [frames[i] for i in sorted(picks)]
