"""Memorisation: a copying generator is flagged, one that draws new images is not."""
import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from synthset.data import load_mnist5k, preprocess
from synthset.figures.memorisation import dcr_histogram_png, knn_panel_png
from synthset.imagesets import ImageSet
from synthset.metrics.memorisation import memorisation, nearest, pixel_vectors


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
