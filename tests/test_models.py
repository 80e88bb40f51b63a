import numpy as np
import pytest

import gan_helpers as gh
from gan_helpers import build_discriminator, build_generator, keras


@pytest.mark.parametrize("size", [32, 64, 128])
def test_generator_and_discriminator_shapes(size):
    generator = build_generator(latent_dim=16, image_size=size, filters=8)
    discriminator = build_discriminator(image_size=size, filters=8)
    images = generator(np.random.randn(3, 16).astype("float32"), training=False).numpy()
    assert images.shape == (3, size, size, 3)
    assert images.min() >= -1.0 and images.max() <= 1.0  # tanh
    scores = discriminator(images, training=False).numpy()
    assert scores.shape == (3, 1)
    assert ((scores > 0) & (scores < 1)).all()  # sigmoid


def test_default_models_are_sequential_dcgan():
    generator, discriminator = build_generator(), build_discriminator()
    assert isinstance(generator, keras.Sequential) and isinstance(discriminator, keras.Sequential)
    kinds = [type(layer).__name__ for layer in generator.layers]
    assert kinds.count("Conv2DTranspose") == 4 and "BatchNormalization" in kinds
    d_kinds = [type(layer).__name__ for layer in discriminator.layers]
    assert "BatchNormalization" not in d_kinds and d_kinds.count("Conv2D") == 4
    assert d_kinds.count("LeakyReLU") == 4
    assert generator.output_shape == (None, 64, 64, 3)


def test_weights_start_from_normal_0_002():
    kernel = build_discriminator(filters=32).layers[0].kernel.numpy()
    assert abs(kernel.mean()) < 0.002
    assert 0.015 < kernel.std() < 0.025


def test_options_batch_norm_dropout_grayscale():
    discriminator = build_discriminator(image_size=32, channels=1, batch_norm=True, dropout=0.3)
    kinds = [type(layer).__name__ for layer in discriminator.layers]
    assert kinds.count("BatchNormalization") == 2 and kinds.count("Dropout") == 3
    assert build_generator(image_size=32, channels=1).output_shape == (None, 32, 32, 1)


@pytest.mark.parametrize("builder", [build_generator, build_discriminator])
def test_unsupported_size_is_a_clear_error(builder):
    with pytest.raises(ValueError, match=r"image_size must be one of \(32, 64, 128\)"):
        builder(image_size=48)


def test_minibatch_std_sees_groups_of_identical_images():
    from gan_helpers.core.models import MinibatchStdDev

    rng = np.random.default_rng(0)
    images = rng.standard_normal((8, 4, 4, 3)).astype("float32")
    images[4:] = images[4]  # the second group of 4: one image repeated
    out = MinibatchStdDev(group_size=4)(images).numpy()
    assert out.shape == (8, 4, 4, 4)
    assert np.array_equal(out[..., :3], images)
    assert out[:4, ..., 3].min() > 0.5  # varied group
    assert out[4:, ..., 3].max() < 1e-3  # collapsed group: the telltale 0
    assert np.allclose(out[:4, ..., 3], out[0, 0, 0, 3])  # one constant per group


def test_discriminator_with_minibatch_std_keeps_its_output_shape():
    discriminator = build_discriminator(image_size=32, filters=8, minibatch_std=4)
    kinds = [type(layer).__name__ for layer in discriminator.layers]
    assert "MinibatchStdDev" in kinds and "BatchNormalization" not in kinds
    scores = discriminator(np.zeros((8, 32, 32, 3), "float32")).numpy()
    assert scores.shape == (8, 1)


def test_diffaugment_changes_images_only_in_training():
    from gan_helpers.core.models import DiffAugment
    images = np.random.default_rng(0).uniform(-1, 1, (6, 32, 32, 3)).astype("float32")
    layer = DiffAugment("color,translation,cutout", seed=0)
    assert np.array_equal(layer(images).numpy(), images)  # inference: untouched
    augmented = layer(images, training=True).numpy()
    assert augmented.shape == images.shape
    assert not np.allclose(augmented, images)
    assert not np.allclose(augmented, layer(images, training=True).numpy())  # fresh draws


def test_translation_shifts_and_cutout_zeroes():
    from gan_helpers.core.models import DiffAugment
    images = np.ones((16, 32, 32, 3), "float32")
    shifted = DiffAugment("translation", seed=1)(images, training=True).numpy()
    # Only whole rows/columns at the border become padding (0); at most 4 px (1/8) each.
    zero_rows = (shifted == 0).all(axis=(2, 3)).sum(axis=1)
    assert zero_rows.max() <= 4 and zero_rows.max() > 0
    assert set(np.unique(shifted)) <= {0.0, 1.0}
    holes = DiffAugment("cutout", seed=1)(images, training=True).numpy()
    zero_fraction = (holes == 0).mean(axis=(1, 2, 3))
    assert (zero_fraction > 0).all() and (zero_fraction <= 0.25 + 1e-6).all()


def _shift(image, dy, dx):
    """``image`` moved down dy and right dx pixels, the uncovered border 0."""
    out = np.zeros_like(image)
    size = image.shape[0]
    rows, cols = slice(max(dy, 0), size + min(dy, 0)), slice(max(dx, 0), size + min(dx, 0))
    out[rows, cols] = image[max(-dy, 0):size - max(dy, 0), max(-dx, 0):size - max(dx, 0)]
    return out


def test_translation_moves_each_image_whole_by_its_own_shift():
    from gan_helpers.core.models import DiffAugment
    images = np.random.default_rng(0).uniform(0.5, 1.0, (16, 32, 32, 3)).astype("float32")
    shifted = np.asarray(DiffAugment("translation", seed=2)(images, training=True))
    moves = []
    for image, out in zip(images, shifted):
        found = [(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5)
                 if np.array_equal(out, _shift(image, dy, dx))]
        assert len(found) == 1, "every output is its input moved by one shift of <= 4 px"
        moves.append(found[0])
    assert len(set(moves)) > 1, "each image draws its own shift"


def test_diffaugment_lets_gradients_through():
    import tensorflow as tf
    from gan_helpers.core.models import DiffAugment
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(DiffAugment(seed=0)(x, training=True) ** 2)
    assert float(tf.reduce_sum(tf.abs(tape.gradient(y, x)))) > 0


def test_unknown_augmentation_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown augmentation 'rotate'"):
        build_discriminator(augment="color,rotate")


def test_spectral_norm_scales_the_kernel_to_unit_largest_singular_value():
    from gan_helpers.core.models import SpectralNorm

    layer = SpectralNorm(gh.keras.layers.Conv2D(6, 3, padding="same"))
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    plain = layer.layer
    layer(x)
    plain.kernel.assign(plain.kernel * 7.0)  # far from 1 before normalising
    for _ in range(200):  # power iteration converges over training calls
        layer(x, training=True)
    kernel = np.asarray(layer._normalised_kernel(training=False))
    top = np.linalg.svd(kernel.reshape(-1, 6), compute_uv=False)[0]
    assert top == pytest.approx(1.0, rel=0.02)
    # the output is the wrapped convolution with that kernel, nothing assigned to it
    expected = gh.keras.ops.conv(x, kernel, padding="same") + plain.bias
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-5)
    assert np.abs(plain.kernel.numpy()).max() > np.abs(kernel).max() * 3


def test_spectral_norm_d_learns_in_its_step_and_stays_frozen_in_gs_step():
    gh.set_seed(0)
    generator = gh.build_generator(16, 32, filters=8)
    discriminator = gh.build_discriminator(32, filters=8, spectral_norm=True)
    gan = gh.build_gan(generator, discriminator)
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
    before = gh.snapshot_weights(discriminator)
    gh.train_discriminator(generator, discriminator, real, rng=rng)
    changed, total = gh.count_changed_weights(before, discriminator)
    assert changed == total  # kernels, biases and every power-iteration vector u
    before = gh.snapshot_weights(discriminator)
    gh.train_generator(generator, discriminator, gan, 8, rng=rng)
    assert gh.count_changed_weights(before, discriminator) == (0, total)
