"""cdcgan for differentially private training: the same generator, a discriminator that
treats each image on its own.

DP-SGD clips each example's gradient, so the discriminator must not mix the examples
of a batch: batch norm does (its statistics are the batch's), so group norm takes its
place, as in the DP image models of De et al. 2022. Only the discriminator sees private
images; the generator is cdcgan's, batch norm and all (it only ever sees noise).
"""
from __future__ import annotations

from . import cdcgan

Generator = cdcgan.Generator


class Discriminator(cdcgan.Discriminator):
    """cdcgan's discriminator with group norm where batch norm was."""

    norm = "group"
