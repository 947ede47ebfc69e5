"""Seed 003's PCA baseline on real data (scikit-learn's 8x8 digits), and score_set
that evaluates it like a GAN."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import shipped
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from synthset.baselines.pca import max_components, pca_images
from synthset.baselines.scoring import References, score_set
from synthset.classify import fit, predict_proba
from synthset.classify.load import save_classifier
from synthset.imagesets import ImageSet

CPU = torch.device("cpu")


def digits_sets(per_class_train: int = 60) -> tuple[ImageSet, ImageSet]:
    x, y = load_digits(return_X_y=True)
    images = np.rint(x * 255 / 16).astype(np.uint8).reshape(-1, 8, 8, 1)
    names = [str(d) for d in range(10)]
    train = np.concatenate([np.flatnonzero(y == c)[:per_class_train] for c in range(10)])
    test = np.setdiff1d(np.arange(len(y)), train)
    return ImageSet(images[train], y[train], names), ImageSet(images[test], y[test], names)


@pytest.fixture(scope="module")
def digits():
    return digits_sets()


def test_sample_mode_makes_balanced_new_images_reproducibly(digits):
    train, _ = digits
    made = pca_images(train, 4, "sample", 30, seed=0)
    assert made.components == 4
    assert made.images.images.dtype == np.uint8 and made.images.image_shape == (8, 8, 1)
    assert np.bincount(made.images.labels).tolist() == [30] * 10
    again = pca_images(train, 4, "sample", 30, seed=0)
    other = pca_images(train, 4, "sample", 30, seed=1)
    assert np.array_equal(made.images.images, again.images.images)
    assert not np.array_equal(made.images.images, other.images.images)


def test_filtered_sample_mode_keeps_what_the_filter_agrees_with_and_reconstruct_is_untouched(digits):
    """sample.keep: agreeing applies to PCA's new images as to a GAN's. PCA's digits are
    typical ones (a LeNet agrees with 99.7 % even at n = 1), so a softmax judge of three
    epochs, which disagrees with about a fifth of them, gives the filter work to do."""
    train, _ = digits
    judge = fit(train, "softmax", 3, 32, 1e-3, 0, CPU)
    made = pca_images(train, 1, "sample", 30, 0, "agreeing", judge, CPU)
    assert np.bincount(made.images.labels).tolist() == [30] * 10
    assert (predict_proba(judge, made.images.images, CPU).argmax(1) == made.images.labels).all()
    assert made.kept_share < 0.95
    plain = pca_images(train, 1, "sample", 30, 0)
    assert plain.kept_share == 1.0 and (predict_proba(judge, plain.images.images, CPU).argmax(1)
                                        != plain.images.labels).any()
    copies = pca_images(train, 4, "reconstruct", 20, 0, "agreeing", judge, CPU)
    assert copies.kept_share == 1.0
    assert np.array_equal(copies.images.images, pca_images(train, 4, "reconstruct", 20, 0).images.images)


def test_sample_mode_matches_the_class_mean_and_leading_variance(digits):
    train, _ = digits
    made = pca_images(train, 2, "sample", 4000, seed=0).images
    x = train.of_class(3).reshape(60, -1).astype(float)
    fake = made.of_class(3).reshape(4000, -1).astype(float)
    assert np.abs(fake.mean(0) - x.mean(0)).max() < 8  # of 255: rounding and clipping at 0 shift it a little
    pca = PCA(2).fit(x)
    centred = fake - x.mean(0)
    along = centred @ pca.components_.T
    # clipping to [0, 255] trims the tails a little; a std-for-variance slip would be off 200x
    assert np.all((along.var(0) > 0.7 * pca.explained_variance_) & (along.var(0) < 1.05 * pca.explained_variance_))
    off_plane = centred - along @ pca.components_
    assert off_plane.var(0).sum() < 0.1 * along.var(0).sum()  # the samples live in the 2-component plane


def test_reconstruct_at_full_rank_returns_the_train_images(digits):
    train, _ = digits
    n = max_components(train)
    assert n == 59  # 60 centred images span 59 directions
    made = pca_images(train, 500, "reconstruct", 60, seed=0)
    assert made.components == 59 and made.explained_variance == pytest.approx(1.0)
    for c in range(10):
        got = np.sort(made.images.of_class(c).reshape(60, -1).astype(int), axis=0)
        want = np.sort(train.of_class(c).reshape(60, -1).astype(int), axis=0)
        assert np.abs(got - want).max() <= 1


def test_reconstruct_with_few_components_blurs_distinct_train_images(digits):
    train, _ = digits
    one, many = (pca_images(train, n, "reconstruct", 20, seed=0) for n in (1, 16))
    assert one.explained_variance < many.explained_variance < 1
    assert len(np.unique(one.images.images.reshape(200, -1), axis=0)) > 150  # 20 different train images a class
    source = train.images.reshape(len(train), -1).astype(float)
    err = [np.abs(m.images.images.reshape(200, -1)[:, None].astype(float) - source[None]).sum(2).min(1).mean()
           for m in (one, many)]
    assert err[1] < err[0] / 2  # more components: closer to the private images


def test_unknown_mode_is_a_clear_error(digits):
    with pytest.raises(ValueError, match="sample, reconstruct"):
        pca_images(digits[0], 4, "interpolate", 5, seed=0)


@pytest.fixture(scope="module")
def references(digits, tmp_path_factory):
    train, held_out = digits
    val = ImageSet(held_out.images[::2], held_out.labels[::2], held_out.class_names)
    test = ImageSet(held_out.images[1::2], held_out.labels[1::2], held_out.class_names)
    params = shipped({"classify": {"model": "softmax", "epochs": 20},
                           "evaluate": {"kid_subsets": 10, "kid_subset_size": 100, "ssim_k": 3}})
    c = params.classify
    model = fit(train, c.model, c.epochs, c.batch_size, c.lr, c.seed, CPU)
    folder = save_classifier(model, c.model, train, tmp_path_factory.mktemp("classifier"))
    return References.load(train, val, test, str(folder), params, CPU), params


def test_score_set_flags_full_rank_reconstructions_as_copies_and_samples_as_new(references):
    refs, params = references
    copies = score_set(pca_images(refs.train, 500, "reconstruct", 60, 0).images, refs, params, CPU).numbers
    made = score_set(pca_images(refs.train, 8, "sample", 60, 0).images, refs, params, CPU)
    new = made.numbers
    # the answers behind the accuracy are kept for paired comparisons, and the interval holds it
    assert made.correct.shape == (1, len(refs.test)) and made.correct.mean() == new["acc_fake"]
    assert new["acc_fake_low"] < new["acc_fake"] < new["acc_fake_high"]
    assert copies["copy_share"] == 1.0
    assert new["copy_share"] < 0.2
    assert copies["fid"] < new["fid"]
    # the digits are easy: both sets are recognisable and train a useful classifier
    for card in (copies, new):
        assert card["gan_test_accuracy"] > 0.8 and card["acc_fake"] > 0.7 and card["acc_val"] > 0.7
        assert set(card) >= {"inception_score", "kid", "precision", "recall", "density", "coverage"}


def test_score_set_of_one_blob_per_class_scores_poorly(references):
    refs, params = references
    n1 = pca_images(refs.train, 1, "sample", 60, 0).images
    blobs = ImageSet(np.repeat(n1.images[::60], 60, axis=0), n1.labels, n1.class_names)  # one image per class
    card = score_set(blobs, refs, params, CPU).numbers
    varied = score_set(pca_images(refs.train, 8, "sample", 60, 0).images, refs, params, CPU).numbers
    assert card["recall"] < 0.1 < varied["recall"]
    assert card["coverage"] < varied["coverage"] / 2
    assert card["fid"] > varied["fid"]
