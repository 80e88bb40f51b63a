"""Simple, offline measures of a generator's output: SWD, memorisation, Fréchet and kernel
distances (the distances themselves: :mod:`gan_helpers.core.distances`)."""
from __future__ import annotations

import numpy as np

from ..core.distances import _as_float, nearest_neighbours, twin_threshold


# --- Sliced Wasserstein distance on Laplacian-pyramid patches (Karras et al. 2018) -------

_BLUR = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def _blur(images: np.ndarray) -> np.ndarray:
    """Separable 5-tap binomial blur of (N, H, W, C), reflecting at the edges."""
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    height, width = images.shape[1:3]
    rows = sum(_BLUR[i] * padded[:, i:i + height] for i in range(5))
    return sum(_BLUR[i] * rows[:, :, i:i + width] for i in range(5))


def laplacian_pyramid(images, min_size: int = 16) -> list[np.ndarray]:
    """Split images into band-pass levels, finest first, down to ``min_size`` px.

    Each level but the last holds the detail lost by halving the resolution; the last
    is the blurred ``min_size`` px image itself. A 64 px image gives levels of 64, 32, 16.
    """
    current = np.asarray(images, np.float64)
    if current.ndim != 4:
        raise ValueError(f"images must be (N, H, W, C), got shape {current.shape}")
    levels = []
    while current.shape[1] > min_size:
        smaller = _blur(current)[:, ::2, ::2]
        up = np.zeros_like(current)
        up[:, ::2, ::2] = smaller * 4.0
        levels.append(current - _blur(up))
        current = smaller
    levels.append(current)
    return levels


def _patches(level: np.ndarray, per_image: int, size: int, rng: np.random.Generator):
    n, height, width, channels = level.shape
    ys = rng.integers(0, height - size + 1, size=(n, per_image))
    xs = rng.integers(0, width - size + 1, size=(n, per_image))
    offsets = np.arange(size)
    rows = (ys[..., None] + offsets)[..., :, None]  # (n, p, size, 1)
    cols = (xs[..., None] + offsets)[..., None, :]  # (n, p, 1, size)
    index = np.arange(n)[:, None, None, None]
    patches = level[index, rows, cols]  # (n, p, size, size, C)
    return patches.reshape(n * per_image, size * size, channels)


def _normalise(patches: np.ndarray) -> np.ndarray:
    """(P, pixels, C) -> (P, pixels*C), each channel at mean 0, std 1 over all patches."""
    patches = patches - patches.mean(axis=(0, 1))
    patches = patches / (patches.std(axis=(0, 1)) + 1e-8)
    return patches.reshape(len(patches), -1).astype(np.float32)


def _sliced_wasserstein(a: np.ndarray, b: np.ndarray, directions: int, repeats: int,
                        rng: np.random.Generator) -> float:
    results = []
    for _ in range(repeats):
        dirs = rng.standard_normal((a.shape[1], directions))
        dirs = (dirs / np.sqrt((dirs ** 2).sum(axis=0, keepdims=True))).astype(np.float32)
        # (directions, patches): each row sorted in place, contiguous in memory.
        proj_a = np.sort((a @ dirs).T, axis=1)
        proj_b = np.sort((b @ dirs).T, axis=1)
        results.append(float(np.abs(proj_a - proj_b).mean(dtype=np.float64)))
    return float(np.mean(results))


SWD_PROTOCOL = dict(patches_per_image=64, patch_size=7, directions=512, repeats=4, min_size=16)
"""The fixed protocol of :func:`sliced_wasserstein_distance` (ProGAN's, Karras et al. 2018)."""


def sliced_wasserstein_distance(real, fake, *, seed: int = 0, patches_per_image: int = 64,
                                patch_size: int = 7, directions: int = 512, repeats: int = 4,
                                min_size: int = 16) -> dict[str, float]:
    """Multi-scale sliced Wasserstein distance between two sets of images (lower is better).

    Both sets go through a Laplacian pyramid; at every level 7x7 patches are cut at
    random, normalised per colour channel, projected onto random unit directions, and the
    1-D Wasserstein distances of the projections are averaged. It needs no downloaded
    network, so it works offline. Values are x1000, as ProGAN reports them.

    Args:
        real, fake: float (N, S, S, C) in [-1, 1] (or uint8, scaled here), the same
            size; use the same count for both (a few hundred to a few thousand).
        seed: fixes the patch positions and the directions.

    Returns:
        ``{"swd_64": …, "swd_32": …, "swd_16": …, "swd_mean": …}`` for 64 px images
        (one key per pyramid level, named by its resolution).
    """
    real, fake = _as_float(real, "real"), _as_float(fake, "fake")
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real and fake images differ in shape: {real.shape[1:]} vs {fake.shape[1:]}")
    if min(real.shape[1:3]) < max(min_size, patch_size):
        raise ValueError(f"images of {real.shape[1]} px are smaller than min_size={min_size}")
    rng = np.random.default_rng(seed)
    result = {}
    for level_real, level_fake in zip(laplacian_pyramid(real, min_size),
                                      laplacian_pyramid(fake, min_size)):
        a = _normalise(_patches(level_real, patches_per_image, patch_size, rng))
        b = _normalise(_patches(level_fake, patches_per_image, patch_size, rng))
        if len(a) != len(b):  # unequal counts: compare the same number of patches
            keep = min(len(a), len(b))
            a, b = a[rng.permutation(len(a))[:keep]], b[rng.permutation(len(b))[:keep]]
        result[f"swd_{level_real.shape[1]}"] = 1e3 * _sliced_wasserstein(a, b, directions, repeats, rng)
    result["swd_mean"] = float(np.mean(list(result.values())))
    return result


# --- Memorisation: are samples copies of training images? -------------------------------

def memorisation_check(samples, training_images, probe_count: int = 512, seed: int = 0) -> dict:
    """Compare how close samples come to the training set with how close real images do.

    Every sample's nearest training image is found; so is every probed training image's
    nearest *other* training image (leave-one-out). A generator that copies its data
    produces samples closer to a training image than real images are to each other.

    Returns:
        ``sample_nn_median``, ``real_nn_median``, ``close_threshold`` (the 1st percentile of
        the real-vs-real distances, exact duplicates left out:
        :func:`gan_helpers.core.distances.twin_threshold`), ``close_fraction`` (samples below it; ~0.01 or less is
        normal, as for real images), ``memorised`` (``close_fraction > 0.05``) and the
        nearest-neighbour ``indices``/``distances`` of the samples.
    """
    training_images = np.asarray(training_images)
    rng = np.random.default_rng(seed)
    probe = rng.permutation(len(training_images))[:probe_count]
    order = np.concatenate([probe, np.setdiff1d(np.arange(len(training_images)), probe)])
    _, real_nn = nearest_neighbours(training_images[order[:len(probe)]], training_images[order],
                                    exclude_self=True)
    indices, sample_nn = nearest_neighbours(samples, training_images)
    threshold = twin_threshold(real_nn, 1)
    close = float(np.mean(sample_nn < threshold))
    return {
        "sample_nn_median": round(float(np.median(sample_nn)), 4),
        "real_nn_median": round(float(np.median(real_nn)), 4),
        "close_threshold": round(threshold, 4),
        "close_fraction": round(close, 4),
        "memorised": close > 0.05,
        "indices": indices,
        "distances": sample_nn,
    }


# --- KID and FID on InceptionV3 features -------------------------------------------------

INCEPTION_PROTOCOL = {"network": "keras.applications.InceptionV3, include_top=False, average pool",
                      "resize": "bilinear to 299x299 (tf.image.resize, no antialias)",
                      "input_range": "[-1, 1]", "kid_subsets": 10, "kid_subset_size": "min(1000, N)"}
"""How :func:`inception_features` turns images into features. Published FIDs (e.g. on
ImageNet-trained TF-Inception with a different resize) are only comparable under the same
protocol and sample count."""


def inception_model(weights):
    """InceptionV3 without its classifier, pooled to 2048 features.

    Args:
        weights: ``"imagenet"`` (downloads the weights: works on Colab, not offline) or the
            path of a weights file for ``InceptionV3(include_top=False)``, e.g. saved on a
            machine with internet by ``keras.applications.InceptionV3(include_top=False,
            weights="imagenet").save_weights("inception_v3_notop.weights.h5")``.
    """
    from pathlib import Path

    from .._tf import keras

    if weights != "imagenet" and not Path(weights).is_file():
        raise FileNotFoundError(f"InceptionV3 weights file not found: {weights}")
    return keras.applications.InceptionV3(include_top=False, pooling="avg",
                                          weights=str(weights), input_shape=(299, 299, 3))


def inception_features(images, model, batch_size: int = 32) -> np.ndarray:
    """(N, 2048) float64 features of images in [-1, 1] (or uint8), resized as documented."""
    from .._tf import tf

    images = _as_float(images, "images").astype(np.float32)
    features = []
    for start in range(0, len(images), batch_size):
        batch = tf.image.resize(images[start:start + batch_size], (299, 299), method="bilinear")
        features.append(np.asarray(model(batch, training=False), np.float64))
    return np.concatenate(features)


def frechet_distance(features_a, features_b) -> float:
    """FID between two feature sets: |mu_a - mu_b|^2 + Tr(C_a + C_b - 2 (C_a C_b)^1/2)."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr((C_a C_b)^1/2) = sum of the square roots of the eigenvalues of C_a C_b (real, >= 0
    # up to rounding), which avoids needing scipy's sqrtm.
    eigenvalues = np.linalg.eigvals(cov_a @ cov_b)
    trace_sqrt = np.sqrt(np.clip(eigenvalues.real, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt)


def kernel_inception_distance(features_a, features_b, subsets: int = 10,
                              subset_size: int = 1000, seed: int = 0) -> float:
    """KID (Bińkowski et al. 2018): unbiased MMD^2 with a cubic polynomial kernel,
    averaged over random subsets. Unbiased, so it can dip slightly below 0 for equal sets."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError("KID needs at least 2 images per set")
    dim, rng, total = a.shape[1], np.random.default_rng(seed), 0.0
    for _ in range(subsets):
        x = a[rng.choice(len(a), size, replace=False)]
        y = b[rng.choice(len(b), size, replace=False)]
        kxx, kyy, kxy = ((x @ x.T / dim + 1) ** 3, (y @ y.T / dim + 1) ** 3, (x @ y.T / dim + 1) ** 3)
        off = size * (size - 1)
        total += ((kxx.sum() - np.trace(kxx)) / off + (kyy.sum() - np.trace(kyy)) / off
                  - 2 * kxy.mean())
    return float(total / subsets)
