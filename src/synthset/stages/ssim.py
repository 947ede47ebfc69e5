"""Stage ssim@arch: score every generated image by SSIM to real images of its class (seed 000)
and keep the best share as its own training set for the utility test."""
from pathlib import Path

from ..device import use_threads
from ..figures.ssim import best_worst_png, ssim_histogram_png
from ..files import atomic_path, write_json
from ..imagesets import ImageSet
from ..metrics.ssim import select_top, ssim_summary, ssim_table
from . import _cli


def main(ns, params):
    e = params.evaluate
    use_threads(params.threads)
    fake, train = ImageSet.load(ns.samples), ImageSet.load(ns.train)
    table = ssim_table(fake, train, e.ssim_k, e.seed)
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "table.csv") as tmp:
        table.to_csv(tmp, index=False)
    select_top(fake, table.ssim.to_numpy(), e.ssim_keep).save(ns.selected)
    ssim_histogram_png(table, out / "histogram.png", f"{ns.arch}: SSIM to {e.ssim_k} real images of its class")
    best_worst_png(fake, table, out / "best_worst.png")
    summary = ssim_summary(table)
    write_json(ns.metrics, {**summary, "k": e.ssim_k, "keep": e.ssim_keep})
    print(f"{ns.arch}: mean SSIM {summary['mean']:.3f}")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--samples", required=True)
    p.add_argument("--train", required=True, help="real train split (the references)")
    p.add_argument("--out", required=True, help="folder for table.csv and figures")
    p.add_argument("--selected", required=True, help="the .npz of the best generated images by SSIM (tstr trains on it)")
    p.add_argument("--metrics", required=True)
    _cli.run(main, p)
