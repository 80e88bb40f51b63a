import numpy as np
import pytest

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
    from gan_helpers.models import MinibatchStdDev

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
    from gan_helpers.models import DiffAugment
    images = np.random.default_rng(0).uniform(-1, 1, (6, 32, 32, 3)).astype("float32")
    layer = DiffAugment("color,translation,cutout", seed=0)
    assert np.array_equal(layer(images).numpy(), images)  # inference: untouched
    augmented = layer(images, training=True).numpy()
    assert augmented.shape == images.shape
    assert not np.allclose(augmented, images)
    assert not np.allclose(augmented, layer(images, training=True).numpy())  # fresh draws


def test_translation_shifts_and_cutout_zeroes():
    from gan_helpers.models import DiffAugment
    images = np.ones((16, 32, 32, 3), "float32")
    shifted = DiffAugment("translation", seed=1)(images, training=True).numpy()
    # Only whole rows/columns at the border become padding (0); at most 4 px (1/8) each.
    zero_rows = (shifted == 0).all(axis=(2, 3)).sum(axis=1)
    assert zero_rows.max() <= 4 and zero_rows.max() > 0
    assert set(np.unique(shifted)) <= {0.0, 1.0}
    holes = DiffAugment("cutout", seed=1)(images, training=True).numpy()
    zero_fraction = (holes == 0).mean(axis=(1, 2, 3))
    assert (zero_fraction > 0).all() and (zero_fraction <= 0.25 + 1e-6).all()


def test_diffaugment_lets_gradients_through():
    import tensorflow as tf
    from gan_helpers.models import DiffAugment
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(DiffAugment(seed=0)(x, training=True) ** 2)
    assert float(tf.reduce_sum(tf.abs(tape.gradient(y, x)))) > 0


def test_unknown_augmentation_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown augmentation 'rotate'"):
        build_discriminator(augment="color,rotate")
