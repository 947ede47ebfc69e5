"""Stage fidelity@arch: FID, KID, precision/recall/density/coverage, GAN-test and IS.

Real train vs generated, with real test vs real train as the floor in the same table.
GAN-test and IS: see metrics.recognition. The real splits' Inception features come from the
inception_real stage (--real-inception) when a setting asks for Inception; without that file
they are computed here.
"""
import time
from pathlib import Path

from ..classify.load import load_classifier
from ..device import resolve_device, seed_everything
from ..figures.classify import confusion_png
from ..files import write_json
from ..imagesets import ImageSet
from ..metrics.features import feature_extractor, real_inception_for
from ..metrics.fidelity import fid_beside, fidelity_table
from ..metrics.recognition import gan_test
from ..resumable import resumable
from . import _cli


def main(ns, params):
    e = params.evaluate
    seed_everything(e.seed, params.threads)
    device = resolve_device(params.device)
    train, test, fake = ImageSet.load(ns.train), ImageSet.load(ns.test), ImageSet.load(ns.samples)
    inception, real = real_inception_for(e, ns.real_inception, device, train.images, test.images)
    if e.features == "inception":
        table = fidelity_table(real.train, inception(fake.images), real.test, e.kid_subsets, e.kid_subset_size,
                               e.prdc_k, e.seed, e.interval_bootstrap, e.interval_confidence)
    else:
        extract = feature_extractor(e.features, ns.classifier, e.inception_path, device)
        table = fidelity_table(extract(train.images), extract(fake.images), extract(test.images), e.kid_subsets,
                               e.kid_subset_size, e.prdc_k, e.seed, e.interval_bootstrap, e.interval_confidence)
    beside = e.fid_inception and e.features == "domain"  # FID's own network beside the domain features
    if beside:
        started = time.perf_counter()
        table.update(fid_beside(real.train, inception(fake.images), real.test, "inception",
                                e.kid_subsets, e.kid_subset_size, e.seed))
        table["inception_seconds"] = round(time.perf_counter() - started, 1)  # the generated images' share

    scores = gan_test(load_classifier(ns.classifier, device), fake, test, device, e.seed, e.interval_bootstrap,
                      e.interval_confidence)
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    confusion_png(scores.pop("confusion"), fake.class_names, out / "confusion_gan_test.png",
                  f"{ns.arch}: real classifier on generated images, {scores['gan_test_accuracy']:.1%}")
    write_json(ns.metrics, {"features": e.features, **table, **scores})
    said = (f", Inception FID {table['fid_inception']:.1f} (floor {table['fid_inception_floor']:.1f}, "
            f"{table['inception_seconds']:.0f} s)" if beside else "")
    print(f"{ns.arch}: FID {table['fid']:.2f} (floor {table['fid_floor']:.2f}){said}, "
          f"GAN-test {scores['gan_test_accuracy']:.1%}")


if __name__ == "__main__":
    p = _cli.evaluation_parser(__doc__, "folder for the GAN-test confusion matrix")
    p.add_argument("--real-inception", help="inception_real's features of the real splits (default: computed here)")
    _cli.run(resumable(main), p)
