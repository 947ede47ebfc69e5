"""The numbers people compare runs on, in one small metrics file.

`dvc exp show` lists every metric of every metrics file; with per-class tables that made
about a thousand columns. This file holds, per generator, what the report's summary table
leads with (at most MAX_COLUMNS columns for the default run), so that two experiments fit
on one screen; the stages' own JSON files keep the details.

`dvc exp show` makes a column of every number and every word in the file, and none of a list:
the paired intervals of the differences to the real baseline and to PCA sample, and the gating
attack's interval, are lists ([low, high]), there for programs and the report, while the table shows each generator's
accuracy with its own interval, realism, privacy, cost and verdict."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .files import read_json
from .intervals import ANSWER_SETS, ANSWERS, Interval, paired_difference
from .layout import Layout
from .metric_registry import summary_keys
from .verdict import Verdict, release_verdict

WORD_KEYS = ("verdict", "gated_by")  # the release verdict and the attack that judged its privacy
PCA_KEYS = {"acc_fake": "acc_fake"}  # its n, realism and copies: the PCA metrics files and the report
MAX_COLUMNS = 40  # `dvc exp show` of the default run (4 archs, 2 PCA modes) fits a screen


def arch_verdict(results: str | Path, arch: str, rules) -> Verdict:
    """The release verdict of one generator from its stages' metrics (synthset.verdict), as the
    summary and the model card state it; evidence not measured counts against a release."""
    def found(path: Path) -> dict:
        return read_json(path) if path.exists() else {}
    layout = Layout(results=Path(results))
    judged = {kind: found(layout.metrics(kind, arch)) for kind in ("tstr", "memorisation", "audit", "live")}
    return release_verdict(judged["tstr"], judged["memorisation"], rules, judged["audit"], judged["live"])


def versus_pca(results: str | Path, arch: str, evaluate) -> Interval:
    """The generator's train-on-synthetic accuracy minus PCA sample's, paired on the same test
    images and classifier seeds (both sets learnt by classify.seeds classifiers)."""
    layout = Layout(results=Path(results))
    with np.load(layout.evaluation("tstr", arch) / ANSWER_SETS) as answers:
        fake = answers["fake"]
    pca = np.load(layout.evaluation("pca", "sample") / ANSWERS)
    return paired_difference(fake, pca, evaluate.interval_bootstrap, evaluate.interval_confidence, evaluate.seed)


def price_of_privacy(results: str | Path, archs: list[str], evaluate) -> dict | None:
    """What the guarantee cost: the best private generator's train-on-synthetic accuracy minus the
    best non-private one's, paired on the same test images and classifier seeds; None unless the
    run has both kinds."""
    layout = Layout(results=Path(results))
    accuracy = {arch: read_json(layout.metrics("tstr", arch))["acc_fake"] for arch in archs}
    trained = {arch: layout.metrics("live", arch) for arch in archs}
    epsilon = {arch: read_json(path).get("dp_epsilon") if path.exists() else None for arch, path in trained.items()}
    private = [arch for arch in archs if isinstance(epsilon[arch], (int, float))]
    public = [arch for arch in archs if arch not in private]
    if not private or not public:
        return None
    best_private, best_public = max(private, key=accuracy.get), max(public, key=accuracy.get)

    def answers(arch: str) -> np.ndarray:
        with np.load(layout.evaluation("tstr", arch) / ANSWER_SETS) as sets:
            return sets["fake"]
    gap = paired_difference(answers(best_private), answers(best_public), evaluate.interval_bootstrap,
                            evaluate.interval_confidence, evaluate.seed)
    return {"private": best_private, "versus": best_public, "epsilon": epsilon[best_private],
            "acc_gap": gap.value, "acc_gap_interval": [gap.low, gap.high]}


def summarize(results: str | Path, archs: list[str], pca_modes: list[str], rules, evaluate) -> dict:
    """{"real": ..., <arch>: ..., "pca_<mode>": ...} from the stages' metrics files, and each
    generator's paired difference to PCA sample (`evaluate`: the interval settings), where
    pca.modes has sample; "price_of_privacy" where private and non-private generators ran."""
    results, layout = Path(results), Layout(results=Path(results))
    baseline = read_json(layout.baseline())
    summary = {"real": {"acc": baseline["accuracy"]}}
    for arch in archs:
        needed = {*(m.path(results, arch) for m, _ in summary_keys().values()),
                  layout.metrics("tstr", arch), layout.metrics("audit", arch)}
        files = {path: read_json(path) for path in needed}  # each stage's file read once
        summary[arch] = {key: files[metric.path(results, arch)][name] for key, (metric, name) in summary_keys().items()}
        tstr = files[layout.metrics("tstr", arch)]
        summary[arch]["vs_real"] = [tstr["vs_real_low"], tstr["vs_real_high"]]
        if "sample" in pca_modes:
            vs_pca = versus_pca(results, arch, evaluate)
            summary[arch]["vs_pca"] = [vs_pca.low, vs_pca.high]
        summary[arch]["verdict"] = arch_verdict(results, arch, rules).decision
        audit = files[layout.metrics("audit", arch)]
        summary[arch]["gated_by"] = audit["strongest"]
        if "tpr_at_0.01_ci" in audit:  # the gating attack's interval: the verdict names a bar inside it
            summary[arch]["attack_tpr_interval"] = list(audit["tpr_at_0.01_ci"])
    price = price_of_privacy(results, archs, evaluate)
    if price:
        summary["price_of_privacy"] = price
    for mode in pca_modes:
        best = read_json(layout.metrics("pca", mode))
        summary[f"pca_{mode}"] = {key: best[name] for key, name in PCA_KEYS.items()}
    return summary
