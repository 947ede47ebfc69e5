"""Every figure synthset draws, one module per stage family, so `metrics/` and the other
library packages only compute; here: matplotlib set up headless, and figures written atomically.

Every module that draws imports `plt` from here rather than `matplotlib.pyplot`, so the
Agg backend is chosen before pyplot loads (the stages run without a display).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["text.parse_math"] = False  # class and file names are text: a "$" in one is not TeX
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.scale import LogScale, register_scale  # noqa: E402
from matplotlib.ticker import LogFormatter  # noqa: E402

from ..files import atomic_path  # noqa: E402

__all__ = ["DPI", "plt", "save_figure"]

DPI = 110


class PlainLogFormatter(LogFormatter):
    """Log-axis tick labels as plain numbers (0.001, 0.02, 10). matplotlib's own are TeX, which
    text.parse_math = False prints raw: "$\\mathdefault{10^{-3}}$"."""

    def _num_to_string(self, x, vmin, vmax):
        return f"{x:g}"


class PlainLogScale(LogScale):
    """The log scale with PlainLogFormatter's labels, on the ticks matplotlib's would label; it
    takes the name "log", so every `xscale="log"` here gets it."""

    # not dead: register_scale reads this signature; LogScale's own (axis first) draws a PendingDeprecationWarning
    # from matplotlib 3.11, which passes no axis, while older ones pass it
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

    def set_default_locators_and_formatters(self, axis):
        super().set_default_locators_and_formatters(axis)
        axis.set_major_formatter(PlainLogFormatter(self.base))
        axis.set_minor_formatter(PlainLogFormatter(self.base, labelOnlyBase=self.subs is not None))


register_scale(PlainLogScale)


def save_figure(fig, path: str | Path, *, tight: bool = True) -> Path:
    """Write `fig` to `path` as a PNG, atomically (a half-written file never appears at `path`),
    and close it, whether or not the save succeeded. `tight` crops the margins
    (bbox_inches="tight")."""
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=DPI, format="png", bbox_inches="tight" if tight else None)
    finally:
        plt.close(fig)
    return Path(path)


def plot_with_interval(ax, x, table, key: str, **style) -> None:
    """table[key] in percent against x, with the interval (`key`_low, `key`_high columns) as error
    bars where it was measured (a missing bound draws no bar), a plain line where it was not."""
    y = table[key].astype(float) * 100
    if not {f"{key}_low", f"{key}_high"} <= set(table.columns):
        ax.plot(x, y, "o-", **style)
        return
    below = (y - table[f"{key}_low"].astype(float) * 100).fillna(0).clip(lower=0)
    above = (table[f"{key}_high"].astype(float) * 100 - y).fillna(0).clip(lower=0)
    ax.errorbar(x, y, yerr=[below, above], fmt="o-", capsize=3, **style)
