"""Stage tstr@arch: train on synthetic (and mixed) images, test on real ones.

Every accuracy is on the held-out real test split (unlike StudioGAN, which scores on the
real training split); the real baseline is trained the same way in the same run.

The fake set is learnt by classify.seeds classifiers, the mixed and SSIM-selected sets by one
each; every accuracy has its bootstrap interval, and the fake set's difference to the real
baseline is paired, on the same test images (synthset.intervals). Each image's right
and wrong answers are kept (test_correct.npz) for comparisons made later (the PCA baseline).
"""
from pathlib import Path

import numpy as np
import pandas as pd

from ..classify import fake_subset, fit_scored, mixed_set
from ..device import resolve_device, seed_everything
from ..figures.classify import confusion_png, mixed_curve_png
from ..files import atomic_path, read_json, write_json
from ..imagesets import ImageSet
from ..intervals import ANSWER_SETS, ANSWERS, accuracy_interval, paired_difference
from ..resumable import resumable
from . import _cli


def main(ns, params):
    c, e = params.classify, params.evaluate
    seed_everything(c.seed, params.threads)
    device = resolve_device(params.device)
    train, test = ImageSet.load(ns.train), ImageSet.load(ns.test)
    fake = fake_subset(ImageSet.load(ns.samples), e.fake_per_class, e.seed)
    real = read_json(ns.baseline)
    real_correct = np.load(Path(ns.classifier) / ANSWERS)
    baseline = real["accuracy"]
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    answers = {}

    def interval(correct):
        return accuracy_interval(correct, e.interval_bootstrap, e.interval_confidence, e.seed)

    def score(name: str, data: ImageSet, seeds: int = 1) -> dict:
        scored = fit_scored(data, test, c, device, desc=name, seeds=seeds)
        answers[name] = scored.correct
        acc = interval(scored.correct)
        confusion_png(scored.result["confusion"], test.class_names, out / f"confusion_{name}.png",
                      f"{ns.arch}, trained on {name}: {acc.value:.1%}" + (f", {seeds} seeds" if seeds > 1 else ""))
        return {**scored.result, "interval": acc}

    fake_result = score("fake", fake, c.seeds)
    curve = _mixed_curve(train, fake, fake_result, real, e.mixed_fractions, e.seed, score)
    Path(ns.curve).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(ns.curve) as tmp:
        curve.to_csv(tmp, index=False)
    mixed_curve_png({ns.arch: curve}, out / "mixed.png", f"{ns.arch}: real share vs accuracy")

    vs_real = paired_difference(answers["fake"], real_correct, e.interval_bootstrap, e.interval_confidence, e.seed)
    metrics = {**fake_result["interval"].as_dict("acc_fake"), "acc_fake_seeds": fake_result["accuracy_seeds"],
               "acc_real": baseline, "acc_real_low": real.get("accuracy_low"), "acc_real_high": real.get("accuracy_high"),
               **vs_real.as_dict("vs_real"), "gap_to_real": -vs_real.value, "interval_confidence": e.interval_confidence,
               **_best_mixed(curve), "acc_mixed": {f"{r.real_fraction:g}": r.accuracy for r in curve.itertuples()},
               "per_class_fake": fake_result["per_class"], "train_images_fake": len(fake)}
    if ns.selected:
        selected = ImageSet.load(ns.selected)
        metrics.update(score("ssim_selected", selected)["interval"].as_dict("acc_ssim_selected"))
        metrics["train_images_ssim_selected"] = len(selected)
    with atomic_path(out / ANSWER_SETS) as tmp:
        np.savez(tmp, **answers)
    write_json(ns.metrics, metrics)
    print(f"{ns.arch}: trained on fake {vs_real.value * 100:+.1f} points against real "
          f"(interval {vs_real.low * 100:+.1f} to {vs_real.high * 100:+.1f}) on real test images")


def _mixed_curve(train: ImageSet, fake: ImageSet, fake_result: dict, real: dict, fractions: list[float], seed: int,
                 score) -> pd.DataFrame:
    """Accuracy against the real share of the training set: generated only (scored already), each mixed set
    at equal size (`score` trains on it), the real baseline."""
    rows = [{"real_fraction": 0.0, "train_images": len(fake), **fake_result["interval"].as_dict("accuracy")}]
    for f in fractions:
        mixed = mixed_set(train, fake, f, seed)
        result = score(f"mixed_{round(f * 100)}", mixed)
        rows.append({"real_fraction": f, "train_images": len(mixed), **result["interval"].as_dict("accuracy")})
    rows.append({"real_fraction": 1.0, "train_images": real["train_images"], "accuracy": real["accuracy"],
                 "accuracy_low": real.get("accuracy_low"), "accuracy_high": real.get("accuracy_high")})
    return pd.DataFrame(rows)


def _best_mixed(curve: pd.DataFrame) -> dict:
    mixed = curve.iloc[1:-1]
    best = mixed.loc[mixed["accuracy"].idxmax()] if len(mixed) else None
    return {key: None if best is None else float(best[column])
            for key, column in (("acc_mixed_best", "accuracy"), ("acc_mixed_best_low", "accuracy_low"),
                                ("acc_mixed_best_high", "accuracy_high"))}


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--train", required=True, help="real train split (for mixed sets)")
    p.add_argument("--test", required=True, help="real test split: every accuracy is measured here")
    p.add_argument("--samples", required=True, help="the arch's generated samples.npz")
    p.add_argument("--selected", help="the SSIM-selected generated set (ssim stage)")
    p.add_argument("--baseline", required=True, help="train_classifier's metrics JSON")
    p.add_argument("--classifier", required=True, help="train_classifier's folder: the baseline's answers per test image")
    p.add_argument("--out", required=True, help="folder for confusion matrices and the mixed curve")
    p.add_argument("--metrics", required=True, help="JSON of the accuracies")
    p.add_argument("--curve", required=True, help="CSV of accuracy against the real share (a DVC plot)")
    _cli.run(resumable(main), p)
