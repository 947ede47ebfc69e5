"""`synthset validate`: a GAN's settings scored on the validation split. The score must tell a
generator that learnt from one that did not, and the command must refuse what it cannot score."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import yaml
from conftest import SHIPPED, shipped

from synthset.classify import fit_scored
from synthset.cli import main as cli
from synthset.data import load_mnist5k, preprocess
from synthset.imagesets import ImageSet
from synthset.params import ParamsError, load_params
from synthset.presets import apply_preset
from synthset import validation
from synthset.validation import nested_overrides, score_on_val


def split(per_class_train: int, per_class_val: int) -> tuple[ImageSet, ImageSet]:
    s = preprocess(load_mnist5k(), 28, "gray")
    rows = [np.flatnonzero(s.labels == c) for c in range(10)]
    train = np.sort(np.concatenate([r[:per_class_train] for r in rows]))
    val = np.sort(np.concatenate([r[per_class_train:per_class_train + per_class_val] for r in rows]))
    return (ImageSet(s.images[train], s.labels[train], s.class_names),
            ImageSet(s.images[val], s.labels[val], s.class_names))

def validate_project(folder, train: ImageSet, val: ImageSet, settings: dict):
    """A folder `synthset validate` runs in: the splits and a params.yaml with `settings`."""
    (folder / "prepared").mkdir(parents=True)
    train.save(folder / "prepared" / "train.npz")
    val.save(folder / "prepared" / "val.npz")
    shutil.copy(SHIPPED, folder / "params.yaml")
    (folder / "tiny.yaml").write_text(yaml.safe_dump(settings))
    apply_preset(folder / "params.yaml", folder / "tiny.yaml")


def test_the_validation_score_rises_as_the_generator_learns(tmp_path):
    """One training scored at epochs 1 and 15 (--at), as a user chooses a GAN's epochs."""
    train, val = split(100, 30)
    torch.set_num_threads(1)
    params = shipped({"device": "cpu", "gan": {"archs": ["cdcgan"], "cdcgan": {
        "epochs": 15, "width": 16, "batch_size": 32, "ema_decay": 0.99}},
        "sample": {"per_class": 60, "keep": "all"}, "classify": {"epochs": 3}})
    results = score_on_val(params, "cdcgan", train, val, torch.device("cpu"), seeds=1,
                           filter_folder=tmp_path / "no-filter", at=[15, 1])
    assert [r["epoch"] for r in results] == [1, 15]
    for result in results:
        assert result["val_images"] == len(val) and len(result["acc_val_seeds"]) == 1
        assert result["acc_val_low"] <= result["acc_val"] <= result["acc_val_high"]
    first, last = (r["acc_val"] for r in results)
    assert first < 0.2 and last > first + 0.25, results  # measured: 10 % (chance) and 50 %
    assert results[0]["train_seconds"] < results[1]["train_seconds"]


TINY = {"ddpm": {"epochs": 2, "widths": [8, 16, 16], "batch_size": 32, "sampling_steps": 3, "warmup_steps": 5},
        "cdcgan": {"epochs": 2, "width": 16, "batch_size": 32, "ema_decay": None}}  # G itself is sampled


@pytest.mark.parametrize("arch", ["ddpm", "cdcgan"])
def test_scoring_an_early_epoch_leaves_the_training_as_it_was(arch, tmp_path):
    """Scored at epochs 1 and 2, a training gives the same epoch-2 score, to the last image, as
    the same training scored at its end only: the choice of --at never changes what it measures
    (scoring in between must not touch the training's random state, weights or batch-norm mode;
    a GAN sampled from G itself, without EMA, and ddpm's EMA model both; ddpm also sampled at a
    second guidance scale each time, which must not stay set)."""
    train, val = split(30, 10)
    torch.set_num_threads(1)
    params = shipped({"device": "cpu", "gan": {"archs": [arch], arch: TINY[arch]},
                      "sample": {"per_class": 20, "keep": "all"}, "classify": {"epochs": 2}})
    kwargs = dict(device=torch.device("cpu"), seeds=1, filter_folder=tmp_path / "no-filter")
    guided = arch == "ddpm"
    both = score_on_val(params, arch, train, val, at=[1, 2], guidance=[4, 1] if guided else None, **kwargs)
    last = score_on_val(params, arch, train, val, **kwargs)
    assert [r["epoch"] for r in last] == [2]
    if guided:
        assert [(r["epoch"], r["guidance_scale"]) for r in both] == [(1, 4), (1, 1), (2, 4), (2, 1)]
        assert last[0]["guidance_scale"] == 1
        assert len({r["images_sha256"] for r in both}) == 4  # the scale reached the sampler
    else:
        assert [r["epoch"] for r in both] == [1, 2] and "guidance_scale" not in both[0]
    assert both[-1]["images_sha256"] == last[0]["images_sha256"]
    assert both[-1]["acc_val_seeds"] == last[0]["acc_val_seeds"]
    assert both[-1]["acc_val"] == last[0]["acc_val"]


def test_classify_overrides_change_the_classifier_scored_not_the_filter_that_picks_its_images(tmp_path, monkeypatch):
    """Where no pipeline filter exists validate trains one: with params.yaml's classify recipe, not the
    -S one. Otherwise `-S classify.epochs=3` against `=2` compared two filters' picks of the draws as
    well as two classifiers, and trained (and cached) a filter per candidate recipe."""
    train, val = split(30, 10)
    torch.set_num_threads(1)
    monkeypatch.chdir(tmp_path)
    validate_project(tmp_path, train, val, {"device": "cpu", "threads": 1,
                                            "gan": {"archs": ["cdcgan"], "cdcgan": TINY["cdcgan"]},
                                            "sample": {"per_class": 20, "keep": "all"}, "classify": {"epochs": 2}})
    params = tmp_path / "params.yaml"
    for epochs in (1, 3, 2):
        cli(["validate", "cdcgan", "-S", f"classify.epochs={epochs}", "--params", str(params), "--prepared",
             str(tmp_path / "prepared"), "--filter", str(tmp_path / "no-filter"), "--seeds", "1",
             "--log", str(tmp_path / "log.jsonl")])
    results = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["set"] for r in results] == [["classify.epochs=1"], ["classify.epochs=3"], ["classify.epochs=2"]]
    assert len(list((tmp_path / "results" / "validation").glob("filter-*"))) == 1  # one filter, params.yaml's recipe
    assert not list((tmp_path / "results" / "validation" / "checkpoints").iterdir())  # finished: none to resume
    assert len({r["real_filter_acc_val"] for r in results}) == 1  # one filter
    assert len({r["images_sha256"] for r in results}) == 1  # the same draws (a GAN of 2 epochs: keep all)
    # the bar under the recipe scored: the real train split trained as the generated images were
    recipe = load_params(params).classify
    for r, epochs in zip(results[:2], (1, 3)):
        real = fit_scored(train, val, recipe.model_copy(update={"epochs": epochs}), torch.device("cpu"), seeds=1)
        assert r["real_acc_val"] == real.result["accuracy"] and r["real_acc_val_seeds"] == [real.result["accuracy"]]
    assert results[0]["real_acc_val"] != results[1]["real_acc_val"]  # 1 epoch against 3: two recipes
    assert "real_acc_val" not in results[2]  # params.yaml's own recipe: the filter is that bar
    # a recipe scored before: its real score is read back, not fitted again (the photo judge takes minutes a seed)
    fits = []
    monkeypatch.setattr(validation, "fit_scored", lambda *a, **k: fits.append(k["desc"]) or fit_scored(*a, **k))
    cli(["validate", "cdcgan", "-S", "classify.epochs=1", "--params", str(params), "--prepared",
         str(tmp_path / "prepared"), "--filter", str(tmp_path / "no-filter"), "--seeds", "1",
         "--log", str(tmp_path / "log.jsonl")])
    again = json.loads((tmp_path / "log.jsonl").read_text().splitlines()[-1])
    assert fits and "real train split on val" not in fits, fits  # only the generated images' classifier
    assert again["real_acc_val"] == results[0]["real_acc_val"]
    assert len(list((tmp_path / "results" / "validation" / "real").glob("*.json"))) == 2  # epochs 1 and 3
    # on another thread count a fit gives other numbers: the kept score is not read back as if it were the same
    fits.clear()
    cli(["validate", "cdcgan", "-S", "classify.epochs=1", "-S", "threads=2", "--params", str(params), "--prepared",
         str(tmp_path / "prepared"), "--filter", str(tmp_path / "no-filter"), "--seeds", "1"])
    assert "real train split on val" in fits, fits
    assert len(list((tmp_path / "results" / "validation" / "real").glob("*.json"))) == 3
    torch.set_num_threads(1)


def test_overrides_are_dvc_style_keys_with_yaml_values():
    assert nested_overrides(["gan.cdcgan.epochs=150", "gan.cdcgan.augment=[color, translation]",
                             "sample.keep=all"]) == {
        "gan": {"cdcgan": {"epochs": 150, "augment": ["color", "translation"]}}, "sample": {"keep": "all"}}
    with pytest.raises(ParamsError, match="key=value"):
        nested_overrides(["gan.cdcgan.epochs"])


def test_overrides_take_dvc_exp_runs_plus_for_a_key_the_file_leaves_out(tmp_path):
    """params.yaml tells users `-S +gan.sngan.augment=[translation]` for dvc exp run: validate refused
    the same flag as an unknown key '+gan'. With or without '+', the arch's block gets the setting."""
    added = {"gan": {"sngan": {"width": 64}}}
    assert nested_overrides(["+gan.sngan.width=64"]) == nested_overrides(["++gan.sngan.width=64"]) == added
    params = tmp_path / "params.yaml"
    params.write_text(SHIPPED.read_text())
    for flag in ("+gan.sngan.width=64", "gan.sngan.width=64"):
        loaded = load_params(params, nested_overrides([flag]))
        assert loaded.gan.sngan.width == 64 and loaded.gan.cdcgan.width == 32
    with pytest.raises(ParamsError, match="unknown key"):
        load_params(params, nested_overrides(["+gan.sngan.nope=1"]))  # '+' adds settings, not typos
    with pytest.raises(ParamsError, match="deleting a key is not supported"):
        nested_overrides(["~gan.sngan.epochs"])


@pytest.mark.parametrize("args, message", [
    (["cdcgan"], "train.npz: missing (run `dvc repro preprocess`"),
    (["cdcgan", "-S", "gan.cdcgan.epochs=-1"], "gan.cdcgan.epochs"),
    (["cdcgan", "-S", "gan.cdcgan.nope=1"], "unknown key"),
    (["cdcgan", "--at", "0,60"], "--at 0,60: epochs of the training, 1 to"),
    (["cdcgan", "--at", "1000"], "--at 1000: epochs of the training, 1 to"),
    (["wgan_gp"], "wgan_gp"),
    (["cdcgan", "--guidance", "2"], "--guidance: cdcgan has no classifier-free guidance"),
    (["ddpm", "-S", "gan.archs=[ddpm]", "-S", "gan.ddpm.label_dropout=0", "--guidance", "1,2"],
     "--guidance: guidance needs ddpm's unconditional model"),
    (["ddpm", "-S", "gan.archs=[ddpm]", "--guidance", "-1"], "scales are numbers from 0"),
    (["ddpm", "-S", "gan.archs=[ddpm]", "--guidance", "1,nan"], "scales are numbers from 0"),
    (["ddpm", "-S", "gan.archs=[ddpm]", "--guidance", "inf"], "scales are numbers from 0"),
])
def test_what_it_cannot_score_is_one_line(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli(["validate", *args, "--params", str(SHIPPED), "--prepared", str(tmp_path)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1, err



def test_a_killed_validate_goes_on_from_its_checkpoint_and_scores_as_an_uninterrupted_one(tmp_path):
    """A photo validate trains for half an hour or more: killed with -9 after its first score and a few
    checkpoints, the same command goes on from the last checkpoint, says the first score again as the
    interrupted run measured it (without logging it twice) and ends with the very scores, image for image,
    of a run never interrupted; its checkpoints are gone once it finishes."""
    train, val = split(30, 10)
    tiny = {"device": "cpu", "threads": 1, "gan": {"archs": ["cdcgan"], "cdcgan": {
        "epochs": 24, "width": 16, "batch_size": 16, "checkpoint_every": 1, "ema_decay": 0.9}},
        "sample": {"per_class": 20, "keep": "all"}, "classify": {"epochs": 2}}
    command = [sys.executable, "-m", "synthset.cli", "validate", "cdcgan", "--prepared", "prepared", "--filter",
               "no-filter", "--seeds", "1", "--at", "2,24", "--log", "log.jsonl"]
    for name in ("whole", "killed"):
        validate_project(tmp_path / name, train, val, tiny)
    subprocess.run(command, cwd=tmp_path / "whole", check=True, capture_output=True)

    proc = subprocess.Popen(command, cwd=tmp_path / "killed", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoints = tmp_path / "killed" / "results" / "validation" / "checkpoints"
    deadline = time.time() + 300
    while time.time() < deadline:
        markers = list(checkpoints.glob("cdcgan-*/latest.json"))
        if markers and json.loads(markers[0].read_text())["epoch"] >= 6:
            break
        assert proc.poll() is None, "validate finished before it could be killed: make it longer"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    first = [json.loads(line) for line in (tmp_path / "killed" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in first] == [2], "killed after its first score, before its last"

    rerun = subprocess.run(command, cwd=tmp_path / "killed", check=True, capture_output=True, text=True)
    assert "resuming from the checkpoint after epoch" in rerun.stdout
    assert "cdcgan  epoch 2: trained on its images" in rerun.stdout and "(before the interruption)" in rerun.stdout
    whole, killed = ([json.loads(line) for line in (tmp_path / name / "log.jsonl").read_text().splitlines()]
                     for name in ("whole", "killed"))
    assert [r["epoch"] for r in killed] == [2, 24], "each score logged once"
    for a, b in zip(whole, killed):
        assert (a["images_sha256"], a["acc_val_seeds"], a["acc_val"]) == (b["images_sha256"], b["acc_val_seeds"],
                                                                           b["acc_val"])
    assert killed[1]["train_seconds"] >= killed[0]["train_seconds"]  # the time before the kill counts too
    assert not list(checkpoints.iterdir()), "checkpoints are removed after a finished run"


def test_a_second_validate_of_the_same_settings_is_refused_while_one_trains(tmp_path, monkeypatch, capsys):
    """Both would write one checkpoint folder; the lock is a real one, held by another process."""
    train, val = split(30, 10)
    validate_project(tmp_path, train, val, {"device": "cpu", "gan": {"archs": ["cdcgan"], "cdcgan": TINY["cdcgan"]},
                                            "sample": {"per_class": 20, "keep": "all"}, "classify": {"epochs": 2}})
    from synthset.train.checkpoint import run_key

    params = load_params(tmp_path / "params.yaml")
    key = run_key("cdcgan", params.arch("cdcgan"), params.gan.seed, train)
    folder = tmp_path / "results" / "validation" / "checkpoints" / f"cdcgan-{key}"
    folder.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time, zc.lockfile; "
                               "lock = zc.lockfile.LockFile(sys.argv[1]); print('held', flush=True); time.sleep(600)",
                               str(folder / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.chdir(tmp_path)
        with pytest.raises(SystemExit):
            cli(["validate", "cdcgan", "--prepared", "prepared", "--filter", "no-filter", "--seeds", "1"])
        assert "another `synthset validate cdcgan` with the same settings is training there" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    monkeypatch.chdir(tmp_path)
    assert [r["epoch"] for r in score_on_val(params, "cdcgan", train, val, torch.device("cpu"), seeds=1,
                                             filter_folder=tmp_path / "no-filter",
                                             checkpoints=folder.parent)] == [2]  # free again: it runs
