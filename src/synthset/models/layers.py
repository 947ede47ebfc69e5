"""Building blocks shared by every architecture, so each arch file only says how it differs.

Channel plans: level i (i = 0 next to the image) has width * capacity * 2^i channels
(seed 003's capacity F multiplies them all). The generator goes from the deepest level
at b x b up to the image; the discriminator mirrors it, and seed 003's depth D adds
D - 1 stride-1 3x3 conv blocks at each of its resolutions.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

Norm = Callable[[int], nn.Module]


def level_channels(width: int, capacity: int, k: int) -> list[int]:
    """Channels of the k levels, next to the image first: [w, 2w, ..., 2^(k-1) w], w = width * F."""
    return [width * capacity * 2 ** i for i in range(k)]


def one_hot(labels: torch.Tensor, num_classes: int, dtype: torch.dtype) -> torch.Tensor:
    return F.one_hot(labels, num_classes).to(dtype)


def one_hot_maps(labels: torch.Tensor, num_classes: int, size: int, dtype: torch.dtype = torch.float32
                 ) -> torch.Tensor:
    """The label as num_classes constant size x size planes (1 on the label's plane, 0 elsewhere)."""
    return one_hot(labels, num_classes, dtype)[:, :, None, None].expand(-1, -1, size, size)


# ---------------------------------------------------------------- normalisation

class VirtualBatchNorm(nn.Module):
    """Virtual batch normalisation (Salimans et al. 2016), for (N, C) or (N, C, H, W) inputs.

    Batch norm makes each generated image depend on the others in its batch; VBN instead
    normalises every example with the statistics of a fixed reference batch plus that
    example alone (weight 1 / (n_ref + 1)), so an image depends only on its own noise.
    The first `n_ref` rows of the input are the reference batch (GeneratorBase puts them
    there on every forward pass, so the reference statistics follow the current weights
    and gradients flow through them, as in the original); they are normalised with their
    own statistics.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = True):
        super().__init__()
        self.eps = eps
        self.n_ref = 0  # set by the owning generator before each forward pass
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.n_ref
        if n < 1:
            raise RuntimeError("VirtualBatchNorm has no reference batch: call set_reference on the generator")
        xf = x.float()  # statistics in float32, also under bf16 autocast
        ref, own = xf[:n], xf[n:]
        spatial = tuple(range(2, x.dim()))
        shape = (1, -1) + (1,) * len(spatial)
        ref_mean = ref.mean((0, *spatial)).view(shape)
        ref_sq = ref.pow(2).mean((0, *spatial)).view(shape)
        own_mean = own.mean(spatial, keepdim=True) if spatial else own
        own_sq = own.pow(2).mean(spatial, keepdim=True) if spatial else own.pow(2)
        w = 1.0 / (n + 1)
        mean = (1 - w) * ref_mean + w * own_mean
        var = ((1 - w) * ref_sq + w * own_sq - mean.pow(2)).clamp_min(0)
        ref_var = (ref_sq - ref_mean.pow(2)).clamp_min(0)
        out = torch.cat([(ref - ref_mean) * torch.rsqrt(ref_var + self.eps),
                         (own - mean) * torch.rsqrt(var + self.eps)])
        if self.weight is not None:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out.to(x.dtype)


class ConditionalNorm(nn.Module):
    """Normalisation whose scale and shift are looked up per class (conditional batch norm,
    de Vries et al. 2017, as in Miyato & Koyama 2018's generator): the label steers every
    layer instead of only entering at the input."""

    def __init__(self, num_features: int, num_classes: int, kind: str = "batch"):
        super().__init__()
        self.norm = (nn.BatchNorm2d(num_features, affine=False) if kind == "batch"
                     else VirtualBatchNorm(num_features, affine=False))
        self.scale = nn.Embedding(num_classes, num_features)
        self.shift = nn.Embedding(num_classes, num_features)
        nn.init.ones_(self.scale.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.norm(x) * self.scale(labels)[:, :, None, None] + self.shift(labels)[:, :, None, None]


def norm_factory(kind: str, num_classes: int | None = None) -> Norm:
    """Channels -> norm layer. "batch"/"virtual" for generators ("conditional_batch",
    "conditional_virtual" with per-class affine); "layer" for WGAN-GP critics (Gulrajani et
    al. advise against batch norm in a critic: its gradient penalty is per example); "group"
    (up to 16 groups) for discriminators trained with DP-SGD (per-example gradients)."""
    if kind.startswith("conditional_"):
        return lambda c: ConditionalNorm(c, num_classes, kind.removeprefix("conditional_"))
    factories = {"batch": nn.BatchNorm2d, "virtual": VirtualBatchNorm, "layer": lambda c: nn.GroupNorm(1, c),
                 "group": lambda c: nn.GroupNorm(math.gcd(c, 16), c)}
    if kind not in factories:
        raise ValueError(f"unknown norm {kind!r} (known: {', '.join(factories)})")
    return factories[kind]


class LabelSequential(nn.Sequential):
    """nn.Sequential that also hands the labels to the layers that need them (ConditionalNorm)."""

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        for layer in self:
            x = layer(x, labels) if isinstance(layer, ConditionalNorm) else layer(x)
        return x


# ---------------------------------------------------------------- generator side

def up_block(c_in: int, c_out: int, norm: Norm, kernel: int = 4, stride: int = 2, padding: int = 1
             ) -> list[nn.Module]:
    """Transposed conv (no bias: the norm after it has one), norm, ReLU. Defaults double the size;
    (kernel=b, stride=1, padding=0) turns a 1 x 1 input into the b x b start."""
    return [nn.ConvTranspose2d(c_in, c_out, kernel, stride, padding, bias=False), norm(c_out), nn.ReLU(True)]


def up_stack(ch: list[int], channels: int, norm: Norm) -> list[nn.Module]:
    """From ch[-1] maps (the deepest level) up to the image in [-1, 1]: the DCGAN generator after its
    first block. `ch` is the level_channels plan, next to the image first."""
    deep_first = ch[::-1]
    layers: list[nn.Module] = []
    for c_in, c_out in zip(deep_first, deep_first[1:]):
        layers += up_block(c_in, c_out, norm)
    return layers + [nn.ConvTranspose2d(ch[0], channels, 4, 2, 1, bias=False), nn.Tanh()]


class GeneratorBase(nn.Module):
    """G(z, labels) with what every generator shares: `latent_dim`, `num_classes`, and, with
    virtual batch norm, the fixed reference batch every forward pass is normalised against.

    Subclasses build their layers and implement `generate(z, labels)`. With norm="virtual",
    call `set_reference(z_ref, labels_ref)` once before training; the reference is a buffer,
    so it is saved with the weights and a reloaded generator samples the same images.
    """

    def __init__(self, latent_dim: int, num_classes: int | None, norm: str):
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.virtual = norm == "virtual"
        if self.virtual:
            self.register_buffer("z_ref", torch.empty(0, latent_dim))
            self.register_buffer("labels_ref", torch.empty(0, dtype=torch.long))

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def set_reference(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> None:
        """Fix the virtual-batch-norm reference batch (no effect on a batch-norm generator)."""
        if not self.virtual:
            return
        if labels is None:
            if self.num_classes is not None:
                raise ValueError("a conditional generator needs the reference batch's labels")
            labels = torch.zeros(len(z), dtype=torch.long, device=z.device)
        self.z_ref = z.detach().clone().to(self.z_ref.device)
        self.labels_ref = labels.detach().clone().long().to(self.z_ref.device)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if not self.virtual:
            return self.generate(z, labels)
        n = len(self.z_ref)
        if n == 0:
            raise RuntimeError("virtual batch norm: call set_reference(z_ref, labels_ref) before the first forward")
        for m in self.modules():
            if isinstance(m, VirtualBatchNorm):
                m.n_ref = n
        z = torch.cat([self.z_ref.to(z.dtype), z])
        if labels is not None:
            labels = torch.cat([self.labels_ref, labels])
        return self.generate(z, labels)[n:]

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # the reference batch's size is only known from the saved weights: take it from there
        if self.virtual:
            for name in ("z_ref", "labels_ref"):
                if prefix + name in state_dict:
                    setattr(self, name, torch.empty_like(state_dict[prefix + name], device=self.z_ref.device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


# ---------------------------------------------------------------- discriminator side

def conv_block(c_in: int, c_out: int, slope: float, norm: Norm | None = None, sn: bool = False,
               bias: bool = False, kernel: int = 4, stride: int = 2, padding: int = 1) -> list[nn.Module]:
    """Conv (spectrally normalised with sn), optional norm, LeakyReLU. Defaults halve the size."""
    conv = nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=bias)
    return [spectral_norm(conv) if sn else conv, *([norm(c_out)] if norm else []), nn.LeakyReLU(slope, True)]


def extra_blocks(c: int, depth: int, slope: float, norm: Norm | None, sn: bool, bias: bool) -> list[nn.Module]:
    """Seed 003's discriminator depth D: D - 1 stride-1 3x3 conv blocks at one resolution."""
    layers: list[nn.Module] = []
    for _ in range(depth - 1):
        layers += conv_block(c, c, slope, norm, sn, bias, kernel=3, stride=1, padding=1)
    return layers


def down_stack(ch: list[int], slope: float, depth: int = 1, norm: Norm | None = None, sn: bool = False,
               bias: bool = False) -> list[nn.Module]:
    """The discriminator after its first strided conv (which sees the image, and maybe the label):
    from ch[0] maps at size / 2 down to ch[-1] maps at b x b, with seed 003's extra blocks."""
    layers = extra_blocks(ch[0], depth, slope, norm, sn, bias)
    for c_in, c_out in zip(ch, ch[1:]):
        layers += conv_block(c_in, c_out, slope, norm, sn, bias)
        layers += extra_blocks(c_out, depth, slope, norm, sn, bias)
    return layers


def score_head(c: int, base: int) -> nn.Conv2d:
    """DCGAN's last layer: a b x b conv over the b x b maps, one raw score per image."""
    return nn.Conv2d(c, 1, base, 1, 0, bias=False)
