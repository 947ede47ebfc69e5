"""SSIM scoring and selection of generated images (seed 000), vectorised in torch.

Each generated image is scored by its mean SSIM against k random real training images
of its own class; the best-scoring share of each class can be kept as a filtered
synthetic set.

The SSIM is Wang et al. (2004)'s, computed exactly as scikit-image's
``structural_similarity(x, y, data_range=255, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, channel_axis=-1)``: a Gaussian window truncated at 3.5
sigma (radius int(3.5 * 1.5 + 0.5) = 5, so 11x11), K1=0.01, K2=0.03, the SSIM map
averaged over the region skimage keeps after cropping (win-1)/2 pixels per side (where
the window lies wholly inside the image), then averaged over channels.

Small images: skimage refuses a window larger than the image, so for sides below 11 we
use the largest odd window that fits (7 for 8x8) and the sigma that makes skimage derive
exactly that window, sigma = radius / 3.5 (see `gaussian_sigma`). Pass that sigma to
skimage to get the same numbers; at 11 px and above it is the standard 1.5.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from ..imagesets import ImageSet

K1, K2, TRUNCATE = 0.01, 0.03, 3.5
# floats per map in one batch of pairs (16 MB); the handful of maps a batch needs stay ~100-200 MB
BATCH_FLOATS = 1 << 22
# floats of real images' filtered own terms kept at once (128 MB: all of MNIST's 28x28 train
# set, or ~1,300 64x64 RGB images)
CACHE_FLOATS = 1 << 25


def gaussian_sigma(side: int) -> float:
    """The Gaussian sigma SSIM uses at this image side: 1.5, or smaller when the 11x11 window
    does not fit (largest odd window <= side, radius = int(3.5 * sigma + 0.5) as skimage does)."""
    if side < 3:
        raise ValueError(f"SSIM needs images of at least 3x3 pixels, got side {side}")
    if side >= 11:
        return 1.5
    win = side if side % 2 else side - 1
    return ((win - 1) // 2) / TRUNCATE


def _kernel(sigma: float, dtype, device=None) -> torch.Tensor:
    """1-D Gaussian weights as scipy.ndimage builds them (radius int(3.5 sigma + 0.5), sum 1)."""
    r = int(TRUNCATE * sigma + 0.5)
    x = torch.arange(-r, r + 1, dtype=torch.float64)
    w = torch.exp(-0.5 * x * x / (sigma * sigma))
    return (w / w.sum()).to(dtype=dtype, device=device)


def _band(n: int, kernel: torch.Tensor) -> torch.Tensor:
    """(n, n - len(kernel) + 1) matrix whose product with a row is the 'valid' correlation."""
    m, out = len(kernel), n - len(kernel) + 1
    band = torch.zeros(n, out, dtype=kernel.dtype, device=kernel.device)
    cols = torch.arange(out, device=kernel.device)
    for i in range(m):
        band[cols + i, cols] = kernel[i]
    return band


def _gaussian(h: int, w: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The SSIM window for h x w images as a (left, right) pair of band matrices.

    Filtering as left @ x @ right (batched matmuls) is ~13x faster on a CPU than a
    depthwise conv2d with the same separable kernel, and gives the same numbers.
    """
    kernel = _kernel(gaussian_sigma(min(h, w)), torch.float32, device)
    return _band(h, kernel).T.contiguous(), _band(w, kernel)


def _as_float(x) -> torch.Tensor:
    """uint8 (N, H, W, C) numpy, or a float (N, C, H, W) tensor, as float32 (N, C, H, W)."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x).permute(0, 3, 1, 2)
    return x.float()


def _filter(x: torch.Tensor, window) -> torch.Tensor:
    """Separable Gaussian over the last two dims, valid region only (what skimage keeps)."""
    left, right = window
    return left @ (x @ right)


def _own_stats(x: torch.Tensor, window, c1: float, c2: float):
    """Per-image terms of SSIM: local mean, and mean^2 + c1/2 and variance + c2/2, so a pair's
    denominators are plain sums. Filtering these once per image, not once per pair, leaves
    only the cross term x*y to filter per pair."""
    mu, sq = _filter(torch.stack([x, x * x]), window)
    mu2 = mu * mu
    return mu, mu2 + c1 / 2, sq.sub_(mu2).add_(c2 / 2)


def _pair_ssim(x, y, sx, sy, window, c1: float, c2: float) -> torch.Tensor:
    """Mean SSIM map of x vs y (..., C, H, W) given both sides' _own_stats; broadcasts, so one
    generated image (B, 1, ...) meets its k references (B, k, ...) without copies."""
    (mx, lx, vx), (my, ly, vy) = sx, sy
    mxy = mx * my
    num = (2 * mxy + c1).mul_(_filter(x * y, window).sub_(mxy).mul_(2).add_(c2))
    den = (lx + ly).mul_(vx + vy)
    return num.div_(den).mean(dim=(-3, -2, -1))


def ssim_pairs(a, b, data_range: float = 255.0) -> torch.Tensor:
    """SSIM of a[i] against b[i], shape (N,), for a whole batch at once.

    a, b: uint8 numpy (N, H, W, C) or float tensors (N, C, H, W) on the same scale as
    `data_range`. Computed in float32 on the inputs' device.
    """
    x, y = _as_float(a), _as_float(b)
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
    window = _gaussian(*x.shape[-2:], device=x.device)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    return _pair_ssim(x, y, _own_stats(x, window, c1, c2), _own_stats(y, window, c1, c2), window, c1, c2)


def reference_indices(fake: ImageSet, real: ImageSet, k: int, seed: int) -> np.ndarray:
    """(N, k) indices into `real`: for each generated image, k real images of its class,
    without replacement when the class has at least k (seeded, so runs repeat)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    rng = np.random.default_rng(seed)
    refs = np.empty((len(fake), k), dtype=np.int64)
    for c in range(fake.num_classes):
        pool = np.flatnonzero(real.labels == c)
        rows = np.flatnonzero(fake.labels == c)
        if len(rows) and not len(pool):
            raise ValueError(f"class {fake.class_names[c]!r} has no real images to compare with")
        for i in rows:
            refs[i] = rng.choice(pool, k, replace=len(pool) < k)
    return refs


def mean_ssim_to_references(fake: ImageSet, real: ImageSet, k: int, seed: int,
                            batch_size: int | None = None) -> np.ndarray:
    """(N,) mean SSIM of each generated image against k real images of its own class.

    Works class by class, in groups of generated images: the real images a group refers to
    get their own terms filtered once (no more than fit in CACHE_FLOATS, so memory stays
    bounded however large a class is), then the group's generated images go through in
    batches of `batch_size` (by default as many as keep a batch's k pairs near
    BATCH_FLOATS floats per map).
    """
    if fake.image_shape != real.image_shape:
        raise ValueError(f"generated images are {fake.image_shape}, real ones {real.image_shape}")
    refs = reference_indices(fake, real, k, seed)
    batch_size = batch_size or max(1, BATCH_FLOATS // (k * int(np.prod(fake.image_shape))))
    left, right = _gaussian(*fake.image_shape[:2])  # only for the valid region's size
    max_refs = max(k, CACHE_FLOATS // (3 * fake.image_shape[2] * left.shape[0] * right.shape[1]))
    scores = np.empty(len(fake))
    with tqdm(total=len(fake), desc="ssim", unit="img", leave=False) as bar:
        for c in range(fake.num_classes):
            rows = np.flatnonzero(fake.labels == c)
            # a class's whole pool when it fits, else groups whose k draws each cannot exceed the cap
            group = max(1, len(rows) if len(np.unique(refs[rows])) <= max_refs else max_refs // k)
            for g in range(0, len(rows), group):
                part = rows[g:g + group]
                scores[part] = _score_group(fake.images[part], real.images, refs[part], batch_size, bar)
    return scores


def _score_group(fake_images: np.ndarray, real_images: np.ndarray, refs: np.ndarray,
                 batch_size: int, bar) -> np.ndarray:
    """Mean SSIM of each fake_images[i] against real_images[refs[i]], the refs' own terms filtered once."""
    n, k = refs.shape
    window = _gaussian(*fake_images.shape[1:3])
    c1, c2 = (K1 * 255.0) ** 2, (K2 * 255.0) ** 2
    used, where = np.unique(refs, return_inverse=True)
    where = torch.from_numpy(where.reshape(n, k))
    real_u8 = torch.from_numpy(real_images[used]).permute(0, 3, 1, 2)  # floats only per batch
    chunk = batch_size * k
    real_stats = [torch.cat(t) for t in zip(*(_own_stats(real_u8[i:i + chunk].float(), window, c1, c2)
                                              for i in range(0, len(used), chunk)))]
    scores = np.empty(n)
    for i in range(0, n, batch_size):
        x = _as_float(fake_images[i:i + batch_size])
        sx = [t.unsqueeze(1) for t in _own_stats(x, window, c1, c2)]  # (B, 1, C, h, w) meets (B, k, C, h, w)
        j = where[i:i + batch_size]
        s = _pair_ssim(x.unsqueeze(1), real_u8[j].float(), sx, [t[j] for t in real_stats], window, c1, c2)
        scores[i:i + batch_size] = s.mean(1).double().numpy()
        bar.update(len(x))
    return scores


def ssim_table(fake: ImageSet, real: ImageSet, k: int, seed: int) -> pd.DataFrame:
    """One row per generated image: index, label, class_name, ssim."""
    scores = mean_ssim_to_references(fake, real, k, seed)
    return pd.DataFrame({"index": np.arange(len(fake)), "label": fake.labels,
                         "class_name": [fake.class_names[c] for c in fake.labels], "ssim": scores})


def select_top(fake: ImageSet, scores, fraction: float) -> ImageSet:
    """The best `fraction` by SSIM within each class (at least one), so the kept set stays
    balanced; images keep their original order."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    scores = np.asarray(scores, dtype=float)
    if scores.shape != (len(fake),):
        raise ValueError(f"{scores.shape} scores for {len(fake)} images")
    keep = []
    for c in range(fake.num_classes):
        idx = np.flatnonzero(fake.labels == c)
        n = max(1, int(round(fraction * len(idx))))
        keep.append(idx[np.argsort(-scores[idx], kind="stable")[:n]])
    return fake.subset(np.sort(np.concatenate(keep)))


def ssim_summary(table: pd.DataFrame) -> dict:
    """Overall mean / median / std (population) and per-class mean, as plain floats for JSON."""
    s = table.ssim
    return {"mean": float(s.mean()), "median": float(s.median()), "std": float(s.std(ddof=0)),
            "per_class": {str(k): float(v) for k, v in table.groupby("class_name", sort=False).ssim.mean().items()}}
