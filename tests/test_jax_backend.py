"""The package on Keras' JAX backend, as research/gpu_run.py uses it on a GPU machine without
TensorFlow. Runs under ``bash .ci/jax_check`` (KERAS_BACKEND=jax); skipped elsewhere."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import gan_helpers as gh

if gh.keras.config.backend() != "jax":
    pytest.skip("needs KERAS_BACKEND=jax (run bash .ci/jax_check)", allow_module_level=True)


def test_tensorflow_is_optional_and_its_absence_is_one_clear_line():
    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("TensorFlow is installed in this environment")
    with pytest.raises(ImportError, match=r"tf\.data needs TensorFlow.*KERAS_BACKEND=jax"):
        gh.tf.data  # noqa: B018


def test_d_learns_in_its_step_and_stays_frozen_in_g_step():
    config = gh.make_config("cartoon", image_size=32, filters=8)
    generator, discriminator, gan = gh.core.training.build_models(config, seed=0)
    rng = np.random.default_rng(0)
    real = np.random.default_rng(1).uniform(-1, 1, (64, 32, 32, 3)).astype("float32")
    for _ in range(2):  # the second round reuses both traced train functions
        d_before, g_before = gh.snapshot_weights(discriminator), gh.snapshot_weights(generator)
        gh.train_discriminator(generator, discriminator, real, rng=rng, config=config)
        changed, total = gh.count_changed_weights(d_before, discriminator, trainable_only=True)
        assert changed == total > 0, "D must learn in its own step"
        # G's weights stay; only its BatchNorm moving averages follow the fakes' batches.
        assert gh.count_changed_weights(g_before, generator, trainable_only=True)[0] == 0
        moving = len(generator.non_trainable_weights)
        assert gh.count_changed_weights(g_before, generator)[0] == moving > 0

        d_before, g_before = gh.snapshot_weights(discriminator), gh.snapshot_weights(generator)
        gh.train_generator(generator, discriminator, gan, 64, rng=rng)
        assert gh.count_changed_weights(d_before, discriminator)[0] == 0, "D frozen in G's step"
        changed, total = gh.count_changed_weights(g_before, generator, trainable_only=True)
        assert changed == total > 0


def test_diffaugment_runs_under_jit_and_only_in_training():
    layer = gh.core.models.DiffAugment("color,translation,cutout", seed=3)
    x = np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
    assert np.array_equal(np.asarray(layer(x, training=False)), x)
    augmented = np.asarray(layer(x, training=True))
    assert augmented.shape == x.shape and np.isfinite(augmented).all()
    assert not np.allclose(augmented, x)
    # Cutout blanks a square of half the side (16 x 16 here, clipped at the edges).
    cutout = np.asarray(gh.core.models.DiffAugment("cutout", seed=3)(x + 5.0, training=True))
    zeros = (cutout == 0).all(axis=-1).sum(axis=(1, 2))
    assert ((zeros > 0) & (zeros <= 15 * 15)).all()


def test_classic_training_checkpoints_and_resumes(tmp_path):
    faces = gh.load_cartoon_faces(128, 32)
    run_dir = tmp_path / "run"
    run = gh.train(images=faces, run_dir=run_dir, step="classic", epochs=1, image_size=32,
                   filters=8, batch_size=32, seed=0, progress=False)
    assert run.step == 4 and (run_dir / "checkpoints" / "latest").exists()
    resumed = gh.train(images=faces, run_dir=run_dir, resume=True, epochs=2, step="classic",
                       progress=False)
    assert resumed.step == 8 and [row["step"] for row in resumed.history] == list(range(1, 9))
    assert (run_dir / "samples.png").exists() and (run_dir / "progress.gif").exists()
    loaded = gh.load_run(run_dir)
    samples = np.asarray(loaded.generator.predict(loaded.fixed_noise[:4], verbose=0))
    assert samples.shape == (4, 32, 32, 3) and np.abs(samples).max() <= 1.0
    # the optimisers' slots are saved by name, the same names as under TensorFlow
    saved = np.load(run_dir / "checkpoints" / "ckpt-00000008" / "g_optimizer.npz")
    assert {"iteration", "generator_up_16_kernel_momentum"} <= set(saved.files)


def test_a_generator_is_scored_under_jax():
    # what research/gpu_sweep.py does on the GPU machine (its scores were checked against
    # TensorFlow's for one run: docs/results.md)
    from gan_helpers.evaluation.evaluate import evaluate_generator

    generator = gh.build_generator(16, 32, filters=8)
    result = evaluate_generator(generator, 16, "cartoon-faces", 32, count=32, attributes=False)
    assert result["swd"]["swd_mean"] > 2 * result["swd_real_floor"]["swd_mean"]  # untrained G
    assert 0.0 <= result["near_duplicates"]["share"] <= 1.0


def test_the_fused_step_says_it_needs_tensorflow(tmp_path):
    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("TensorFlow is installed in this environment")
    with pytest.raises(ImportError, match="needs TensorFlow"):
        gh.train(images=gh.load_cartoon_faces(64, 32), run_dir=tmp_path / "run", epochs=1,
                 image_size=32, filters=8, batch_size=32, progress=False)
