"""Feature spaces shared by the fidelity and memorisation stages (a helper, not a stage)."""
from __future__ import annotations

import numpy as np
import torch

from ..classify.load import load_classifier
from ..classify.train import extract_features
from .fidelity import InceptionExtractor


def feature_extractor(kind: str, classifier_dir: str, inception_path: str | None, device: torch.device):
    """A function uint8 images -> (N, D) features: the real classifier's penultimate layer
    (domain, fast on a CPU) or FID's Inception-v3."""
    if kind == "inception":
        return InceptionExtractor(inception_path, device)
    model = load_classifier(classifier_dir, device)
    return lambda images: extract_features(model, images, device).astype(np.float64)
