"""The EMA generator: an average that lags G, is saved with checkpoints, and is sampled."""
import numpy as np
import pytest

import gan_helpers as gh
from gan_helpers.ema import GeneratorEMA

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


def test_ema_must_be_below_one():
    with pytest.raises(ValueError, match="ema must be in"):
        gh.make_config(ema=1.5)
