"""Conditional WGAN-GP (Gulrajani et al. 2017).

The critic is cdcgan's discriminator with layer norm (GroupNorm with one group) where
batch norm was: the gradient penalty is taken per example, which batch norm's mixing of
examples would break. The label enters as constant one-hot planes, as in cdcgan. The
generator is cdcgan's. The penalty itself is in the training loop (train/losses.py).
"""
from __future__ import annotations

from . import cdcgan

Generator = cdcgan.Generator


class Discriminator(cdcgan.Discriminator):
    """Critic: raw scores, no batch norm."""

    norm = "layer"
