"""The audit stage's figure: each membership attack's ROC curve."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..metrics.audit import AttackResult
from . import plt, save_figure


def roc_png(results: dict[str, AttackResult], path: str | Path, title: str) -> Path:
    """ROC curves on log-log axes (where low-FPR success shows) beside the chance line."""
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    n = max(r.summary["n_nonmembers"] for r in results.values())
    floor = 1 / (2 * n)
    grid = np.logspace(np.log10(floor), 0, 50)
    ax.plot(grid, grid, color="0.6", ls="--", lw=1, label="chance")
    for name, r in results.items():
        s = r.summary
        ax.plot(np.clip(r.fpr, floor, 1), np.clip(r.tpr, floor, 1), lw=1.5,
                label=f"{name}: AUC {s['auc']:.3f}, TPR@1% {s['tpr_at_0.01']:.1%}")
    ax.set(xscale="log", yscale="log", xlim=(floor, 1), ylim=(floor, 1.05), title=title,
           xlabel="false-positive rate (non-members called members)",
           ylabel="true-positive rate (members found)")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return save_figure(fig, path)
