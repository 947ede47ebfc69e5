"""Stage train_classifier: the real baseline, trained on every real image outside the test split.

That is train plus validation: nothing is chosen for this classifier on validation, and carving
validation from train must not lower the bar the generators (trained on train alone) are held to.

Its test accuracy is the bar every synthetic set is measured against; the same model
labels generated images (GAN-test, Inception-style score) and gives the domain features
for FID/KID/precision/recall and the kNN memorisation check.

--filter-out gets the same recipe trained on the train split alone: the filter that keeps
the generated images it reads as their class (sample.keep: agreeing). It belongs to the
generator side, which learns from train only, so scores on validation stay honest.

The recipe is trained once per classifier seed (classify.seeds); the first seed's model is kept,
the accuracy is the mean over seeds with its bootstrap interval (synthset.intervals), and
each test image's right and wrong answers go beside the model (test_correct.npy) so every
generator is compared with the baseline on the same images.

With classify.reference, another model is trained on the baseline's images with the same
recipe and its test accuracy recorded beside the baseline's: what the chosen judge adds.
"""

import numpy as np

from ..classify import evaluate, fit_recipe, fit_scored
from ..classify.load import save_classifier
from ..device import resolve_device, seed_everything
from ..figures.classify import confusion_png
from ..files import atomic_path, write_json
from ..imagesets import ImageSet
from ..intervals import ANSWERS, accuracy_interval
from ..resumable import resumable
from . import _cli


def main(ns, params):
    c, e = params.classify, params.evaluate
    seed_everything(c.seed, params.threads)
    device = resolve_device(params.device)
    train, test = ImageSet.load(ns.train), ImageSet.load(ns.test)
    if ns.filter_out:
        save_classifier(fit_recipe(train, c, device, desc="filter on train"), c.model, train, ns.filter_out)
    if ns.val:
        train = train.concat(ImageSet.load(ns.val))
    scored = fit_scored(train, test, c, device, desc="classifier on real")
    out = save_classifier(scored.model, c.model, train, ns.out)
    with atomic_path(out / ANSWERS, suffix=".npy") as tmp:
        np.save(tmp, scored.correct)
    interval = accuracy_interval(scored.correct, e.interval_bootstrap, e.interval_confidence, e.seed)
    seeds = f", {c.seeds} seeds" if c.seeds > 1 else ""
    confusion_png(scored.result["confusion"], test.class_names, out / "confusion.png",
                  f"{c.model} trained on real: {interval.value:.1%}{seeds}")
    metrics = {"model": c.model, "train_images": len(train), "test_images": len(test), "seeds": c.seeds,
               **scored.result, **interval.as_dict("accuracy")}
    if c.reference:
        other = evaluate(fit_recipe(train, c.model_copy(update={"model": c.reference}), device,
                                    desc=f"{c.reference} on real"), test, device)
        metrics["reference"] = {"model": c.reference, "accuracy": other["accuracy"]}
        print(f"the same recipe with {c.reference}: {other['accuracy']:.2%}")
    write_json(ns.metrics, metrics)
    print(f"real baseline ({c.model}): {interval.value:.2%} [{interval.low:.2%}, {interval.high:.2%}] on {len(test)} "
          f"real test images{seeds}")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--train", required=True)
    p.add_argument("--val", help="the validation split, trained on too: the baseline is every non-test image")
    p.add_argument("--test", required=True)
    p.add_argument("--out", required=True, help="folder for the model and its confusion matrix")
    p.add_argument("--metrics", required=True, help="JSON of the baseline's accuracy")
    p.add_argument("--filter-out", help="folder for the filter classifier, trained on --train alone")
    _cli.run(resumable(main), p)
