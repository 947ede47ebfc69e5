"""Every number a reader sees, in one table: which stage's file holds it, how it is written, and
where it is shown (a report table, summary.json and so `dvc exp show`, the release's model card).

Adding a metric to the report, the summary and the model card is one line here (plus the stage
code that computes it); the report, summary and release stages read their columns from it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .layout import Layout

REPORT_TABLES = {  # the report's tables, in order: a title and what each answers
    "utility": ("Utility", "how well a classifier learns from the generated images (tested on real ones)"),
    "realism": ("Realism", "how close the generated images are to the real ones"),
    "privacy": ("Privacy", "how much of the training images the release gives away"),
}
FORMATS = ("pct", "pts", "num", "sci", "int")  # pts: a difference of two shares, in points


@dataclass(frozen=True)
class Metric:
    key: str  # the key in its stage's JSON file
    source: str  # that file: results/metrics/<source>/<arch>.json, or "live": the training log's metrics.json
    label: str  # the report's column header
    fmt: str  # one of FORMATS
    table: str | None = None  # the report table it is a column of (REPORT_TABLES), None: not in the report
    summary: str | None = None  # its key in summary.json, None: not there
    card: bool = False  # in the release's model card
    interval: bool = False  # the stage writes `key`_low and `key`_high beside it (shown and carried with it)
    optional: bool = False  # measured only when a setting asks for it: its report column only where a row has it
    summary_bounds: bool = True  # with `interval`, its bounds in summary.json too (two more `dvc exp show` columns)

    def path(self, results: Path, arch: str) -> Path:
        return Layout(results=Path(results)).metrics(self.source, arch)

    @property
    def card_key(self) -> str:
        """The name in the model card: the stage file's name before the key, the training log's bare."""
        return self.key if self.source == "live" else f"{self.source}.{self.key}"


METRICS = (
    # utility (seed 004's Table 2: train on synthetic, test on real)
    Metric("acc_fake", "tstr", "Acc (fake)", "pct", "utility", summary="acc_fake", card=True, interval=True),
    Metric("vs_real", "tstr", "vs real (points)", "pts", "utility", card=True, interval=True),
    Metric("acc_mixed_best", "tstr", "Acc (mixed best)", "pct", "utility", card=True, interval=True),
    Metric("acc_ssim_selected", "tstr", "Acc (SSIM-selected)", "pct", "utility", card=True, interval=True),
    Metric("kept_share", "sample", "Kept by filter", "pct", "utility", card=True),
    Metric("train_seconds", "live", "Train (s)", "int", "utility", summary="train_seconds", card=True),
    Metric("acc_real", "tstr", "Acc (real baseline)", "pct", card=True, interval=True),
    Metric("interval_confidence", "tstr", "Interval confidence", "num", card=True),
    # realism
    Metric("fid", "fidelity", "FID", "num", "realism", summary="fid", card=True),
    Metric("fid_floor", "fidelity", "FID floor (real vs real)", "num", card=True),
    Metric("fid_inception", "fidelity", "FID (Inception)", "num", "realism", card=True, optional=True),
    Metric("fid_inception_floor", "fidelity", "FID (Inception) floor", "num", card=True, optional=True),
    Metric("kid", "fidelity", "KID", "sci", "realism", card=True),
    Metric("inception_score", "fidelity", "IS", "num", "realism", card=True),
    Metric("precision", "fidelity", "Precision", "num", "realism", card=True, interval=True),
    Metric("recall", "fidelity", "Recall", "num", "realism", card=True, interval=True),
    Metric("mean", "ssim", "Mean SSIM", "num", "realism", card=True),
    Metric("gan_test_accuracy", "fidelity", "GAN-test", "pct", "realism", card=True, interval=True),
    # privacy: copies, the strongest attack the release allows (audit's top-level numbers), DP
    Metric("copy_share", "memorisation", "Copies", "pct", "privacy", summary="copy_share", card=True, interval=True,
           summary_bounds=False),  # `dvc exp show` of the default run stays within summary.MAX_COLUMNS
    Metric("copy_share_features", "memorisation", "Copies (features)", "pct", card=True, interval=True),
    Metric("auc", "audit", "Attack AUC", "num", "privacy", card=True),
    # the same attack, validation against test images (both unseen): how far from 0.5 a split alone goes
    Metric("control_auc", "audit", "Control AUC (unseen vs unseen)", "num", "privacy", card=True),
    Metric("tpr_at_0.01", "audit", "Attack TPR@1%FPR", "pct", "privacy", summary="attack_tpr", card=True),
    Metric("epsilon_lower_bound", "audit", "Attack's epsilon bound", "num", card=True),
    Metric("dp_epsilon", "live", "DP epsilon", "num", "privacy", card=True),
    Metric("dp_delta", "live", "DP delta", "sci", card=True),
)
assert len({(m.source, m.key) for m in METRICS}) == len(METRICS), "a metric listed twice"
assert all(m.fmt in FORMATS and (m.table is None or m.table in REPORT_TABLES) for m in METRICS)


def table_columns(table: str) -> list[Metric]:
    return [m for m in METRICS if m.table == table]


def summary_keys() -> dict[str, tuple[Metric, str]]:
    """summary.json's per-generator numbers: its key -> (the metric, the key in the stage's file),
    each with its interval bounds where the stage measures one."""
    keys = {}
    for m in METRICS:
        if m.summary is None:
            continue
        keys[m.summary] = (m, m.key)
        if m.interval and m.summary_bounds:
            keys[f"{m.summary}_low"], keys[f"{m.summary}_high"] = (m, f"{m.key}_low"), (m, f"{m.key}_high")
    return keys


def card_entries() -> list[tuple[Metric, str, str]]:
    """(metric, key in the stage's file, name in the model card) for every number the card holds."""
    found = []
    for m in METRICS:
        if m.card:
            found.append((m, m.key, m.card_key))
            if m.interval:
                found += [(m, f"{m.key}_{end}", f"{m.card_key}_{end}") for end in ("low", "high")]
    return found
