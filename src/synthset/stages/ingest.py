"""Stage ingest: read the raw source once, split train/val/test with a fixed seed."""
from ..data import ingest
from . import _cli


def main(ns, params):
    ingest(params.data, params.preprocess.color, ns.out)


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--out", required=True, help="folder for train.npz, val.npz, test.npz, skipped.csv, summary.json")
    _cli.run(main, p)
