"""Every number a baseline's generated set gets in the summary table, in one call (`score_set`).

The per-arch stages compute these one metric family per stage, with figures. A baseline
that is evaluated at many settings (PCA at every n) needs the same numbers many times:
here the real references (features, pixels, the real classifier) are prepared once and
every number is computed by the same library functions the stages use.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..classify import evaluate, fake_subset, fit_scored
from ..classify.load import load_classifier
from ..imagesets import ImageSet
from ..intervals import accuracy_interval
from ..metrics.features import RealInception, feature_extractor
from ..metrics.fidelity import fid, kid, prdc
from ..metrics.memorisation import copy_share_interval, memorisation, pixel_vectors
from ..metrics.recognition import gan_test
from ..metrics.ssim import mean_ssim_to_references
from ..params import Params


@dataclass
class References:
    """The real data every generated set is compared with, loaded and featurised once."""

    train: ImageSet
    val: ImageSet
    test: ImageSet
    classifier: torch.nn.Module
    extract: Callable[[np.ndarray], np.ndarray]
    train_features: np.ndarray
    train_pixels: np.ndarray
    test_pixels: np.ndarray

    @classmethod
    def load(cls, train: ImageSet, val: ImageSet, test: ImageSet, classifier_dir: str, params: Params,
             device: torch.device, real_inception: RealInception | None = None) -> "References":
        """real_inception: the train split's Inception features, computed already (inception_real)."""
        e = params.evaluate
        extract = feature_extractor(e.features, classifier_dir, e.inception_path, device)
        train_features = (real_inception.train if e.features == "inception" and real_inception is not None
                          else extract(train.images))
        return cls(train, val, test, load_classifier(classifier_dir, device), extract,
                   train_features, pixel_vectors(train), pixel_vectors(test))


@dataclass
class SetScores:
    numbers: dict  # the summary-table numbers, acc_fake with its interval
    correct: np.ndarray  # (seeds, test images): the classifiers' right answers, for paired comparisons


def score_set(fake: ImageSet, refs: References, params: Params, device: torch.device,
              desc: str = "classifier") -> SetScores:
    """Train-on-synthetic accuracy of one classifier (seed classify.seed) on val, for choices, and
    on test, to report, with its interval over the test images; GAN-test and IS, FID/KID/PRDC, mean
    SSIM and copy share (with its interval)."""
    c, e = params.classify, params.evaluate
    started = time.perf_counter()
    scored = fit_scored(fake_subset(fake, e.fake_per_class, e.seed), refs.test, c, device, desc=desc, seeds=1)
    utility = accuracy_interval(scored.correct, e.interval_bootstrap, e.interval_confidence, e.seed)
    acc_val = evaluate(scored.model, refs.val, device)["accuracy"]
    recognised = gan_test(refs.classifier, fake, refs.test, device, e.seed, e.interval_bootstrap, e.interval_confidence)
    fake_features = refs.extract(fake.images)
    realism = {"fid": fid(refs.train_features, fake_features),
               **kid(refs.train_features, fake_features, e.kid_subsets, e.kid_subset_size, e.seed),
               **prdc(refs.train_features, fake_features, e.prdc_k, resamples=e.interval_bootstrap,
                      confidence=e.interval_confidence, seed=e.seed)}
    copies = memorisation(refs.train_pixels, refs.train.labels, refs.test_pixels, refs.test.labels,
                          pixel_vectors(fake), fake.labels, fake.class_names, e.copy_quantile)
    copied = copy_share_interval(copies.fake_dcr, copies.test_dcr, e.copy_quantile, e.interval_bootstrap,
                                 e.interval_confidence, e.seed)
    ssim = mean_ssim_to_references(fake, refs.train, e.ssim_k, e.seed)
    numbers = {"acc_val": acc_val, **utility.as_dict("acc_fake"),
               **{k: recognised[k] for k in ("gan_test_accuracy", "gan_test_accuracy_low", "gan_test_accuracy_high")},
               "inception_score": recognised["inception_score"],
               **{k: realism[k] for k in ("fid", "kid")},
               **{f"{k}{end}": realism[f"{k}{end}"] for k in ("precision", "recall", "density", "coverage")
                  for end in ("", "_low", "_high")},
               "mean_ssim": float(np.mean(ssim)), "copy_share": copies.summary["copy_share"],
               "copy_share_low": copied["copy_share_low"], "copy_share_high": copied["copy_share_high"],
               "evaluate_seconds": time.perf_counter() - started}
    return SetScores(numbers, scored.correct)
