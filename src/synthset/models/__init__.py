"""GAN architectures, one file per family, and how to rebuild a saved generator.

Every generator answers `G(z, labels) -> images in [-1, 1]`, so sampling, the release
and evaluation do not care whether a model is conditional or one GAN per class.
"""
from __future__ import annotations

from torch import nn

from .dcgan import PerClassDCGAN

GENERATORS: dict[str, type[nn.Module]] = {"dcgan": PerClassDCGAN}


def build_generator(spec: dict) -> nn.Module:
    """Rebuild a generator from the JSON spec written beside its weights."""
    try:
        cls = GENERATORS[spec["arch"]]
    except KeyError:
        raise ValueError(f"unknown architecture {spec.get('arch')!r} (known: {', '.join(GENERATORS)})") from None
    return cls(**spec["kwargs"])
