"""Realism, utility and privacy metrics, each tested against a reference implementation."""
