"""Stage report: results/report/index.html from the outputs of every other stage."""
from pathlib import Path

from ..io import ImageSet
from ..report import ArchResult, build_report
from . import _cli


def main(ns, params):
    results = Path(ns.results)
    archs = [ArchResult(a, results / "samples" / a, results / "live" / "train_gan" / a, results / "figures" / a)
             for a in params.gan.archs]
    page = build_report(ImageSet.load(ns.train), archs, Path(ns.out), params.report.grid_per_class)
    print(f"report: {page}")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--train", required=True, help="preprocessed train.npz (the real images shown)")
    p.add_argument("--results", default="results", help="the results folder the other stages wrote")
    p.add_argument("--out", required=True, help="folder for index.html, report.md and the images")
    _cli.run(main, p)
