"""Scoring a generator's settings on the validation split, where every choice is made.

`synthset validate cdcgan -S gan.cdcgan.epochs=150` trains the arch on the train split with
params.yaml plus the overrides, draws sample.per_class images per class as the sample stage does
(the pipeline's filter, trained on train alone), trains the classify recipe on them and tests it
on the validation split: the train-on-synthetic accuracy to compare settings by, never the test
split's. The real classifier's validation accuracy is printed beside it as the bar."""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch
import yaml
import zc.lockfile

from .classify import evaluate, fit_recipe, fit_scored
from .classify.load import load_classifier, save_classifier
from .classify.resume import fit_key
from .device import resolve_device, seed_everything
from .files import read_json, write_json
from .filtering import keep_for, temperature_for
from .imagesets import ImageSet
from .intervals import accuracy_interval
from .layout import Layout
from .params import DIFFUSION_ARCHS, MERF_ARCHS, ClassifyParams, Params, ParamsError
from .sampling import sample_kept
from .train.averaging import recalibrate_batch_norm
from .train.checkpoint import Checkpointer, run_key
from .train.diffusion import train_diffusion
from .train.loop import train_gan, units_sampler
from .train.merf import train_merf
from .train.trainlog import TrainLog


def nested_overrides(settings: list[str]) -> dict:
    """["gan.cdcgan.epochs=150", ...] (values in YAML) as {"gan": {"cdcgan": {"epochs": 150}}}. A key
    may start with dvc exp run's `+` (or `++`), which adds a key the file does not list (a GAN's own
    setting over gan.defaults): the same -S then works with both. Deleting (`~`) is refused: every
    key must be set."""
    out: dict = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if key.startswith("~"):
            raise ParamsError(f"-S {setting!r}: deleting a key is not supported (every key must be set)")
        key = key.removeprefix("++").removeprefix("+")
        if not sep or not key:
            raise ParamsError(f"-S {setting!r}: expected key=value, e.g. gan.cdcgan.epochs=150")
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return out


def filter_classifier(recipe: ClassifyParams, train: ImageSet, folder: Path, device, cache: Path | None = None):
    """The pipeline's filter (train_classifier's, trained on train alone) when it is there, else
    the same `recipe` trained here, and kept in `cache` for the next call on the same train split."""
    if (folder / "model.pt").exists():
        return load_classifier(folder, device)
    if cache is not None and (cache / "model.pt").exists():
        return load_classifier(cache, device)
    model = fit_recipe(train, recipe, device, desc="filter on train")
    if cache is not None:
        save_classifier(model, recipe.model, train, cache)
    return model


def epochs_to_score(at: list[int] | None, epochs: int) -> list[int]:
    """The epochs asked for, in order (default: the last), each one the training reaches."""
    at = sorted(set(at or [epochs]))
    if at[0] < 1 or at[-1] > epochs:
        raise ParamsError(f"--at {','.join(map(str, at))}: epochs of the training, 1 to {epochs}")
    return at


def images_digest(images: ImageSet) -> str:
    """Names the scored images: two scores with the same digest trained on the very same images."""
    return hashlib.sha256(images.images.tobytes() + images.labels.tobytes()).hexdigest()[:16]


def guidance_scales(guidance: list[float] | None, arch: str, arch_params) -> list[float]:
    """The classifier-free guidance scales to sample at (ddpm only; default: its own one)."""
    if arch not in DIFFUSION_ARCHS:
        if guidance:
            raise ParamsError(f"--guidance: {arch} has no classifier-free guidance (ddpm has)")
        return []
    scales = list(dict.fromkeys(guidance or [arch_params.guidance_scale]))
    if not all(0 <= g < math.inf for g in scales):  # nan fails both
        raise ParamsError(f"--guidance {','.join(map(str, scales))}: scales are numbers from 0 (1 = no guidance)")
    if arch_params.label_dropout == 0 and any(g != 1 for g in scales):
        raise ParamsError(f"--guidance: guidance needs {arch}'s unconditional model; set label_dropout > 0")
    return scales


def real_under_recipe(recipe: ClassifyParams, filter_recipe: ClassifyParams | None, train: ImageSet, val: ImageSet,
                      device, seeds: int, cache: Path | None = None) -> dict:
    """The real train split under the recipe scored, where `-S classify.*` made it differ from the filter's.
    The filter's accuracy is then no bar: on the vehicles' validation photos 60 epochs instead of 30 raised
    sngan's photos by 1.4 points and the real ones by 2.9, so generated-at-60 against real-at-30 showed a
    gain that was the longer training's, not the images'. Kept in `cache` (a folder) per splits, recipe, seeds
    and what a fit's weights depend on besides (device, threads, code: classify.resume.fit_key): scoring several
    GANs under one new recipe fits the real photos once (the photo judge: minutes a seed)."""
    if filter_recipe is None or filter_recipe == recipe:
        return {}
    key = hashlib.sha256(json.dumps({"seeds": seeds}).encode())  # with the fits' own key: device, threads, code
    key.update(fit_key(train, recipe, device).encode())
    key.update(val.images.tobytes())
    key.update(val.labels.tobytes())
    path = cache / f"{key.hexdigest()[:16]}.json" if cache is not None else None
    if path is not None and path.exists():
        return read_json(path)
    real = fit_scored(train, val, recipe, device, desc="real train split on val", seeds=seeds).result
    scored = {"real_acc_val": real["accuracy"], "real_acc_val_seeds": real["accuracy_seeds"]}
    if path is not None:
        write_json(path, scored)
    return scored


SCORES, TRAINED = "scores.jsonl", "trained.json"  # beside a validate run's checkpoints


def scoring_key(params: Params, seeds: int, scales: list[float], keep: str, val: ImageSet,
                judge: torch.nn.Module) -> str:
    """What a score depends on besides the training (the recipe, the sampling, the intervals, the
    validation photos, the filter's weights): a score kept by an interrupted run is reused only under the same."""
    h = hashlib.sha256(json.dumps({"classify": params.classify.model_dump(), "sample": params.sample.model_dump(),
                                   "evaluate": params.evaluate.model_dump(), "seeds": seeds, "scales": scales,
                                   "keep": keep}, sort_keys=True, default=str).encode())
    h.update(val.images.tobytes())
    h.update(val.labels.tobytes())
    for tensor in judge.state_dict().values():
        h.update(tensor.detach().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


def earlier_scores(folder: Path, key: str, resumed: int, at: list[int]) -> list[dict]:
    """The scores an interrupted run made up to its checkpoint's epoch under the same scoring, in order."""
    path = folder / SCORES
    kept: dict = {}  # a score made twice (scored, killed before the next checkpoint, scored again): once
    for line in path.read_text().splitlines() if path.exists() else []:
        score = json.loads(line)
        if score.pop("scoring", None) == key and score["epoch"] <= resumed and score["epoch"] in at:
            kept[(score["epoch"], score.get("guidance_scale"))] = score
    return sorted(kept.values(), key=lambda score: score["epoch"])  # stable: each epoch's scales as scored


def checkpoints_for(root: Path | None, arch: str, arch_params, seed: int, train: ImageSet):
    """(Checkpointer, lock) of this arch and settings under `root`, or (None, None). The lock refuses a
    second validate of the same settings while one trains (both would write the same checkpoints)."""
    if root is None:
        return None, None
    key = run_key(arch, arch_params, seed, train)
    folder = root / f"{arch}-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        lock = zc.lockfile.LockFile(str(folder / ".lock"))
    except zc.lockfile.LockError:
        raise RuntimeError(f"{folder}: another `synthset validate {arch}` with the same settings is training there; "
                           "wait for it to end or stop it") from None
    return Checkpointer(folder, key), lock


def score_on_val(params: Params, arch: str, train: ImageSet, val: ImageSet, device, seeds: int,
                 filter_folder: Path, grid: Path | None = None, filter_cache: Path | None = None,
                 at: list[int] | None = None, report: Callable[..., None] | None = None,
                 guidance: list[float] | None = None, filter_recipe: ClassifyParams | None = None,
                 checkpoints: Path | None = None, real_cache: Path | None = None) -> list[dict]:
    """Train `arch`, and at each epoch in `at` (default: its last) sample as the sample stage does
    and score a classifier trained on the samples on `val` (`seeds` classifier seeds), with the
    real classifier's val accuracy: one training answers "how many epochs" on validation, and, for
    ddpm, at which classifier-free guidance scales (`guidance`) to sample it.
    Scoring forks torch's random state, so the training goes on exactly as it would unscored.
    `filter_recipe` (default: params.classify) trains the filter when the pipeline has none: the
    recipe of params.yaml, so that `-S classify.*` changes the classifier scored, not which draws it sees.
    With `checkpoints` (a folder) the training is checkpointed as train_gan's is, every checkpoint_every
    epochs, with its scores so far: the same call after a kill goes on from the last checkpoint and returns
    what an uninterrupted run would (the scores before it as they were measured). `real_cache` (a folder)
    keeps the real train split's scores under a recipe other than the filter's for the next call."""
    arch_params = params.arch(arch)
    at = epochs_to_score(at, arch_params.epochs)
    scales = guidance_scales(guidance, arch, arch_params)
    seed_everything(params.gan.seed, params.threads)
    checkpointer, lock = checkpoints_for(checkpoints, arch, arch_params, params.gan.seed, train)
    with torch.random.fork_rng():
        judge = filter_classifier(filter_recipe or params.classify, train, filter_folder, device, filter_cache)
        real_same = real_under_recipe(params.classify, filter_recipe, train, val, device, seeds, real_cache)
    keep = keep_for(params.sample.keep, {"dp": arch in MERF_ARCHS or getattr(arch_params, "dp", False)})
    real_acc = evaluate(judge, val, device)["accuracy"]
    results, scoring_seconds, trained_before = [], 0.0, 0.0
    key = scoring_key(params, seeds, scales, keep, val, judge)
    resumed = checkpointer.latest_epoch() if checkpointer else None
    if resumed is not None:
        trained = read_json(checkpointer.folder / TRAINED) if (checkpointer.folder / TRAINED).exists() else {}
        trained_before = trained.get("train_seconds", 0.0) if trained.get("epoch") == resumed else 0.0
        for result in earlier_scores(checkpointer.folder, key, resumed, at):
            results.append(result)
            if report:
                report(result, earlier=True)

    def trained_for(log: TrainLog) -> float:  # the training's own time, without scoring, across a resume
        return trained_before + log.elapsed() - scoring_seconds

    def tick(epoch: int, log: TrainLog) -> None:
        if checkpointer and epoch % arch_params.checkpoint_every == 0:  # before that epoch's checkpoint (run_epochs)
            write_json(checkpointer.folder / TRAINED, {"epoch": epoch, "train_seconds": round(trained_for(log), 1)})

    def score(epoch: int, generator: torch.nn.Module, log: TrainLog) -> None:
        nonlocal scoring_seconds
        tick(epoch, log)
        if epoch not in at:
            return
        t0, was_training = time.perf_counter(), generator.training
        trained_until_now = trained_for(log)  # before this scoring
        for scale in scales or [None]:
            if scale is not None:
                generator.guidance_scale = scale  # read at sampling only: the training never sees it
            label = f"{arch} epoch {epoch}" + (f" guidance {scale:g}" if scale is not None else "")
            with torch.random.fork_rng():
                fake, stats = sample_kept(generator.eval(), train.class_names, params.sample.per_class,
                                          params.sample.seed, keep, judge if keep == "agreeing" else None,
                                          temperature_for(keep, params.sample.label_temperature))
                scored = fit_scored(fake, val, params.classify, device, desc=f"{label} on val", seeds=seeds)
            e = params.evaluate  # the validation split is small: its score comes with its interval, as test's do
            acc = accuracy_interval(scored.correct, e.interval_bootstrap, e.interval_confidence, e.seed)
            result = {"arch": arch, "epoch": epoch, **({"guidance_scale": scale} if scale is not None else {}),
                      **acc.as_dict("acc_val"), "acc_val_seeds": scored.result["accuracy_seeds"],
                      "real_filter_acc_val": real_acc, **real_same, "kept_share": stats["kept_share"],
                      "train_seconds": round(trained_until_now, 1), "val_images": len(val),
                      "images_sha256": images_digest(fake)}
            results.append(result)
            if checkpointer:
                with open(checkpointer.folder / SCORES, "a") as f:
                    f.write(json.dumps({"scoring": key, **result}) + "\n")
            if report:
                report(result)
        if scales:
            generator.guidance_scale = arch_params.guidance_scale
        generator.train(was_training)
        scoring_seconds += time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp, contextlib.closing(lock) if lock else contextlib.nullcontext():
        log = TrainLog(Path(tmp) / "live", grid or Path(tmp) / "grids", train.num_classes)
        if arch in MERF_ARCHS:
            train_merf(arch, train, arch_params, device, params.gan.seed, log, checkpointer,
                       on_epoch=lambda epoch, g: score(epoch, g, log))
        elif arch in DIFFUSION_ARCHS:
            train_diffusion(arch, train, arch_params, device, params.gan.seed, log, checkpointer,
                            on_epoch=lambda epoch, model: score(epoch, model, log))
        else:
            def score_units(epoch: int, units) -> None:
                if epoch not in at:
                    tick(epoch, log)
                    return
                # the sampler as train_gan returns it: standing batch-norm statistics
                score(epoch, recalibrate_batch_norm(units_sampler(arch, units), train.num_classes), log)
                for u in units:
                    u.g.train()
            train_gan(arch, train, arch_params, device, params.gan.seed, log, checkpointer, on_epoch=score_units)
        if checkpointer:  # finished: nothing to resume
            checkpointer.clear()
    return results


def main(ns, params: Params, on_result: Callable[[dict], None] | None = None,
         filter_recipe: ClassifyParams | None = None) -> list[dict]:
    """`params`: params.yaml with the -S overrides; `filter_recipe`: params.yaml's own classify."""
    epochs_to_score(ns.at, params.arch(ns.arch).epochs)  # listed in gan.archs, and --at within its epochs
    guidance_scales(ns.guidance, ns.arch, params.arch(ns.arch))
    prepared = Path(ns.prepared)
    missing = [p for p in (prepared / "train.npz", prepared / "val.npz") if not p.exists()]
    if missing:
        raise FileNotFoundError(f"{missing[0]}: missing (run `dvc repro preprocess` or `snakemake --cores 2 "
                                f"{missing[0]}` first)")
    device = resolve_device(params.device)
    train, val = ImageSet.load(prepared / "train.npz"), ImageSet.load(prepared / "val.npz")
    # a filter trained here is kept per train split and classifier recipe, outside every stage's outputs
    filter_recipe = filter_recipe or params.classify
    key = hashlib.sha256((prepared / "train.npz").read_bytes() + filter_recipe.model_dump_json().encode())

    def report(result: dict, earlier: bool = False) -> None:
        """Print a score; pass it on (--log) unless an interrupted run measured it (and logged it then)."""
        seeds = ", ".join(f"{a:.1%}" for a in result["acc_val_seeds"])
        scale = f" guidance {result['guidance_scale']:g}" if "guidance_scale" in result else ""
        same = (f" (the filter's recipe), {result['real_acc_val']:.1%} under this one" if "real_acc_val" in result
                else "")
        print(f"{ns.arch} {' '.join(ns.set)} epoch {result['epoch']}{scale}: trained on its images "
              f"{result['acc_val']:.1%} on val [{result['acc_val_low']:.1%}, {result['acc_val_high']:.1%}] "
              f"(seeds {seeds}; {len(val)} images), real {result['real_filter_acc_val']:.1%}{same}; "
              f"filter kept {result['kept_share']:.1%}; "
              f"trained in {result['train_seconds']:.0f} s" + (" (before the interruption)" if earlier else ""),
              flush=True)
        if on_result and not earlier:
            on_result(result)

    return score_on_val(params, ns.arch, train, val, device, ns.seeds, Path(ns.filter),
                        Path(ns.grid) if ns.grid else None, Layout().validation_filter(key.hexdigest()[:12]),
                        at=ns.at, report=report, guidance=ns.guidance, filter_recipe=filter_recipe,
                        checkpoints=Layout().validation_checkpoints(), real_cache=Layout().validation_real())
