"""Adversarial training: the loop, its losses, progress grids and logging."""
