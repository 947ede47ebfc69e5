"""Where one generator's (or one PCA mode's) outputs are, below the results folder."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from ..files import read_json
from ..layout import Layout


@dataclass
class ArchResult:
    """Where one architecture's outputs are, below the results folder."""

    name: str
    results: Path

    @property
    def layout(self) -> Layout:
        return Layout(results=Path(self.results))

    def metrics(self, kind: str) -> dict:
        """A stage's metrics file (kind "live": the training log's)."""
        path = self.layout.metrics(kind, self.name)
        return read_json(path) if path.exists() else {}

    def evaluation(self, kind: str, name: str) -> Path:
        return self.layout.evaluation(kind, self.name) / name

    def summary(self) -> dict:
        """Its entry in summary.json (the comparisons computed there), or {} before the summary ran."""
        path = self.layout.summary()
        return read_json(path).get(self.name, {}) if path.exists() else {}

    @property
    def samples(self) -> Path:
        return self.layout.samples(self.name)

    @property
    def mixed_curve(self) -> Path:
        return self.layout.mixed_curve(self.name)

    @property
    def label(self) -> str:
        return self.name


@dataclass
class PCAResult:
    """One PCA mode's outputs: its best n is a summary-table row, every n is on the curve."""

    mode: str
    results: Path

    @property
    def layout(self) -> Layout:
        return Layout(results=Path(self.results))

    @property
    def name(self) -> str:
        return f"pca_{self.mode}"

    @cached_property
    def _best(self) -> dict:
        path = self.layout.metrics("pca", self.mode)
        return read_json(path) if path.exists() else {}

    def metrics(self, kind: str) -> dict:
        """The best n's numbers under the keys the GAN stages use."""
        best = self._best
        return {**best, "mean": best.get("mean_ssim"), "train_seconds": best.get("fit_seconds")}

    @property
    def label(self) -> str:
        best_n = self._best.get("best_n")
        return f"PCA {self.mode} (n={best_n})" if best_n else f"PCA {self.mode}"

    def curve(self) -> pd.DataFrame | None:
        path = self.layout.pca_curve(self.mode)
        return pd.read_csv(path) if path.exists() else None

    def previews(self) -> list[Path]:
        """The first images per class of every n (the pca stage's preview_n*.npz)."""
        return sorted(self.layout.evaluation("pca", self.mode).glob("preview_n*.npz"))
