"""Stage release@arch: the folder a third party receives (weights, spec, model card, and the
filter classifier when sample.keep is agreeing)."""
from pathlib import Path

from ..filtering import keep_for
from ..io import read_json
from ..release import write_release
from ..summary import arch_verdict
from . import _cli

# what the model card quotes from each evaluation stage's metrics
CARD_METRICS = {"sample": ("kept_share",),
                # each accuracy with its interval, and that of the paired difference to real (synthset.intervals)
                "tstr": ("acc_fake", "acc_fake_low", "acc_fake_high", "acc_real", "acc_real_low", "acc_real_high",
                         "vs_real_low", "vs_real_high", "interval_confidence", "acc_mixed_best", "acc_ssim_selected"),
                "fidelity": ("fid", "fid_floor", "kid", "precision", "recall", "gan_test_accuracy",
                             "inception_score"),
                "privacy": ("copy_share", "copy_share_features"),
                "audit": ("auc", "tpr_at_0.01", "epsilon_lower_bound"),
                "ssim": ("mean",)}


def card_metrics(live: Path, metrics: Path, arch: str) -> dict:
    found = {}
    if (live / "metrics.json").exists():
        trained = read_json(live / "metrics.json")
        found.update({k: trained[k] for k in ("train_seconds", "dp_epsilon", "dp_delta") if k in trained})
    for kind, keys in CARD_METRICS.items():
        path = metrics / kind / f"{arch}.json"
        if path.exists():
            values = read_json(path)
            found.update({f"{kind}.{k}": values[k] for k in keys if isinstance(values.get(k), (int, float))})
    return found


def main(ns, params):
    metrics = card_metrics(Path(ns.live), Path(ns.metrics), ns.arch)
    verdict = arch_verdict(Path(ns.metrics).parent, ns.arch, params.report.release).sentence()
    keep = keep_for(params.sample.keep, read_json(Path(ns.model) / "generator.json"))
    filter_dir = ns.filter if keep == "agreeing" else None
    print(f"release: {write_release(ns.model, ns.out, metrics, filter_dir, verdict)}")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--model", required=True, help="train_gan's model folder")
    p.add_argument("--live", required=True, help="train_gan's dvclive folder (training time)")
    p.add_argument("--metrics", default="results/metrics", help="the evaluation metrics folder")
    p.add_argument("--filter", required=True, help="train_classifier's filter folder (released with sample.keep: agreeing)")
    p.add_argument("--out", required=True, help="the release folder")
    _cli.run(main, p)
