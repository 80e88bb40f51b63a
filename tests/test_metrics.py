import numpy as np
import pytest

import gan_helpers as gh
from gan_helpers.core import distances
from gan_helpers.evaluation import metrics


def test_pairwise_distance_of_known_points():
    images = np.zeros((3, 1, 1, 2))
    images[1, 0, 0] = [3, 4]  # distance 5 from the first
    images[2, 0, 0] = [6, 8]  # 10 from the first, 5 from the second
    assert gh.mean_pairwise_distance(images) == pytest.approx(20 / 3)
    with pytest.raises(ValueError, match="at least 2"):
        gh.mean_pairwise_distance(images[:1])


def test_pairwise_distances_and_neighbour_radii_of_known_points():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0], [0.0, 1.0]])
    expected = np.sqrt(((points[:, None] - points[None, :]) ** 2).sum(-1))
    np.testing.assert_allclose(distances.pairwise_distances(points, points), expected, atol=1e-12)
    np.testing.assert_allclose(distances.pairwise_distances(points[:1], points[1:3]), [[5.0, 10.0]])
    # images are flattened: the same distances as their pixels in a row
    images = points.reshape(4, 1, 1, 2)
    np.testing.assert_allclose(distances.pairwise_distances(images, images), expected, atol=1e-12)
    # the distance to the nearest other point (k=1) and to the second nearest (k=2)
    np.testing.assert_allclose(distances.neighbour_radii(points, 1), [1.0, np.sqrt(18), 5.0, 1.0])
    np.testing.assert_allclose(distances.neighbour_radii(points, 2), [5.0, 5.0, np.sqrt(85), np.sqrt(18)])


def test_diversity_ratio_tells_copies_from_varied_images():
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (16, 8, 8, 3))
    # Copies are 0 apart up to the rounding of the |a|^2 + |b|^2 - 2ab expansion, which
    # differs between AVX2 and AVX-512 kernels (1.5e-8 seen on AVX2): a tolerance, not == 0.
    assert gh.diversity_ratio(np.repeat(real[:1], 16, axis=0), real) == pytest.approx(0, abs=1e-6)
    assert gh.diversity_ratio(rng.uniform(-1, 1, (16, 8, 8, 3)), real) == pytest.approx(1, abs=0.05)


def _faces():
    return gh.scale_images(gh.load_cartoon_faces(320, 32))


def test_swd_orders_real_blurred_noise_and_collapse():
    from gan_helpers.evaluation.metrics import _blur, sliced_wasserstein_distance
    faces = _faces()
    a, b = faces[:160], faces[160:]
    rng = np.random.default_rng(0)
    scores = {
        "real": sliced_wasserstein_distance(a, b)["swd_mean"],
        "blurred": sliced_wasserstein_distance(a, _blur(_blur(b)))["swd_mean"],
        "noise": sliced_wasserstein_distance(a, rng.uniform(-1, 1, b.shape))["swd_mean"],
        "collapsed": sliced_wasserstein_distance(a, np.repeat(b[:1], 160, axis=0))["swd_mean"],
    }
    assert scores["real"] < scores["blurred"] < scores["noise"]
    assert scores["real"] * 2 < scores["collapsed"]


def test_swd_levels_seed_and_errors():
    from gan_helpers.evaluation.metrics import laplacian_pyramid, sliced_wasserstein_distance
    faces = _faces()
    result = sliced_wasserstein_distance(faces[:40], faces[40:80], seed=3)
    assert set(result) == {"swd_32", "swd_16", "swd_mean"}
    assert result == sliced_wasserstein_distance(faces[:40], faces[40:80], seed=3)
    # uint8 input is scaled the same way as float input.
    as_uint8 = gh.unscale_images(faces[:40])
    assert sliced_wasserstein_distance(as_uint8, faces[40:80], seed=3)["swd_mean"] == \
        pytest.approx(sliced_wasserstein_distance(gh.scale_images(as_uint8), faces[40:80], seed=3)["swd_mean"])
    # The pyramid is lossless: upsampling and adding the levels back gives the image.
    assert [level.shape[1] for level in laplacian_pyramid(faces[:2])] == [32, 16]
    with pytest.raises(ValueError, match="differ in shape"):
        sliced_wasserstein_distance(faces[:4], faces[:4, :16, :16])


def test_nearest_neighbours_finds_copies_and_skips_self():
    rng = np.random.default_rng(0)
    refs = rng.uniform(-1, 1, (20, 8, 8, 3))
    idx, dist = distances.nearest_neighbours(refs[[3, 7]] + 0.01, refs)
    assert list(idx) == [3, 7] and np.allclose(dist, 0.01, atol=1e-4)
    idx, dist = distances.nearest_neighbours(refs[:5], refs, exclude_self=True)
    assert all(i != k for k, i in enumerate(idx)) and np.all(dist > 0.3)


def test_memorisation_check_flags_copies_but_not_new_images():
    rng = np.random.default_rng(1)
    train = rng.integers(0, 256, (300, 8, 8, 3), dtype=np.uint8)
    fresh = rng.integers(0, 256, (64, 8, 8, 3), dtype=np.uint8)
    copies = train[rng.permutation(300)[:64]]
    honest = metrics.memorisation_check(fresh, train, probe_count=200)
    copied = metrics.memorisation_check(copies, train, probe_count=200)
    assert not honest["memorised"] and honest["close_fraction"] <= 0.05
    assert copied["memorised"] and copied["close_fraction"] == 1.0
    assert copied["sample_nn_median"] < 1e-3 < honest["real_nn_median"]  # 0 up to rounding


def test_frechet_distance_is_zero_for_equal_sets_and_the_squared_shift_for_moved_ones():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 3))
    assert metrics.frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    assert metrics.frechet_distance(a, a + np.array([3.0, 0, 4.0])) == pytest.approx(25, rel=1e-6)
    wider = metrics.frechet_distance(a, 2 * a)  # same mean, doubled std: sum (2 - 1)^2 = 3
    assert wider == pytest.approx(3, rel=0.05)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(500, 16)), rng.normal(size=(500, 16))
    assert abs(metrics.kernel_inception_distance(a, b, subset_size=200)) < 0.05
    assert metrics.kernel_inception_distance(a, b + 1.0, subset_size=200) > 0.5
