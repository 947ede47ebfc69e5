"""SSIM: ours equals scikit-image's on the same pairs, and scores and selects what it should."""

import numpy as np
import pytest
import torch
from conftest import VEHICLES
from PIL import Image
from skimage.metrics import structural_similarity

from synthset.data import load_digits, load_mnist5k, preprocess, resize_center_crop
from synthset.figures.ssim import best_worst_png, ssim_histogram_png
from synthset.imagesets import ImageSet
from synthset.metrics import ssim
from synthset.metrics.ssim import (
    gaussian_sigma,
    mean_ssim_to_references,
    select_top,
    ssim_pairs,
    ssim_summary,
    ssim_table,
)


def reference(a, b):
    """skimage's SSIM pair by pair, with the settings (and small-image sigma) ours claims to match."""
    sigma = gaussian_sigma(min(a.shape[1:3]))
    return np.array([structural_similarity(x, y, data_range=255, gaussian_weights=True, sigma=sigma,
                                           use_sample_covariance=False, channel_axis=-1) for x, y in zip(a, b)])


def assert_matches_skimage(a, b):
    assert np.abs(ssim_pairs(a, b).numpy() - reference(a, b)).max() <= 1e-3


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: torch's pool slows many-fold when another process holds the other cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def mnist():
    return preprocess(load_mnist5k(), 28, "gray")


def test_matches_skimage_on_mnist_digits(mnist):
    assert_matches_skimage(mnist.images[:40], mnist.images[40:80])


def test_matches_skimage_on_8x8_digits():
    digits = preprocess(load_digits(), 8, "gray").images
    assert gaussian_sigma(8) < 1.5  # skimage cannot fit an 11x11 window: both use 7x7
    assert_matches_skimage(digits[:40], digits[40:80])


@pytest.mark.skipif(not VEHICLES.is_dir(), reason=f"{VEHICLES} absent (real RGB vehicle photos)")
def test_matches_skimage_on_rgb_vehicle_crops():
    files = [f for d in sorted(VEHICLES.iterdir()) if d.is_dir() for f in sorted(d.glob("*.jpg"))[:4]]
    crops = np.stack([resize_center_crop(np.asarray(Image.open(f).convert("RGB")), 64) for f in files])
    assert crops.shape[1:] == (64, 64, 3) and len(crops) >= 8
    assert_matches_skimage(crops, np.roll(crops, 1, axis=0))


def test_accepts_float_tensors_nchw(mnist):
    a, b = mnist.images[:8], mnist.images[8:16]
    as_tensor = [torch.from_numpy(x).permute(0, 3, 1, 2).float() for x in (a, b)]
    assert torch.allclose(ssim_pairs(*as_tensor), ssim_pairs(a, b))


def test_known_answers(mnist):
    x = mnist.images[:10]
    assert np.allclose(ssim_pairs(x, x).numpy(), 1, atol=1e-6)
    rng = np.random.default_rng(1)
    light = np.clip(x + rng.normal(0, 5, x.shape), 0, 255).astype(np.uint8)
    heavy = np.clip(x + rng.normal(0, 60, x.shape), 0, 255).astype(np.uint8)
    assert (ssim_pairs(x, light) > ssim_pairs(x, heavy)).all()
    assert (ssim_pairs(x, 255 - x) < 0.2).all()


def test_references_come_from_the_same_class_only():
    # class 0 real images are all black, class 1 all white: a black fake scores 1 only against class 0
    real = ImageSet(np.repeat(np.array([0, 255], np.uint8), 5).reshape(10, 1, 1, 1) * np.ones((1, 12, 12, 1), np.uint8),
                    np.repeat([0, 1], 5), ["black", "white"])
    fake = ImageSet(np.zeros((6, 12, 12, 1), np.uint8), [0, 0, 0, 1, 1, 1], real.class_names)
    scores = mean_ssim_to_references(fake, real, k=3, seed=0, batch_size=2)
    assert np.allclose(scores[:3], 1) and (scores[3:] < 0.01).all()


def test_copies_of_a_class_score_higher_against_it_and_runs_repeat(mnist):
    fake = ImageSet(mnist.images[::50], mnist.labels[::50], mnist.class_names)  # 10 real images per class
    same = mean_ssim_to_references(fake, mnist, k=20, seed=0)
    shuffled = ImageSet(fake.images, (fake.labels + 1) % 10, fake.class_names)
    other = mean_ssim_to_references(shuffled, mnist, k=20, seed=0)
    assert same.mean() > other.mean() + 0.1
    assert np.array_equal(same, mean_ssim_to_references(fake, mnist, k=20, seed=0, batch_size=7))
    assert not np.array_equal(same, mean_ssim_to_references(fake, mnist, k=20, seed=1))


def test_bounded_cache_and_missing_classes_change_nothing(mnist, monkeypatch):
    fake = ImageSet(mnist.images[:60:2], mnist.labels[:60:2] % 3, mnist.class_names)  # classes 3-9 have no fakes
    whole = mean_ssim_to_references(fake, mnist, k=4, seed=0)
    monkeypatch.setattr(ssim, "CACHE_FLOATS", 1)  # forces groups of one generated image each
    assert np.allclose(mean_ssim_to_references(fake, mnist, k=4, seed=0), whole, atol=1e-6)


def test_select_top_keeps_the_best_per_class():
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1) * np.ones((1, 4, 4, 1), np.uint8)
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    scores = np.array([.1, .9, .5, .7, .2, .3, .8, .1, .6, .4])  # class 1 scores far below class 0's best
    fake = ImageSet(images, labels, ["a", "b"])
    kept = select_top(fake, scores, 0.5)
    assert kept.images[:, 0, 0, 0].tolist() == [1, 3, 6, 8, 9]  # top 2 of 4 and top 3 of 6, original order
    assert np.bincount(kept.labels).tolist() == [2, 3]
    tiny = select_top(fake, scores, 0.01)
    assert tiny.images[:, 0, 0, 0].tolist() == [1, 6]  # at least one per class


def test_table_summary_and_figures(mnist, tmp_path):
    fake = ImageSet(mnist.images[:30], mnist.labels[:30], mnist.class_names)
    table = ssim_table(fake, mnist, k=3, seed=0)
    assert list(table.columns) == ["index", "label", "class_name", "ssim"] and len(table) == 30
    summary = ssim_summary(table)
    assert all(isinstance(v, float) for v in summary["per_class"].values())
    assert summary["mean"] == pytest.approx(table.ssim.mean())
    for png in (ssim_histogram_png(table, tmp_path / "h.png", "t"), best_worst_png(fake, table, tmp_path / "b.png")):
        assert png.read_bytes()[:4] == b"\x89PNG"
