"""The one place figures are saved: a real PNG appears whole, or nothing appears at all."""
import matplotlib
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
