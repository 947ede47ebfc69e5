"""Stage tstr@arch: train on synthetic (and mixed) images, test on real ones.

Every accuracy is on the held-out real test split (unlike StudioGAN, which scores on the
real training split); the real baseline is trained the same way in the same run.
"""
from pathlib import Path

import pandas as pd

from ..classify import evaluate, fake_subset, fit_recipe, mixed_set
from ..classify.figures import confusion_png, mixed_curve_png
from ..device import resolve_device, seed_everything
from ..io import ImageSet, atomic_path, read_json, write_json
from . import _cli


def main(ns, params):
    c, e = params.classify, params.evaluate
    seed_everything(c.seed, params.threads)
    device = resolve_device(params.device)
    train, test = ImageSet.load(ns.train), ImageSet.load(ns.test)
    fake = fake_subset(ImageSet.load(ns.samples), e.fake_per_class, e.seed)
    real = read_json(ns.baseline)
    baseline = real["accuracy"]
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)

    def score(name: str, data: ImageSet) -> dict:
        result = evaluate(fit_recipe(data, c, device, desc=name), test, device)
        confusion_png(result["confusion"], test.class_names, out / f"confusion_{name}.png",
                      f"{ns.arch}, trained on {name}: {result['accuracy']:.1%}")
        return result

    fake_result = score("fake", fake)
    rows = [{"real_fraction": 0.0, "train_images": len(fake), "accuracy": fake_result["accuracy"]}]
    for f in e.mixed_fractions:
        mixed = mixed_set(train, fake, f, e.seed)
        rows.append({"real_fraction": f, "train_images": len(mixed),
                     "accuracy": score(f"mixed_{round(f * 100)}", mixed)["accuracy"]})
    rows.append({"real_fraction": 1.0, "train_images": real["train_images"], "accuracy": baseline})
    curve = pd.DataFrame(rows)
    Path(ns.curve).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(ns.curve) as tmp:
        curve.to_csv(tmp, index=False)
    mixed_curve_png({ns.arch: curve}, out / "mixed.png", f"{ns.arch}: real share vs accuracy")

    metrics = {"acc_fake": fake_result["accuracy"], "acc_real": baseline,
               "gap_to_real": baseline - fake_result["accuracy"],
               "acc_mixed_best": float(curve.iloc[1:-1]["accuracy"].max()) if e.mixed_fractions else None,
               "acc_mixed": {f"{r.real_fraction:g}": r.accuracy for r in curve.itertuples()},
               "per_class_fake": fake_result["per_class"], "train_images_fake": len(fake)}
    if ns.selected:
        selected = ImageSet.load(ns.selected)
        metrics["acc_ssim_selected"] = score("ssim_selected", selected)["accuracy"]
        metrics["train_images_ssim_selected"] = len(selected)
    write_json(ns.metrics, metrics)
    print(f"{ns.arch}: trained on fake {fake_result['accuracy']:.2%} vs real {baseline:.2%} on real test images")


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--train", required=True, help="real train split (for mixed sets)")
    p.add_argument("--test", required=True, help="real test split: every accuracy is measured here")
    p.add_argument("--samples", required=True, help="the arch's generated samples.npz")
    p.add_argument("--selected", help="the SSIM-selected generated set (ssim stage)")
    p.add_argument("--baseline", required=True, help="train_classifier's metrics JSON")
    p.add_argument("--out", required=True, help="folder for confusion matrices and the mixed curve")
    p.add_argument("--metrics", required=True, help="JSON of the accuracies")
    p.add_argument("--curve", required=True, help="CSV of accuracy against the real share (a DVC plot)")
    _cli.run(main, p)
