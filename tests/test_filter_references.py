"""The calibrated attack on the released filter: reference filters that saw no candidate take out
what makes an image easy for any classifier, and leave what the filter learned from it; the
filter_references stage trains them on the train images that are no candidate, as the audit picks
its candidates."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import yaml
from conftest import shipped
from hypothesis import given, settings
from hypothesis import strategies as st

from synthset.classify import fit
from synthset.data import load_digits, preprocess
from synthset.imagesets import ImageSet
from synthset.metrics.audit import (
    audit_sets,
    auc,
    calibrated_scores,
    classifier_loss_scores,
    load_references,
    outside,
    save_references,
)

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def digits() -> ImageSet:
    s = preprocess(load_digits(), 8, "gray")
    return s.subset(np.random.default_rng(0).permutation(len(s)))


def noisy(images: ImageSet, std: float, seed: int) -> ImageSet:
    """The same digits, harder for any classifier: pixel noise."""
    noise = np.random.default_rng(seed).normal(0, std, images.images.shape)
    return ImageSet(np.clip(images.images + noise, 0, 255).astype(np.uint8), images.labels, images.class_names)


def test_calibration_takes_out_difficulty_that_the_loss_attack_reads_as_membership(digits):
    """Neither candidate set was trained on, but the "non-members" are noisy digits: the loss attack
    on the filter calls the clean ones members. Reference filters, which saw neither, find the same
    difficulty; after subtracting them the attack is at chance, as it should be."""
    torch.set_num_threads(1)
    clean, hard = digits.subset(slice(0, 100)), noisy(digits.subset(slice(100, 200)), 120, 0)
    target = fit(digits.subset(slice(200, 800)), "lenet", 20, 50, 1e-3, 0, CPU, average_epochs=0)
    references = [fit(digits.subset(slice(800, 1400)), "lenet", 20, 50, 1e-3, seed, CPU, average_epochs=0)
                  for seed in (1, 2)]

    def scores(model, s):
        return classifier_loss_scores(model, s.images, s.labels, CPU)

    loss_auc = auc(scores(target, clean), scores(target, hard))
    calibrated_auc = auc(calibrated_scores(scores(target, clean), np.array([scores(r, clean) for r in references])),
                         calibrated_scores(scores(target, hard), np.array([scores(r, hard) for r in references])))
    assert loss_auc > 0.75  # measured: 0.87
    assert abs(calibrated_auc - 0.5) < 0.12, (loss_auc, calibrated_auc)  # measured: 0.52


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 300), data=st.data())
def test_a_reference_pool_is_every_image_but_the_candidates(n, data):
    rows = np.array(sorted(data.draw(st.sets(st.integers(0, n - 1)))), dtype=np.int64)
    pool = outside(n, rows)
    assert not set(pool) & set(rows) and len(pool) + len(rows) == n and (np.diff(pool) > 0).all()


def test_references_saved_for_other_candidates_are_refused(tmp_path):
    rows = audit_sets(100, 30, 40, None, 0)
    scores = {name: np.random.default_rng(0).normal(size=(2, len(getattr(rows, name)))) for name in rows.NAMES}
    save_references(tmp_path / "r.npz", rows, scores)
    loaded = load_references(tmp_path / "r.npz", rows)
    for got, name in zip(loaded, rows.NAMES):
        np.testing.assert_array_equal(got, scores[name])
    with pytest.raises(ValueError, match="not this audit's candidates"):
        load_references(tmp_path / "r.npz", audit_sets(100, 30, 40, None, 1))  # another evaluate.seed
    with pytest.raises(ValueError, match="not this audit's candidates"):
        load_references(tmp_path / "r.npz", audit_sets(100, 30, 40, 20, 0))  # fewer candidates
    with pytest.raises(ValueError, match="expected"):
        calibrated_scores(np.zeros(5), np.zeros((2, 4)))


def run_stage(tmp_path, train, val, test, keep="agreeing", candidates=None, references=2):
    params = shipped({"device": "cpu", "threads": 1, "sample": {"keep": keep},
                      "classify": {"model": "lenet", "epochs": 200, "batch_size": 20, "average_epochs": 0,
                                   "augment": []},
                      "evaluate": {"audit_candidates": candidates, "audit_references": references}})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params.model_dump()))
    for name, s in (("train", train), ("val", val), ("test", test)):
        s.save(tmp_path / f"{name}.npz")
    return params, subprocess.run(
        [sys.executable, "-m", "synthset.stages.filter_references", "--params", str(tmp_path / "params.yaml"),
         "--train", str(tmp_path / "train.npz"), "--val", str(tmp_path / "val.npz"),
         "--test", str(tmp_path / "test.npz"), "--out", str(tmp_path / "references.npz")],
        capture_output=True, text=True)


def test_the_stage_trains_its_references_without_the_candidates(digits, tmp_path):
    """40 train digits, 20 of them member candidates, and a recipe that learns its images by heart:
    the filter (all 40) finds its members, the stage's references (the other 20) find nothing,
    as for the unseen test digits."""
    train, val, test = digits.subset(slice(0, 40)), digits.subset(slice(40, 60)), digits.subset(slice(60, 100))
    params, proc = run_stage(tmp_path, train, val, test, candidates=20)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 reference filters (lenet, 20 train images, none a candidate)" in proc.stdout
    rows = audit_sets(40, 20, 40, 20, params.evaluate.seed)
    members, nonmembers, control = load_references(tmp_path / "references.npz", rows)
    assert members.shape == nonmembers.shape == control.shape == (2, 20)
    c = params.classify
    target = fit(train, c.model, c.epochs, c.batch_size, c.lr, c.seed, CPU, average_epochs=0)
    m, n = train.subset(rows.members), test.subset(rows.nonmembers)
    assert auc(classifier_loss_scores(target, m.images, m.labels, CPU),
               classifier_loss_scores(target, n.images, n.labels, CPU)) > 0.85  # measured: 0.90
    assert auc(members.mean(0), nonmembers.mean(0)) < 0.75  # measured: 0.51


def test_the_stage_trains_nothing_when_no_filter_is_released_and_refuses_an_empty_pool(digits, tmp_path):
    train, val, test = digits.subset(slice(0, 40)), digits.subset(slice(40, 60)), digits.subset(slice(60, 100))
    params, proc = run_stage(tmp_path, train, val, test, keep="all")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert load_references(tmp_path / "references.npz", audit_sets(40, 20, 40, None, params.evaluate.seed)) == []
    assert "no reference filter: sample.keep is all" in proc.stdout
    _, proc = run_stage(tmp_path, train, val, test)  # 40 train, 40 test: every train digit is a candidate
    assert proc.returncode != 0 and "every train image is a member candidate" in proc.stderr


def test_a_killed_stage_starts_again_after_its_last_finished_fit(digits, tmp_path):
    """Killed with -9 after its first reference filter, the stage run again reuses that fit (the photo
    preset's take minutes each) and writes what an uninterrupted run writes, bit for bit; the kept fits
    go when it ends."""
    train, val, test = digits.subset(slice(0, 60)), digits.subset(slice(60, 80)), digits.subset(slice(80, 120))
    params = shipped({"device": "cpu", "threads": 1, "sample": {"keep": "agreeing"},
                      "classify": {"model": "lenet", "epochs": 150, "batch_size": 20, "average_epochs": 10,
                                   "augment": ["translation"]},
                      "evaluate": {"audit_candidates": 20, "audit_references": 3}})
    for run in ("whole", "killed"):
        (tmp_path / run).mkdir()
        (tmp_path / run / "params.yaml").write_text(yaml.safe_dump(params.model_dump()))
        for name, s in (("train", train), ("val", val), ("test", test)):
            s.save(tmp_path / run / f"{name}.npz")
    command = [sys.executable, "-m", "synthset.stages.filter_references", "--train", "train.npz", "--val", "val.npz",
               "--test", "test.npz", "--out", "references.npz"]
    subprocess.run(command, cwd=tmp_path / "whole", check=True, capture_output=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(command, cwd=killed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    # finished fits only: a fit being written sits beside them under a hidden temporary name ending .pt
    while time.time() < deadline and not list((killed / "results/checkpoints/resume").glob("*/fit-*.pt")):
        assert proc.poll() is None, "the stage ended before a fit was kept"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = len(list((killed / "results/checkpoints/resume").glob("*/fit-*.pt")))
    assert 1 <= kept < 3 and not (killed / "references.npz").exists(), "killed after its last fit: make fits longer"

    again = subprocess.run(command, cwd=killed, capture_output=True, text=True, check=True)
    assert again.stderr.count("a fit finished before this stage was stopped, reused") == kept, again.stderr[-2000:]
    whole, resumed = np.load(tmp_path / "whole/references.npz"), np.load(killed / "references.npz")
    assert sorted(whole.files) == sorted(resumed.files)
    for name in whole.files:
        assert np.array_equal(whole[name], resumed[name]), name
    assert not list((killed / "results/checkpoints/resume").iterdir()), "the kept fits go when the stage ends"
