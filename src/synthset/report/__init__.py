"""The report a data owner reads: static HTML (and Markdown) built from stage outputs only.

Every number and picture comes from files the pipeline wrote; nothing is typed in. Images are
copied beside index.html so the folder opens offline and can be handed on. One module per part:
where the outputs are (results), the three summary tables (tables), the headline (headline), the
sections below them (sections), the training figures (curves), and the page (build).
"""
from .build import build_report
from .headline import headline, release_line
from .results import ArchResult, PCAResult
from .tables import report_tables

__all__ = ["ArchResult", "PCAResult", "build_report", "headline", "release_line", "report_tables"]
