"""SSIM scoring speed: our batched torch SSIM against a per-pair scikit-image loop.

Both score the same pairs (each "generated" image against k real images of its class,
drawn by the same seeded indices) with the same SSIM settings, in the same run: real
MNIST digits (28x28 gray) standing in for generated ones, and 64x64 RGB vehicle crops
(random pixels when ../shared/data/vehicles, beside the repo, is absent). Prints pairs/s of each and
the ratio (target >= 50x on a CPU). Torch gets --threads (default 1, the one core
skimage's loop uses, and immune to the slowdown torch's thread pool suffers when another
process holds the other cores). Not a test.

Usage line:
    python benchmarks/ssim_scoring.py [--images 500] [--rgb-images 200] [--k 10] [--threads 1]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage.metrics import structural_similarity

from synthset.data import load_mnist5k, preprocess, resize_center_crop
from synthset.imagesets import ImageSet
from synthset.metrics.ssim import gaussian_sigma, mean_ssim_to_references, reference_indices

VEHICLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "vehicles"  # beside the repo


def skimage_loop(fake: ImageSet, real: ImageSet, k: int, seed: int) -> np.ndarray:
    """The straightforward way: one structural_similarity call per pair."""
    refs = reference_indices(fake, real, k, seed)
    sigma = gaussian_sigma(min(fake.image_shape[:2]))
    return np.array([np.mean([structural_similarity(fake.images[i], real.images[j], data_range=255,
                                                    gaussian_weights=True, sigma=sigma,
                                                    use_sample_covariance=False, channel_axis=-1)
                              for j in refs[i]]) for i in range(len(fake))])


def compare(name: str, fake: ImageSet, real: ImageSet, k: int) -> None:
    t0 = time.perf_counter()
    ours = mean_ssim_to_references(fake, real, k, seed=0)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = skimage_loop(fake, real, k, seed=0)
    t_ref = time.perf_counter() - t0
    pairs = len(fake) * k
    print(f"{name}: {len(fake)} images x k={k} = {pairs} pairs; skimage loop {pairs / t_ref:8.0f} pairs/s "
          f"({t_ref:.2f} s), ours {pairs / t_ours:8.0f} pairs/s ({t_ours:.2f} s), ratio {t_ref / t_ours:.0f}x "
          f"(max |diff| {np.abs(ours - ref).max():.1e})")


def rgb_images(n_per_class: int) -> ImageSet:
    """The first n photos of each vehicle class, centre-cropped to 64x64 as preprocess does."""
    if VEHICLES.is_dir():
        classes = sorted(d for d in VEHICLES.iterdir() if d.is_dir())
        files = [(f, c) for c, d in enumerate(classes) for f in sorted(d.glob("*.jpg"))[:n_per_class]]
        images = [resize_center_crop(np.asarray(Image.open(f).convert("RGB")), 64) for f, _ in files]
        return ImageSet(np.stack(images), [c for _, c in files], [d.name for d in classes])
    rng = np.random.default_rng(1)
    n = 6 * n_per_class
    return ImageSet(rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8), np.arange(n) % 6, [str(c) for c in range(6)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=500, help="generated 28x28 digits")
    ap.add_argument("--rgb-images", type=int, default=200, help="generated 64x64 RGB images")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads for ours")
    ns = ap.parse_args()
    torch.set_num_threads(ns.threads)
    print(f"torch threads: {torch.get_num_threads()}")
    digits = preprocess(load_mnist5k(), 28, "gray")
    pick = np.random.default_rng(0).choice(len(digits), ns.images, replace=False)
    compare("MNIST 28x28 gray", ImageSet(digits.images[pick], digits.labels[pick], digits.class_names), digits, ns.k)
    real = rgb_images(100)
    pick = np.random.default_rng(0).choice(len(real), ns.rgb_images, replace=False)
    compare("64x64 RGB", ImageSet(real.images[pick], real.labels[pick], real.class_names), real, ns.k)


if __name__ == "__main__":
    main()
