"""synthset: synthetic labelled image sets from GANs, with proof of utility and privacy."""
import os

# OpenMP threads that spin while waiting make torch 20-60x slower on a CPU shared with
# another process (two pipeline stages, or a stage beside the tests, on 2 cores).
# Set before torch is imported; a value the user exported wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
