"""Stage pca@mode: seed 003's PCA baseline, evaluated like a GAN at every n.

For each n in pca.n_components: per-class PCA images (pca.modes: sample or reconstruct;
sample mode keeps only what the filter classifier agrees with, as the GANs' sample stage
does under sample.keep: agreeing), then the summary-table numbers (see synthset.scorecard). Writes every n's numbers
(--curve, a DVC plot), curve.png and each n's first images per class (the report's grids), and the chosen n's numbers as the
metrics: the report's summary-table row. n is chosen by the accuracy on the validation
split of a classifier trained on the images (ties: the smaller n); the test split only
produces the numbers a user reads.
"""
import time
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from ..baselines.figures import pca_curve_png
from ..baselines.pca import pca_images
from ..classify.load import load_classifier
from ..device import resolve_device, seed_everything
from ..io import ImageSet, atomic_path, read_json, write_json
from ..params import GRID_MAX_PER_CLASS
from ..scorecard import References, scorecard
from . import _cli


def main(ns, params):
    p = params.pca
    seed_everything(params.evaluate.seed, params.threads)
    device = resolve_device(params.device)
    refs = References.load(ImageSet.load(ns.train), ImageSet.load(ns.val), ImageSet.load(ns.test), ns.classifier,
                           params, device)
    acc_real = read_json(ns.baseline)["accuracy"]
    judge = load_classifier(ns.filter, device) if params.sample.keep == "agreeing" else None
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in tqdm(p.n_components, desc=f"pca {ns.mode}", unit="n"):
        started = time.perf_counter()
        made = pca_images(refs.train, n, ns.mode, params.sample.per_class, p.seed, params.sample.keep, judge, device)
        fit_seconds = time.perf_counter() - started
        if rows and made.components == rows[-1]["n"]:
            print(f"pca {ns.mode}: n={n} capped at {made.components} (the smallest class's train images - 1)")
            continue
        # the report draws its grids from these: a grid size changed there re-runs the report only
        made.images.first_per_class(GRID_MAX_PER_CLASS).save(out / f"preview_n{made.components:04d}.npz")
        scores = scorecard(made.images, refs, params, device, desc=f"classifier n={made.components}")
        rows.append({"n": made.components, "explained_variance": made.explained_variance,
                     "fit_seconds": fit_seconds, "kept_share": made.kept_share, **scores})
        print(f"pca {ns.mode} n={made.components}: trained on its images {scores['acc_val']:.1%} on val, "
              f"{scores['acc_fake']:.1%} on test, "
              f"GAN-test {scores['gan_test_accuracy']:.1%}, copies {scores['copy_share']:.1%}")
    curve = pd.DataFrame(rows)
    Path(ns.curve).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(ns.curve) as tmp:
        curve.to_csv(tmp, index=False)
    pca_curve_png({ns.mode: curve}, acc_real, out / "curve.png")
    best = curve.loc[curve["acc_val"].idxmax()].to_dict()  # the first maximum: the smallest such n
    write_json(ns.metrics, {"mode": ns.mode, "best_n": int(best["n"]), "chosen_on": "val", "acc_real": acc_real,
                            **{k: v for k, v in best.items() if k != "n"}})
    print(f"pca {ns.mode}: n={int(best['n'])} chosen on val ({best['acc_val']:.1%}); trained on its images "
          f"{best['acc_fake']:.1%} vs real {acc_real:.1%} on test")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--mode", required=True, choices=["sample", "reconstruct"])
    p.add_argument("--train", required=True, help="real train split: what each class's PCA is fitted on")
    p.add_argument("--val", required=True, help="validation split: n is chosen here")
    p.add_argument("--test", required=True, help="real test split: the reported accuracies are measured here")
    p.add_argument("--classifier", required=True, help="train_classifier's folder (GAN-test, features)")
    p.add_argument("--baseline", required=True, help="train_classifier's metrics JSON")
    p.add_argument("--filter", required=True, help="train_classifier's filter folder (sample.keep: agreeing)")
    p.add_argument("--out", required=True, help="folder for curve.png and preview_n*.npz")
    p.add_argument("--metrics", required=True, help="JSON of the best n's numbers")
    p.add_argument("--curve", required=True, help="CSV of every n's numbers (a DVC plot)")
    _cli.run(main, p)
