"""synthset: synthetic labelled image sets from GANs, with proof of utility and privacy."""
