"""Scoring a generator's settings on the validation split, where every choice is made.

`synthset validate cdcgan -S gan.cdcgan.epochs=150` trains the arch on the train split with
params.yaml plus the overrides, draws sample.per_class images per class as the sample stage does
(the pipeline's filter, trained on train alone), trains the classify recipe on them and tests it
on the validation split: the train-on-synthetic accuracy to compare settings by, never the test
split's. The real classifier's validation accuracy is printed beside it as the bar."""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import yaml

from .classify import evaluate, fit_recipe, fit_scored
from .classify.load import load_classifier, save_classifier
from .device import resolve_device, seed_everything
from .filtering import keep_for
from .imagesets import ImageSet
from .intervals import accuracy_interval
from .layout import Layout
from .params import DIFFUSION_ARCHS, MERF_ARCHS, Params, ParamsError
from .sampling import sample_kept
from .train.loop import train_gan
from .train.merf import train_merf
from .train.trainlog import TrainLog


def nested_overrides(settings: list[str]) -> dict:
    """["gan.cdcgan.epochs=150", ...] (values in YAML) as {"gan": {"cdcgan": {"epochs": 150}}}."""
    out: dict = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            raise ParamsError(f"-S {setting!r}: expected key=value, e.g. gan.cdcgan.epochs=150")
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return out


def filter_classifier(params: Params, train: ImageSet, folder: Path, device, cache: Path | None = None):
    """The pipeline's filter (train_classifier's, trained on train alone) when it is there, else
    the same recipe trained here, and kept in `cache` for the next call on the same train split."""
    if (folder / "model.pt").exists():
        return load_classifier(folder, device)
    if cache is not None and (cache / "model.pt").exists():
        return load_classifier(cache, device)
    model = fit_recipe(train, params.classify, device, desc="filter on train")
    if cache is not None:
        save_classifier(model, params.classify.model, train, cache)
    return model


def score_on_val(params: Params, arch: str, train: ImageSet, val: ImageSet, device, seeds: int,
                 filter_folder: Path, grid: Path | None = None, filter_cache: Path | None = None) -> dict:
    """Train `arch`, sample as the sample stage does, and score a classifier trained on the
    samples on `val` (`seeds` classifier seeds), with the real classifier's val accuracy."""
    seed_everything(params.gan.seed, params.threads)
    with tempfile.TemporaryDirectory() as tmp:
        log = TrainLog(Path(tmp) / "live", grid or Path(tmp) / "grids", train.num_classes)
        if arch in MERF_ARCHS:
            generator, _ = train_merf(arch, train, params.arch(arch), device, params.gan.seed, log)
        else:
            generator = train_gan(arch, train, params.arch(arch), device, params.gan.seed, log)
        seconds = log.elapsed()  # the training log times the run, as train_gan's stage reports it
    judge = filter_classifier(params, train, filter_folder, device, filter_cache)
    keep = keep_for(params.sample.keep, {"dp": arch in MERF_ARCHS or params.arch(arch).dp})
    fake, stats = sample_kept(generator, train.class_names, params.sample.per_class, params.sample.seed, keep,
                              judge if keep == "agreeing" else None)
    scored = fit_scored(fake, val, params.classify, device, desc=f"{arch} on val", seeds=seeds)
    e = params.evaluate  # the validation split is small: its score comes with its interval, as test's do
    acc = accuracy_interval(scored.correct, e.interval_bootstrap, e.interval_confidence, e.seed)
    return {"arch": arch, **acc.as_dict("acc_val"), "acc_val_seeds": scored.result["accuracy_seeds"],
            "real_filter_acc_val": evaluate(judge, val, device)["accuracy"], "kept_share": stats["kept_share"],
            "train_seconds": round(seconds, 1), "val_images": len(val)}


def main(ns, params: Params) -> dict:
    prepared = Path(ns.prepared)
    missing = [p for p in (prepared / "train.npz", prepared / "val.npz") if not p.exists()]
    if missing:
        raise FileNotFoundError(f"{missing[0]}: missing (run `dvc repro preprocess` or `snakemake --cores 2 "
                                f"{missing[0]}` first)")
    if ns.arch in DIFFUSION_ARCHS:
        raise ParamsError(f"{ns.arch}: validate trains GANs and dpmerf; the diffusion baseline is neither")
    params.arch(ns.arch)  # listed in gan.archs, or one line saying it is not
    device = resolve_device(params.device)
    train, val = ImageSet.load(prepared / "train.npz"), ImageSet.load(prepared / "val.npz")
    # a filter trained here is kept per train split and classifier recipe, outside every stage's outputs
    key = hashlib.sha256((prepared / "train.npz").read_bytes() + params.classify.model_dump_json().encode())
    result = score_on_val(params, ns.arch, train, val, device, ns.seeds, Path(ns.filter),
                          Path(ns.grid) if ns.grid else None, Layout().validation_filter(key.hexdigest()[:12]))
    seeds = ", ".join(f"{a:.1%}" for a in result["acc_val_seeds"])
    print(f"{ns.arch} {' '.join(ns.set)}: trained on its images {result['acc_val']:.1%} on val "
          f"[{result['acc_val_low']:.1%}, {result['acc_val_high']:.1%}] (seeds {seeds}; {len(val)} images), "
          f"real {result['real_filter_acc_val']:.1%}; "
          f"filter kept {result['kept_share']:.1%}; trained in {result['train_seconds']:.0f} s")
    return result
