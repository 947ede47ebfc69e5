"""Stage fidelity@arch: FID, KID, precision/recall/density/coverage, GAN-test and IS.

Real train vs generated, with real test vs real train as the floor in the same table.
GAN-test (seed 003's "inception score"): the classifier trained on real images labels
the generated ones; its agreement with the intended labels, and the Inception Score of
its softmax outputs.
"""
from pathlib import Path

import numpy as np

from ..classify.figures import confusion_png
from ..classify.load import load_classifier
from ..classify.train import predict_proba
from ..device import resolve_device, seed_everything
from ..io import ImageSet, write_json
from ..metrics.features import feature_extractor
from ..metrics.fidelity import fidelity_table, inception_score
from . import _cli


def main(ns, params):
    e = params.evaluate
    seed_everything(e.seed, params.threads)
    device = resolve_device(params.device)
    train, test, fake = ImageSet.load(ns.train), ImageSet.load(ns.test), ImageSet.load(ns.samples)
    extract = feature_extractor(e.features, ns.classifier, e.inception_path, device)
    table = fidelity_table(extract(train.images), extract(fake.images), extract(test.images),
                           e.kid_subsets, e.kid_subset_size, e.prdc_k, e.seed)

    classifier = load_classifier(ns.classifier, device)
    probs = predict_proba(classifier, fake.images, device)
    pred = probs.argmax(1)
    is_mean, is_std = inception_score(probs, seed=e.seed)
    is_real, _ = inception_score(predict_proba(classifier, test.images, device), seed=e.seed)
    cm = np.zeros((fake.num_classes, fake.num_classes), dtype=int)
    np.add.at(cm, (fake.labels, pred), 1)
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    gan_test = float((pred == fake.labels).mean())
    confusion_png(cm, fake.class_names, out / "confusion_gan_test.png",
                  f"{ns.arch}: real classifier on generated images, {gan_test:.1%}")
    write_json(ns.metrics, {"features": e.features, **table, "gan_test_accuracy": gan_test,
                            "inception_score": is_mean, "inception_score_std": is_std,
                            "inception_score_real_test": is_real})
    print(f"{ns.arch}: FID {table['fid']:.2f} (floor {table['fid_floor']:.2f}), GAN-test {gan_test:.1%}")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--samples", required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--classifier", required=True, help="train_classifier's folder")
    p.add_argument("--out", required=True, help="folder for the GAN-test confusion matrix")
    p.add_argument("--metrics", required=True)
    _cli.run(main, p)
