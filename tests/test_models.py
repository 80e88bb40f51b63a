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
