"""Stage train_classifier: the real baseline, trained on every real image outside the test split.

That is train plus validation: nothing is chosen for this classifier on validation, and carving
validation from train must not lower the bar the generators (trained on train alone) are held to.

Its test accuracy is the bar every synthetic set is measured against; the same model
labels generated images (GAN-test, Inception-style score) and gives the domain features
for FID/KID/precision/recall and the kNN memorisation check.

--filter-out gets the same recipe trained on the train split alone: the filter that keeps
the generated images it reads as their class (sample.keep: agreeing). It belongs to the
generator side, which learns from train only, so scores on validation stay honest.

With classify.reference, another model is trained on the baseline's images with the same
recipe and its test accuracy recorded beside the baseline's: what the chosen judge adds.
"""

from ..classify import evaluate, fit_recipe
from ..classify.figures import confusion_png
from ..classify.load import save_classifier
from ..device import resolve_device, seed_everything
from ..io import ImageSet, write_json
from . import _cli


def main(ns, params):
    c = params.classify
    seed_everything(c.seed, params.threads)
    device = resolve_device(params.device)
    train, test = ImageSet.load(ns.train), ImageSet.load(ns.test)
    if ns.filter_out:
        save_classifier(fit_recipe(train, c, device, desc="filter on train"), c.model, train, ns.filter_out)
    if ns.val:
        train = train.concat(ImageSet.load(ns.val))
    model = fit_recipe(train, c, device, desc="classifier on real")
    result = evaluate(model, test, device)
    out = save_classifier(model, c.model, train, ns.out)
    confusion_png(result["confusion"], test.class_names, out / "confusion.png",
                  f"{c.model} trained on real: {result['accuracy']:.1%}")
    metrics = {"model": c.model, "train_images": len(train), "test_images": len(test), **result}
    if c.reference:
        other = evaluate(fit_recipe(train, c.model_copy(update={"model": c.reference}), device,
                                    desc=f"{c.reference} on real"), test, device)
        metrics["reference"] = {"model": c.reference, "accuracy": other["accuracy"]}
        print(f"the same recipe with {c.reference}: {other['accuracy']:.2%}")
    write_json(ns.metrics, metrics)
    print(f"real baseline ({c.model}): {result['accuracy']:.2%} on {len(test)} real test images")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--train", required=True)
    p.add_argument("--val", help="the validation split, trained on too: the baseline is every non-test image")
    p.add_argument("--test", required=True)
    p.add_argument("--out", required=True, help="folder for the model and its confusion matrix")
    p.add_argument("--metrics", required=True, help="JSON of the baseline's accuracy")
    p.add_argument("--filter-out", help="folder for the filter classifier, trained on --train alone")
    _cli.run(main, p)
