"""Simple, offline measures of a generator's output."""
from __future__ import annotations

import numpy as np


def mean_pairwise_distance(images) -> float:
    """Mean L2 distance between all pairs of images.

    Args:
        images: float (N, H, W, C) in [-1, 1] (or uint8, compared as given), N >= 2.

    Returns:
        The mean over the N(N-1)/2 pairs. Near 0 means the images are (almost) the same.
    """
    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    if len(flat) < 2:
        raise ValueError("mean_pairwise_distance needs at least 2 images")
    squared = (flat ** 2).sum(1)
    d2 = np.maximum(squared[:, None] + squared[None, :] - 2 * flat @ flat.T, 0)
    upper = np.triu_indices(len(flat), k=1)
    return float(np.sqrt(d2[upper]).mean())


def diversity_ratio(samples, real) -> float:
    """Spread of generated samples relative to the spread of as many real images.

    About 1 means the samples differ from each other as much as real faces do; a
    collapsed generator scores near 0. Both arrays are float in [-1, 1].
    """
    return mean_pairwise_distance(samples) / mean_pairwise_distance(real)
