"""Stage release@arch: the folder a third party receives (weights, spec, model card, and the
filter classifier when sample.keep is agreeing)."""
from pathlib import Path

from ..files import read_json
from ..filtering import keep_for
from ..metric_registry import card_entries
from ..release import write_release
from ..summary import arch_verdict
from . import _cli


def card_metrics(live: Path, metrics: Path, arch: str) -> dict:
    """The numbers the model card quotes (metric_registry: those marked `card`) that were measured:
    from the training log in `live` and the evaluation stages' files under `metrics`."""
    found, files = {}, {}
    for metric, key, name in card_entries():
        path = live / "metrics.json" if metric.source == "live" else metrics / metric.source / f"{arch}.json"
        if path not in files:
            files[path] = read_json(path) if path.exists() else {}
        if isinstance(files[path].get(key), (int, float)):
            found[name] = files[path][key]
    return found


def main(ns, params):
    metrics = card_metrics(Path(ns.live), Path(ns.metrics), ns.arch)
    verdict = arch_verdict(Path(ns.metrics).parent, ns.arch, params.report.release).sentence()
    keep = keep_for(params.sample.keep, read_json(Path(ns.model) / "generator.json"))
    filter_dir = ns.filter if keep == "agreeing" else None
    print(f"release: {write_release(ns.model, ns.out, metrics, filter_dir, verdict, params.sample.label_temperature)}")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--model", required=True, help="train_gan's model folder")
    p.add_argument("--live", required=True, help="train_gan's dvclive folder (training time)")
    p.add_argument("--metrics", default="results/metrics", help="the evaluation metrics folder")
    p.add_argument("--filter", required=True, help="train_classifier's filter folder (released with sample.keep: agreeing)")
    p.add_argument("--out", required=True, help="the release folder")
    _cli.run(main, p)
