"""Stage preprocess: shorter side to image_size, centre-crop, gray or RGB, uint8 .npz."""
from pathlib import Path

from ..data import preprocess
from ..data.ingest import SPLITS
from ..io import RaggedImageSet
from . import _cli


def main(ns, params):
    for split in SPLITS:
        ragged = RaggedImageSet.load(Path(ns.ingested) / f"{split}.npz")
        preprocess(ragged, params.preprocess.image_size, params.preprocess.color).save(Path(ns.out) / f"{split}.npz")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--ingested", required=True, help="ingest's output folder")
    p.add_argument("--out", required=True, help="folder for train.npz, val.npz and test.npz")
    _cli.run(main, p)
