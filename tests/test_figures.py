"""The one place figures are saved: a real PNG appears whole, or nothing appears at all; and log axes read as numbers."""
import matplotlib
import numpy as np
import pytest
from PIL import Image

from synthset.figures import DPI, plt, save_figure

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def figure():
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1, 2], [0, 1, 4])
    return fig


def test_headless_backend():
    assert matplotlib.get_backend().lower() == "agg"


@pytest.mark.parametrize("tight", [True, False])
def test_saves_a_png_closes_the_figure_and_leaves_no_temp(tmp_path, tight):
    fig = figure()
    out = save_figure(fig, tmp_path / "sub" / "plot.png", tight=tight)
    assert out == tmp_path / "sub" / "plot.png"
    assert out.read_bytes()[:8] == PNG_MAGIC
    with Image.open(out) as im:
        im.verify()
    with Image.open(out) as im:
        width, height = im.size
    # exactly figsize x dpi, unless cropped to the drawn content (bbox_inches="tight")
    assert ((width, height) == (2 * DPI, round(1.5 * DPI))) != tight
    assert [p.name for p in out.parent.iterdir()] == ["plot.png"]
    assert not plt.fignum_exists(fig.number)


def test_a_failed_save_leaves_the_old_file_and_no_partial_one(tmp_path, monkeypatch):
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")
    fig = figure()
    real_savefig = fig.savefig

    def half_then_crash(fname, **kwargs):
        real_savefig(fname, **kwargs)  # the temp file is written in full, then the process "dies"
        raise RuntimeError("killed")

    monkeypatch.setattr(fig, "savefig", half_then_crash)
    with pytest.raises(RuntimeError, match="killed"):
        save_figure(fig, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]
    assert not plt.fignum_exists(fig.number)

    fresh = tmp_path / "new.png"
    fig = figure()

    def disk_full(fname, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(fig, "savefig", disk_full)
    with pytest.raises(OSError):
        save_figure(fig, fresh)
    assert not fresh.exists() and [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def tick_labels(fig) -> list[str]:
    fig.canvas.draw()
    return [t.get_text() for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
            for t in axis.get_ticklabels() + axis.get_ticklabels(minor=True) if t.get_text()]


def assert_plain_numbers(labels: list[str]) -> None:
    assert labels
    for text in labels:  # not "$\mathdefault{10^{-3}}$", as parse_math = False printed them
        assert float(text.replace("\u2212", "-")) > 0, text


@pytest.mark.parametrize("candidates", [20, 1000, 50_000])
def test_the_membership_roc_labels_its_log_axes_in_plain_numbers(tmp_path, monkeypatch, candidates):
    """The audit's ROC, the report's privacy figure, is read at its low false-positive rates: its
    log-log ticks must be numbers one can read, whatever the number of candidates sets as its floor."""
    from synthset.figures import audit as audit_figures
    from synthset.metrics.audit import evaluate_attack

    drawn, save = [], audit_figures.save_figure
    monkeypatch.setattr(audit_figures, "save_figure", lambda fig, path, **kw: drawn.append(fig) or save(fig, path, **kw))
    rng = np.random.default_rng(0)
    result = evaluate_attack(rng.normal(0.3, 1, candidates), rng.normal(0, 1, candidates), 10, 0.95, 1e-5, 0)
    audit_figures.roc_png({"an attack": result}, tmp_path / "roc.png", "title")
    assert_plain_numbers(tick_labels(drawn[0]))


@pytest.mark.parametrize("low, high", [(1e-4, 10.0), (0.008, 0.06), (0.3, 0.9)])
def test_every_log_axis_gets_plain_tick_labels_including_the_minor_ones_a_short_range_shows(low, high):
    fig, ax = plt.subplots()
    ax.plot([1, 2], [low, high])
    ax.set(yscale="log", ylim=(low, high))
    assert_plain_numbers(tick_labels(fig))
    plt.close(fig)
