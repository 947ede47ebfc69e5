"""The summary as three tables, utility, realism and privacy, one row per generator and PCA mode,
each with the columns metric_registry gives it: one table per question, so that each fits a
laptop screen and the number that decides is found in its own table."""
from __future__ import annotations

import pandas as pd

from ..metric_registry import REPORT_TABLES, table_columns
from ..summary import arch_verdict
from .results import ArchResult, PCAResult


def fmt(value, kind: str) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    return {"pct": f"{value:.1%}", "pts": f"{value * 100:+.1f}", "num": f"{value:.3f}", "sci": f"{value:.2e}",
            "int": f"{value:.0f}"}[kind]


def fmt_with_interval(metrics: dict, key: str, kind: str) -> str:
    """The number, and its interval where the stage measured one (`key`_low, `key`_high, or the
    audit's `key`_ci list: the attack that gates a verdict is read with its noise)."""
    low, high = metrics.get(f"{key}_low"), metrics.get(f"{key}_high")
    bounds = metrics.get(f"{key}_ci")
    if low is None and isinstance(bounds, list) and len(bounds) == 2:
        low, high = bounds
    if kind not in ("pct", "pts", "num") or not (isinstance(low, float) and isinstance(high, float)):
        return fmt(metrics.get(key), kind)
    if kind == "num":  # an AUC against 0.5, a precision or recall: three decimals, bounds alike
        return f"{fmt(metrics.get(key), kind)} [{low:.3f}, {high:.3f}]"
    sign = "+" if kind == "pts" else ""
    return f"{fmt(metrics.get(key), kind)} [{low * 100:{sign}.1f}, {high * 100:{sign}.1f}]"


def first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]  # str.capitalize would lower-case names such as LOGAN


def attack_name(audit: dict) -> str:
    """The attack that gated the release (audit's `strongest`), in its short name."""
    strongest = audit.get("strongest")
    if not strongest:
        return "–"
    return audit.get("attacks", {}).get(strongest, {}).get("description", strongest).split(" (")[0]


def report_tables(rows_from: list[ArchResult | PCAResult], release_rules=None) -> dict[str, pd.DataFrame]:
    """{table name: its rows}, for every table in metric_registry.REPORT_TABLES. The privacy table
    ends with the attack that judged each generator and its release verdict (`release_rules`:
    params report.release; without them, no verdict column)."""
    tables = {}
    for table in REPORT_TABLES:
        rows = []
        for a in rows_from:
            row = {"Generator": a.label}
            for m in table_columns(table):
                row[m.label] = fmt_with_interval(a.metrics(m.source), m.key, m.fmt)
            if table == "privacy":
                row["Attack"] = attack_name(a.metrics("audit"))
                if release_rules is not None:
                    row["Verdict"] = (arch_verdict(a.results, a.name, release_rules).decision
                                      if isinstance(a, ArchResult) else "–")
            rows.append(row)
        df = pd.DataFrame(rows, columns=list(rows[0]) if rows else None)
        unmeasured = [m.label for m in table_columns(table) if m.optional and rows and (df[m.label] == "–").all()]
        df = df.drop(columns=unmeasured)
        if "Attack" in df.columns:  # the attack's name before its numbers
            columns = [c for c in df.columns if c != "Attack"]
            columns.insert(columns.index("Attack AUC"), "Attack")
            df = df[columns]
        tables[table] = df
    return tables


def markdown_table(table: pd.DataFrame) -> list[str]:
    return (["| " + " | ".join(table.columns) + " |", "|" + " --- |" * len(table.columns)]
            + ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)])
