"""Stage memorisation@arch: nearest-neighbour memorisation check in pixel and feature space."""
from pathlib import Path

from ..device import resolve_device, use_threads
from ..figures.memorisation import dcr_histogram_png, knn_panel_png
from ..files import write_json
from ..imagesets import ImageSet
from ..metrics.features import feature_extractor
from ..metrics.memorisation import memorisation, pixel_vectors
from . import _cli


def main(ns, params):
    q = params.evaluate.copy_quantile
    use_threads(params.threads)
    device = resolve_device(params.device)
    train, test, fake = ImageSet.load(ns.train), ImageSet.load(ns.test), ImageSet.load(ns.samples)
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    extract = feature_extractor("domain", ns.classifier, None, device)
    spaces = {"pixels": pixel_vectors, "features": extract}
    summaries = {}
    for space, vectors in spaces.items():
        result = memorisation(vectors(train.images), train.labels, vectors(test.images), test.labels,
                              vectors(fake.images), fake.labels, train.class_names, q)
        summaries[space] = result.summary
        dcr_histogram_png(result.fake_dcr, result.test_dcr, result.threshold, out / f"dcr_{space}.png",
                          f"{ns.arch}: distance to closest training image ({space})")
        knn_panel_png(fake, train, result, out / f"knn_{space}.png")
    write_json(ns.metrics, {"copy_share": summaries["pixels"]["copy_share"],
                            "copy_share_features": summaries["features"]["copy_share"],
                            "test_share": summaries["pixels"]["test_share"],
                            "quantile_label": f"{1 - q:.0%}", **summaries})
    print(f"{ns.arch}: {summaries['pixels']['copy_share']:.1%} of generated images are copies (pixels), "
          f"{summaries['features']['copy_share']:.1%} (features)")


if __name__ == "__main__":
    _cli.run(main, _cli.evaluation_parser(__doc__, "folder for kNN panels and DCR histograms"))
