"""Where one generator's (or one PCA mode's) outputs are, below the results folder."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from ..io import read_json

@dataclass
class ArchResult:
    """Where one architecture's outputs are, below the results folder."""

    name: str
    results: Path

    def metrics(self, kind: str) -> dict:
        path = (self.results / "live" / "train_gan" / self.name / "metrics.json" if kind == "live"
                else self.results / "metrics" / kind / f"{self.name}.json")
        return read_json(path) if path.exists() else {}

    def evaluation(self, kind: str, name: str) -> Path:
        return self.results / "evaluation" / kind / self.name / name

    def summary(self) -> dict:
        """Its entry in summary.json (the comparisons computed there), or {} before the summary ran."""
        path = self.results / "metrics" / "summary.json"
        return read_json(path).get(self.name, {}) if path.exists() else {}

    @property
    def samples(self) -> Path:
        return self.results / "samples" / self.name / "samples.npz"

    @property
    def mixed_curve(self) -> Path:
        return self.results / "plots" / "mixed" / f"{self.name}.csv"

    @property
    def label(self) -> str:
        return self.name


@dataclass
class PCAResult:
    """One PCA mode's outputs: its best n is a summary-table row, every n is on the curve."""

    mode: str
    results: Path

    @property
    def name(self) -> str:
        return f"pca_{self.mode}"

    @cached_property
    def _best(self) -> dict:
        path = self.results / "metrics" / "pca" / f"{self.mode}.json"
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
        path = self.results / "plots" / "pca" / f"{self.mode}.csv"
        return pd.read_csv(path) if path.exists() else None

    def previews(self) -> list[Path]:
        """The first images per class of every n (the pca stage's preview_n*.npz)."""
        return sorted((self.results / "evaluation" / "pca" / self.mode).glob("preview_n*.npz"))
