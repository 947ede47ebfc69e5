"""The headless-browser helper, against small real pages (and fake binaries for its setup logic)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

import browser
from browser import ChromiumVersionMismatch, check_page


def _png(path: Path, size: tuple[int, int] = (6, 4)) -> None:
    Image.new("RGB", size, (200, 30, 60)).save(path)


def _page(path: Path, body: str, title: str = "t") -> Path:
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
                    f"<body>{body}</body></html>", encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- real pages

def test_clean_page(tmp_path):
    _png(tmp_path / "ok.png")
    page = check_page(_page(tmp_path / "index.html", "<h1>Report</h1><h2>dcgan</h2>"
                            "<img src='ok.png' alt='grid'><h2>  sngan\n  results </h2>", title="The report"))
    assert page.title == "The report"
    assert page.headings == ["dcgan", "sngan results"]
    assert page.images == [("ok.png", True)]
    assert page.broken_images == []
    assert page.errors == []


def test_missing_image_is_broken_and_logged(tmp_path):
    _png(tmp_path / "ok.png")
    page = check_page(_page(tmp_path / "index.html", "<img src='ok.png'><img src='missing.png'>"))
    assert page.images == [("ok.png", True), ("missing.png", False)]
    assert page.broken_images == ["missing.png"]
    assert any("missing.png" in e for e in page.errors), page.errors


def test_page_width_against_the_window(tmp_path):
    narrow = check_page(_page(tmp_path / "narrow.html", "<p>text</p>"))
    assert narrow.window_width == 1280 and narrow.page_width <= narrow.window_width
    assert narrow.scrolled_boxes == []
    wide = check_page(_page(tmp_path / "wide.html", "<table><tr><td style='min-width:2000px'>x</td></tr></table>"
                            "<div class='box' style='overflow-x:auto;width:300px'><p style='width:900px'>y</p></div>"))
    assert wide.page_width > wide.window_width
    assert wide.scrolled_boxes == ["div.box"]


def test_corrupt_image_is_broken(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not a png at all")
    page = check_page(_page(tmp_path / "index.html", "<img src='bad.png'>"))
    assert page.broken_images == ["bad.png"]


def test_script_error_is_reported(tmp_path):
    page = check_page(_page(tmp_path / "index.html",
                            "<h2>x</h2><script>throw new Error('boom-from-test-page')</script>"))
    assert page.headings == ["x"]
    assert any("boom-from-test-page" in e for e in page.errors), page.errors


def test_lazy_image_far_below_the_fold_resolves(tmp_path):
    _png(tmp_path / "far.png")
    html = _page(tmp_path / "index.html",
                 "<div style='height:5000px'></div><img src='far.png' alt='far' loading='lazy'>")
    page = check_page(html)
    assert page.images == [("far.png", True)]
    assert page.errors == []
    # the control: looked at as first loaded, the same image has not loaded, so the
    # page really exercises lazy loading and the check above is not vacuous
    assert check_page(html, eager=False).images == [("far.png", False)]


# ----------------------------------------------------------------------------- setup logic

def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def no_browser(tmp_path, monkeypatch):
    """A PATH holding only a scratch bin/, and no chromium or chromedriver anywhere."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    monkeypatch.setenv("PATH", str(bin_))
    monkeypatch.delenv("SE_CHROMEDRIVER", raising=False)
    monkeypatch.setattr(browser, "BROWSER_NAMES", ("chromium",))
    monkeypatch.setattr(browser, "DRIVER_NAMES", ("chromedriver",))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    return bin_


def _fake_apt(bin_: Path, install_needs_update: bool) -> Path:
    """An apt-get that logs its arguments; a successful install drops fake binaries on PATH."""
    log = bin_ / "apt.log"
    gate = f'[ -f "{bin_}/updated" ] || exit 100' if install_needs_update else ""
    _script(bin_ / "apt-get", f"""
echo "$*" >> "{log}"
case "$*" in
  *update*) : > "{bin_}/updated"; exit 0 ;;
  *install*) {gate}
    printf '#!/bin/sh\\necho "Chromium 156.0.8078.79 built on Debian"\\n' > "{bin_}/chromium"
    printf '#!/bin/sh\\necho "ChromeDriver 156.0.8078.79 (abc)"\\n' > "{bin_}/chromedriver"
    /bin/chmod +x "{bin_}/chromium" "{bin_}/chromedriver" ;;
esac""")
    return log


@pytest.mark.parametrize("needs_update", [False, True])
def test_install_runs_update_only_after_a_failed_install(no_browser, needs_update):
    log = _fake_apt(no_browser, install_needs_update=needs_update)
    r = browser._resolve()
    assert r.skip is None and r.error is None
    assert r.paths == (str(no_browser / "chromium"), str(no_browser / "chromedriver"))
    calls = [line.split("=300 ", 1)[-1] for line in log.read_text().splitlines()]
    install = "install -y --no-install-recommends chromium chromium-driver"
    assert calls == ([install, "update", install] if needs_update else [install])


def test_skip_reason_when_apt_fails(no_browser):
    _script(no_browser / "apt-get", 'case "$*" in *update*) exit 0 ;; esac\n'
                                    'echo "E: Unable to locate package chromium-driver" >&2; exit 100')
    r = browser._resolve()
    assert r.paths is None
    assert "also after `apt-get update`" in r.skip and "Unable to locate package" in r.skip
    assert browser.INSTALL_HINT in r.skip


def test_skip_reason_without_apt_or_root(no_browser, monkeypatch):
    assert "apt-get not found" in browser._resolve().skip
    _script(no_browser / "apt-get", "exit 0")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    r = browser._resolve()
    assert "not root and sudo not found" in r.skip and browser.INSTALL_HINT in r.skip


def test_version_mismatch_is_reported(no_browser):
    chromium = _script(no_browser / "chromium", 'echo "Chromium 156.0.8078.79 built on Debian"')
    driver = _script(no_browser / "chromedriver", 'echo "ChromeDriver 150.0.7871.100 (abc)"')
    with pytest.raises(ChromiumVersionMismatch, match=r"chromedriver 150\.0\.7871\.100 .*Chromium 156\.0\.8078\.79"):
        browser.check_versions(str(chromium), str(driver))
    r = browser._resolve()  # found both, so no apt, and the mismatch is what comes back
    assert r.paths is None and "major versions must match" in r.error
    _script(no_browser / "chromedriver", 'echo "ChromeDriver 156.0.8078.12 (abc)"')
    assert browser.check_versions(str(chromium), str(driver)) == ("156.0.8078.79", "156.0.8078.12")
