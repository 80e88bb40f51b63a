"""The EMA generator: an average that lags G, is saved with checkpoints, and is sampled."""
import numpy as np
import pytest

import gan_helpers as gh
from gan_helpers.core.ema import GeneratorEMA

TINY = dict(image_size=32, batch_size=16, filters=8, latent_dim=16)


def test_ema_averages_trainable_weights_and_copies_batchnorm_statistics():
    generator = gh.build_generator(8, 32, filters=4)
    ema = GeneratorEMA(generator, decay=0.9)
    before = [w.numpy().copy() for w in generator.weights]
    for w in generator.weights:
        w.assign(w + 1.0)
    ema.update()  # t=1: decay min(0.9, 2/11)
    d = 2.0 / 11.0
    for old, average, weight in zip(before, ema.model.weights, generator.weights):
        if weight.trainable:
            assert np.allclose(average.numpy(), d * old + (1 - d) * (old + 1.0), atol=1e-5)
        else:
            assert np.allclose(average.numpy(), old + 1.0)
    with pytest.raises(ValueError, match="EMA decay"):
        GeneratorEMA(generator, decay=1.0)


def test_a_run_with_ema_samples_from_the_average_and_resumes_it_exactly(faces32, tmp_path):
    run_dir = tmp_path / "run"
    straight = gh.train(images=faces32[:64], run_dir=tmp_path / "straight", epochs=2,
                        progress=False, ema=0.99, **TINY)
    gh.train(images=faces32[:64], run_dir=run_dir, epochs=1, progress=False, ema=0.99, **TINY)
    resumed = gh.train(run_dir=run_dir, resume=True, epochs=2, images=faces32[:64], progress=False)
    assert resumed.ema.updates == 8
    for a, b in zip(straight.ema.model.weights, resumed.ema.model.weights):
        assert np.array_equal(a.numpy(), b.numpy())
    z = resumed.fixed_noise[:4]
    assert np.allclose(resumed.sample(z), resumed.ema.model(z, training=False))
    assert not np.allclose(resumed.sample(z), resumed.generator(z, training=False))
    loaded = gh.load_run(run_dir)
    assert np.allclose(loaded.sample(z), resumed.sample(z), atol=1e-6)


def test_recalibration_gives_the_average_its_own_batchnorm_statistics():
    generator = gh.build_generator(8, 32, filters=4)
    ema = GeneratorEMA(generator, decay=0.9)
    for w in generator.weights:  # G moves on; the average now lags it
        if w.trainable:
            w.assign(w * 1.5)
    ema.update()
    trainable = [w.numpy().copy() for w in ema.model.trainable_weights]
    g_weights = [w.numpy().copy() for w in generator.weights]
    ema.recalibrate(count=256, seed=3)
    # The first BatchNorm now holds the moments of its input under the averaged weights.
    z = np.random.default_rng([3, 6]).standard_normal((256, 8)).astype(np.float32)
    bn = next(l for l in ema.model.layers if isinstance(l, gh.keras.layers.BatchNormalization))
    projected = np.asarray(ema.model.layers[1](ema.model.layers[0](z)), np.float64)
    assert np.allclose(bn.moving_mean.numpy(), projected.mean(axis=(0, 1, 2)), rtol=1e-3, atol=1e-6)
    assert np.allclose(bn.moving_variance.numpy(), projected.var(axis=(0, 1, 2)), rtol=1e-2, atol=1e-7)
    assert bn.momentum == 0.9  # restored
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(trainable, ema.model.trainable_weights))
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(g_weights, generator.weights))
    again = GeneratorEMA(generator, decay=0.9)
    again.model.set_weights(ema.model.get_weights())
    again.recalibrate(count=256, seed=3)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(again.model.weights, ema.model.weights))


def test_ema_must_be_below_one():
    with pytest.raises(ValueError, match="ema must be in"):
        gh.make_config(ema=1.5)
