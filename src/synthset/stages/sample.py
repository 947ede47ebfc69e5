"""Stage sample@arch: N images per class from a trained generator, plus a PNG grid."""
from pathlib import Path

from ..device import resolve_device
from ..sampling import grid_png, sample_per_class
from ..train.checkpoint import load_generator
from . import _cli


def main(ns, params):
    generator, spec = load_generator(ns.model, resolve_device(params.device))
    fake = sample_per_class(generator, spec["class_names"], params.sample.per_class, params.sample.seed)
    out = Path(ns.out)
    fake.save(out / "samples.npz")
    grid_png(fake, out / "grid.png", per_class=params.report.grid_per_class)


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--model", required=True, help="train_gan's model folder")
    p.add_argument("--out", required=True, help="folder for samples.npz and grid.png")
    _cli.run(main, p)
