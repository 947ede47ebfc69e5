"""Stage pca@mode: seed 003's PCA baseline, evaluated like a GAN at every n.

For each n in pca.n_components: per-class PCA images (pca.modes: sample or reconstruct;
sample mode keeps only what the filter classifier agrees with, as the GANs' sample stage
does under sample.keep: agreeing), then the summary-table numbers (see synthset.baselines.scoring). Writes every n's numbers
(--curve, a DVC plot), curve.png and each n's first images per class (the report's grids), and the chosen n's numbers as the
metrics: the report's summary-table row. n is chosen by the accuracy on the validation
split of a classifier trained on the images (ties: the smaller n); the test split only
produces the numbers a user reads.

The chosen n's images are learnt by classify.seeds classifiers, as each generator's fake set
is (tstr), and each test image's answers are kept (test_correct.npy): the summary compares
every generator with this baseline on the same test images and seeds (synthset.intervals).
"""
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..baselines.pca import pca_images
from ..baselines.scoring import References, score_set
from ..classify import fake_subset, fit_scored
from ..classify.load import load_classifier
from ..device import resolve_device, seed_everything
from ..figures.pca import pca_curve_png
from ..files import atomic_path, read_json, write_json
from ..imagesets import ImageSet
from ..metrics.features import real_inception_for
from ..metrics.fidelity import fid_beside
from ..intervals import ANSWERS, accuracy_interval, paired_difference
from ..params import GRID_MAX_PER_CLASS
from ..resumable import resumable
from . import _cli


def main(ns, params):
    p, c, e = params.pca, params.classify, params.evaluate
    seed_everything(params.evaluate.seed, params.threads)
    device = resolve_device(params.device)
    train, test = ImageSet.load(ns.train), ImageSet.load(ns.test)
    inception, real_inception = real_inception_for(e, ns.real_inception, device, train.images, test.images)
    refs = References.load(train, ImageSet.load(ns.val), test, ns.classifier, params, device, real_inception)
    baseline = read_json(ns.baseline)
    acc_real = baseline["accuracy"]
    real_correct = np.load(Path(ns.classifier) / ANSWERS)
    judge = load_classifier(ns.filter, device) if params.sample.keep == "agreeing" else None
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, best = [], None  # the chosen n so far (the first maximum on val: the smallest such n)
    for n in tqdm(p.n_components, desc=f"pca {ns.mode}", unit="n"):
        started = time.perf_counter()
        made = pca_images(refs.train, n, ns.mode, params.sample.per_class, p.seed, params.sample.keep, judge, device,
                          params.sample.label_temperature)
        fit_seconds = time.perf_counter() - started
        if rows and made.components == rows[-1]["n"]:
            print(f"pca {ns.mode}: n={n} capped at {made.components} (the smallest class's train images - 1)")
            continue
        # the report draws its grids from these: a grid size changed there re-runs the report only
        made.images.first_per_class(GRID_MAX_PER_CLASS).save(out / f"preview_n{made.components:04d}.npz")
        card = score_set(made.images, refs, params, device, desc=f"classifier n={made.components}")
        scores = card.numbers
        rows.append({"n": made.components, "explained_variance": made.explained_variance,
                     "fit_seconds": fit_seconds, "kept_share": made.kept_share, **scores})
        if best is None or scores["acc_val"] > best[0]["acc_val"]:
            best = rows[-1], made.images, card.correct
        print(f"pca {ns.mode} n={made.components}: trained on its images {scores['acc_val']:.1%} on val, "
              f"{scores['acc_fake']:.1%} on test, "
              f"GAN-test {scores['gan_test_accuracy']:.1%}, copies {scores['copy_share']:.1%}")
    curve = pd.DataFrame(rows)
    Path(ns.curve).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(ns.curve) as tmp:
        curve.to_csv(tmp, index=False)
    pca_curve_png({ns.mode: curve}, acc_real, out / "curve.png")
    chosen, images, first_seed = best
    correct = np.concatenate([first_seed, more_seeds(images, refs.test, params, device, f"n={chosen['n']}")])
    with atomic_path(out / ANSWERS, suffix=".npy") as tmp:
        np.save(tmp, correct)
    beside = {}  # the chosen n's images in FID's Inception features too, as the fidelity stage does
    if e.fid_inception and e.features == "domain":
        beside = fid_beside(real_inception.train, inception(images.images), real_inception.test, "inception",
                            e.kid_subsets, e.kid_subset_size, e.seed)
    acc = accuracy_interval(correct, e.interval_bootstrap, e.interval_confidence, e.seed)
    vs_real = paired_difference(correct, real_correct, e.interval_bootstrap, e.interval_confidence, e.seed)
    write_json(ns.metrics, {"mode": ns.mode, "best_n": chosen["n"], "chosen_on": "val", "acc_real": acc_real,
                            "acc_real_low": baseline.get("accuracy_low"),
                            "acc_real_high": baseline.get("accuracy_high"),
                            **{k: v for k, v in chosen.items() if k != "n"}, **beside, **acc.as_dict("acc_fake"),
                            "acc_fake_seeds": [float(a) for a in correct.mean(1)], **vs_real.as_dict("vs_real"),
                            "interval_confidence": e.interval_confidence})
    print(f"pca {ns.mode}: n={chosen['n']} chosen on val ({chosen['acc_val']:.1%}); trained on its images "
          f"{acc.value:.1%} [{acc.low:.1%}, {acc.high:.1%}] vs real {acc_real:.1%} on test ({c.seeds} seeds)")


def more_seeds(images: ImageSet, test: ImageSet, params, device, desc: str) -> np.ndarray:
    """The answers of classifier seeds 2 .. classify.seeds on the chosen n's images, trained as the
    score_set trained seed 1 (on the same subset of them)."""
    c, e = params.classify, params.evaluate
    if c.seeds == 1:
        return np.empty((0, len(test)), dtype=bool)
    return fit_scored(fake_subset(images, e.fake_per_class, e.seed), test, c.model_copy(update={"seed": c.seed + 1}),
                      device, desc=f"classifier {desc}", seeds=c.seeds - 1).correct


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
    p.add_argument("--real-inception", help="inception_real's features of the real splits (default: computed here)")
    _cli.run(resumable(main), p)
