"""`dvc plots show` and `dvc plots diff` pages that render without the internet.

DVC's default page loads Vega, Vega-Lite and vega-embed from a CDN, so on the air-gapped
machines where private images usually live its plots stay blank. This writes an HTML template
with the three libraries inlined (the bundle vl-convert-python ships, nothing downloaded) and
points this repository's DVC at it (`plots.html_template` in `.dvc/config.local`, machine-local:
the template is built from the installed package, not committed). `make install` runs it.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from .files import atomic_path

TEMPLATE_NAME = "offline_plots.html"  # inside .dvc/, where DVC resolves a relative plots.html_template

# DVC's own page (dvc_render.html.PAGE_HTML) with the libraries inlined where it puts its
# {scripts}, the CDN <script> tags, which this template leaves out
PAGE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>DVC Plot</title>
    <script>%s</script>
    <style>
        table {
            border-spacing: 15px;
        }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>"""


def template_html() -> str:
    """The page, with Vega, Vega-Lite and vega-embed defined as globals by one inline script."""
    import vl_convert  # only this command needs it

    bundle = vl_convert.javascript_bundle().replace("</script", "<\\/script")  # no early end of the tag
    for placeholder in ("{plot_divs}", "{refresh_tag}", "{scripts}"):  # DVC replaces these anywhere in the page
        if placeholder in bundle:
            raise RuntimeError(f"vl-convert's bundle contains {placeholder}, which DVC would replace")
    return PAGE % bundle


def install(repo: Path = Path(".")) -> Path:
    """Write the template into `repo`/.dvc and make it this checkout's plots.html_template."""
    dvc_dir = Path(repo) / ".dvc"
    if not dvc_dir.is_dir():
        raise SystemExit(f"{dvc_dir.resolve()}: not a DVC repository (run `dvc init` first)")
    with atomic_path(dvc_dir / TEMPLATE_NAME) as tmp:
        tmp.write_text(template_html(), encoding="utf8")
    ignore = dvc_dir / ".gitignore"  # built here, never committed
    ignored = ignore.read_text().splitlines() if ignore.exists() else []
    if f"/{TEMPLATE_NAME}" not in ignored:
        ignore.write_text("".join(f"{line}\n" for line in [*ignored, f"/{TEMPLATE_NAME}"]))
    subprocess.run([sys.executable, "-m", "dvc", "config", "--local", "plots.html_template", TEMPLATE_NAME], cwd=repo, check=True)
    return dvc_dir / TEMPLATE_NAME


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repo", type=Path, default=Path("."), help="the DVC repository (default: here)")
    print(f"dvc plots template: {install(p.parse_args().repo)}")
