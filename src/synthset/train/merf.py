"""DP-MERF (Harder et al. 2021): a generator fitted to a differentially private summary of the
private images, the DP baseline beside the DP-SGD GANs (as PCA is the non-private baseline).

The private split is read once. Each image becomes random Fourier features of a Gaussian kernel
(Rahimi & Recht 2007) on its pixels or on its wavelet scattering coefficients (`features`), placed
in its class's block, together with a constant that counts it:
e(x, y) = onehot(y) (x) [phi(x), 1] / sqrt(2), whose norm is exactly 1. Their mean over the n
train images, plus Gaussian noise once (the Gaussian mechanism), is all that training ever uses:
replacing one image moves the mean by at most sqrt(2) / n (SENSITIVITY), so noise of std
sigma * sqrt(2) / n makes it (epsilon, delta)-DP with epsilon from Balle & Wang's analytic
Gaussian mechanism, exact for one release. The generator then matches the noisy per-class means
(maximum mean discrepancy in the features), with each class weighted by its noisy count; it never
sees an image, so it and its samples are post-processing and cost no further privacy; so do
`generators` of them fitted to the same embedding (models/pool.py). n is public (replace-one adjacency).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

import torch
from scipy.optimize import brentq
from scipy.stats import norm

from ..imagesets import ImageSet
from ..models import build_generator
from ..models.factory import generator_kwargs
from ..params import MerfParams
from ..pixels import to_tensor
from .checkpoint import Checkpointer
from .epochs import run_epochs
from .loop import check_finite
from .trainlog import TrainLog

# What replacing one image can move the sum of embeddings by (times 1 / n for the mean). In another
# class, it takes a row of norm 1 out of one block and puts one into another: sqrt(1 + 1). In the
# same class, the count constant is the same, so only [phi(x) - phi(x'), 0] / sqrt(2) moves, of
# norm at most 2 / sqrt(2). The bound is attained (a change of label), so it cannot be lowered.
# Harder et al.'s 2 ignores the count column's share: at epsilon 10 its noise is that of epsilon 6.6.
SENSITIVITY = math.sqrt(2)


def delta_of(epsilon: float, sigma: float) -> float:
    """delta of the Gaussian mechanism with noise `sigma` times the sensitivity, at `epsilon`
    (Balle & Wang 2018, Theorem 8; exact, unlike the classical sqrt(2 ln(1.25 / delta)) bound)."""
    mu = 1.0 / sigma
    return float(norm.cdf(mu / 2 - epsilon / mu) - math.exp(epsilon + norm.logcdf(-mu / 2 - epsilon / mu)))


def epsilon_of(sigma: float, delta: float) -> float:
    """The smallest epsilon at which noise `sigma` (times the sensitivity) is (epsilon, delta)-DP."""
    if delta_of(0.0, sigma) <= delta:
        return 0.0
    return brentq(lambda e: delta_of(e, sigma) - delta, 0.0, 1e5, xtol=1e-10)


def noise_for(epsilon: float, delta: float) -> float:
    """The smallest noise multiplier that spends at most `epsilon` at `delta` in one release."""
    low = 0.05  # noise this small is no privacy to speak of (epsilon 284 at delta 1e-5)
    if epsilon_of(low, delta) <= epsilon:
        raise ValueError(f"epsilon {epsilon}: above what any noise multiplier >= {low} spends; use a smaller budget")
    return brentq(lambda s: epsilon_of(s, delta) - epsilon, low, 1e4, xtol=1e-10)


class FourierFeatures(torch.nn.Module):
    """phi(x) = [cos(Wt(x)), sin(Wt(x))] / sqrt(m), W ~ N(0, 1 / l^2): |phi(x)| = 1 and
    phi(x) . phi(x') approximates the Gaussian kernel exp(-|t(x) - t(x')|^2 / (2 l^2)), where t
    is a fixed `transform` of the image (none: its pixels)."""

    def __init__(self, dims: int, frequencies: int, length: float, gen: torch.Generator,
                 transform: torch.nn.Module | None = None):
        super().__init__()
        self.transform = transform
        self.register_buffer("w", torch.randn(dims, frequencies, generator=gen) / length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        wx = (x if self.transform is None else self.transform(x)).flatten(1) @ self.w
        return torch.cat([wx.cos(), wx.sin()], 1) / math.sqrt(self.w.shape[1])


def scattering(height: int, width: int) -> torch.nn.Module:
    """The wavelet scattering transform at one scale, 8 orientations (Bruna & Mallat 2013; kymatio):
    local averages and the moduli of oriented wavelet responses on a grid of half the image's side.
    Fixed, learnt from no data, and stable to small shifts and deformations, where a kernel on pixels
    counts a stroke one pixel off as a different image. (kymatio's 2-D frontend first: its public
    `kymatio.torch` also loads a 3-D transform that SciPy 1.17 breaks, in kymatio 0.3.)"""
    try:
        from kymatio.scattering2d.frontend.torch_frontend import ScatteringTorch2D as Scattering2D
    except ImportError:
        from kymatio.torch import Scattering2D
    return Scattering2D(J=1, shape=(height, width), L=8)


def image_features(image_shape: tuple[int, int, int], p: MerfParams, gen: torch.Generator) -> FourierFeatures:
    """The random features `p.features` asks for, with kernel width l = p.length_scale * sqrt(dims)
    of what the kernel reads (pixels, or scattering coefficients: 9 per channel on half the side)."""
    h, w, c = image_shape
    transform = scattering(h, w) if p.features == "scattering" else None
    dims = c * h * w if transform is None else transform(torch.zeros(1, c, h, w)).numel()
    return FourierFeatures(dims, p.frequencies, p.length_scale * math.sqrt(dims), gen, transform)


def class_sums(features: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Per class: the sum of [phi(x), 1] / sqrt(2) over its images, shape (classes, 2m + 1)."""
    rows = torch.cat([features, torch.ones(len(features), 1, device=features.device)], 1) / math.sqrt(2)
    return torch.zeros(num_classes, rows.shape[1], device=rows.device).index_add_(0, labels, rows)


@dataclass
class PrivateEmbedding:
    """The one thing DP-MERF takes from the private images: their noisy mean embedding."""

    mean: torch.Tensor  # (classes, 2m + 1), noise included
    sigma: float
    epsilon: float
    delta: float
    n: int

    @property
    def class_weights(self) -> torch.Tensor:
        """Each class's share of the images, read from the noisy counts (clamped, renormalised)."""
        counts = self.mean[:, -1].clamp_min(1e-3)
        return counts / counts.sum()

    @property
    def class_means(self) -> torch.Tensor:
        """The noisy mean features of each class's images, as a share of all images (classes, 2m)."""
        return self.mean[:, :-1]

    @property
    def noise_floor(self) -> float:
        """What the noise alone adds to mmd_loss, in expectation: sigma^2 (sqrt(2) / n)^2 for each of
        the class means' numbers. No generator can fit it away, so a loss near it is a generator that
        draws what the kernel sees of the private images. Expected, not measured: the realised noise's
        norm would tell an attacker how far the true mean lies from the released one, which no
        (epsilon, delta) allows; the expectation depends on public numbers alone."""
        return (self.sigma * SENSITIVITY / self.n) ** 2 * self.class_means.numel()

    def spent(self) -> dict[str, float]:
        """The privacy spent, under the names the DP-SGD GANs use (one release of the embedding)."""
        return {"dp_epsilon": self.epsilon, "dp_delta": self.delta, "dp_noise_multiplier": self.sigma,
                "dp_sample_rate": 1.0, "dp_steps": 1}

    def card(self, target: float) -> dict:
        return {**self.spent(), "dp_target_epsilon": target, "dp_accountant": "analytic Gaussian mechanism",
                "dp_private": "the train split's mean random-feature embedding, released once with Gaussian "
                              "noise (DP-MERF); the generator learned only from it"}


def private_embedding(features: FourierFeatures, train: ImageSet, p: MerfParams, gen: torch.Generator,
                      batch_size: int = 512) -> PrivateEmbedding:
    """The train split's mean embedding with the Gaussian mechanism's noise, calibrated to p.epsilon."""
    n, device = len(train), features.w.device
    total = torch.zeros(train.num_classes, 2 * features.w.shape[1] + 1, device=device)
    labels = torch.from_numpy(train.labels)
    with torch.no_grad():
        for i in range(0, n, batch_size):
            x = to_tensor(train.images[i:i + batch_size]).to(device)
            total += class_sums(features(x), labels[i:i + batch_size].to(device), train.num_classes)
    sigma = noise_for(p.epsilon, p.delta)
    noise = torch.randn(total.shape, generator=gen).to(device) * sigma * SENSITIVITY / n
    return PrivateEmbedding(total / n + noise, sigma, epsilon_of(sigma, p.delta), p.delta, n)


def mmd_loss(fake_features: torch.Tensor, labels: torch.Tensor, target: PrivateEmbedding) -> torch.Tensor:
    """|target - the fakes' embedding|^2, each class's fake mean weighted by its noisy share."""
    k = target.class_means.shape[0]
    sums = torch.zeros(k, fake_features.shape[1], device=fake_features.device).index_add_(0, labels, fake_features)
    counts = torch.bincount(labels, minlength=k).clamp_min(1).to(sums.dtype)[:, None]
    fake_means = sums / counts * target.class_weights[:, None] / math.sqrt(2)
    return ((target.class_means - fake_means) ** 2).sum()


def train_merf(arch: str, train: ImageSet, p: MerfParams, device: torch.device, seed: int, log: TrainLog,
               checkpointer: Checkpointer | None = None,
               on_epoch: Callable[[int, torch.nn.Module], None] | None = None
               ) -> tuple[torch.nn.Module, PrivateEmbedding]:
    """The generator fitted to the private embedding (in eval mode), and the embedding's privacy."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    features = image_features(train.image_shape, p, gen).to(device)
    target = private_embedding(features, train, p, gen)
    g = build_generator({"arch": arch, "kwargs": generator_kwargs(train.num_classes, train.image_shape, p)}).to(device)
    opt = torch.optim.Adam(g.parameters(), lr=p.lr)
    k = train.num_classes
    steps_per_epoch = max(1, round(len(train) / p.batch_size))
    fixed_z = torch.randn(k * log.grid_cols, p.latent_dim, generator=gen)

    def run_epoch(epoch: int, step: int, bar) -> tuple[int, int]:
        g.train()
        for _ in range(steps_per_epoch):
            labels = torch.arange(k).repeat_interleave(max(2, p.batch_size // k)).to(device)
            # each of the pool's generators fits the embedding on its own batch; one Adam over their sum is
            # each one's own Adam (it acts on every weight alone, and a loss reaches its generator's weights only)
            losses = [mmd_loss(features(member(torch.randn(len(labels), p.latent_dim, generator=gen).to(device),
                                                labels)), labels, target) for member in g.members]
            opt.zero_grad(set_to_none=True)
            sum(losses).backward()
            opt.step()
            step += 1
            stats = {"mmd": sum(loss.item() for loss in losses) / len(losses)}
            check_finite(stats, arch, step, epoch)
            log.step(stats)
            bar.set_postfix(mmd=f"{stats['mmd']:.3g}")
        return steps_per_epoch * len(labels) * len(g.members), step

    trainee = SimpleNamespace(
        run_epoch=run_epoch, draw_grid=lambda epoch: log.progress_grid(g, fixed_z, epoch=epoch),
        state_dict=lambda: {"g": g.state_dict(), "opt": opt.state_dict(), "embedding": target.mean},
        load_state_dict=lambda state: (g.load_state_dict(state["g"]), opt.load_state_dict(state["opt"]),
                                       target.mean.copy_(state["embedding"])))
    run_epochs(arch, trainee, p.epochs, p.grid_every, p.checkpoint_every, gen, log, checkpointer,
               on_epoch and (lambda epoch: on_epoch(epoch, g)))
    return g.eval(), target
