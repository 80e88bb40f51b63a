"""The fused step computes what the classic two-call iteration computes."""
import numpy as np
import pytest

import gan_helpers as gh
from gan_helpers.core.fused import R1_EVERY, FusedStep, r1_penalty
from gan_helpers.core.training import build_models

SMALL = dict(image_size=32, batch_size=8, filters=8, latent_dim=16)


def _pair(**overrides):
    config = gh.make_config(**{**SMALL, **overrides})
    return config, build_models(config, seed=3), build_models(config, seed=3)


def _real(seed):
    return np.random.default_rng(seed).uniform(-1, 1, (8, 32, 32, 3)).astype("float32")


@pytest.mark.parametrize("overrides", [
    {},  # the default preset: minibatch-std and DiffAugment in D
    dict(preset="mlwhiz", minibatch_std=0, instance_noise_std=0.1, label_flip_prob=0.2),
    dict(d_batch_norm=True, d_augment="", minibatch_std=0),  # frozen BatchNorm in G's step
    dict(d_spectral_norm=True),  # power iteration only in D's own step
])
def test_fused_step_matches_the_classic_iteration(overrides):
    config, (g1, d1, gan1), (g2, d2, gan2) = _pair(**overrides)
    assert all(np.array_equal(a, b) for a, b in zip(g1.get_weights(), g2.get_weights()))
    fused = FusedStep(g2, d2, gan2, config)
    rng1, rng2 = np.random.default_rng(11), np.random.default_rng(11)
    for i in range(4):
        classic_logs = gh.train_step(g1, d1, gan1, _real(i), rng=rng1, config=config)
        fused_logs = fused(_real(i), rng=rng2)
        for key, value in classic_logs.items():
            assert fused_logs[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key
    for model1, model2 in [(g1, g2), (d1, d2)]:
        for w1, w2 in zip(model1.weights, model2.weights):
            np.testing.assert_allclose(w1.numpy(), w2.numpy(), rtol=1e-4, atol=1e-5,
                                       err_msg=w1.path)
    # Same draws from the NumPy generator, in the same order.
    assert rng1.random() == rng2.random()


def test_fused_step_updates_every_weight_of_both_models():
    config, (generator, discriminator, gan), _ = _pair()
    fused = FusedStep(generator, discriminator, gan, config)
    rng = np.random.default_rng(0)
    fused(_real(0), rng=rng)
    g_before = gh.snapshot_weights(generator)
    d_before = gh.snapshot_weights(discriminator)
    fused(_real(1), rng=rng)
    assert gh.count_changed_weights(d_before, discriminator)[0] == len(d_before)
    changed, total = gh.count_changed_weights(g_before, generator, trainable_only=True)
    assert changed == total


def test_r1_penalty_is_the_gradient_of_d_logit_at_the_real_images():
    # No augmentation or dropout: D is deterministic, so the penalty can be checked against
    # the gradient of D's sigmoid output, d logit = d p / (p (1 - p)).
    config, (_, discriminator, _), _ = _pair(d_augment="", r1_gamma=2.0)
    real = gh._tf.tf.constant(_real(0))
    tf = gh._tf.tf
    with tf.GradientTape() as tape:
        tape.watch(real)
        p = discriminator(real, training=True)
    grads = tape.gradient(p, real) / tf.reshape(p * (1 - p), (-1, 1, 1, 1))
    expected = 0.5 * 2.0 * np.mean(np.sum(np.square(grads.numpy()), axis=(1, 2, 3)))
    assert float(r1_penalty(discriminator, real, 2.0)) == pytest.approx(expected, rel=1e-3)
    assert float(r1_penalty(discriminator, real, 2.0)) > 0


def test_r1_is_lazy_and_changes_only_the_iterations_that_compute_it():
    config, (g1, d1, gan1), (g2, d2, gan2) = _pair(d_augment="", r1_gamma=10.0)
    with_r1 = FusedStep(g1, d1, gan1, config)
    without = FusedStep(g2, d2, gan2, gh.make_config(**{**SMALL, "d_augment": ""}))
    rng1, rng2 = np.random.default_rng(5), np.random.default_rng(5)
    logs = [with_r1(_real(0), rng=rng1)]
    plain = without(_real(0), rng=rng2)
    assert "d_r1" in logs[0] and "d_r1" not in plain and logs[0]["d_r1"] > 0
    assert logs[0]["d_loss"] == pytest.approx(plain["d_loss"], rel=1e-4)  # d_loss: BCE alone
    changed = [not np.allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6)
               for a, b in zip(d1.weights, d2.weights)]
    assert any(changed)  # the penalty moved D's first update
    for i in range(1, R1_EVERY + 1):
        logs.append(with_r1(_real(i), rng=rng1))
    # Iterations 1-3 log the penalty of iteration 0; iteration 4 computes a new one.
    assert [row["d_r1"] for row in logs[1:R1_EVERY]] == [logs[0]["d_r1"]] * (R1_EVERY - 1)
    assert logs[R1_EVERY]["d_r1"] != logs[0]["d_r1"]


def test_the_classic_step_refuses_r1():
    config, (generator, discriminator, gan), _ = _pair(r1_gamma=1.0)
    with pytest.raises(ValueError, match="r1_gamma needs the fused step"):
        gh.train_step(generator, discriminator, gan, _real(0), rng=np.random.default_rng(0),
                      config=config)
