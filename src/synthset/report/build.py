"""The report folder: index.html and report.md, every image copied beside them."""
from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pandas as pd

from ..figures.classify import mixed_curve_png
from ..figures.grids import grid_png
from ..files import atomic_path
from ..imagesets import ImageSet
from ..metric_registry import REPORT_TABLES
from .headline import headline, privacy_line, release_line
from .results import ArchResult, PCAResult
from .sections import _figure, arch_section, data_note, filter_note, pca_section
from .tables import markdown_table, report_tables

# one column of text, tables that fit it (a too-wide table scrolls in its own box, never the page)
STYLE = ("body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;"
         "overflow-wrap:anywhere}"
         ".pair,.frames{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}figure{margin:0}"
         "img{max-width:100%}.pair img{max-width:420px}.frames img{width:150px}"
         "figcaption{font-size:.85em;color:#555;max-width:420px}.advice{background:#f4f7fb;padding:.6em}"
         ".headline{font-size:1.1em;background:#eef6ee;padding:.1em .6em}h3{font-size:1em}"
         ".table{overflow-x:auto}table.summary{border-collapse:collapse;font-size:.9em}"
         "table.summary td,table.summary th{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:right;"
         "overflow-wrap:normal}table.summary td:first-child,table.summary th:first-child{text-align:left}")


def build_report(real: ImageSet, archs: list[ArchResult], out: Path, per_class: int = 8,
                 baseline: dict | None = None, baseline_confusion: Path | None = None,
                 pcas: list[PCAResult] = (), data_summary: dict | None = None, release_rules=None,
                 resize_summary: dict | None = None) -> Path:
    """The report folder; `data_summary` is ingest's summary.json and `resize_summary`
    preprocess's resize.json, both stated in the header;
    `release_rules` (params report.release) decide each generator's "Can I release this?"."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    grid_png(real, out / "real_grid.png", per_class)
    body, md = _summary(real, archs, list(pcas), release_rules, data_summary, resize_summary)
    if baseline:
        body.append(_baseline_line(baseline))
    overview, md_overview = _overview(archs, out, baseline_confusion)
    body.append('<div class="pair">' + "".join(overview) + "</div>")
    md += md_overview
    for a in archs:
        b, m = arch_section(a, out, per_class, release_rules)
        body += b
        md += m
    b, m = pca_section(list(pcas), out, baseline.get("accuracy") if baseline else None, per_class)
    page = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>synthset report</title>"
            f"<style>{STYLE}</style></head><body>"
            + "\n".join(body + b) + "</body></html>\n")
    with atomic_path(out / "index.html") as tmp:
        tmp.write_text(page)
    with atomic_path(out / "report.md") as tmp:
        tmp.write_text("\n".join(md + m) + "\n")
    return out / "index.html"


def _summary(real: ImageSet, archs: list[ArchResult], pcas: list[PCAResult], release_rules, data_summary: dict | None,
             resize_summary: dict | None) -> tuple[list[str], list[str]]:
    """The header, the headline and the three tables, as HTML and as Markdown."""
    names = ", ".join(html.escape(c) for c in real.class_names)
    h, w, c = real.image_shape
    intro = (f"Real train split: {len(real)} images, {real.num_classes} classes ({names}), {h}&times;{w} px, "
             f"{'RGB' if c == 3 else 'gray'}. Rows of every grid are classes in that order. Every accuracy is "
             "measured on the held-out real test split that no generator saw.")
    lead = [text for text in (headline(archs, pcas), privacy_line(archs),
                              release_line(archs, release_rules) if release_rules is not None else None) if text]
    note = data_note(data_summary, resize_summary)
    body = ["<h1>synthset report</h1>", f"<p>{intro}</p>", *([f"<p>{html.escape(note)}</p>"] if note else []),
            "<h2>Summary</h2>", *([f'<div class="headline">{"".join(f"<p>{t}</p>" for t in lead)}</div>'] if lead else [])]
    md = ["# synthset report", "", intro.replace("&times;", "x"), "",
          *([html.escape(note, quote=False), ""] if note else []), "## Summary", ""]
    md += [line for t in lead for line in (re.sub(r"</?b>", "**", t), "")]
    for name, table in report_tables([*archs, *pcas], release_rules).items():
        title, question = REPORT_TABLES[name]
        body += [f'<h3>{title}: {html.escape(question)}</h3>',
                 '<div class="table">' + table.to_html(index=False, classes="summary", border=0, escape=True) + "</div>"]
        md += [f"### {title}: {question}", "", *markdown_table(table), ""]
    if filtered := filter_note(archs):
        body.append(f"<p>{html.escape(filtered)}</p>")
        md += [filtered, ""]
    return body, md


def _baseline_line(baseline: dict) -> str:
    return (f"<p>Real baseline: {html.escape(str(baseline.get('model')))} trained on "
            f"{html.escape(str(baseline.get('train_images', '?')))} real images (train and validation, every "
            f"one outside test), {baseline['accuracy']:.1%} on "
            f"{html.escape(str(baseline.get('test_images', '?')))} real test images"
            + (f"; {html.escape(str(baseline['reference']['model']))}, trained the same way, scores "
               f"{baseline['reference']['accuracy']:.1%}" if baseline.get("reference") else "") + ".</p>")


def _overview(archs: list[ArchResult], out: Path, baseline_confusion: Path | None) -> tuple[list[str], list[str]]:
    """The figures across generators: the mixed-data curves and the real baseline's confusion matrix."""
    figures, md = [], []
    mixed = {a.name: pd.read_csv(a.mixed_curve) for a in archs if a.mixed_curve.exists()}
    if mixed:
        mixed_curve_png(mixed, out / "mixed_curves.png", "accuracy against the real share of the training set")
        figures.append(_figure("mixed_curves.png", "mixed-data curve: classifiers trained on real and generated "
                               "images at equal size; 0 % = generated only, 100 % = the real baseline"))
        md += ["![mixed-data curve](mixed_curves.png)", ""]
    if baseline_confusion and baseline_confusion.exists():
        shutil.copyfile(baseline_confusion, out / "baseline_confusion.png")
        figures.append(_figure("baseline_confusion.png", "real baseline: confusion matrix on real test images"))
    return figures, md
