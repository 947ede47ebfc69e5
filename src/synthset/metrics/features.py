"""Feature spaces shared by the fidelity, memorisation and PCA stages (a helper, not a stage)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..classify.load import load_classifier
from ..classify.train import extract_features
from ..files import atomic_path
from .fidelity import InceptionExtractor


def feature_extractor(kind: str, classifier_dir: str, inception_path: str | None, device: torch.device):
    """A function uint8 images -> (N, D) features: the real classifier's penultimate layer
    (domain, fast on a CPU) or FID's Inception-v3."""
    if kind == "inception":
        return InceptionExtractor(inception_path, device)
    model = load_classifier(classifier_dir, device)
    return lambda images: extract_features(model, images, device).astype(np.float64)


def inception_needed(evaluate) -> bool:
    """Whether some stage compares images in FID's Inception features: as the table's own
    features, or beside the domain ones (evaluate.fid_inception)."""
    return evaluate.features == "inception" or bool(evaluate.fid_inception)


@dataclass(frozen=True)
class RealInception:
    """FID's Inception features of the real train and test splits, computed once (stage
    inception_real) for every generator's fidelity stage and the PCA baseline. At a few images a
    second on a CPU core, each of them had spent as long again on the real photos as on its own."""

    train: np.ndarray  # (N train, 2048); (0, 0) when no stage needs them
    test: np.ndarray
    seconds: float  # what computing them took

    @property
    def measured(self) -> bool:
        return self.train.size > 0

    @classmethod
    def compute(cls, extract, train_images: np.ndarray, test_images: np.ndarray) -> "RealInception":
        start = time.perf_counter()
        train, test = extract(train_images), extract(test_images)
        return cls(train, test, time.perf_counter() - start)

    @classmethod
    def unmeasured(cls) -> "RealInception":
        empty = np.zeros((0, 0), np.float32)
        return cls(empty, empty, 0.0)

    def save(self, path: str | Path) -> None:
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, train=self.train, test=self.test, seconds=np.float64(self.seconds))

    @classmethod
    def load(cls, path: str | Path) -> "RealInception":
        with np.load(path) as f:
            real = cls(f["train"], f["test"], float(f["seconds"]))
        if not real.measured:
            raise ValueError(f"{path} holds no Inception features: the inception_real stage ran with neither "
                             f"evaluate.features: inception nor evaluate.fid_inception; run it again")
        return real


def real_inception_for(evaluate, path: str | Path | None, device: torch.device, train_images: np.ndarray,
                       test_images: np.ndarray) -> tuple[InceptionExtractor | None, RealInception | None]:
    """FID's network and the real splits' features in it, when a setting asks for Inception (else None,
    None): read from inception_real's file when one is given, computed here when not."""
    if not inception_needed(evaluate):
        return None, None
    inception = InceptionExtractor(evaluate.inception_path, device)
    real = RealInception.load(path) if path else RealInception.compute(inception, train_images, test_images)
    return inception, real
