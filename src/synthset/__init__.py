"""synthset: synthetic labelled image sets from GANs, with proof of utility and privacy."""
import os

# How long idle OpenMP threads spin before they sleep, set before torch is imported; a
# value the user exported (GOMP_SPINCOUNT or OMP_WAIT_POLICY) wins. GNU OpenMP's default
# (300,000 spins) made torch 3x slower when another process shared the 2 cores, and
# OMP_WAIT_POLICY=PASSIVE (no spinning) made a stage alone 1.55x slower: between the many
# small kernels of a 28 px GAN step the threads went to sleep and had to be woken. 10,000
# spins keep the speed alone (one cdcgan stage, 10 epochs: 16 s; passive: 25 s) and cost
# less than default spinning when shared (two at once: 59 s each; passive 35 s; default 112 s).
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")
