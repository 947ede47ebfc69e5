"""Stage release@arch: the folder a third party receives (weights, spec, model card)."""
from pathlib import Path

from ..io import read_json
from ..release import write_release
from . import _cli


def main(ns, params):
    metrics = {}
    live = Path(ns.live) / "metrics.json"
    if live.exists():
        metrics["train_seconds"] = read_json(live).get("train_seconds")
    print(f"release: {write_release(ns.model, ns.out, metrics)}")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--model", required=True, help="train_gan's model folder")
    p.add_argument("--live", required=True, help="train_gan's dvclive folder (for the model card's metrics)")
    p.add_argument("--out", required=True, help="the release folder")
    _cli.run(main, p)
