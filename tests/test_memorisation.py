"""Memorisation: a copying generator is flagged, one that draws new images is not."""
import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from synthset.data import load_mnist5k, preprocess
from synthset.figures.memorisation import dcr_histogram_png, knn_panel_png
from synthset.imagesets import ImageSet
from synthset.metrics.memorisation import copy_share_interval, memorisation, nearest, pixel_vectors


@pytest.fixture(scope="module")
def splits():
    s = preprocess(load_mnist5k(), 28, "gray")
    perm = np.random.default_rng(0).permutation(len(s))
    parts = np.split(perm, [3000, 4000])
    return [ImageSet(s.images[p], s.labels[p], s.class_names) for p in parts]  # train, test, unseen


def check(train, test, fake, **kw):
    v = pixel_vectors
    return memorisation(v(train), train.labels, v(test), test.labels, v(fake), fake.labels, train.class_names, **kw)


def test_nearest_matches_sklearn(splits):
    train, test, _ = splits
    q, r = pixel_vectors(test)[:200], pixel_vectors(train)
    d, i = nearest(q, r, 3, batch_size=64)
    ref_d, ref_i = NearestNeighbors(n_neighbors=3, algorithm="brute").fit(r).kneighbors(q)
    assert np.allclose(d, ref_d, atol=1e-4)
    assert (i[:, 0] == ref_i[:, 0]).mean() > 0.99


def test_a_generator_that_copies_is_flagged(splits, tmp_path):
    train, test, _ = splits
    rng = np.random.default_rng(0)
    pick = rng.choice(len(train), 500, replace=False)
    copies = np.clip(train.images[pick].astype(int) + rng.integers(-1, 2, train.images[pick].shape), 0, 255)
    fake = ImageSet(copies.astype(np.uint8), train.labels[pick], train.class_names)
    result = check(train, test, fake, quantile=0.05)
    assert result.summary["copy_share"] > 0.9
    assert set(result.summary["copy_share_per_class"]) == set(train.class_names)
    knn_panel_png(fake, train, result, tmp_path / "knn.png")
    dcr_histogram_png(result.fake_dcr, result.test_dcr, result.threshold, tmp_path / "dcr.png", "t")
    assert (tmp_path / "knn.png").stat().st_size > 0 and (tmp_path / "dcr.png").stat().st_size > 0
    assert np.array_equal(result.fake_neighbours[:, 0], pick)  # the nearest record is the copied one


def test_new_real_images_are_not_flagged(splits):
    train, test, unseen = splits
    result = check(train, test, unseen, quantile=0.05)
    assert result.summary["copy_share"] < 0.15
    assert result.summary["test_share"] == pytest.approx(0.05, abs=0.01)
    assert check(train, test, unseen).summary == result.summary


@pytest.mark.parametrize("scale", [0.8, 1.0])
def test_the_copy_share_interval_covers_the_true_share_as_often_as_it_says(scale):
    """Distances to the closest training image drawn from known laws: 640 unseen images at Exp(1), whose
    5 % quantile is the threshold, and 3,200 generated ones at Exp(scale) (0.8: a generator a little closer
    to its training images than unseen images are). Over 200 draws the 95 % intervals of the share and of
    its ratio to the unseen share hold the true values about 95 % of the time (measured: 94 to 96 %)."""
    rng = np.random.default_rng(1)
    quantile = 0.05
    truth = 1 - np.exp(np.log(1 - quantile) / scale)  # P(Exp(scale) <= the true 5 % quantile of Exp(1))
    share_held = ratio_held = 0
    for draw in range(200):
        test, fake = rng.exponential(1, 640), rng.exponential(scale, 3200)
        found = copy_share_interval(fake, test, quantile, 200, 0.95, draw)
        share_held += found["copy_share_low"] <= truth <= found["copy_share_high"]
        ratio_held += found["copy_ratio_low"] <= truth / quantile <= found["copy_ratio_high"]
    assert 0.9 <= share_held / 200 <= 0.99 and 0.9 <= ratio_held / 200 <= 0.99


def test_a_copying_generators_interval_is_all_copies_and_unseen_images_sit_at_one(splits):
    train, test, unseen = splits
    copied = check(train, test, ImageSet(train.images[:300], train.labels[:300], train.class_names))
    found = copy_share_interval(copied.fake_dcr, copied.test_dcr, 0.05, 200, 0.95, 0)
    assert found["copy_share_low"] == found["copy_share_high"] == 1.0
    fresh = check(train, test, unseen)
    found = copy_share_interval(fresh.fake_dcr, fresh.test_dcr, 0.05, 200, 0.95, 0)
    assert found["copy_share_low"] <= fresh.summary["copy_share"] <= found["copy_share_high"]
    assert found["copy_ratio_low"] <= 1 <= found["copy_ratio_high"]  # unseen real images copy nothing
