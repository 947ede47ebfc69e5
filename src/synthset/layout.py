"""Where every stage output lives under data/prepared/ and results/: named once, here.

The stages are handed their paths by dvc.yaml and the rules, which keep them literally (a
reader of a rule sees its files); what reads results afterwards (the summary, the report, the
release, `synthset validate`) asks this module. A test checks that `stage_outputs` here and
dvc.yaml's outs agree for every stage.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Layout:
    results: Path = Path("results")
    prepared: Path = Path("data/prepared")

    # data
    def ingested(self, split: str) -> Path:
        return self.prepared / "ingest" / f"{split}.npz"

    def ingest_summary(self) -> Path:
        return self.prepared / "ingest" / "summary.json"

    def skipped(self) -> Path:
        return self.prepared / "ingest" / "skipped.csv"

    def preprocessed(self, split: str) -> Path:
        return self.prepared / "preprocess" / f"{split}.npz"

    def resize_summary(self) -> Path:
        """What preprocess's resize did to images of other sizes (upscaled, cropped hard)."""
        return self.prepared / "preprocess" / "resize.json"

    # one generator's training
    def model(self, arch: str) -> Path:
        return self.results / "models" / arch

    def figures(self, arch: str) -> Path:
        """The fixed-noise progress grids, epoch_*.png."""
        return self.results / "figures" / arch

    def live(self, arch: str) -> Path:
        """dvclive's folder of the training run."""
        return self.results / "live" / "train_gan" / arch

    def train_metrics(self, arch: str) -> Path:
        return self.live(arch) / "metrics.json"

    def train_curves(self, arch: str) -> Path:
        return self.live(arch) / "plots" / "metrics"

    # what is made from it
    def samples(self, arch: str) -> Path:
        return self.results / "samples" / arch / "samples.npz"

    def ssim_selected(self, arch: str) -> Path:
        return self.results / "samples" / arch / "ssim_selected.npz"

    def metrics(self, kind: str, name: str) -> Path:
        """A stage's numbers for one generator (kind: the stage; "live": its training log's) or PCA
        mode (kind: pca)."""
        if kind == "live":
            return self.train_metrics(name)
        return self.results / "metrics" / kind / f"{name}.json"

    def evaluation(self, kind: str, name: str) -> Path:
        """A stage's figures and per-image tables for one generator or PCA mode."""
        return self.results / "evaluation" / kind / name

    def mixed_curve(self, arch: str) -> Path:
        return self.results / "plots" / "mixed" / f"{arch}.csv"

    def pca_curve(self, mode: str) -> Path:
        return self.results / "plots" / "pca" / f"{mode}.csv"

    def release(self, arch: str) -> Path:
        return self.results / "release" / arch

    def real_inception(self) -> Path:
        """FID's Inception features of the real train and test splits (stage inception_real)."""
        return self.results / "features" / "inception_real.npz"

    # the real baseline and the whole run
    def classifier(self, which: str) -> Path:
        """real: the real baseline (train + val); filter: trained on train alone."""
        return self.results / "classifier" / which

    def filter_references(self) -> Path:
        """Reference filters' scores of the audit's candidates (stage filter_references)."""
        return self.results / "classifier" / "filter_references.npz"

    def baseline(self) -> Path:
        return self.results / "metrics" / "baseline.json"

    def summary(self) -> Path:
        return self.results / "metrics" / "summary.json"

    def report(self) -> Path:
        return self.results / "report"

    def validation_filter(self, key: str) -> Path:
        """A filter classifier `synthset validate` trained itself (no pipeline had made one), per
        train split and classifier recipe (`key`); outside every stage's outputs."""
        return self.results / "validation" / f"filter-{key}"

    def validation_real(self) -> Path:
        """The real train split's validation scores under each `-S classify.*` recipe validate was
        given, a file per splits, recipe and seeds (validation.real_under_recipe)."""
        return self.results / "validation" / "real"

    def validation_checkpoints(self) -> Path:
        """`synthset validate`'s resumable training checkpoints, a folder per arch and settings."""
        return self.results / "validation" / "checkpoints"

    def stage_outputs(self, stage: str, item: str | None = None) -> set[Path]:
        """What one stage (for one generator or PCA mode `item`) writes, as dvc.yaml declares it."""
        per_item = {
            "train_gan": lambda a: {self.model(a), self.figures(a), self.train_metrics(a), self.train_curves(a)},
            "sample": lambda a: {self.samples(a), self.metrics("sample", a)},
            "ssim": lambda a: {self.evaluation("ssim", a), self.metrics("ssim", a), self.ssim_selected(a)},
            "tstr": lambda a: {self.evaluation("tstr", a), self.metrics("tstr", a), self.mixed_curve(a)},
            "pca": lambda m: {self.evaluation("pca", m), self.metrics("pca", m), self.pca_curve(m)},
            "release": lambda a: {self.release(a)},
            **{kind: (lambda k: lambda a: {self.evaluation(k, a), self.metrics(k, a)})(kind)
               for kind in ("fidelity", "memorisation", "audit")},
        }
        whole = {
            "ingest": {*(self.ingested(s) for s in SPLITS), self.skipped(), self.ingest_summary()},
            "preprocess": {*(self.preprocessed(s) for s in SPLITS), self.resize_summary()},
            "train_classifier": {self.classifier("real"), self.classifier("filter"), self.baseline()},
            "inception_real": {self.real_inception()},
            "filter_references": {self.filter_references()},
            "summary": {self.summary()},
            "report": {self.report()},
        }
        if stage in per_item:
            if item is None:
                raise ValueError(f"stage {stage} runs once per generator or PCA mode: name one")
            return per_item[stage](item)
        if stage in whole:
            return whole[stage]
        raise ValueError(f"unknown stage {stage!r}")
