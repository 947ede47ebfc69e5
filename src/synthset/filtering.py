"""Keeping only the generated images that a classifier of the real train split reads as the
class they were drawn for (`sample.keep: agreeing`).

A conditional generator that draws a "4" which reads as a "9" teaches a classifier trained
on its images a wrong boundary, and such images are not random noise but the same confusion
again and again. On the validation split, dropping them (1 to 2 % of the draws) raised
train-on-synthetic accuracy by 0.6 to 2 points for three of the four GANs then in the
default run (docs/metrics.md, "Filtering").

The filter is trained on the train split alone, the data the generators learn from, so every
score on validation stays honest; it goes into the release beside the generator, so that
`synthset generate` draws what the pipeline evaluated. Draws continue in rounds, from one
seeded stream, until every class has its count: the same seed gives the same images.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from .classify import predict_logits, predict_proba
from .imagesets import ImageSet

KEEP = ("all", "agreeing")
DP_KEEP_REASON = ("trained with differential privacy: the filter classifier learned from the private images "
                  "without it, so filtering would reveal what epsilon does not account for")
MIN_KEPT_SHARE = 0.05  # below it a class is refused: the generator ignores that label

def keep_for(keep: str, spec: dict) -> str:
    """sample.keep as it applies to one generator: a DP generator's images stay unfiltered."""
    return "all" if spec.get("dp") else keep


def temperature_for(keep: str, temperature: float | None) -> float | None:
    """sample.label_temperature as it applies to draws kept under `keep`: only the filter labels images,
    so draws it does not pick (a DP generator's, PCA reconstruct's) keep their class alone."""
    return temperature if keep == "agreeing" else None


Draw = Callable[[np.ndarray], ImageSet]  # images per class asked for -> that many of each, in class order


class LabelsNotFollowed(RuntimeError):
    pass


def draw_agreeing(draw: Draw, judge: torch.nn.Module, class_names: list[str], per_class: int,
                  device: torch.device) -> tuple[ImageSet, dict]:
    """`per_class` images of every class that `judge` labels as their class, and the share of
    draws it kept per class (the generator's label faithfulness as the filter sees it)."""
    k = len(class_names)
    kept: list[list[np.ndarray]] = [[] for _ in range(k)]
    need = np.full(k, per_class)
    drawn, accepted = np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
    while need.any():
        hopeless = (need > 0) & (drawn >= per_class / MIN_KEPT_SHARE)
        if hopeless.any():
            c = int(np.flatnonzero(hopeless)[0])
            raise LabelsNotFollowed(
                f"class {class_names[c]!r}: the filter classifier read only {accepted[c]} of {drawn[c]} generated "
                f"images as that class (under {MIN_KEPT_SHARE:.0%}); the generator does not follow this label "
                "(sample.keep: all releases its images unfiltered)")
        rate = np.where(drawn > 0, accepted / np.maximum(drawn, 1), 1.0)
        ask = np.array([math.ceil(n / max(r, MIN_KEPT_SHARE)) if n else 0 for n, r in zip(need, rate)])
        batch = draw(ask)
        agree = predict_proba(judge, batch.images, device).argmax(1) == batch.labels
        for c in np.flatnonzero(ask):
            of_c = batch.labels == c
            good = batch.images[of_c & agree]
            drawn[c] += int(of_c.sum())
            accepted[c] += len(good)
            kept[c].append(good[:need[c]])
            need[c] -= len(kept[c][-1])
    images = np.concatenate([np.concatenate(parts) for parts in kept])
    labels = np.repeat(np.arange(k), per_class)
    share = accepted / np.maximum(drawn, 1)
    return ImageSet(images, labels, class_names), {
        "kept_share": float(accepted.sum() / drawn.sum()), "drawn": int(drawn.sum()),
        "kept_share_per_class": {n: float(s) for n, s in zip(class_names, share)}}


def soft_labels(judge: torch.nn.Module, images: np.ndarray, temperature: float, device: torch.device) -> np.ndarray:
    """The filter's probabilities at `temperature` (Hinton et al. 2015): above 1 they say how much
    a truck looks like a pickup too, which a classifier learns more from than the class alone."""
    logits = torch.from_numpy(predict_logits(judge, images, device)).double()
    return torch.softmax(logits / temperature, dim=1).float().numpy()


def keep_images(draw: Draw, keep: str, judge: torch.nn.Module | None, class_names: list[str], per_class: int,
                device: torch.device, temperature: float | None = None) -> tuple[ImageSet, dict]:
    """The images `sample.keep` asks for: all draws, or only those the filter agrees with,
    labelled by its probabilities at `temperature` (sample.label_temperature) when given."""
    if keep not in KEEP:
        raise ValueError(f"sample.keep must be one of {', '.join(KEEP)}, got {keep!r}")
    if keep == "all":
        if temperature is not None:
            raise ValueError("soft labels come from the filter classifier: sample.keep: all has none")
        images = draw(np.full(len(class_names), per_class))
        return images, {"kept_share": 1.0, "drawn": len(images)}
    if judge is None:
        raise ValueError("sample.keep: agreeing needs the filter classifier (train_classifier's results/classifier/filter)")
    images, stats = draw_agreeing(draw, judge, class_names, per_class, device)
    if temperature is not None:
        images.soft = soft_labels(judge, images.images, temperature, device)
    return images, stats
