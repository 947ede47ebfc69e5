"""`dvc plots show` and `dvc plots diff` draw their charts with no network (issue 26): the page
template synthset.offline_plots installs (make install) inlines Vega, Vega-Lite and vega-embed."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from browser import check_page
from conftest import run


def curve(repo: Path, accs: list[float]) -> None:
    pd.DataFrame({"real_fraction": [0.0, 0.5, 1.0], "acc": accs}).to_csv(repo / "mixed.csv", index=False)


def test_dvc_plots_pages_draw_their_charts_offline(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    run(["git", "init", "-q"], repo)
    run(["dvc", "init", "-q"], repo)
    (repo / "dvc.yaml").write_text("plots:\n  - mixed.csv:\n      x: real_fraction\n      y: acc\n")
    curve(repo, [0.80, 0.90, 0.95])
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "a curve"], repo)
    run([sys.executable, "-m", "synthset.offline_plots"], repo)
    assert (repo / ".dvc" / "offline_plots.html").is_file() and "offline_plots" not in run(["git", "status", "--short"], repo).stdout

    run(["dvc", "plots", "show", "-o", "shown"], repo)
    curve(repo, [0.70, 0.85, 0.95])
    run(["dvc", "plots", "diff", "HEAD", "-o", "diffed"], repo)  # the committed curve against the workspace's
    for folder in ("shown", "diffed"):
        page = repo / folder / "index.html"
        assert "<script src=" not in page.read_text()  # nothing fetched
        seen = check_page(page, offline=True)
        assert seen.plots == 1 and seen.errors == [], (folder, seen)

    # the control: DVC's own page, on the same machine without the network, draws nothing
    run(["dvc", "config", "--local", "--unset", "plots.html_template"], repo)
    run(["dvc", "plots", "show", "-o", "cdn"], repo)
    assert "cdn.jsdelivr.net" in (repo / "cdn" / "index.html").read_text()
    assert check_page(repo / "cdn" / "index.html", offline=True).plots == 0
