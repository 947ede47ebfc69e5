"""The comparison a data owner reads first: the best generator against the real baseline and
against PCA sample, in points, with the paired intervals where they were measured."""
from __future__ import annotations

import html

from ..files import read_json
from ..summary import arch_verdict
from ..verdict import ORDER, gap_to_real, interval_words
from .results import ArchResult, PCAResult
from .tables import first_upper, fmt_with_interval

def headline(archs: list[ArchResult], pcas: list[PCAResult]) -> str | None:
    """The comparison a data owner reads first: the best generator against the real baseline
    and against the PCA sample baseline, in points of train-on-synthetic accuracy."""
    scored = [(a.metrics("tstr").get("acc_fake"), a) for a in archs]
    scored = [(acc, a) for acc, a in scored if isinstance(acc, float)]
    if not scored:
        return None
    _, best = max(scored, key=lambda t: t[0])
    tstr = best.metrics("tstr")
    real = tstr.get("acc_real")
    parts = [f"Best generator: <b>{html.escape(best.label)}</b>, a classifier trained only on its images "
             f"scores {fmt_with_interval(tstr, 'acc_fake', 'pct')} on the real test images"]
    if isinstance(real, float):
        gap, low, high = gap_to_real(tstr)
        compared = (f"{abs(gap):.1f} points {'below' if gap >= 0 else 'above'} the same classifier trained "
                    f"on the real images ({real:.1%})")
        if low != high:
            tie = " (a tie: the interval covers 0)" if low <= 0 <= high else ""
            compared += f", {interval_words(low, high, tstr.get('interval_confidence', 0.95))}{tie}"
        parts.append(compared)
    pca = next((p for p in pcas if p.mode == "sample" and isinstance(p.metrics("tstr").get("acc_fake"), float)),
               None)
    if pca is not None:
        parts += versus_pca(scored, pca)
    return "; ".join(parts) + "."


def versus_pca(scored: list[tuple[float, ArchResult]], pca: PCAResult) -> list[str]:
    """The best generator against PCA sample, and which generators beat it, tie with it or fall
    below it: by the paired interval of the difference (summary.json's vs_pca) where the
    summary holds one, by the point estimate otherwise."""
    pca_metrics = pca.metrics("tstr")

    def lead(acc: float, a: ArchResult) -> tuple[float, float, float]:
        """Points above PCA sample (negative: below), and the interval's bounds."""
        point = round((acc - pca_metrics["acc_fake"]) * 100, 9)
        bounds = a.summary().get("vs_pca")
        if not bounds:
            return point, point, point
        return point, round(bounds[0] * 100, 9), round(bounds[1] * 100, 9)

    leads = [(lead(acc, a), a) for acc, a in scored]
    (point, low, high), _ = max(leads, key=lambda t: t[0][0])
    said = (f"{abs(point):.1f} points {'above' if point >= 0 else 'below'} the PCA sample baseline "
            f"({html.escape(pca.label)}: {fmt_with_interval(pca_metrics, 'acc_fake', 'pct')})")
    ranged = low != high
    if ranged:
        said += (f", {interval_words(-low, -high, pca_metrics.get('interval_confidence', 0.95))}"
                 + (" (a tie with it)" if low <= 0 <= high else ""))
    groups: dict[str, list[str]] = {"beating it": [], "tying with it": [], "below it": []}
    for (_, low, high), a in leads:
        groups["beating it" if low > 0 else "below it" if high < 0 else "tying with it"].append(a.label)
    if len(groups["beating it"]) == len(leads):
        return [said, "every generator beats that baseline" + (" (every interval above 0)" if ranged else "")]
    return [said, "; ".join(f"{kind}: {html.escape(', '.join(names))}" for kind, names in groups.items() if names)]


def privacy_line(archs: list[ArchResult]) -> str | None:
    """What the privacy guarantee cost in train-on-synthetic accuracy (summary.json's price_of_privacy)."""
    path = archs[0].layout.summary() if archs else None
    price = read_json(path).get("price_of_privacy") if path and path.exists() else None
    if not price:
        return None
    by_name = {a.name: a for a in archs}
    private, versus = by_name[price["private"]], by_name[price["versus"]]
    gap, (low, high) = price["acc_gap"] * 100, (x * 100 for x in price["acc_gap_interval"])
    said = (f"<b>What privacy cost:</b> the best private generator, {html.escape(private.label)} "
            f"(epsilon {price['epsilon']:.3g}), teaches the classifier {abs(gap):.1f} points "
            f"{'less' if gap <= 0 else 'more'} than the best non-private one, {html.escape(versus.label)}")
    if low != high:
        confidence = private.metrics("tstr").get("interval_confidence", 0.95)
        said += (f" ({confidence * 100:g} % interval of the difference: {low:+.1f} to {high:+.1f} points"
                 + ("; a tie: it covers 0" if low <= 0 <= high else "") + ")")
    return said + "."


def release_line(archs: list[ArchResult], rules) -> str | None:
    """Which generators may be released, by the verdict summary.json and the model cards hold
    (`rules`: params report.release); each generator's section says why."""
    if not archs:
        return None
    groups: dict[str, list[str]] = {decision: [] for decision in ORDER}
    for a in archs:
        groups[arch_verdict(a.results, a.name, rules).decision].append(a.label)
    said = "; ".join(f"{decision}: {html.escape(', '.join(names))}" for decision, names in groups.items() if names)
    return f"<b>Can I release this?</b> {first_upper(said)} (each generator's section says why)."
