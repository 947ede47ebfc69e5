"""GAN architectures, one file per family, and how to rebuild a saved generator.

Every generator answers `G(z, labels) -> images in [-1, 1]`, so sampling, the release
and evaluation do not care whether a model is conditional, one GAN per class, or a
diffusion model denoising z (ddpm.py). DP-MERF (dpmerf) samples with cdcgan's generator, or
several of them fitted to one embedding (pool.py).
Every conditional arch file defines `Generator(num_classes, latent_dim, channels,
image_size, width, capacity, norm)` and `Discriminator(num_classes, channels,
image_size, width, capacity, depth, leaky_slope)` whose `D(x, labels)` gives one raw
score per image; shared blocks are in layers.py.
"""
from __future__ import annotations

from torch import nn

from . import cdcgan, cdcgan_dp, cdcgan_late, cgan, sngan, wgan_gp
from .dcgan import PerClassDCGAN
from .ddpm import DiffusionGenerator
from .pool import PooledGenerator
from .factory import build_pair, generator_kwargs, generator_spec, sampling_generator

ARCHS: dict[str, tuple[type[nn.Module], type[nn.Module]]] = {
    "cgan": (cgan.Generator, cgan.Discriminator),
    "cdcgan": (cdcgan.Generator, cdcgan.Discriminator),
    "cdcgan_late": (cdcgan_late.Generator, cdcgan_late.Discriminator),
    "sngan": (sngan.Generator, sngan.Discriminator),
    "wgan_gp": (wgan_gp.Generator, wgan_gp.Discriminator),
    "cdcgan_dp": (cdcgan_dp.Generator, cdcgan_dp.Discriminator),
}

GENERATORS: dict[str, type[nn.Module]] = {"dcgan": PerClassDCGAN, **{name: g for name, (g, _) in ARCHS.items()},
                                          "ddpm": DiffusionGenerator, "dpmerf": PooledGenerator}

__all__ = ["ARCHS", "GENERATORS", "build_generator", "build_pair", "generator_kwargs", "generator_spec",
           "sampling_generator"]


def build_generator(spec: dict) -> nn.Module:
    """Rebuild a generator from the JSON spec written beside its weights."""
    try:
        cls = GENERATORS[spec["arch"]]
    except KeyError:
        raise ValueError(f"unknown architecture {spec.get('arch')!r} (known: {', '.join(GENERATORS)})") from None
    return cls(**spec["kwargs"])
