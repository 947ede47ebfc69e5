"""Stage sample@arch: N images per class from a trained generator, as samples.npz.

The grid a reader looks at is drawn by the report stage, so changing its size re-samples
nothing."""
from pathlib import Path

from ..device import resolve_device
from ..sampling import sample_per_class
from ..train.checkpoint import load_generator
from . import _cli


def main(ns, params):
    generator, spec = load_generator(ns.model, resolve_device(params.device))
    fake = sample_per_class(generator, spec["class_names"], params.sample.per_class, params.sample.seed)
    fake.save(Path(ns.out))


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--model", required=True, help="train_gan's model folder")
    p.add_argument("--out", required=True, help="the samples.npz to write")
    _cli.run(main, p)
