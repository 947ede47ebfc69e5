"""Stage report: results/report/index.html from the outputs of every other stage."""
from pathlib import Path

from ..files import read_json
from ..imagesets import ImageSet
from ..layout import Layout
from ..report import ArchResult, PCAResult, build_report
from . import _cli


def main(ns, params):
    results = Path(ns.results)
    layout = Layout(results=results)
    archs = [ArchResult(a, results) for a in params.gan.archs]
    baseline = read_json(layout.baseline()) if layout.baseline().exists() else None
    data_summary = read_json(ns.data_summary) if Path(ns.data_summary).exists() else None
    resize_summary = read_json(ns.resize_summary) if Path(ns.resize_summary).exists() else None
    page = build_report(ImageSet.load(ns.train), archs, Path(ns.out), params.report.grid_per_class, baseline,
                        layout.classifier("real") / "confusion.png",
                        [PCAResult(m, results) for m in params.pca.modes], data_summary, params.report.release,
                        resize_summary)
    print(f"report: {page}")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--train", required=True, help="preprocessed train.npz (the real images shown)")
    p.add_argument("--results", default="results", help="the results folder the other stages wrote")
    p.add_argument("--data-summary", default=str(Layout().ingest_summary()),
                   help="ingest's summary.json (skipped and identical images), stated in the header")
    p.add_argument("--resize-summary", default=str(Layout().resize_summary()),
                   help="preprocess's resize.json (upscaled and hard-cropped images), stated in the header")
    p.add_argument("--out", required=True, help="folder for index.html, report.md and the images")
    _cli.run(main, p)
