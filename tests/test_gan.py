"""The Keras 3 frozen-discriminator semantics, proven on real weights."""
import numpy as np
import pytest

import gan_helpers as gh
from gan_helpers import GANConfig, keras


def _models(size=32, latent_dim=16, filters=8, seed=0, **config):
    gh.set_seed(seed)
    generator = gh.build_generator(latent_dim, size, filters=filters)
    discriminator = gh.build_discriminator(size, filters=filters)
    gan = gh.build_gan(generator, discriminator)
    return generator, discriminator, gan


def _real(batch, size=32, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, size, size, 3)).astype("float32")


def _check_one_iteration(generator, discriminator, gan, batch, rng):
    """D changes every weight in its step, G none of its trainable ones; then the reverse."""
    d_before, g_before = gh.snapshot_weights(discriminator), gh.snapshot_weights(generator)
    gh.train_discriminator(generator, discriminator, _real(batch), rng=rng)
    changed, total = gh.count_changed_weights(d_before, discriminator)
    assert changed == total, "D must update every weight in its own step"
    changed, _ = gh.count_changed_weights(g_before, generator, trainable_only=True)
    assert changed == 0, "G must not change in D's step"

    d_before, g_before = gh.snapshot_weights(discriminator), gh.snapshot_weights(generator)
    gh.train_generator(generator, discriminator, gan, batch, rng=rng)
    changed, _ = gh.count_changed_weights(d_before, discriminator)
    assert changed == 0, "D must stay frozen in G's step"
    changed, total = gh.count_changed_weights(g_before, generator, trainable_only=True)
    assert changed == total, "G must update every weight in its step"


def test_d_learns_in_its_step_and_stays_frozen_in_g_step():
    generator, discriminator, gan = _models()
    rng = np.random.default_rng(0)
    for _ in range(3):
        _check_one_iteration(generator, discriminator, gan, 8, rng)


def test_semantics_hold_over_many_iterations_and_a_batch_size_change():
    generator, discriminator, gan = _models()
    rng = np.random.default_rng(1)
    for _ in range(15):
        gh.train_step(generator, discriminator, gan, _real(8), rng=rng)
    _check_one_iteration(generator, discriminator, gan, 8, rng)
    # A new batch size retraces both train functions; they must trace with the right state.
    _check_one_iteration(generator, discriminator, gan, 5, rng)
    _check_one_iteration(generator, discriminator, gan, 12, rng)


def test_semantics_hold_when_g_step_is_traced_first():
    generator, discriminator, gan = _models()
    rng = np.random.default_rng(2)
    gh.train_generator(generator, discriminator, gan, 8, rng=rng)
    _check_one_iteration(generator, discriminator, gan, 8, rng)


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
def test_textbook_order_leaves_d_unchanged_in_keras3():
    """Documents the trap this package avoids: if Keras changes, this test says so.

    Compile D, set D.trainable = False, build and train the combined model, then call
    D.train_on_batch without setting trainable back: Keras 3 traces D's train function
    with the frozen state, so none of D's weights move.
    """
    gh.set_seed(0)
    generator = gh.build_generator(16, 32, filters=8)
    discriminator = gh.build_discriminator(32, filters=8)
    discriminator.compile(optimizer="adam", loss="binary_crossentropy")
    discriminator.trainable = False
    gan = keras.Sequential([generator, discriminator])
    gan.compile(optimizer="adam", loss="binary_crossentropy")
    gan.train_on_batch(np.random.randn(8, 16).astype("float32"), np.ones((8, 1), "float32"))
    before = gh.snapshot_weights(discriminator)
    discriminator.train_on_batch(_real(8), np.ones((8, 1), "float32"))
    assert gh.count_changed_weights(before, discriminator)[0] == 0


def test_train_step_returns_finite_scores_in_range():
    generator, discriminator, gan = _models()
    logs = gh.train_step(generator, discriminator, gan, _real(8), rng=np.random.default_rng(0))
    assert set(logs) == {"d_loss", "d_loss_real", "d_loss_fake", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v) for v in logs.values())
    assert 0 < logs["d_real"] < 1 and 0 < logs["d_fake"] < 1
    assert logs["d_loss"] == pytest.approx(0.5 * (logs["d_loss_real"] + logs["d_loss_fake"]))


def test_noisy_labels_lie_in_their_ranges_and_change_every_draw():
    rng = np.random.default_rng(0)
    real, fake = gh.sample_labels(rng, 1000, (0.8, 1.0), (0.0, 0.2))
    assert real.shape == fake.shape == (1000, 1) and real.dtype == np.float32
    assert real.min() >= 0.8 and real.max() <= 1.0 and real.std() > 0.03
    assert fake.min() >= 0.0 and fake.max() <= 0.2
    again, _ = gh.sample_labels(rng, 1000)
    assert not np.array_equal(real, again)


def test_label_flips_swap_about_the_requested_share():
    real, fake = gh.sample_labels(np.random.default_rng(0), 20_000, (0.8, 1.0), (0.0, 0.2),
                                  flip_prob=0.1)
    flipped = (real < 0.5).mean()
    assert 0.09 < flipped < 0.11
    assert np.array_equal(real < 0.5, fake > 0.5)


def test_instance_noise_reaches_real_and_fake_images_alike():
    # On the real images only, D could tell them from fakes by the grain: both halves of
    # D's batch must carry the noise.
    seen = []
    for std in (0.0, 0.5):
        generator, discriminator, gan = _models(seed=4)
        train_on_batch = discriminator.train_on_batch

        def spy(images, labels, **kwargs):
            seen.append(np.asarray(images))
            return train_on_batch(images, labels, **kwargs)

        discriminator.train_on_batch = spy
        gh.train_discriminator(generator, discriminator, _real(8), rng=np.random.default_rng(0),
                               config=GANConfig(image_size=32, instance_noise_std=std))
    added = seen[1] - seen[0]
    assert 0.45 < added[:8].std() < 0.55  # the real half
    assert 0.45 < added[8:].std() < 0.55  # the fake half


def test_instance_noise_is_drawn_for_the_whole_batch_of_d():
    config = GANConfig(image_size=32, instance_noise_std=0.2)
    _, labels, noise = gh.core.gan.draw_discriminator_inputs(np.random.default_rng(0), (8, 32, 32, 3),
                                                        16, config)
    assert noise.shape == (16, 32, 32, 3) == (len(labels), 32, 32, 3)
    assert 0.18 < noise[:8].std() < 0.22 and 0.18 < noise[8:].std() < 0.22


def test_fakes_for_d_use_batch_statistics():
    """G in training mode normalises with the batch; inference mode uses moving averages."""
    generator, _, _ = _models()
    z = np.random.default_rng(0).standard_normal((8, 16)).astype("float32")
    train_mode = gh.generate_training_mode(generator, z).numpy()
    assert np.allclose(train_mode, generator(z, training=True).numpy(), atol=1e-5)
    assert not np.allclose(train_mode, generator(z, training=False).numpy(), atol=1e-3)


def test_build_gan_rejects_mismatched_models():
    with pytest.raises(ValueError, match="generator makes images of shape"):
        gh.build_gan(gh.build_generator(16, 32, filters=8), gh.build_discriminator(64, filters=8))


def test_interpolation_ends_at_both_vectors_and_keeps_the_norm():
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal(100), rng.standard_normal(100)
    path = gh.interpolate_noise(z0, z1, steps=7)
    assert path.shape == (7, 100) and path.dtype == np.float32
    np.testing.assert_allclose(path[0], z0, rtol=1e-5)
    np.testing.assert_allclose(path[-1], z1, rtol=1e-5)
    norms = np.linalg.norm(path, axis=1)
    linear = np.linalg.norm(gh.interpolate_noise(z0, z1, 7, spherical=False), axis=1)
    assert norms[3] > linear[3]  # slerp does not cut through the short middle
    with pytest.raises(ValueError, match="steps"):
        gh.interpolate_noise(z0, z1, steps=1)


def test_weight_snapshots_count_what_changed():
    generator, discriminator, gan = _models()
    d_before, g_before = gh.snapshot_weights(discriminator), gh.snapshot_weights(generator)
    gh.train_discriminator(generator, discriminator, _real(8), rng=np.random.default_rng(0))
    changed, total = gh.count_changed_weights(d_before, discriminator)
    assert changed == total == len(discriminator.weights)
    # G's BatchNorm moving statistics moved (training-mode call), its trainable weights did not.
    assert gh.count_changed_weights(g_before, generator, trainable_only=True)[0] == 0
    assert gh.count_changed_weights(g_before, generator)[0] > 0


def test_semantics_hold_with_diffaugment_and_minibatch_std():
    """The augmentation layer sits inside D; it must not break the frozen/learning split."""
    gh.set_seed(0)
    generator = gh.build_generator(16, 32, filters=8)
    discriminator = gh.build_discriminator(32, filters=8, minibatch_std=4,
                                           augment="color,translation,cutout", seed=0)
    gan = gh.build_gan(generator, discriminator)
    rng = np.random.default_rng(3)
    for _ in range(2):
        _check_one_iteration(generator, discriminator, gan, 8, rng)


def test_batch_logs_are_the_batchs_own_not_a_running_mean():
    # Before Keras 3.15 train_on_batch averaged the metrics since the last reset.
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="binary_crossentropy")  # lr 0: fixed
    model.layers[0].set_weights([np.ones((4, 1), np.float32), np.zeros(1, np.float32)])
    y = np.ones((16, 1), np.float32)
    x_easy, x_hard = np.full((16, 4), 1.0, np.float32), np.full((16, 4), -1.0, np.float32)
    loss_easy = gh.core.gan.batch_logs(model, x_easy, y)["loss"]  # logit 4: about 0.018
    loss_hard = gh.core.gan.batch_logs(model, x_hard, y)["loss"]  # logit -4: about 4.02
    assert loss_easy < 0.05 and abs(loss_hard - 4.018) < 0.01  # a running mean would be ~2.0
