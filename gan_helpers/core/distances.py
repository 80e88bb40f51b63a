"""Distances between images or features, and nearest neighbours: the one place the
package computes them (training's collapse warning and the evaluation both use them)."""
from __future__ import annotations

import numpy as np


def _squared_distances(a: np.ndarray, b: np.ndarray, b_squared: np.ndarray | None = None):
    """``|a_i - b_j|^2`` for 2-D ``a`` and ``b`` as ``|a_i|^2 + |b_j|^2 - 2 a_i.b_j``, in their
    dtype (it can dip just below 0 by rounding); ``b_squared``: ``(b ** 2).sum(1)``, when
    the caller has it."""
    if b_squared is None:
        b_squared = (b ** 2).sum(1)
    return (a ** 2).sum(1)[:, None] + b_squared[None, :] - 2.0 * a @ b.T


def pairwise_distances(a, b) -> np.ndarray:
    """Euclidean distance between every item of ``a`` and every item of ``b``.

    Args:
        a, b: (N, ...) and (M, ...) arrays of the same item shape (feature vectors, or
            images, which are flattened), compared as given in float64.

    Returns:
        float64 (N, M).
    """
    a = np.asarray(a, np.float64).reshape(len(a), -1)
    b = np.asarray(b, np.float64).reshape(len(b), -1)
    return np.sqrt(np.maximum(_squared_distances(a, b), 0.0))


def neighbour_radii(points, k: int) -> np.ndarray:
    """Each point's distance to its ``k``-th nearest other point of the same set (float64 (N,)):
    the radius of the ball around it that holds ``k`` neighbours (Kynkäänniemi et al. 2019)."""
    distances = pairwise_distances(points, points)
    return np.partition(distances, k, axis=1)[:, k]  # column 0 is the point itself


def mean_pairwise_distance(images) -> float:
    """Mean L2 distance between all pairs of images.

    Args:
        images: float (N, H, W, C) in [-1, 1] (or uint8, compared as given), N >= 2.

    Returns:
        The mean over the N(N-1)/2 pairs. Near 0 means the images are (almost) the same.
    """
    if len(images) < 2:
        raise ValueError("mean_pairwise_distance needs at least 2 images")
    upper = np.triu_indices(len(images), k=1)
    return float(pairwise_distances(images, images)[upper].mean())


def diversity_ratio(samples, real) -> float:
    """Spread of generated samples relative to the spread of as many real images.

    About 1 means the samples differ from each other as much as real faces do; a
    collapsed generator scores near 0. Both arrays are float in [-1, 1].
    """
    return mean_pairwise_distance(samples) / mean_pairwise_distance(real)


def _as_float(images, name: str) -> np.ndarray:
    array = np.asarray(images)
    if array.ndim != 4 or len(array) < 2:
        raise ValueError(f"{name} must be (N, H, W, C) with N >= 2, got shape {array.shape}")
    if array.dtype == np.uint8:
        return array.astype(np.float64) / 127.5 - 1.0
    return array.astype(np.float64)


def nearest_neighbours(queries, references, exclude_self: bool = False, chunk: int = 256):
    """Each query's nearest reference image by L2 distance in pixel space.

    Args:
        queries, references: (N, H, W, C) uint8 or float in [-1, 1], the same shape per image.
        exclude_self: ``queries`` are the first N ``references`` themselves; skip the
            identical index (leave-one-out distances between real images).

    Returns:
        ``(indices, distances)``: int (N,) into ``references`` and float (N,) per pixel value
        (root-mean-square difference, so 0 is a copy and ~1 is unrelated for [-1, 1] images).
    """
    q = _as_float(queries, "queries").reshape(len(queries), -1).astype(np.float32)
    r = _as_float(references, "references").reshape(len(references), -1).astype(np.float32)
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries and references differ in image shape: "
                         f"{np.shape(queries)[1:]} vs {np.shape(references)[1:]}")
    r_sq = (r ** 2).sum(1)
    indices = np.empty(len(q), np.int64)
    distances = np.empty(len(q), np.float64)
    for start in range(0, len(q), chunk):
        block = q[start:start + chunk]
        d2 = _squared_distances(block, r, r_sq)
        if exclude_self:
            rows = np.arange(len(block))
            d2[rows, start + rows] = np.inf
        best = np.argmin(d2, axis=1)
        indices[start:start + len(block)] = best
        distances[start:start + len(block)] = np.sqrt(np.maximum(d2[np.arange(len(block)), best], 0))
    return indices, distances / np.sqrt(q.shape[1])


SAME_PICTURE = 1 / 255
"""An RMS distance (images in [-1, 1]) below half an 8-bit grey level: the same picture, up
to the rounding of the distance computation (float32: up to about 1e-3 for identical images)."""


def twin_threshold(real_nn, percentile: float = 1.0) -> float:
    """How close real images come to their nearest neighbour: the ``percentile``-th
    percentile of ``real_nn``, leaving out exact duplicates (below :data:`SAME_PICTURE`).

    The memorisation and near-duplicate checks count samples closer than this. A dataset
    that holds some pictures twice would otherwise set it to 0 as soon as ``percentile`` %
    of its images have a twin, and no copy or collapse could ever fall below it (at 64 px,
    10 % of OpenMoji's 4,495 emoji have one). 0 when every image has an exact twin.
    """
    real_nn = np.asarray(real_nn, dtype=np.float64)
    distinct = real_nn[real_nn >= SAME_PICTURE]
    return float(np.percentile(distinct, percentile)) if distinct.size else 0.0
