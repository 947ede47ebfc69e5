"""Stage preprocess: shorter side to image_size, centre-crop, gray or RGB, uint8 .npz; and resize.json,
what that did to images of other sizes (upscaled, cropped hard), which the report's header states."""
import logging
from pathlib import Path

from ..data import preprocess, resize_summary
from ..data.ingest import SPLITS
from ..files import write_json
from ..imagesets import RaggedImageSet
from . import _cli

log = logging.getLogger("synthset.preprocess")


def main(ns, params):
    size, out = params.preprocess.image_size, Path(ns.out)
    ragged = {split: RaggedImageSet.load(Path(ns.ingested) / f"{split}.npz") for split in SPLITS}
    for split, images in ragged.items():
        preprocess(images, size, params.preprocess.color).save(out / f"{split}.npz")
    effects = resize_summary(ragged, size)
    write_json(out / "resize.json", effects)
    if effects["upscaled"]["total"] or effects["cropped_over_half"]["total"]:
        log.warning("%d image(s) smaller than %d px were upscaled and %d longer than 2:1 lost over half their area "
                    "to the centre crop; names in %s", effects["upscaled"]["total"], size,
                    effects["cropped_over_half"]["total"], out / "resize.json")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--ingested", required=True, help="ingest's output folder")
    p.add_argument("--out", required=True, help="folder for train.npz, val.npz, test.npz and resize.json")
    _cli.run(main, p)
