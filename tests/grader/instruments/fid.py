"""FID and KID with pytorch-fid's Inception (2048-d pool features), written to be read.

Features: the FID Inception of pytorch-fid (inception.py), exactly as `python -m pytorch_fid` sees a gray PNG.

Distance: the Fréchet distance between Gaussians fitted to two feature sets,
    FID = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr sqrt(S1 S2).
With n1, n2 << 2048 both covariances are low rank, and tr sqrt(S1 S2) = ||X1 X2^T||_* / sqrt((n1-1)(n2-1)) for
the centred feature matrices X: the nuclear norm of an n1 x n2 matrix. It is exact (no sqrtm, no eps), agrees
with pytorch-fid's calculate_frechet_distance to ~1e-5, and takes ~1 s instead of ~30-190 s on 2 cores.
"""
import hashlib
import os
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import config
from ..images import load_folder
from .weights import InceptionWeights


def features(net, images: np.ndarray, desc: str = "Inception features") -> np.ndarray:
    """uint8 [N, H, W] -> float64 [N, 2048], by the Inception of inception.py."""
    out = []
    for start in tqdm(range(0, len(images), config.INCEPTION_BATCH), desc=desc, unit="batch", leave=False,
                      disable=None):
        out.append(net(images[start:start + config.INCEPTION_BATCH]))
    return np.concatenate(out)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Exact FID between two feature sets [n1, d] and [n2, d] (see the module docstring)."""
    if a.shape[1] < min(len(a), len(b)):
        return frechet_distance_small(a, b)
    mu_a, mu_b = a.mean(0), b.mean(0)
    xa, xb = a - mu_a, b - mu_b
    na, nb = len(a) - 1, len(b) - 1
    tr_sqrt = np.linalg.svd(xa @ xb.T, compute_uv=False).sum() / np.sqrt(na * nb)
    fid = ((mu_a - mu_b) ** 2).sum() + (xa ** 2).sum() / na + (xb ** 2).sum() / nb - 2 * tr_sqrt
    return float(max(fid, 0.0))


def frechet_distance_small(a: np.ndarray, b: np.ndarray) -> float:
    """The same distance for features of fewer dimensions than samples (the digit classifier's 128): through the
    d x d covariances, tr sqrt(S1 S2) = sum of sqrt(eigenvalues of S1^1/2 S2 S1^1/2). Milliseconds, where the
    n1 x n2 SVD can take seconds when BLAS threads contend for two cores."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    fid = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * tr_sqrt
    return float(max(fid, 0.0))


def kernel_inception_distance(a: np.ndarray, b: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """KID: unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3, mean and std over random subsets (Binkowski et al.
    2018). Unbiased, so real-vs-real is ~0 at any sample size, unlike FID."""
    rng = np.random.default_rng(seed)
    m = min(config.KID_SUBSET_SIZE, len(a), len(b))
    d = a.shape[1]
    values = []
    for _ in range(config.KID_SUBSETS):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T) / d + 1) ** 3, ((y @ y.T) / d + 1) ** 3, ((x @ y.T) / d + 1) ** 3
        off = m * (m - 1)
        values.append((kxx.sum() - np.trace(kxx)) / off + (kyy.sum() - np.trace(kyy)) / off - 2 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


SPOT_CHECK_ROWS = 16


def cache_path(weights: InceptionWeights, folder: Path, cache_dir: Path) -> Path:
    """Named by the weights and every image's bytes, so that a changed image or other weights never meet
    stale numbers."""
    key = hashlib.sha256(weights.sha256.encode())
    for png in sorted(Path(folder).glob("*.png")):
        key.update(png.name.encode() + hashlib.sha256(png.read_bytes()).digest())
    return Path(cache_dir) / f"features-{Path(folder).name}-{key.hexdigest()[:16]}.npy"


def cached_features(net, weights: InceptionWeights, folder: Path, cache_dir: Path) -> np.ndarray:
    """Features of a fixed image folder, cached on disk (cache_path). A cache file is trusted only after a spot
    check: a few rows, chosen unpredictably, recomputed (student code ran on this machine before, and CI caches
    are restored from earlier runs). Stored as float32, which both Inception backends compute: no loss."""
    path = cache_path(weights, folder, cache_dir)
    images = load_folder(folder)
    if path.is_file():
        try:
            cached = np.load(path, allow_pickle=False).astype(np.float64)
            if passes_spot_check(net, images, cached):
                return cached
        except (OSError, ValueError):
            pass  # torn, tampered or foreign: recompute below
    feats = features(net, images, desc=f"{Path(folder).name} features (cached after this run)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, feats.astype(np.float32))
    tmp.replace(path)
    return feats


def passes_spot_check(net, images: np.ndarray, cached: np.ndarray) -> bool:
    if cached.shape != (len(images), 2048) or not np.isfinite(cached).all():
        return False
    rows = np.random.default_rng(int.from_bytes(os.urandom(8), "little")).choice(
        len(images), min(SPOT_CHECK_ROWS, len(images)), replace=False)
    fresh = features(net, images[rows], desc="checking cached features")
    return bool(np.allclose(fresh, cached[rows], rtol=1e-3, atol=1e-3 * float(np.abs(fresh).max())))
