"""GAN-test (seed 003's "inception score"): the classifier trained on real images labels
the generated ones. Its agreement with the intended labels says whether each class is
recognisable; the Inception Score of its softmax outputs says how confident and varied."""
from __future__ import annotations

import numpy as np
import torch

from ..classify.train import predict_proba
from ..imagesets import ImageSet
from ..intervals import accuracy_interval
from .fidelity import inception_score


def gan_test(classifier: torch.nn.Module, fake: ImageSet, test: ImageSet, device: torch.device,
             seed: int = 0, resamples: int = 0, confidence: float = 0.95) -> dict:
    """Accuracy, confusion matrix (rows: intended class) and IS of generated images, with the
    IS of real test images as the yardstick; with `resamples`, the accuracy's bootstrap interval
    over the generated images."""
    probs = predict_proba(classifier, fake.images, device)
    pred = probs.argmax(1)
    confusion = np.zeros((fake.num_classes, fake.num_classes), dtype=int)
    np.add.at(confusion, (fake.labels, pred), 1)
    is_mean, is_std = inception_score(probs, seed=seed)
    is_real, _ = inception_score(predict_proba(classifier, test.images, device), seed=seed)
    right = pred == fake.labels
    accuracy = (accuracy_interval(right, resamples, confidence, seed).as_dict("gan_test_accuracy") if resamples
                else {"gan_test_accuracy": float(right.mean())})
    return {**accuracy, "confusion": confusion.tolist(),
            "inception_score": is_mean, "inception_score_std": is_std, "inception_score_real_test": is_real}
