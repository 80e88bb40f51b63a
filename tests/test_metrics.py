import numpy as np
import pytest

import gan_helpers as gh


def test_pairwise_distance_of_known_points():
    images = np.zeros((3, 1, 1, 2))
    images[1, 0, 0] = [3, 4]  # distance 5 from the first
    images[2, 0, 0] = [6, 8]  # 10 from the first, 5 from the second
    assert gh.mean_pairwise_distance(images) == pytest.approx(20 / 3)
    with pytest.raises(ValueError, match="at least 2"):
        gh.mean_pairwise_distance(images[:1])


def test_diversity_ratio_tells_copies_from_varied_images():
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (16, 8, 8, 3))
    assert gh.diversity_ratio(np.repeat(real[:1], 16, axis=0), real) == 0.0
    assert gh.diversity_ratio(rng.uniform(-1, 1, (16, 8, 8, 3)), real) == pytest.approx(1, abs=0.05)
