"""Building an architecture's networks from params, and its sampling generator."""
from __future__ import annotations

from torch import nn

from ..params import ArchParams, DiffusionParams, MerfParams
from .dcgan import Discriminator as DCGANDiscriminator
from .dcgan import Generator as DCGANGenerator
from .dcgan import PerClassDCGAN, init_weights


def generator_kwargs(num_classes: int, image_shape: tuple[int, int, int],
                     p: ArchParams | DiffusionParams | MerfParams) -> dict:
    """The constructor arguments saved beside the weights, enough to rebuild the generator."""
    h, _, c = image_shape
    if isinstance(p, DiffusionParams):
        return {"num_classes": num_classes, "channels": c, "image_size": h, "widths": list(p.widths),
                "layers_per_block": p.layers_per_block, "attention": p.attention, "timesteps": p.timesteps,
                "beta_schedule": p.beta_schedule, "sampler": p.sampler, "sampling_steps": p.sampling_steps,
                "guidance_scale": p.guidance_scale}
    if isinstance(p, MerfParams):  # cdcgan's generator, `generators` of them (models/pool.py)
        return {"members": p.generators, "num_classes": num_classes, "latent_dim": p.latent_dim, "channels": c,
                "image_size": h, "width": p.width, "capacity": 1, "norm": "batch"}
    return {"num_classes": num_classes, "latent_dim": p.latent_dim, "channels": c, "image_size": h,
            "width": p.width, "capacity": p.capacity, "norm": p.norm}


def generator_spec(arch: str, train, p: ArchParams | DiffusionParams | MerfParams, dp: dict | None = None) -> dict:
    """What is saved beside the weights: how to rebuild the generator and what it was trained on;
    with `dp` (a DP run), the privacy it spent (dp_epsilon at dp_delta, ...) under "dp"."""
    h, w, c = train.image_shape
    spec = {"arch": arch, "kwargs": generator_kwargs(train.num_classes, train.image_shape, p),
            "class_names": train.class_names, "image_shape": list(train.image_shape),
            "latent_dim": h * w * c if isinstance(p, DiffusionParams) else p.latent_dim,  # ddpm: the noise image
            "train_images": len(train), "params": p.model_dump()}
    if dp is not None:
        spec["dp"] = dp
    return spec


def build_pair(arch: str, num_classes: int, image_shape: tuple[int, int, int], p: ArchParams
               ) -> tuple[nn.Module, nn.Module]:
    """A freshly initialised (generator, discriminator) for one training unit."""
    from . import ARCHS

    h, _, c = image_shape
    if arch == "dcgan":
        g = DCGANGenerator(p.latent_dim, c, h, p.width, capacity=p.capacity, norm=p.norm)
        d = DCGANDiscriminator(c, h, p.width, p.leaky_slope, capacity=p.capacity, depth=p.d_depth)
    else:
        g_cls, d_cls = ARCHS[arch]
        g = g_cls(**generator_kwargs(num_classes, image_shape, p))
        d = d_cls(num_classes=num_classes, channels=c, image_size=h, width=p.width, capacity=p.capacity,
                  depth=p.d_depth, leaky_slope=p.leaky_slope)
    init_weights(g, p.init_std)
    init_weights(d, p.init_std)
    return g, d


def sampling_generator(arch: str, generators: list[nn.Module]) -> nn.Module:
    """The G(z, labels) a user samples from: DCGAN's per-class generators behind one module."""
    if arch != "dcgan":
        (g,) = generators
        return g
    return PerClassDCGAN.of(generators)
