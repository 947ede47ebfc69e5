"""A real headless-browser check of a static HTML page (the report), for tests.

    from browser import check_page
    page = check_page(tmp_path / "results/report/index.html")
    assert not page.broken_images and not page.errors

The page is opened as a file:// URL in headless Chromium through Selenium, lazy
images are forced to load, and what a reader would see is collected: the title, the
h2 headings, every <img> and whether it resolved, the browser console's SEVERE
entries (failed resource loads and uncaught JS errors), and the page's width against the
1,280 px window (a page wider than the window scrolls sideways) with the boxes whose content
scrolls sideways inside them.

Chromium and chromedriver come from the system. When missing they are installed from
Debian's `chromium` and `chromium-driver` packages (as root, or with `sudo -n`); when
that is impossible the calling test is skipped with the command to run. Selenium is
always handed both paths, so Selenium Manager never downloads anything.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from system_packages import apt_install

# Looked up on PATH (or taken as is when absolute), in this order; the absolute paths
# are where Debian's chromium and chromium-driver packages put them.
BROWSER_NAMES = ("chromium", "chromium-browser", "/usr/bin/chromium")
DRIVER_NAMES = ("chromedriver", "/usr/bin/chromedriver")
APT_PACKAGES = ("chromium", "chromium-driver")
INSTALL_HINT = "sudo apt-get install -y --no-install-recommends " + " ".join(APT_PACKAGES)


class ChromiumVersionMismatch(RuntimeError):
    """chromedriver drives only the Chromium major version it was built for."""


@dataclass
class PageCheck:
    """What a headless Chromium saw on one page."""
    title: str
    headings: list[str]  # the text of every <h2>, in document order
    images: list[tuple[str, bool]]  # (src attribute, loaded with a non-zero natural width)
    errors: list[str] = field(default_factory=list)  # SEVERE console entries, and image-wait timeouts
    page_width: int = 0  # document.documentElement.scrollWidth: wider than window_width = the page scrolls sideways
    window_width: int = 0  # the browser window's inner width (check_page opens it 1,280 px wide)
    scrolled_boxes: list[str] = field(default_factory=list)  # elements whose content scrolls sideways in them
    plots: int = 0  # charts vega-embed drew (the svg or canvas of class marks in a .vega-embed box)

    @property
    def broken_images(self) -> list[str]:
        return [src for src, ok in self.images if not ok]


# ----------------------------------------------------------------------------- binaries

def _find(names: tuple[str, ...], path: str | None = None) -> str | None:
    for name in names:
        if os.path.isabs(name):
            if os.path.isfile(name) and os.access(name, os.X_OK):
                return name
        elif found := shutil.which(name, path=path):
            return found
    return None


def _locate() -> tuple[str | None, str | None]:
    """(chromium, chromedriver), each None when not found.

    SE_CHROMEDRIVER wins for the driver because Selenium itself prefers it over the
    path it is handed, so that is the driver whose version has to match.
    """
    driver = os.environ.get("SE_CHROMEDRIVER") or _find(DRIVER_NAMES)
    return _find(BROWSER_NAMES), driver


def _version(binary: str) -> str | None:
    """'156.0.8078.79' from `chromium --version` / `chromedriver --version`, or None."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"\b(\d+\.\d+\.\d+\.\d+)\b", out)
    return m.group(1) if m else None


def check_versions(chromium: str, chromedriver: str) -> tuple[str | None, str | None]:
    """Both versions; raise ChromiumVersionMismatch when their major versions differ.

    An unreadable version is let through: Selenium then reports the real problem.
    """
    bv, dv = _version(chromium), _version(chromedriver)
    if bv and dv and bv.split(".")[0] != dv.split(".")[0]:
        raise ChromiumVersionMismatch(
            f"chromedriver {dv} ({chromedriver}) cannot drive Chromium {bv} ({chromium}): "
            f"their major versions must match. Use the pair from one source, e.g. on Debian: "
            f"{INSTALL_HINT} (chromium-driver depends on the exact same chromium version)"
            + ("; SE_CHROMEDRIVER is set and overrides the driver path" if os.environ.get("SE_CHROMEDRIVER") else "")
            + ".")
    return bv, dv


def _install() -> str | None:
    """Install Debian's chromium + chromium-driver. None on success, else why not."""
    return apt_install(APT_PACKAGES)


@dataclass(frozen=True)
class _Resolved:
    paths: tuple[str, str] | None = None
    skip: str | None = None
    error: str | None = None
    install_s: float | None = None  # seconds apt took, when it ran


def _resolve() -> _Resolved:
    chromium, driver = _locate()
    install_s = None
    if not (chromium and driver):
        missing = " and ".join(n for n, p in (("chromium", chromium), ("chromedriver", driver)) if not p)
        t0 = time.monotonic()
        why = _install()
        install_s = time.monotonic() - t0
        if why is not None:
            return _Resolved(skip=f"headless browser check needs {missing}; tried to install them from "
                                  f"apt but {why}. Install them yourself: {INSTALL_HINT}")
        chromium, driver = _locate()
        if not (chromium and driver):
            return _Resolved(skip=f"installed {' '.join(APT_PACKAGES)} with apt-get, yet chromium="
                                  f"{chromium} chromedriver={driver}; looked for {BROWSER_NAMES} and "
                                  f"{DRIVER_NAMES}")
    try:
        check_versions(chromium, driver)
    except ChromiumVersionMismatch as e:
        return _Resolved(error=str(e), install_s=install_s)
    return _Resolved(paths=(chromium, driver), install_s=install_s)


@functools.cache
def _resolved() -> _Resolved:
    return _resolve()  # cached, failures included, so apt runs at most once a session


def ensure_chromium() -> tuple[str, str]:
    """(chromium binary, chromedriver), installing them from apt when missing.

    Skips the calling test when they cannot be had; raises ChromiumVersionMismatch
    when they are present but chromedriver is for another Chromium major version.
    """
    r = _resolved()
    if r.skip:
        pytest.skip(r.skip)
    if r.error:
        raise ChromiumVersionMismatch(r.error)
    return r.paths


# ----------------------------------------------------------------------------- the check

_COLLECT = """
return {
  title: document.title,
  headings: Array.from(document.querySelectorAll('h2'), h => h.textContent.replace(/\\s+/g, ' ').trim()),
  images: Array.from(document.querySelectorAll('img'),
                     i => [i.getAttribute('src') || '', i.complete && i.naturalWidth > 0]),
  plots: document.querySelectorAll('.vega-embed .marks').length,
  page_width: document.documentElement.scrollWidth,
  window_width: window.innerWidth,
  scrolled_boxes: Array.from(document.querySelectorAll('body *'))
    .filter(e => e.scrollWidth > e.clientWidth + 1 && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')),
};
"""
_EAGER = """
for (const img of document.querySelectorAll('img')) img.loading = 'eager';
window.scrollTo(0, document.documentElement.scrollHeight);
"""
_ALL_COMPLETE = "return Array.from(document.querySelectorAll('img')).every(i => i.complete);"
_PENDING = "return Array.from(document.querySelectorAll('img')).filter(i => !i.complete).map(i => i.getAttribute('src'));"


def check_page(html_path: str | os.PathLike, *, eager: bool = True, timeout: float = 30.0,
               binaries: tuple[str, str] | None = None, offline: bool = False) -> PageCheck:
    """Open `html_path` in headless Chromium and report what loaded and what failed.

    eager: turn every lazy <img> eager and scroll to the bottom, then wait until every
    image has finished (loaded or failed). False looks at the page as first loaded.
    binaries: (chromium, chromedriver); by default ensure_chromium().
    offline: no network: every http(s) request goes to a proxy that is not there (port 9 on the
    loopback), so the page sees what it would on a machine without the internet; file:// loads.
    """
    from selenium import webdriver
    from selenium.common.exceptions import SessionNotCreatedException, TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    path = Path(html_path).resolve()
    if not path.is_file():
        raise FileNotFoundError(path)
    chromium, chromedriver = binaries or ensure_chromium()

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,900", "--no-first-run", "--no-default-browser-check"):
        options.add_argument(flag)
    if offline:
        options.add_argument("--proxy-server=http://127.0.0.1:9")
        options.add_argument("--proxy-bypass-list=<-loopback>")  # the loopback too goes to the dead proxy
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    except SessionNotCreatedException as e:
        bv, dv = _version(chromium), _version(chromedriver)
        raise SessionNotCreatedException(
            f"could not start {chromium} (Chromium {bv}) with {chromedriver} (ChromeDriver {dv}): "
            f"{(e.msg or '').split('; For documentation')[0]}") from e
    try:
        driver.set_page_load_timeout(timeout)
        driver.get(path.as_uri())
        WebDriverWait(driver, timeout).until(
            lambda d: d.execute_script("return document.readyState") == "complete")
        errors: list[str] = []
        if eager:
            driver.execute_script(_EAGER)
            try:
                WebDriverWait(driver, timeout, poll_frequency=0.1).until(
                    lambda d: d.execute_script(_ALL_COMPLETE))
            except TimeoutException:
                errors.append(f"images still loading after {timeout:g} s: {driver.execute_script(_PENDING)}")
        seen = driver.execute_script(_COLLECT)
        errors = [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"] + errors
        return PageCheck(title=seen["title"], headings=list(seen["headings"]),
                         images=[(src, bool(ok)) for src, ok in seen["images"]], errors=errors,
                         page_width=seen["page_width"], window_width=seen["window_width"],
                         scrolled_boxes=list(seen["scrolled_boxes"]), plots=seen["plots"])
    finally:
        driver.quit()
