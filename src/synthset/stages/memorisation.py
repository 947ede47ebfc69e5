"""Stage memorisation@arch: nearest-neighbour memorisation check in pixel and feature space, each copy share
with its bootstrap interval (over the generated images and the test images that set the threshold)."""
from pathlib import Path

from ..device import resolve_device, use_threads
from ..figures.memorisation import dcr_histogram_png, knn_panel_png
from ..files import write_json
from ..imagesets import ImageSet
from ..metrics.features import feature_extractor
from ..metrics.memorisation import copy_share_interval, memorisation, pixel_vectors
from . import _cli


def main(ns, params):
    e = params.evaluate
    q = e.copy_quantile
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
        summaries[space] = {**result.summary, **copy_share_interval(
            result.fake_dcr, result.test_dcr, q, e.interval_bootstrap, e.interval_confidence, e.seed)}
        dcr_histogram_png(result.fake_dcr, result.test_dcr, result.threshold, out / f"dcr_{space}.png",
                          f"{ns.arch}: distance to closest training image ({space})")
        knn_panel_png(fake, train, result, out / f"knn_{space}.png")
    pixels = summaries["pixels"]
    write_json(ns.metrics, {**{k: pixels[k] for k in ("copy_share", "copy_share_low", "copy_share_high", "copy_ratio",
                                                      "copy_ratio_low", "copy_ratio_high")},
                            **{f"copy_share_features{end}": summaries["features"][f"copy_share{end}"]
                               for end in ("", "_low", "_high")},
                            "test_share": pixels["test_share"], "interval_confidence": e.interval_confidence,
                            "quantile_label": f"{1 - q:.0%}", **summaries})
    print(f"{ns.arch}: {pixels['copy_share']:.1%} [{pixels['copy_share_low']:.1%}, {pixels['copy_share_high']:.1%}] "
          f"of generated images are copies (pixels; unseen real images: {pixels['test_share']:.1%}), "
          f"{summaries['features']['copy_share']:.1%} (features)")


if __name__ == "__main__":
    _cli.run(main, _cli.evaluation_parser(__doc__, "folder for kNN panels and DCR histograms"))
